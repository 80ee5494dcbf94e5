// Host unit test for the buddy allocator and kmalloc (kernel/mm/buddy.c,
// kernel/mm/kmalloc.c). Built -m32 so kernel pointers are 32 bits; "physical"
// memory is an mmap'd arena placed at KERNBASE + its physical address, so
// the kernel's P2V/V2P arithmetic holds unchanged.
// Prints "PASS host.buddy.NAME" / "FAIL host.buddy.NAME: why"; exits 1 on failure.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KERNBASE   0x80000000u
#define MAXORDER   10
#define NORDERS    (MAXORDER + 1)
#define PGSIZE     4096u

struct memstat {
  unsigned total_pages, free_pages, free_blocks[NORDERS], kmalloc_bytes, kmalloc_pages;
};
void  buddy_init(unsigned pa_start, unsigned pa_end);
void *page_alloc(int order);
void  page_free(void *kva, int order);
void  page_ref_inc(void *kva);
int   page_ref_dec(void *kva);
int   page_ref_count(void *kva);
void  buddy_stat(struct memstat *ms);
int   buddy_selftest(void);
void *kmalloc(unsigned size);
void *kzalloc(unsigned size);
void  kfree(void *p);
void  kmalloc_stat(struct memstat *ms);
int   kmalloc_selftest(void);
int   host_arena(unsigned lo, unsigned hi);

static int failures;

static void
result(const char *name, int ok, const char *why)
{
  if(ok)
    printf("PASS host.buddy.%s\n", name);
  else {
    printf("FAIL host.buddy.%s: %s\n", name, why);
    failures++;
  }
}

// Compare the page-allocator fields of two snapshots.
static int
same_stat(struct memstat *a, struct memstat *b)
{
  return a->total_pages == b->total_pages && a->free_pages == b->free_pages &&
         memcmp(a->free_blocks, b->free_blocks, sizeof(a->free_blocks)) == 0;
}

// Pages a kmalloc(size) takes from the buddy allocator and from kmalloc's
// own page count, and whether it succeeded; the object is freed again.
static int
big_cost(unsigned size, unsigned *buddy_pages, unsigned *km_pages)
{
  struct memstat a, b;
  void *p;

  buddy_stat(&a);
  kmalloc_stat(&a);
  p = kmalloc(size);
  buddy_stat(&b);
  kmalloc_stat(&b);
  *buddy_pages = a.free_pages - b.free_pages;
  *km_pages = b.kmalloc_pages - a.kmalloc_pages;
  kfree(p);
  return p != 0;
}

// kmalloc(PGSIZE << k) takes exactly 1 << k pages for every k up to the
// largest block (4 MiB), and one byte more takes the next order; past
// 4 MiB kmalloc fails. 1 if so; otherwise 0 with the first problem in why.
static int
big_sizes_ok(char *why, int n)
{
  unsigned bp, kp;
  int k;

  for(k = 0; k <= MAXORDER; k++){
    if(!big_cost(PGSIZE << k, &bp, &kp) || bp != 1u << k || kp != 1u << k){
      snprintf(why, n, "kmalloc(%u) took %u pages (kmalloc_pages %u), want %u", PGSIZE << k, bp, kp, 1u << k);
      return 0;
    }
    if(k < MAXORDER && (!big_cost((PGSIZE << k) + 1, &bp, &kp) || bp != 2u << k)){
      snprintf(why, n, "kmalloc(%u) took %u pages, want %u", (PGSIZE << k) + 1, bp, 2u << k);
      return 0;
    }
  }
  if(big_cost((PGSIZE << MAXORDER) + 1, &bp, &kp) || bp != 0){
    snprintf(why, n, "kmalloc(%u) succeeded", (PGSIZE << MAXORDER) + 1);
    return 0;
  }
  return 1;
}

int
main(void)
{
  // "Physical" memory: [1 MiB + 12 KiB, 24 MiB - 8 KiB) - deliberately unaligned ends.
  unsigned pa_lo = 0x100000, pa_hi = 0x1800000;
  struct memstat init, ms;
  void *p[8192];
  int i, n, k, ok;
  char why[160];

  if(host_arena(pa_lo, pa_hi) < 0){
    printf("FAIL host.buddy.setup: cannot map the arena at 0x%x\n", KERNBASE + pa_lo);
    return 1;
  }
  buddy_init(pa_lo + 3 * PGSIZE, pa_hi - 2 * PGSIZE);
  buddy_stat(&init);
  result("init", init.total_pages > 5000 && init.free_pages == init.total_pages, "bad totals");

  // Every order: alignment of the block to its own size.
  ok = 1;
  for(k = 0; k <= MAXORDER; k++){
    char *a = page_alloc(k);
    if(a == 0 || ((unsigned)a - KERNBASE) % (PGSIZE << k) != 0 || page_ref_count(a) != 1)
      ok = 0;
    if(a)
      page_free(a, k);
  }
  buddy_stat(&ms);
  result("align", ok && same_stat(&ms, &init), "misaligned block or state not restored");

  // Exhaust with single pages, then free all: everything coalesces back.
  for(n = 0; n < 8192 && (p[n] = page_alloc(0)) != 0; n++)
    *(unsigned *)p[n] = n;
  buddy_stat(&ms);
  ok = n == (int)init.total_pages && ms.free_pages == 0 && page_alloc(0) == 0;
  for(i = 0; i < n; i++)
    if(*(unsigned *)p[i] != (unsigned)i)
      ok = 0;
  for(i = 0; i < n; i += 2)
    page_free(p[i], 0);
  for(i = 1; i < n; i += 2)
    page_free(p[i], 0);
  buddy_stat(&ms);
  result("exhaust", ok && same_stat(&ms, &init), "count wrong or not coalesced");

  // Reference counts.
  p[0] = page_alloc(0);
  page_ref_inc(p[0]);
  ok = page_ref_count(p[0]) == 2 && page_ref_dec(p[0]) == 1 && page_ref_dec(p[0]) == 0;
  page_free(p[0], 0);
  result("refcount", ok, "wrong counts");

  result("selftest", buddy_selftest() == 0 && buddy_selftest() == 0, "buddy_selftest failed");
  buddy_stat(&ms);
  result("selftest_restores", same_stat(&ms, &init), "free lists differ after self-test");

  // kmalloc: many sizes, contents kept, counters and pages restored.
  ok = 1;
  for(i = 0; i < 2000; i++){
    unsigned sz = 1 + (i * 7919u) % (i % 10 == 0 ? 40000 : 3000);
    p[i] = kmalloc(sz);
    if(p[i] == 0){ ok = 0; break; }
    memset(p[i], i & 0xff, sz);
    if(((unsigned char *)p[i])[sz - 1] != (i & 0xff))
      ok = 0;
  }
  kmalloc_stat(&ms);
  if(ms.kmalloc_bytes == 0 || ms.kmalloc_pages == 0)
    ok = 0;
  for(i = 0; i < 2000; i++){
    unsigned sz = 1 + (i * 7919u) % (i % 10 == 0 ? 40000 : 3000);
    unsigned char *c = p[i];
    if(c[0] != (i & 0xff) || c[sz - 1] != (i & 0xff))
      ok = 0;
  }
  for(i = 1999; i >= 0; i -= 3)
    kfree(p[i]);
  for(i = 0; i < 2000; i++)
    if((1999 - i) % 3 != 0)
      kfree(p[i]);
  buddy_stat(&ms);
  kmalloc_stat(&ms);
  ok = ok && ms.kmalloc_bytes == 0 && ms.kmalloc_pages == 0 && ms.free_pages == init.free_pages;
  result("kmalloc", ok, "contents, counters or pages wrong");
  p[0] = kzalloc(100);
  ok = p[0] && ((char *)p[0])[99] == 0;
  kfree(p[0]);
  result("kzalloc", ok, "not zeroed");
  result("kmalloc_selftest", kmalloc_selftest() == 0, "kmalloc_selftest failed");
  result("kmalloc_big_sizes", big_sizes_ok(why, sizeof(why)), why);
  buddy_stat(&ms);
  result("final", ms.free_pages == init.free_pages, "pages leaked");
  return failures ? 1 : 0;
}
