// vmphases: lazy vs eager allocation in phases marked for the tracer (a
// benchmark to run under `trace run`, not a test).
//
//   trace run -p -m stop -s 65536 vmphases [MIB]     region size (default 8 MiB)
//
// For 1%, 10%, 50% and 100% of the region's pages and each mode (lazy,
// populate = MAP_POPULATE, vm.lazy=0) one phase: mmap the region, write to
// the share of its pages (evenly spread), and that is the phase; the munmap
// follows outside it. A warm-up round of unmarked phases comes first. Each phase is framed by two marker events with the
// label "ph:MODE:PCT": arg 1 at the start, arg 0 at the end, so a decoder can
// count the faults and page allocations of each phase from the trace.
// Besides, per phase, the counters' view (vmstat deltas) as
//   csv,region_kib,pct,mode,cycles,pages,faults
// (vmbench's format), to check against the trace's counts.
#include "kernel/types.h"
#include "kernel/mman.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/cycles.h"

#define PG 4096

typedef unsigned long long u64;

static const int pcts[] = { 1, 10, 50, 100 };
static const char *modes[] = { "lazy", "populate", "vm.lazy=0" };

// Run one phase; print its csv line unless quiet (a warm-up, unmarked).
// Returns 0, or -1 if mmap failed.
static int
phase(uint len, int pct, int m, int quiet)
{
  char label[TRACE_LABEL], cyc[24];
  struct vmstat a, b;
  uint i, npages = len / PG, stride = 100 / pct;
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | (m == 1 ? MAP_POPULATE : 0);
  u64 t0, t1, d;
  char *p;

  snprintf(label, sizeof(label), "ph:%s:%d", modes[m], pct);
  if(m == 2)
    sysctl("vm.lazy", 0);
  sleep(1);        // start on a clock tick: the same under CLOCK=icount every boot
  vmstat(&a, sizeof(a));
  if(!quiet)
    trace(TRACE_MARK, 1, label);
  t0 = rdtsc();
  p = mmap(0, len, PROT_READ | PROT_WRITE, flags, -1, 0);
  if(p != MAP_FAILED)
    for(i = 0; i < npages; i += stride)
      p[i * PG] = 1;
  t1 = rdtsc();
  if(!quiet)
    trace(TRACE_MARK, 0, label);
  vmstat(&b, sizeof(b));
  if(m == 2)
    sysctl("vm.lazy", 1);
  if(p == MAP_FAILED){
    fprintf(2, "vmphases: mmap failed: %s\n", strerror(errno));
    return -1;
  }
  munmap(p, len);
  if(quiet)
    return 0;
  // A phase is far below 2^32 cycles; say so rather than print a wrong figure.
  d = t1 - t0;
  if(d >> 32)
    snprintf(cyc, sizeof(cyc), "overflow");
  else
    snprintf(cyc, sizeof(cyc), "%u", (uint)d);
  printf("csv,%d,%d,%s,%s,%d,%d\n", len >> 10, pct, modes[m], cyc,
         b.v[VM_PGALLOC] - a.v[VM_PGALLOC], b.v[VM_FAULT_ZERO] - a.v[VM_FAULT_ZERO]);
  return 0;
}

int
main(int argc, char **argv)
{
  uint mib = argc > 1 ? atoi(argv[1]) : 8;
  int i, m;

  if(mib == 0 || mib > 256){
    fprintf(2, "usage: vmphases [MIB]\n");
    exit(2);
  }
  if(sysctl("vm.lazy", -1) != 1){
    fprintf(2, "vmphases: needs vm.lazy=1 to start with\n");
    exit(1);
  }
  // Warm up (first-time costs: the emulator translating the paths, kernel
  // page tables), then the marked phases.
  for(m = 0; m < 3; m++)
    if(phase(mib << 20, 100, m, 1) < 0)
      exit(1);
  for(i = 0; i < 4; i++)
    for(m = 0; m < 3; m++)
      if(phase(mib << 20, pcts[i], m, 0) < 0)
        exit(1);
  exit(0);
}
