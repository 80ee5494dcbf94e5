// allocbench: benchmark of the kernel allocators (issue 3). Not a test: it
// prints numbers.
//
//   allocbench [ITERS]
//
// 1. TSC calibration: TSC cycles counted over CAL_TICKS clock ticks (100 Hz).
// 2. Buddy allocator, orders 0..10, timed in the kernel (kalloctest
//    KAT_BENCH): cycles of an alloc+free pair, of an allocation and of a
//    free in batches, and allocations per second.
// 3. kmalloc, a few sizes, the same way (KAT_KMBENCH).
// 4. Fragmentation after a random workload that holds about half of free
//    memory (KAT_FRAG): free pages, free blocks per order, largest free
//    block, external fragmentation 1 - largest/free, and per order k the
//    unusable-free-space index (share of free pages in blocks below order k).
// A human table, then the same figures as "csv,..." lines. Under qemu's
// software emulation "cycles" are host TSC cycles spent emulating.
#include "kernel/types.h"
#include "kernel/memstat.h"
#include "kernel/kalloctest.h"
#include "user/user.h"
#include "user/lib/cycles.h"

#define CAL_TICKS 32              // a power of two: cycles per tick is a shift
#define HZ        100
#define REPEAT    3               // best of REPEAT runs per figure
#define FRAG_SEED 12345

static uint khz;                  // TSC kHz

// TSC kHz: cycles over CAL_TICKS ticks, starting on a tick edge.
static uint
calibrate(void)
{
  uint64 c0, c1;
  uint t;

  sleep(1);        // start on a clock tick: the same under CLOCK=icount every boot
  t = uptime();
  while(uptime() == t)
    ;
  t = uptime();
  c0 = rdtsc();
  while(uptime() < t + CAL_TICKS)
    ;
  c1 = rdtsc();
  return (uint)((c1 - c0) >> 5) / (1000 / HZ);
}

// Operations per second at `cycles` cycles each (0 if unknown).
static uint
per_second(uint cycles)
{
  if(cycles == 0)
    return 0;
  if(cycles > 4000000)
    return khz / cycles * 1000;
  return khz / cycles * 1000 + khz % cycles * 1000 / cycles;
}

// Print v right-aligned in a column of width characters (plus a space).
static void
col(uint v, int width)
{
  uint t = v;
  int digits = 1;

  while(t >= 10){
    t /= 10;
    digits++;
  }
  while(digits++ < width)
    printf(" ");
  printf("%d ", v);
}

// Print v/1000 as "0.123".
static void
print_frac(uint permille)
{
  printf("%d.%d%d%d", permille / 1000, permille / 100 % 10, permille / 10 % 10, permille % 10);
}

// Run one benchmark request REPEAT times; keep the smallest of each figure.
static int
best_of(int mode, struct kat_bench *req, struct kat_bench *best)
{
  struct kat_bench b;
  int i;

  for(i = 0; i < REPEAT; i++){
    b = *req;
    if(kalloctest(mode, &b) < 0)
      return -1;
    if(i == 0 || b.pair_cycles < best->pair_cycles)
      best->pair_cycles = b.pair_cycles;
    if(i == 0 || b.alloc_cycles < best->alloc_cycles)
      best->alloc_cycles = b.alloc_cycles;
    if(i == 0 || b.free_cycles < best->free_cycles)
      best->free_cycles = b.free_cycles;
    best->batch_done = b.batch_done;
  }
  best->order = req->order;
  best->size = req->size;
  best->iters = req->iters;
  best->batch = req->batch;
  return 0;
}

static struct kat_bench orders[BUDDY_NORDERS];

static const uint kmsizes[] = { 16, 64, 256, 1024, 2048, 4096, 16384, 65536 };
#define NKMSIZES ((int)(sizeof(kmsizes) / sizeof(kmsizes[0])))
static struct kat_bench kms[NKMSIZES];

static void
bench_orders(uint iters, uint freepages)
{
  struct kat_bench req;
  int k;

  printf("\nbuddy allocator (cycles per operation; batch = blocks held before freeing)\n");
  printf("order  pages  batch   pair  alloc   free   pairs/s  allocs/s\n");
  for(k = 0; k < BUDDY_NORDERS; k++){
    memset(&req, 0, sizeof(req));
    req.order = k;
    req.iters = iters;
    req.batch = 64;
    while(req.batch > 1 && (req.batch << k) > freepages / 4)
      req.batch /= 2;
    if(best_of(KAT_BENCH, &req, &orders[k]) < 0){
      printf("%d: kalloctest failed: %s\n", k, strerror(errno));
      continue;
    }
    col(k, 5);
    col(1 << k, 6);
    col(orders[k].batch, 6);
    col(orders[k].pair_cycles, 6);
    col(orders[k].alloc_cycles, 6);
    col(orders[k].free_cycles, 6);
    col(per_second(orders[k].pair_cycles), 9);
    col(per_second(orders[k].alloc_cycles), 9);
    printf("\n");
  }
}

static void
bench_kmalloc(uint iters)
{
  struct kat_bench req;
  int i;

  printf("\nkmalloc (cycles per operation; batch of 64)\n");
  printf(" size   pair  alloc   free   pairs/s  allocs/s\n");
  for(i = 0; i < NKMSIZES; i++){
    memset(&req, 0, sizeof(req));
    req.size = kmsizes[i];
    req.iters = iters;
    req.batch = 64;
    if(best_of(KAT_KMBENCH, &req, &kms[i]) < 0){
      printf("%d: kalloctest failed: %s\n", kmsizes[i], strerror(errno));
      continue;
    }
    col(kmsizes[i], 5);
    col(kms[i].pair_cycles, 6);
    col(kms[i].alloc_cycles, 6);
    col(kms[i].free_cycles, 6);
    col(per_second(kms[i].pair_cycles), 9);
    col(per_second(kms[i].alloc_cycles), 9);
    printf("\n");
  }
}

// Pages in the largest free block.
static uint
largest(struct memstat *ms)
{
  int k;

  for(k = BUDDY_MAXORDER; k >= 0; k--)
    if(ms->free_blocks[k])
      return 1u << k;
  return 0;
}

// External fragmentation 1 - largest/free, in thousandths.
static uint
ext_frag(struct memstat *ms)
{
  if(ms->free_pages == 0)
    return 0;
  return 1000 - largest(ms) * 1000 / ms->free_pages;
}

// Share of free pages in blocks smaller than order k, in thousandths:
// memory that cannot serve a request of order k.
static uint
unusable(struct memstat *ms, int k)
{
  uint below = 0;
  int j;

  if(ms->free_pages == 0)
    return 0;
  for(j = 0; j < k; j++)
    below += ms->free_blocks[j] << j;
  return below * 1000 / ms->free_pages;
}

static void
print_state(const char *name, struct memstat *ms)
{
  int k;

  printf("%s: free pages %d, largest free block %d pages (at most %d), "
         "external fragmentation 1 - largest/free = ", name, ms->free_pages, largest(ms),
         1 << BUDDY_MAXORDER);
  print_frac(ext_frag(ms));
  printf("\n  order:      ");
  for(k = 0; k < BUDDY_NORDERS; k++)
    col(k, 5);
  printf("\n  free blocks:");
  for(k = 0; k < BUDDY_NORDERS; k++)
    col(ms->free_blocks[k], 5);
  printf("\n  unusable:   ");   // share of free pages in blocks below order k
  for(k = 0; k < BUDDY_NORDERS; k++){
    printf(" ");
    print_frac(unusable(ms, k));
  }
  printf("\n");
}

static void
csv_state(const char *name, struct memstat *ms)
{
  int k;

  printf("csv,frag,%s,%d,%d,%d", name, ms->free_pages, largest(ms), ext_frag(ms));
  for(k = 0; k < BUDDY_NORDERS; k++)
    printf(",%d", ms->free_blocks[k]);
  printf("\n");
}

static int
frag(struct kat_frag *f)
{
  memset(f, 0, sizeof(*f));
  f->seed = FRAG_SEED;
  if(kalloctest(KAT_FRAG, f) < 0){
    printf("fragmentation workload failed: %s\n", strerror(errno));
    return -1;
  }
  printf("\nfragmentation: random workload (seed %d), %d allocations (%d failed); "
         "at the end %d blocks = %d pages held\n", f->seed, f->allocs, f->failed,
         f->held_blocks, f->held_pages);
  print_state("before", &f->start);
  print_state("while holding", &f->held);
  printf("after freeing everything the free lists are %s\n",
         f->restored ? "exactly as before" : "NOT as before");
  return 0;
}

static void
csv(struct kat_frag *f, int fragok)
{
  int i;

  printf("\ncsv,tsc_khz,%d\n", khz);
  printf("csv,buddy,order,pages,batch,pair_cycles,alloc_cycles,free_cycles,pairs_per_s,allocs_per_s\n");
  for(i = 0; i < BUDDY_NORDERS; i++)
    printf("csv,buddy,%d,%d,%d,%d,%d,%d,%d,%d\n", i, 1 << i, orders[i].batch,
           orders[i].pair_cycles, orders[i].alloc_cycles, orders[i].free_cycles,
           per_second(orders[i].pair_cycles), per_second(orders[i].alloc_cycles));
  printf("csv,kmalloc,size,pair_cycles,alloc_cycles,free_cycles,pairs_per_s,allocs_per_s\n");
  for(i = 0; i < NKMSIZES; i++)
    printf("csv,kmalloc,%d,%d,%d,%d,%d,%d\n", kmsizes[i], kms[i].pair_cycles,
           kms[i].alloc_cycles, kms[i].free_cycles, per_second(kms[i].pair_cycles),
           per_second(kms[i].alloc_cycles));
  if(!fragok)
    return;
  printf("csv,frag,phase,free_pages,largest_pages,ext_frag_permille,b0,b1,b2,b3,b4,b5,b6,b7,b8,b9,b10\n");
  csv_state("start", &f->start);
  csv_state("held", &f->held);
  printf("csv,fragrun,seed,allocs,failed,held_blocks,held_pages,restored\n");
  printf("csv,fragrun,%d,%d,%d,%d,%d,%d\n", f->seed, f->allocs, f->failed, f->held_blocks,
         f->held_pages, f->restored);
}

int
main(int argc, char **argv)
{
  struct memstat ms;
  struct kat_frag f;
  uint iters = 16384;
  int fragok;

  if(argc > 1 && (iters = atoi(argv[1])) < 1)
    iters = 16384;
  if(memstat(&ms) < 0){
    printf("allocbench: memstat failed\n");
    return 1;
  }
  khz = calibrate();
  printf("allocbench: TSC %d kHz (over %d ticks), %d pages managed, %d free, %d iterations\n",
         khz, CAL_TICKS, ms.total_pages, ms.free_pages, iters);
  bench_orders(iters, ms.free_pages);
  bench_kmalloc(iters);
  fragok = frag(&f) == 0;
  csv(&f, fragok);
  return 0;
}
