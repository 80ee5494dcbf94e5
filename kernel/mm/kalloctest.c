// The kalloctest system call (modes in kalloctest.h): runs the self-tests
// of buddy.c and kmalloc.c, and benchmarks both allocators. The benchmark
// has to run here because the allocators live in the kernel; it reports
// TSC cycles and leaves the conversion to seconds to user space
// (user/bench/allocbench.c). One call runs at a time (-EBUSY otherwise), since
// the tests compare the free lists before and after.
#include "types.h"
#include "param.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "errno.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "memstat.h"
#include "kalloctest.h"

#define CHUNK       1024      // timed operations per interrupts-off stretch
#define FRAG_STEPS  100000    // default workload length
#define FRAG_MAXSTEPS 1000000   // about a second under emulation

static uint busy;             // 1 while a call runs
static int testmode;          // the allocator tests may run (kalloctest.h)

// n / d, for a quotient that fits in 32 bits (the kernel has no libgcc).
static uint
div64(uint64 n, uint d)
{
  uint64 r = 0;
  uint q = 0;
  int i;

  if(d == 0)
    return 0;
  for(i = 63; i >= 0; i--){
    r = (r << 1) | ((n >> i) & 1);
    q <<= 1;
    if(r >= d){
      r -= d;
      q |= 1;
    }
  }
  return q;
}

// The allocator under test: pages of b->order, or kmalloc objects of b->size.
static void *
bench_alloc(int km, struct kat_bench *b)
{
  return km ? kmalloc(b->size) : page_alloc(b->order);
}

static void
bench_free(int km, struct kat_bench *b, void *p)
{
  if(km)
    kfree(p);
  else
    page_free(p, b->order);
}

// Time b->iters allocations each followed at once by its free. Returns
// the total cycles; *done gets the pairs completed (fewer: out of memory).
static uint64
time_pairs(int km, struct kat_bench *b, uint *done)
{
  uint64 t0, total = 0;
  uint n;
  int oom = 0;
  void *p;

  *done = 0;
  while(*done < b->iters && !oom){
    pushcli();
    t0 = rdtsc();
    for(n = 0; n < CHUNK && *done + n < b->iters; n++){
      if((p = bench_alloc(km, b)) == 0){
        oom = 1;
        break;
      }
      bench_free(km, b, p);
    }
    total += rdtsc() - t0;
    popcli();
    *done += n;
  }
  return total;
}

// Fill b's pair and batch results; held has room for KAT_MAXBATCH pointers.
static void
run_bench(int km, struct kat_bench *b, void **held)
{
  uint64 t0, t1, talloc = 0, tfree = 0, tpair;
  uint r, rounds, j, got, pairs;

  tpair = time_pairs(km, b, &pairs);
  b->pair_cycles = div64(tpair, pairs);
  rounds = b->iters / b->batch;
  if(rounds == 0)
    rounds = 1;
  b->batch_done = 0;
  for(r = 0; r < rounds; r++){
    pushcli();
    t0 = rdtsc();
    for(got = 0; got < b->batch; got++)
      if((held[got] = bench_alloc(km, b)) == 0)
        break;
    t1 = rdtsc();
    for(j = 0; j < got; j++)
      bench_free(km, b, held[j]);
    tfree += rdtsc() - t1;
    talloc += t1 - t0;
    popcli();
    b->batch_done += got;
  }
  b->alloc_cycles = div64(talloc, b->batch_done);
  b->free_cycles = div64(tfree, b->batch_done);
}

// KAT_BENCH / KAT_KMBENCH: check the request, run it, copy the results out.
static int
bench(int km, uint uva)
{
  struct kat_bench b;
  void **held;

  if(copyin(myproc(), &b, uva, sizeof(b)) < 0)
    return -EFAULT;
  if(b.iters < 1 || b.iters > KAT_MAXITERS || b.batch < 1 || b.batch > KAT_MAXBATCH)
    return -EINVAL;
  if(km ? b.size < 1 || b.size > (PGSIZE << BUDDY_MAXORDER) : b.order > BUDDY_MAXORDER)
    return -EINVAL;
  if((held = kmalloc(KAT_MAXBATCH * sizeof(void *))) == 0)
    return -ENOMEM;
  run_bench(km, &b, held);
  kfree(held);
  return copyout(myproc(), uva, &b, sizeof(b)) < 0 ? -EFAULT : 0;
}

static uint frag_seed;

static uint
frag_rand(void)
{
  frag_seed = frag_seed * 1103515245 + 12345;
  return (frag_seed >> 16) & 0x7fff;
}

// Order k with probability 2^-(k+1) (the last order takes the rest).
static int
frag_order(void)
{
  uint bits = frag_rand();
  int k = 0;

  while(k < BUDDY_MAXORDER && (bits & 1)){
    k++;
    bits >>= 1;
  }
  return k;
}

// Do two snapshots have the same free pages and free blocks per order?
static int
same_lists(struct memstat *a, struct memstat *b)
{
  int k;

  if(a->free_pages != b->free_pages)
    return 0;
  for(k = 0; k < BUDDY_NORDERS; k++)
    if(a->free_blocks[k] != b->free_blocks[k])
      return 0;
  return 1;
}

struct held { void *kva; int order; };   // a block the workload holds

// The random workload of KAT_FRAG. While fewer than half the free pages
// are held, a step allocates a block of a random order (3 times in 4) or
// frees a random held block; at or above half it frees. Then it snapshots
// the allocator into f->held and frees everything. h has room for cap blocks.
static void
run_frag(struct kat_frag *f, struct held *h, uint cap)
{
  uint s, i, n = 0, target;
  int order;

  target = f->start.free_pages / 2;
  f->held_pages = f->allocs = f->failed = 0;
  for(s = 0; s < f->steps; s++){
    if(n > 0 && (f->held_pages >= target || n == cap || frag_rand() % 4 == 0)){
      i = ((frag_rand() << 15) | frag_rand()) % n;
      page_free(h[i].kva, h[i].order);
      f->held_pages -= 1u << h[i].order;
      h[i] = h[--n];
      continue;
    }
    order = frag_order();
    if((h[n].kva = page_alloc(order)) == 0){
      f->failed++;
      continue;
    }
    h[n++].order = order;
    f->held_pages += 1u << order;
    f->allocs++;
  }
  f->held_blocks = n;
  buddy_stat(&f->held);
  kmalloc_stat(&f->held);
  while(n > 0){
    n--;
    page_free(h[n].kva, h[n].order);
  }
}

// KAT_FRAG: check the request, run the workload, copy the results out.
static int
frag(uint uva)
{
  struct kat_frag f;
  struct memstat end;
  struct held *h;
  uint cap;

  if(copyin(myproc(), &f, uva, sizeof(f)) < 0)
    return -EFAULT;
  if(f.steps == 0)
    f.steps = FRAG_STEPS;
  if(f.steps > FRAG_MAXSTEPS)
    return -EINVAL;
  buddy_stat(&f.start);
  cap = f.start.free_pages / 2 + 1;     // each held block is at least a page
  if((h = kmalloc(cap * sizeof(*h))) == 0)
    return -ENOMEM;
  buddy_stat(&f.start);
  kmalloc_stat(&f.start);
  frag_seed = f.seed;
  run_frag(&f, h, cap);
  buddy_stat(&end);
  f.restored = same_lists(&f.start, &end);
  kfree(h);
  return copyout(myproc(), uva, &f, sizeof(f)) < 0 ? -EFAULT : 0;
}

// KAT_TESTMODE: turn the test mode on (init only) or off (anyone).
// Returns the previous setting, or -EPERM.
static int
set_testmode(uint on)
{
  int old = testmode;

  if(on && myproc()->pid != 1)
    return -EPERM;
  testmode = on != 0;
  return old;
}

// Is the test mode on? Test hooks that disturb the whole machine (the
// allocator self-tests, the trace crash command) run only then.
int
kalloc_testmode(void)
{
  return testmode;
}

// Run one kalloctest request (mode, user address of its structure).
// Returns 0 or -errno: -EIO if a self-test failed, -EBUSY if another
// request is running, -EINVAL for a bad mode or argument, -EPERM outside
// the test mode (the tests take large parts of memory: they must not
// disturb other users' processes).
int
kalloc_test(int mode, uint uva)
{
  int r;

  if(mode == KAT_TESTMODE)
    return set_testmode(uva);
  if(!testmode)
    return -EPERM;
  if(xchg(&busy, 1) != 0)
    return -EBUSY;
  switch(mode){
  case KAT_SELFTEST:
    if((r = buddy_selftest()) == 0)
      r = kmalloc_selftest();
    break;
  case KAT_BENCH:
  case KAT_KMBENCH:
    r = bench(mode == KAT_KMBENCH, uva);
    break;
  case KAT_FRAG:
    r = frag(uva);
    break;
  default:
    r = -EINVAL;
  }
  xchg(&busy, 0);
  return r;
}
