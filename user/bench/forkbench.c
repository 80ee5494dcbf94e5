// forkbench: what fork, exit and copy-on-write faults cost as the parent's
// memory grows, under every fork policy, against floors measured in the
// same boot (a benchmark, not a test).
//
//   forkbench [REPS] [MAXPAGES]   repetitions per figure (default 5; the
//                                 minimum is kept); largest parent (default
//                                 16384 pages = 64 MiB)
//
// Floors, measured before each policy's runs and after the last (the least
// of each is kept, as for the fork figures):
//   null_fault   a write fault the kernel resolves by setting one PTE bit (a
//                MAP_SHARED page left read-only by mprotect: the "spurious"
//                kind, counted by vmstat to be sure it was one); median of 64
//   page_alloc   one page_alloc of a page, timed in the kernel (kalloctest
//                KAT_BENCH, batch test; the least of 3 averages); page_free
//                likewise
//   copy_4k      copying 4 KiB with rep movsl between two warm pages; median
//                of 64
// From these the analysis builds each step's floor: a copy-on-write fault
// = null_fault + page_alloc + copy_4k; an eager fork, per page = page_alloc
// + copy_4k; an eager child's exit, per page = page_free.
//
// Then, for N = 0, 1024, 4096, 16384 pages (up to MAXPAGES) the parent
// maps N pages and writes to each, and times
//   - fork alone (the parent's view: the call until it returns),
//   - fork + child exit + wait (the whole round trip),
//   - in the child, its loop writing one byte of each page (child "write"),
//     and each of those stores alone (the median is kept: one store is a
//     copy-on-write fault, and the median is what one costs even while the
//     host preempts the emulator now and then),
// and counts with vmstat what the round trip did: pages allocated and freed
// (copies plus page tables, kernel stack, ...), faults and copy-on-write
// faults. Two child behaviours: "exit" (the child exits at once) and
// "write" (the child first writes to each of the N pages).
// Policies (sysctl vm.cow): eager = 0 (fork copies), cow = 1 (pages shared
// copy-on-write), odf = 2 (on-demand fork: page tables shared copy-on-write)
// where the kernel has it. Machine-readable lines:
//   csv,floor,name,cycles
//   csv,policy,npages,child,fork_cycles,total_cycles,pgalloc,pgfree,faults,cow_faults,child_cycles,store_median
#include "kernel/types.h"
#include "kernel/mman.h"
#include "kernel/tracectl.h"
#include "kernel/kalloctest.h"
#include "user/user.h"
#include "user/lib/cycles.h"

#define PG 4096
#define FLOOR_REPS 64

typedef unsigned long long u64;

static const int sizes[] = { 0, 1024, 4096, 16384 };
#define NSIZES ((int)(sizeof(sizes) / sizeof(sizes[0])))

struct result {
  u64 fork_cycles;       // fork() call in the parent
  u64 total_cycles;      // fork + child's run and exit + wait
  u64 child_cycles;      // the child's write loop (0 for child "exit")
  uint store_median;     // median cycles of one store in that loop
  uint pgalloc, pgfree, faults, cow;
};

static volatile u64 *shared;   // a MAP_SHARED page: the child reports its loop here
static uint *lat;              // MAP_SHARED, present: the child's store times

// The k-th smallest of a[0..n) (k < n); reorders a.
static uint
select_kth(uint *a, int n, int k)
{
  int lo = 0, hi = n - 1, i, j;
  uint piv, t;

  while(lo < hi){
    piv = a[(lo + hi) / 2];
    for(i = lo, j = hi; i <= j; ){
      while(a[i] < piv)
        i++;
      while(a[j] > piv)
        j--;
      if(i <= j){
        t = a[i]; a[i] = a[j]; a[j] = t;
        i++;
        j--;
      }
    }
    if(k <= j)
      hi = j;
    else if(k >= i)
      lo = i;
    else
      break;
  }
  return a[k];
}

// Copy n words with one rep movsl (the kernel's page copy).
static void
copy_words(void *dst, const void *src, int n)
{
  asm volatile("cld; rep movsl" : "+D"(dst), "+S"(src), "+c"(n) : : "memory", "cc");
}

static void
floor_line(const char *name, u64 cycles)
{
  char b[24];

  printf("floor %s: %s cycles\n", name, u64str(cycles, b));
  printf("csv,floor,%s,%s\n", name, b);
}

// The cheapest write fault: a MAP_SHARED page made read-only and writable
// again by mprotect stays read-only in its PTE (the object shares it), so
// the next store takes a fault that only sets the write bit. Min of
// FLOOR_REPS, checked with vmstat to be exactly that many spurious faults.
static int
null_fault(u64 *best)
{
  volatile char *p = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  struct vmstat a, b;
  uint t[FLOOR_REPS];
  u64 t0;
  int k;

  if(p == MAP_FAILED)
    return -1;
  p[0] = 1;
  vmstat(&a, sizeof(a));
  for(k = 0; k < FLOOR_REPS; k++){
    if(mprotect((void *)p, PG, PROT_READ) < 0 || mprotect((void *)p, PG, PROT_READ | PROT_WRITE) < 0)
      return -1;
    t0 = rdtsc();
    p[0] = 2;
    t[k] = rdtsc() - t0;
  }
  vmstat(&b, sizeof(b));
  *best = select_kth(t, FLOOR_REPS, FLOOR_REPS / 2);
  munmap((void *)p, PG);
  if(b.v[VM_FAULT_SPURIOUS] - a.v[VM_FAULT_SPURIOUS] != FLOOR_REPS){
    fprintf(2, "forkbench: null fault: %d spurious faults, want %d\n",
            b.v[VM_FAULT_SPURIOUS] - a.v[VM_FAULT_SPURIOUS], FLOOR_REPS);
    return -1;
  }
  return 0;
}

// 4 KiB copied with rep movsl between two present pages; median of
// FLOOR_REPS.
static u64
copy_4k(void)
{
  char *p = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint t[FLOOR_REPS];
  u64 t0;
  int k;

  if(p == MAP_FAILED)
    return 0;
  memset(p, 1, 2 * PG);
  for(k = 0; k < FLOOR_REPS; k++){
    t0 = rdtsc();
    copy_words(p + PG, p, PG / 4);
    t[k] = rdtsc() - t0;
  }
  munmap(p, 2 * PG);
  return select_kth(t, FLOOR_REPS, FLOOR_REPS / 2);
}

// The floors: the least of each over every time they were measured (before
// each policy's runs and after the last), as the fork figures are the least
// of their runs. ~0 = not measured.
static u64 fl_null = ~0ULL, fl_copy = ~0ULL, fl_alloc = ~0ULL, fl_free = ~0ULL;

static void
keep_min(u64 *m, u64 v)
{
  if(v < *m)
    *m = v;
}

// Measure every floor once more. The allocator's needs the test mode (on
// in scripted runs); without it those lines will be missing and the
// report says so.
static void
floors(void)
{
  struct kat_bench kb;
  u64 c;
  int k;

  sleep(1);
  if(null_fault(&c) == 0)
    keep_min(&fl_null, c);
  keep_min(&fl_copy, copy_4k());
  for(k = 0; k < 3; k++){
    memset(&kb, 0, sizeof(kb));
    kb.order = 0;
    kb.iters = 4096;
    kb.batch = 64;
    if(kalloctest(KAT_BENCH, &kb) < 0)
      return;
    keep_min(&fl_alloc, kb.alloc_cycles);
    keep_min(&fl_free, kb.free_cycles);
  }
}

// The floors' csv lines.
static void
print_floors(void)
{
  if(fl_null != ~0ULL)
    floor_line("null_fault", fl_null);
  else
    fprintf(2, "forkbench: null fault floor not measured\n");
  floor_line("copy_4k", fl_copy);
  if(fl_alloc != ~0ULL){
    floor_line("page_alloc", fl_alloc);
    floor_line("page_free", fl_free);
  } else {
    fprintf(2, "forkbench: kalloctest: %s (page allocation floor not measured)\n",
            strerror(errno));
  }
}

// One fork round trip; the child writes to its n pages at p if `write`,
// timing its loop.
static int
one_fork(char *p, int n, int write, struct result *r)
{
  struct vmstat a, b;
  u64 t0, t1, t2, c0;
  int pid, st, i;

  sleep(1);        // start on a clock tick: the same under CLOCK=icount every boot
  *shared = 0;
  vmstat(&a, sizeof(a));
  t0 = rdtsc();
  pid = fork();
  if(pid == 0){
    if(write){
      c0 = rdtsc();
      for(i = 0; i < n; i++){
        t1 = rdtsc();
        p[i * PG] = 2;
        lat[i] = rdtsc() - t1;
      }
      *shared = rdtsc() - c0;
    }
    exit(0);
  }
  t1 = rdtsc();
  if(pid < 0)
    return -1;
  if(wait(&st) != pid || st != 0)
    return -1;
  t2 = rdtsc();
  vmstat(&b, sizeof(b));
  r->fork_cycles = t1 - t0;
  r->total_cycles = t2 - t0;
  r->child_cycles = *shared;
  r->store_median = write && n > 0 ? select_kth(lat, n, n / 2) : 0;
  r->pgalloc = b.v[VM_PGALLOC] - a.v[VM_PGALLOC];
  r->pgfree = b.v[VM_PGFREE] - a.v[VM_PGFREE];
  r->faults = b.v[VM_FAULTS] - a.v[VM_FAULTS];
  r->cow = b.v[VM_FAULT_COW_COPY] - a.v[VM_FAULT_COW_COPY]
           + b.v[VM_FAULT_COW_REUSE] - a.v[VM_FAULT_COW_REUSE];
  return 0;
}

// Best of reps round trips (timings: the minimum; counts: the last run's,
// they are exact).
static int
best_fork(char *p, int n, int w, int reps, struct result *best)
{
  struct result r;
  int k;

  one_fork(p, n, w, &r);                 // warm up
  memset(best, 0, sizeof(*best));
  best->fork_cycles = best->total_cycles = best->child_cycles = ~0ULL;
  best->store_median = ~0u;
  for(k = 0; k < reps; k++){
    if(one_fork(p, n, w, &r) < 0){
      fprintf(2, "forkbench: fork/wait failed: %s\n", strerror(errno));
      return -1;
    }
    if(r.fork_cycles < best->fork_cycles)
      best->fork_cycles = r.fork_cycles;
    if(r.total_cycles < best->total_cycles)
      best->total_cycles = r.total_cycles;
    if(r.child_cycles < best->child_cycles)
      best->child_cycles = r.child_cycles;
    if(r.store_median < best->store_median)
      best->store_median = r.store_median;
    best->pgalloc = r.pgalloc;
    best->pgfree = r.pgfree;
    best->faults = r.faults;
    best->cow = r.cow;
  }
  return 0;
}

// Measure every size up to maxpages for one policy; print table rows and
// csv lines.
static int
measure(const char *policy, int reps, int maxpages)
{
  struct result best = { 0 };
  char b1[24], b2[24], b3[24];
  int s, w, k, n;
  char *p;

  for(s = 0; s < NSIZES && sizes[s] <= maxpages; s++){
    n = sizes[s];
    p = 0;
    if(n > 0){
      p = mmap(0, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if(p == MAP_FAILED){
        fprintf(2, "forkbench: mmap of %d pages failed: %s\n", n, strerror(errno));
        return -1;
      }
      for(k = 0; k < n; k++)
        p[k * PG] = 1;
    }
    for(w = 0; w < 2; w++){
      if(best_fork(p, n, w, reps, &best) < 0)
        return -1;
      printf("%s %d pages, child %s: fork %s cycles, round trip %s cycles, child loop %s "
             "(one store: median %d), pages allocated %d freed %d, faults %d (cow %d)\n",
             policy, n, w ? "write" : "exit", u64str(best.fork_cycles, b1),
             u64str(best.total_cycles, b2), u64str(best.child_cycles, b3), best.store_median,
             best.pgalloc, best.pgfree, best.faults, best.cow);
      printf("csv,%s,%d,%s,%s,%s,%d,%d,%d,%d,%s,%d\n", policy, n, w ? "write" : "exit",
             u64str(best.fork_cycles, b1), u64str(best.total_cycles, b2),
             best.pgalloc, best.pgfree, best.faults, best.cow, u64str(best.child_cycles, b3),
             best.store_median);
    }
    if(n > 0)
      munmap(p, n * PG);
  }
  return 0;
}

static const struct { const char *name; int cow; } policies[] = {
  { "eager", 0 }, { "cow", 1 }, { "odf", 2 },
};

int
main(int argc, char **argv)
{
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  int maxpages = argc > 2 ? atoi(argv[2]) : 16384;
  int cow, i, r = 0;

  if(reps < 1 || maxpages < 0){
    fprintf(2, "usage: forkbench [REPS] [MAXPAGES]\n");
    exit(2);
  }
  shared = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if(shared == MAP_FAILED){
    fprintf(2, "forkbench: mmap: %s\n", strerror(errno));
    exit(1);
  }
  lat = mmap(0, maxpages * sizeof(uint) + PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
             -1, 0);
  if(lat == MAP_FAILED){
    fprintf(2, "forkbench: mmap: %s\n", strerror(errno));
    exit(1);
  }
  memset(lat, 0, maxpages * sizeof(uint) + PG);   // present before any fork
  printf("forkbench: min of %d runs per figure\n", reps);
  cow = sysctl("vm.cow", -1);
  if(cow < 0){
    printf("forkbench: no vm.cow setting: fork copies eagerly; measuring eager only\n");
    floors();
    r = measure("eager", reps, maxpages);
    floors();
    print_floors();
    exit(r < 0);
  }
  for(i = 0; i < (int)(sizeof(policies) / sizeof(policies[0])) && r == 0; i++){
    if(sysctl("vm.cow", policies[i].cow) < 0){
      printf("forkbench: no vm.cow=%d (%s) in this kernel: skipped\n",
             policies[i].cow, policies[i].name);
      continue;
    }
    floors();
    r = measure(policies[i].name, reps, maxpages);
  }
  floors();
  print_floors();
  sysctl("vm.cow", cow);
  exit(r < 0);
}
