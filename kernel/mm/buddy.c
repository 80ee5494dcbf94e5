// Physical page allocator: a binary buddy system.
//
// Managed memory is split into blocks of 2^k pages (k = 0..BUDDY_MAXORDER),
// each aligned to its own size in physical frame numbers. A block of order k
// at frame f has its "buddy" at frame f ^ 2^k; two free buddies of equal
// order are merged into one block of order k+1.
//
// Metadata: one struct page per managed page, in an array placed right after
// the kernel image. Only the first page of a block ("head") carries the
// block's state and order; every other page is PAGE_INNER. Free heads sit on
// a circular doubly-linked list per order, so removing a buddy from its list
// is O(1) and a free costs O(1) per level merged.
//
// All allocation goes through page_alloc() and all freeing through
// page_free(). One spinlock protects the lists, the metadata and counters.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "core/spinlock.h"
#include "core/defs.h"
#include "errno.h"
#include "memstat.h"
#include "mm/buddy.h"
#include "trace/trace.h"

static struct {
  struct spinlock lock;
  struct page *meta;                 // meta[i] describes frame base_pfn + i
  uint base_pfn;                     // first managed frame
  uint end_pfn;                      // one past the last managed frame
  struct page freelist[BUDDY_NORDERS];  // list heads (sentinels), per order
  uint nblocks[BUDDY_NORDERS];       // free blocks of each order
  uint nfree;                        // free pages in total
} bd;

// Set by the page cache (mobj.c): frees up to n clean, unused cache pages
// and returns how many it freed. page_alloc calls it, holding no lock,
// before it reports that memory is exhausted.
int (*buddy_reclaim)(uint n);
void (*buddy_low)(void);
uint buddy_low_pages;

// bd.meta indexed by frame number (buddy.h: page_of_frame).
struct page *buddy_frames;

static void
list_init(struct page *head)
{
  head->next = head->prev = head;
}

static void
list_push(struct page *head, struct page *pg)
{
  pg->next = head->next;
  pg->prev = head;
  head->next->prev = pg;
  head->next = pg;
}

static void
list_remove(struct page *pg)
{
  pg->prev->next = pg->next;
  pg->next->prev = pg->prev;
  pg->next = pg->prev = 0;
}

static uint
pfn_of(struct page *pg)
{
  return bd.base_pfn + (uint)(pg - bd.meta);
}

static struct page *
page_at(uint pfn)
{
  if(pfn < bd.base_pfn || pfn >= bd.end_pfn)
    return 0;
  return &bd.meta[pfn - bd.base_pfn];
}

struct page *
page_of(void *kva)
{
  if((uint)kva < KERNBASE)
    return 0;
  return page_at(V2P(kva) >> PGSHIFT);
}

void *
page_kva(struct page *pg)
{
  return P2V(pfn_of(pg) << PGSHIFT);
}

// Mark the block at frame pfn free with the given order and list it.
// Caller holds bd.lock.
static void
block_make_free(uint pfn, int order)
{
  struct page *pg = page_at(pfn);

  pg->state = PAGE_FREE;
  pg->order = order;
  pg->use = PUSE_NONE;
  pg->refcnt = 0;
  list_push(&bd.freelist[order], pg);
  bd.nblocks[order]++;
  bd.nfree += 1u << order;
}

// Take a free block off its list. Caller holds bd.lock.
static void
block_take(struct page *pg)
{
  list_remove(pg);
  bd.nblocks[pg->order]--;
  bd.nfree -= 1u << pg->order;
}

// Manage physical memory [pa_start, pa_end). The metadata array is carved
// from the start of the range; the rest becomes free blocks, each as large
// as alignment and the end of memory allow. Call once, on the boot CPU, after
// kvm_init() has mapped all of physical memory.
void
buddy_init(uint pa_start, uint pa_end)
{
  uint start, npages, metabytes, pfn;
  int k;

  initlock(&bd.lock, "buddy");
  for(k = 0; k < BUDDY_NORDERS; k++)
    list_init(&bd.freelist[k]);

  start = PGROUNDUP(pa_start);
  pa_end = PGROUNDDOWN(pa_end);
  if(pa_end <= start)
    panic("buddy_init: no memory");
  npages = (pa_end - start) / PGSIZE;          // an overestimate: fine
  metabytes = npages * sizeof(struct page);
  bd.meta = (struct page *)P2V(start);
  bd.base_pfn = PGROUNDUP(start + metabytes) >> PGSHIFT;
  bd.end_pfn = pa_end >> PGSHIFT;
  buddy_frames = bd.meta - bd.base_pfn;
  if(bd.end_pfn <= bd.base_pfn)
    panic("buddy_init: metadata fills memory");
  memset(bd.meta, 0, (bd.end_pfn - bd.base_pfn) * sizeof(struct page));
  for(pfn = bd.base_pfn; pfn < bd.end_pfn; pfn++)
    page_at(pfn)->state = PAGE_INNER;

  for(pfn = bd.base_pfn; pfn < bd.end_pfn; pfn += 1u << k){
    for(k = BUDDY_MAXORDER; k > 0; k--)
      if((pfn & ((1u << k) - 1)) == 0 && pfn + (1u << k) <= bd.end_pfn)
        break;
    block_make_free(pfn, k);
  }
}

// Allocate 2^order physically contiguous pages. Returns the kernel virtual
// address of the first page (contents undefined, reference count 1), or 0
// if no block is large enough. Never waits (page_alloc_wait does).
void *
page_alloc(int order)
{
  return page_alloc_site(order, __builtin_return_address(0));
}

// page_alloc, with the allocation event's site (the caller's return
// address) given: page_alloc_wait names its own caller, not itself.
void *
page_alloc_site(int order, void *site)
{
  struct page *pg;
  uint pfn;
  int k;

  if(order < 0 || order > BUDDY_MAXORDER || fault_inject())
    return 0;
retry:
  acquire(&bd.lock);
  for(k = order; k <= BUDDY_MAXORDER; k++)
    if(bd.freelist[k].next != &bd.freelist[k])
      break;
  if(k > BUDDY_MAXORDER){
    release(&bd.lock);
    if(buddy_reclaim && buddy_reclaim(1u << order) > 0)
      goto retry;           // clean cache pages were freed: try again
    return 0;
  }
  pg = bd.freelist[k].next;
  block_take(pg);
  pfn = pfn_of(pg);
  // Split: keep the lower half, give the upper half back at each level.
  while(k > order){
    k--;
    block_make_free(pfn + (1u << k), k);
  }
  pg->state = PAGE_INUSE;
  pg->order = order;
  pg->use = PUSE_NONE;
  pg->refcnt = 1;
  pg->obj = 0;
  pg->pflags = 0;
  pg->hnext = 0;
  trace_page_alloc(page_kva(pg), order, site);  // (cheaper with
  release(&bd.lock);                            // interrupts off)
  if(bd.nfree < buddy_low_pages && buddy_low)
    buddy_low();
  return page_kva(pg);
}

// Free the block of 2^order pages at kva (as returned by page_alloc(order)),
// merging it with its buddy as long as the buddy is free and whole.
// Freeing something that is not an allocated block of that order panics.
void
page_free(void *kva, int order)
{
  struct page *pg, *buddy;
  uint pfn, bpfn;
  int k;

  pg = page_of(kva);
  if(pg == 0 || ((uint)kva & (PGSIZE - 1)) != 0)
    panic("page_free: not a managed page");
  acquire(&bd.lock);
  if(pg->state != PAGE_INUSE || pg->order != order)
    panic("page_free: not an allocated block of that order");
  if(pg->obj)
    panic("page_free: page still owned by a memory object");
  pg->state = PAGE_INNER;
  pfn = pfn_of(pg);
  for(k = order; k < BUDDY_MAXORDER; k++){
    bpfn = pfn ^ (1u << k);
    buddy = page_at(bpfn);
    if(buddy == 0 || buddy->state != PAGE_FREE || buddy->order != k)
      break;
    block_take(buddy);
    buddy->state = PAGE_INNER;
    if(bpfn < pfn)
      pfn = bpfn;
  }
  block_make_free(pfn, k);
  trace_page_free(kva, order, __builtin_return_address(0));   // (cheaper with
  release(&bd.lock);                                          // interrupts off)
}

// Reference counts, kept on the first page of a block; used by
// copy-on-write sharing of user pages. Changed with atomic instructions,
// no lock: only the allocator writes refcnt otherwise, on a page nobody
// else holds (page_alloc sets 1, a free block 0).
void
page_ref_inc(void *kva)
{
  struct page *pg = page_of(kva);

  if(pg == 0)
    panic("page_ref_inc: unmanaged page");
  __sync_fetch_and_add(&pg->refcnt, 1);
}

// Drop one reference; returns the count left (the caller frees at 0).
int
page_ref_dec(void *kva)
{
  struct page *pg = page_of(kva);
  int n;

  if(pg == 0)
    panic("page_ref_dec: unmanaged page");
  n = __sync_sub_and_fetch(&pg->refcnt, 1);
  if(n < 0)
    panic("page_ref_dec: count already zero");
  return n;
}

// Take a reference to a page that still has one (a page whose count
// reached zero is being freed). Returns 1 if it took one.
int
page_ref_get_unless_zero(void *kva)
{
  struct page *pg = page_of(kva);
  int ok;

  if(pg == 0)
    return 0;
  acquire(&bd.lock);
  ok = pg->state == PAGE_INUSE && pg->refcnt > 0;
  if(ok)
    pg->refcnt++;
  release(&bd.lock);
  return ok;
}

uint
buddy_free_pages(void)
{
  return bd.nfree;
}

uint
buddy_total_pages(void)
{
  return bd.end_pfn - bd.base_pfn;
}

int
page_ref_count(void *kva)
{
  struct page *pg = page_of(kva);
  int n;

  if(pg == 0)
    return 0;
  n = *(volatile int *)&pg->refcnt;
  return n;
}

// Fill the page-allocator part of ms (totals and free blocks per order).
void
buddy_stat(struct memstat *ms)
{
  int k;

  acquire(&bd.lock);
  ms->total_pages = bd.end_pfn - bd.base_pfn;
  ms->free_pages = bd.nfree;
  for(k = 0; k < BUDDY_NORDERS; k++)
    ms->free_blocks[k] = bd.nblocks[k];
  release(&bd.lock);
}

// ---- self-test ------------------------------------------------------------
// buddy_selftest() runs on the live kernel (SYS_kalloctest) and on the host
// (tests/host). It assumes nothing else allocates or frees pages meanwhile,
// because it compares the free lists before and after.

// Is a block of order k at frame pfn aligned to its size and inside the
// managed range?
static int
block_fits(uint pfn, int k)
{
  return (pfn & ((1u << k) - 1)) == 0 && pfn >= bd.base_pfn &&
         pfn + (1u << k) <= bd.end_pfn;
}

// Walk the free lists: each entry is a free head of the list's order that
// fits, and has no free buddy of the same order (they would have merged).
// The counters must match. Returns 1 if something is wrong. Caller holds bd.lock.
static int
check_lists(void)
{
  struct page *pg, *buddy;
  uint pfn, n, pages = 0, limit = bd.end_pfn - bd.base_pfn;
  int k;

  for(k = 0; k < BUDDY_NORDERS; k++){
    n = 0;
    for(pg = bd.freelist[k].next; pg != &bd.freelist[k]; pg = pg->next){
      if(pg < bd.meta || pg >= bd.meta + limit || ++n > limit)
        return 1;               // a wild pointer or a cycle
      pfn = pfn_of(pg);
      if(pg->state != PAGE_FREE || pg->order != k || !block_fits(pfn, k))
        return 1;
      buddy = page_at(pfn ^ (1u << k));
      if(k < BUDDY_MAXORDER && buddy && buddy->state == PAGE_FREE && buddy->order == k)
        return 1;
      pages += 1u << k;
    }
    if(n != bd.nblocks[k])
      return 1;
  }
  return pages != bd.nfree;
}

// Walk memory block by block from the first managed frame: every block
// starts with a FREE or INUSE head that fits, followed by exactly
// 2^order - 1 INNER pages, and the blocks tile the range with no gap. The
// free heads met must match the per-order counters. Returns 1 if something
// is wrong. Caller holds bd.lock.
static int
check_tiling(void)
{
  struct page *pg;
  uint pfn, i, nfree[BUDDY_NORDERS];
  int k;

  memset(nfree, 0, sizeof(nfree));
  for(pfn = bd.base_pfn; pfn < bd.end_pfn; pfn += 1u << k){
    pg = page_at(pfn);
    k = pg->order;
    if(pg->state != PAGE_FREE && pg->state != PAGE_INUSE)
      return 1;
    if(k > BUDDY_MAXORDER || !block_fits(pfn, k))
      return 1;
    for(i = 1; i < (1u << k); i++)
      if(pg[i].state != PAGE_INNER)
        return 1;
    if(pg->state == PAGE_FREE)
      nfree[k]++;
  }
  for(k = 0; k < BUDDY_NORDERS; k++)
    if(nfree[k] != bd.nblocks[k])
      return 1;
  return 0;
}

// Check the whole allocator state (both views above). 0 or -EIO.
static int
buddy_check(void)
{
  int bad;

  acquire(&bd.lock);
  bad = check_lists() || check_tiling();
  release(&bd.lock);
  return bad ? -EIO : 0;
}

#define ST_SLOTS    512       // blocks live at once, at most, in the random phase
#define ST_ROUNDS   20000     // random steps
#define ST_CHECK    1000      // full check every this many steps

struct st_slot {
  void *kva;                  // 0: empty slot
  uint tag;                   // stamped into the first word of each page
  int order;
};

static uint st_seed = 12345;

static uint
st_rand(void)
{
  st_seed = st_seed * 1103515245 + 12345;
  return (st_seed >> 16) & 0x7fff;
}

// Mostly small blocks (the kernel's usual mix), now and then any order.
static int
st_order(void)
{
  if(st_rand() % 16 == 0)
    return st_rand() % BUDDY_NORDERS;
  return st_rand() % 4;
}

// Stamp (or verify, if check) the first word of every page in a block.
static int
st_stamp(void *kva, int order, uint tag, int check)
{
  uint i, *w;

  for(i = 0; i < (1u << order); i++){
    w = (uint *)((char *)kva + i * PGSIZE);
    if(check && *w != tag + i)
      return -1;
    *w = tag + i;
  }
  return 0;
}

// A block just allocated into slot[i]: aligned to its size, marked as an
// in-use head of that order with one reference, and overlapping no other
// live slot. 0 or -1.
static int
st_fresh(struct st_slot *slot, int i)
{
  struct page *pg = page_of(slot[i].kva);
  uint a0, a1, b0, b1;
  int j;

  a0 = V2P(slot[i].kva);
  a1 = a0 + (PGSIZE << slot[i].order);
  if((a0 & ((PGSIZE << slot[i].order) - 1)) != 0)
    return -1;
  if(pg == 0 || pg->state != PAGE_INUSE || pg->order != slot[i].order || pg->refcnt != 1)
    return -1;
  for(j = 0; j < ST_SLOTS; j++){
    if(j == i || slot[j].kva == 0)
      continue;
    b0 = V2P(slot[j].kva);
    b1 = b0 + (PGSIZE << slot[j].order);
    if(a0 < b1 && b0 < a1)
      return -1;
  }
  return 0;
}

// Phase 1: random allocations and frees of mixed orders into ST_SLOTS
// slots, verifying each block's stamps before it is freed and the whole
// structure every ST_CHECK steps; then free what is left. 0 or -1.
static int
st_random(struct st_slot *slot)
{
  int r, i, order, err = 0;

  for(r = 0; r < ST_ROUNDS && !err; r++){
    if(r % ST_CHECK == 0 && buddy_check() < 0)
      err = 1;
    i = st_rand() % ST_SLOTS;
    if(slot[i].kva){
      if(st_stamp(slot[i].kva, slot[i].order, slot[i].tag, 1) < 0)
        err = 1;
      page_free(slot[i].kva, slot[i].order);
      slot[i].kva = 0;
      continue;
    }
    order = st_order();
    if((slot[i].kva = page_alloc(order)) == 0)
      continue;               // out of memory is allowed
    slot[i].order = order;
    slot[i].tag = (r << 12) ^ (i << 22);
    if(st_fresh(slot, i) < 0)
      err = 1;
    st_stamp(slot[i].kva, order, slot[i].tag, 0);
  }
  for(i = 0; i < ST_SLOTS; i++){
    if(slot[i].kva == 0)
      continue;
    if(st_stamp(slot[i].kva, slot[i].order, slot[i].tag, 1) < 0)
      err = 1;
    page_free(slot[i].kva, slot[i].order);
    slot[i].kva = 0;
  }
  return err ? -1 : 0;
}

// Phase 2: allocate blocks of orders 0..3 until not one page is left,
// chaining them through their first words ([0] next, [1] order, [2] a
// check word). Memory must then be empty. Free every second block, then
// the rest, so buddies come back out of order. 0 or -1.
static int
st_exhaust(void)
{
  uint *head = 0, *b, *next;
  int order, err = 0;

  for(;;){
    order = st_rand() % 4;
    if((b = page_alloc(order)) == 0){
      if(order == 0)
        break;
      continue;
    }
    b[0] = (uint)head;
    b[1] = order;
    b[2] = ~(uint)b;
    head = b;
  }
  acquire(&bd.lock);
  if(bd.nfree != 0)
    err = 1;
  release(&bd.lock);
  if(buddy_check() < 0)
    err = 1;
  for(b = head; b && b[0]; b = (uint *)b[0]){
    next = (uint *)b[0];
    b[0] = next[0];
    if(next[2] != ~(uint)next)
      err = 1;
    page_free(next, next[1]);
  }
  for(b = head; b; b = next){
    next = (uint *)b[0];
    if(b[2] != ~(uint)b)
      err = 1;
    page_free(b, b[1]);
  }
  return err ? -1 : 0;
}

// Random mixed-order allocations and frees, then total exhaustion; checks
// that live blocks never overlap or get overwritten, that the structure
// stays consistent (buddy_check), and that afterwards the free lists are
// exactly as before (same free pages, same blocks per order). 0, -ENOMEM
// if it cannot start, -EIO on failure (the failed phase is printed).
int
buddy_selftest(void)
{
  struct st_slot *slot;
  struct memstat before, after;
  const char *bad = 0;
  int k, (*hook)(uint);
  void (*low)(void) = buddy_low;

  if((slot = page_alloc(1)) == 0)
    return -ENOMEM;
  memset(slot, 0, ST_SLOTS * sizeof(*slot));
  hook = buddy_reclaim;
  buddy_reclaim = 0;        // exhaustion must not free cache pages meanwhile
  buddy_low = 0;            // ... nor wake the reclaim thread
  buddy_stat(&before);
  if(buddy_check() < 0)
    bad = "initial state";
  else if(st_random(slot) < 0)
    bad = "random phase";
  else if(buddy_check() < 0)
    bad = "state after random phase";
  else if(st_exhaust() < 0)
    bad = "exhaustion phase";
  else if(buddy_check() < 0)
    bad = "state after exhaustion phase";
  buddy_stat(&after);
  if(!bad && after.free_pages != before.free_pages)
    bad = "free pages not restored";
  for(k = 0; k < BUDDY_NORDERS && !bad; k++)
    if(after.free_blocks[k] != before.free_blocks[k])
      bad = "free blocks per order not restored";
  page_free(slot, 1);
  buddy_reclaim = hook;
  buddy_low = low;
  if(bad){
    printf("buddy_selftest: %s\n", bad);
    return -EIO;
  }
  return 0;
}
