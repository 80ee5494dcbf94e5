// tracebench: what tracing costs (a benchmark, not a test).
//
//   tracebench [PAGES [REPS]]     default 512 pages, 5 repetitions
//
// Prints, in TSC cycles (under qemu's emulation these are host cycles, so
// compare figures of one run with each other):
//   - recording one event: the kernel's TRACE_BENCH loop of trace_marker()
//     calls with tracing off (the one-branch fast path) and on;
//   - a fault-heavy program (touch PAGES fresh pages of an anonymous
//     mapping, then unmap) with tracing off and on (every event type, every
//     process, flight mode), each the minimum over REPS runs, and the
//     slowdown in percent.
// Machine-readable lines: "csvstat,NAME,VALUE".
#include "kernel/types.h"
#include "kernel/mman.h"
#include "kernel/tracectl.h"
#include "user/user.h"

typedef unsigned long long u64;

static u64
rdtsc(void)
{
  u64 t;

  asm volatile("rdtsc" : "=A"(t));
  return t;
}

// Cycles to map, touch and unmap pages fresh pages.
static u64
touch_run(int pages)
{
  u64 t0 = rdtsc();
  char *p;
  int i;

  p = mmap(0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if(p == MAP_FAILED){
    fprintf(2, "tracebench: mmap failed\n");
    exit(1);
  }
  for(i = 0; i < pages; i++)
    p[i * 4096] = 1;
  munmap(p, pages * 4096);
  return rdtsc() - t0;
}

static u64
best(int pages, int reps)
{
  u64 m = ~0ULL, t;
  int i;

  for(i = 0; i < reps; i++)
    if((t = touch_run(pages)) < m)
      m = t;
  return m;
}

// a and b scaled down together until both fit in 17 bits (for 32-bit math).
static void
scale(u64 *a, u64 *b)
{
  while((*a >> 17) || (*b >> 17)){
    *a >>= 1;
    *b >>= 1;
  }
}

int
main(int argc, char **argv)
{
  int pages = argc > 1 ? atoi(argv[1]) : 512;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  int ev_off, ev_on, pct;
  u64 off, on, a, b;
  struct trace_status st;

  if(pages < 1 || reps < 1){
    fprintf(2, "usage: tracebench [PAGES [REPS]]\n");
    exit(2);
  }
  trace(TRACE_OFF, 0, 0);
  trace(TRACE_MASK, ~1, 0);
  trace(TRACE_PID, 0, 0);
  trace(TRACE_MODE, TRACE_FLIGHT, 0);
  ev_off = trace(TRACE_BENCH, 100000, 0);
  trace(TRACE_CLEAR, 0, 0);
  trace(TRACE_ON, 0, 0);
  ev_on = trace(TRACE_BENCH, 100000, 0);
  trace(TRACE_OFF, 0, 0);

  touch_run(pages);                      // warm up (page tables, translation)
  off = best(pages, reps);
  trace(TRACE_CLEAR, 0, 0);
  trace(TRACE_ON, 0, 0);
  on = best(pages, reps);
  trace(TRACE_OFF, 0, 0);
  memset(&st, 0, sizeof(st));
  trace(TRACE_STATUS, 0, (const char *)&st);

  a = off;
  b = on;
  scale(&a, &b);
  pct = ((int)b - (int)a) * 10000 / (int)a;   // 17-bit values: no overflow
  printf("one event: off %d.%02d cycles, on %d.%02d cycles\n",
         ev_off / 100, ev_off % 100, ev_on / 100, ev_on % 100);
  printf("touch %d pages: off %d Kcycles, on %d Kcycles: slowdown %s%d.%02d%%\n",
         pages, (int)(off >> 10), (int)(on >> 10), pct < 0 ? "-" : "",
         (pct < 0 ? -pct : pct) / 100, (pct < 0 ? -pct : pct) % 100);
  printf("csvstat,event_cycles_off_x100,%d\ncsvstat,event_cycles_on_x100,%d\n", ev_off, ev_on);
  printf("csvstat,touch_kcycles_off,%d\ncsvstat,touch_kcycles_on,%d\n",
         (int)(off >> 10), (int)(on >> 10));
  printf("csvstat,slowdown_pct_x100,%d\n", pct);
  printf("csvstat,records_cpu0,%d\n", st.cpu[0].recorded);
  exit(0);
}
