// forkbench: what fork costs as the parent's memory grows (a benchmark, not
// a test). The baseline for copy-on-write: today fork copies every user page
// at once (eager copy).
//
//   forkbench [REPS]          repetitions per figure (default 5; minimum kept)
//
// For N = 0, 64, 256, 1024 pages the parent maps N pages and writes to each,
// then times
//   - fork alone (parent's view: the call until it returns), and
//   - fork + child exit + wait (the whole round trip),
// and counts with vmstat what the round trip did: pages allocated and freed
// (pgalloc / pgfree: copies plus page tables, kernel stack, ...), faults and
// copy-on-write faults. Two child behaviours: "exit" (the child exits at once)
// and "write" (the child first writes to each of the N pages: the case where
// copy-on-write pays its faults).
// If the kernel has a "vm.cow" setting, both policies are measured (eager =
// vm.cow=0, cow = vm.cow=1); without it only "eager" (fork copies).
// Machine-readable lines:
//   csv,policy,npages,child,fork_cycles,total_cycles,pgalloc,pgfree,faults,cow_faults
#include "kernel/types.h"
#include "kernel/mman.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/cycles.h"

#define PG 4096

typedef unsigned long long u64;

static const int sizes[] = { 0, 64, 256, 1024 };
#define NSIZES ((int)(sizeof(sizes) / sizeof(sizes[0])))

struct result {
  u64 fork_cycles;       // fork() call in the parent
  u64 total_cycles;      // fork + child's run and exit + wait
  uint pgalloc, pgfree, faults, cow;
};

// One fork round trip; the child writes to its n pages at p if `write`.
static int
one_fork(char *p, int n, int write, struct result *r)
{
  struct vmstat a, b;
  u64 t0, t1, t2;
  int pid, st, i;

  sleep(1);        // start on a clock tick: the same under CLOCK=icount every boot
  vmstat(&a, sizeof(a));
  t0 = rdtsc();
  pid = fork();
  if(pid == 0){
    if(write)
      for(i = 0; i < n; i++)
        p[i * PG] = 2;
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
  r->pgalloc = b.v[VM_PGALLOC] - a.v[VM_PGALLOC];
  r->pgfree = b.v[VM_PGFREE] - a.v[VM_PGFREE];
  r->faults = b.v[VM_FAULTS] - a.v[VM_FAULTS];
  r->cow = b.v[VM_FAULT_COW_COPY] - a.v[VM_FAULT_COW_COPY]
           + b.v[VM_FAULT_COW_REUSE] - a.v[VM_FAULT_COW_REUSE];
  return 0;
}

// Measure every size for one policy; print table rows and csv lines.
static int
measure(const char *policy, int reps)
{
  struct result r, best;
  char b1[24], b2[24];
  int s, w, k, n;
  char *p;

  for(s = 0; s < NSIZES; s++){
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
      one_fork(p, n, w, &r);                 // warm up
      best.fork_cycles = best.total_cycles = ~0ULL;
      for(k = 0; k < reps; k++){
        if(one_fork(p, n, w, &r) < 0){
          fprintf(2, "forkbench: fork/wait failed: %s\n", strerror(errno));
          return -1;
        }
        if(r.fork_cycles < best.fork_cycles)
          best.fork_cycles = r.fork_cycles;
        if(r.total_cycles < best.total_cycles)
          best.total_cycles = r.total_cycles;
        // Page and fault counts are exact; keep the last run's.
        best.pgalloc = r.pgalloc;
        best.pgfree = r.pgfree;
        best.faults = r.faults;
        best.cow = r.cow;
      }
      printf("%s %d pages, child %s: fork %s cycles, round trip %s cycles, "
             "pages allocated %d freed %d, faults %d (cow %d)\n",
             policy, n, w ? "write" : "exit", u64str(best.fork_cycles, b1),
             u64str(best.total_cycles, b2), best.pgalloc, best.pgfree, best.faults, best.cow);
      printf("csv,%s,%d,%s,%s,%s,%d,%d,%d,%d\n", policy, n, w ? "write" : "exit",
             u64str(best.fork_cycles, b1), u64str(best.total_cycles, b2),
             best.pgalloc, best.pgfree, best.faults, best.cow);
    }
    if(n > 0)
      munmap(p, n * PG);
  }
  return 0;
}

int
main(int argc, char **argv)
{
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  int cow;

  if(reps < 1){
    fprintf(2, "usage: forkbench [REPS]\n");
    exit(2);
  }
  printf("forkbench: min of %d runs per figure\n", reps);
  cow = sysctl("vm.cow", -1);
  if(cow < 0){
    printf("forkbench: no vm.cow setting: fork copies eagerly; measuring eager only\n");
    exit(measure("eager", reps) < 0);
  }
  sysctl("vm.cow", 0);
  if(measure("eager", reps) < 0){
    sysctl("vm.cow", cow);
    exit(1);
  }
  sysctl("vm.cow", 1);
  if(measure("cow", reps) < 0){
    sysctl("vm.cow", cow);
    exit(1);
  }
  sysctl("vm.cow", cow);
  exit(0);
}
