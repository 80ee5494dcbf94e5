// The kalloctest system call: allocator self-tests and the in-kernel
// allocator benchmark (kernel/kalloctest.c). Shared by the kernel and the
// user programs alloctest and allocbench.
//
//   kalloctest(KAT_SELFTEST, 0)        buddy and kmalloc self-tests: 0 or -EIO
//   kalloctest(KAT_BENCH, &kat_bench)   time page_alloc/page_free of one order
//   kalloctest(KAT_KMBENCH, &kat_bench) time kmalloc/kfree of one size
//   kalloctest(KAT_FRAG, &kat_frag)     random workload: snapshot the free
//                                        lists while holding ~half of memory
// The structures are read from and written back to user memory.
// Self-tests and the workload assume nothing else allocates meanwhile, and
// the self-test takes every free page for a moment: so every mode but
// KAT_TESTMODE fails with -EPERM unless the test mode is on. Only init
// (pid 1) can turn it on, which it does at boot for a scripted run (a
// /runcmd: make test, make bench, make run), never for an interactive one;
// any process may turn it off for the rest of the boot:
//   kalloctest(KAT_TESTMODE, (void *)1)  on (pid 1 only, else -EPERM)
//   kalloctest(KAT_TESTMODE, 0)          off
// Either returns the previous setting (0 or 1).
#ifndef KKALLOCTEST_H
#define KKALLOCTEST_H
#include "memstat.h"

#define KAT_SELFTEST 0
#define KAT_BENCH    1
#define KAT_KMBENCH  2
#define KAT_FRAG     3
#define KAT_TESTMODE 4

#define KAT_MAXITERS 1000000   // most operations timed per call
#define KAT_MAXBATCH 256       // most blocks held at once by the batch test

// Cycles are TSC cycles (rdtsc), averaged per operation and measured with
// interrupts off on the calling CPU (in chunks, so ticks still arrive).
// The pair test times iters alloc+free pairs. The batch test repeats
// iters/batch rounds (at least one) of: allocate batch blocks, then free them.
struct kat_bench {
  uint order;          // in: block order (KAT_BENCH), 0..BUDDY_MAXORDER
  uint size;           // in: object size in bytes (KAT_KMBENCH)
  uint iters;          // in: operations to time, 1..KAT_MAXITERS
  uint batch;          // in: blocks allocated before freeing them, 1..KAT_MAXBATCH
  uint pair_cycles;    // out: one allocation immediately followed by its free
  uint alloc_cycles;   // out: one allocation while the batch fills up
  uint free_cycles;    // out: one free while the batch drains
  uint batch_done;     // out: allocations made in the batch test (fewer: out of memory)
};

struct kat_frag {
  uint seed;           // in: random seed
  uint steps;          // in: random allocate/free steps (0: a default)
  struct memstat start;   // out: before the workload
  struct memstat held;    // out: at its end, blocks still held
  uint held_blocks;    // out: blocks held at the end
  uint held_pages;     // out: pages held at the end
  uint allocs;         // out: successful allocations during the workload
  uint failed;         // out: allocations that found no block
  uint restored;       // out: 1 if freeing everything restored the free lists exactly
};
#endif
