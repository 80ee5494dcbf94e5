// tracebench: what tracing costs (a benchmark, not a test).
//
//   tracebench [PAGES [REPS [RECORDS]]]   default 512 pages, 31 pairs of runs,
//                                        8192 records per CPU
//
// Prints, in TSC cycles (under qemu's emulation these are host cycles, so
// compare figures of one run with each other):
//   - recording one event: the kernel's TRACE_BENCH loop of trace_marker()
//     calls with tracing off (the one-branch fast path) and on;
//   - a fault-heavy program (map PAGES pages of anonymous memory, touch
//     each once, unmap) with tracing off and on (the default mask, every
//     process, flight mode: per page a fault, a page_alloc and a
//     page_free event, plus one mmap and one munmap), in REPS adjacent
//     off/on pairs, each run started right after a clock tick. The
//     slowdown is the best traced run against the best untraced run (a
//     busy host only adds time); also the mean of the fastest quarter of
//     each, and the median of the pairs' slowdowns;
//   - where an event's cycles go: each part of the record path timed alone
//     in a kernel loop (TRACE_BENCHPART), best of 30.
// Machine-readable lines: "csvstat,NAME,VALUE" and the same as "NAME=VALUE".
#include "kernel/types.h"
#include "kernel/mman.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/cycles.h"

typedef unsigned long long u64;

#define MAXREPS 101                     // touch pairs at most

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

// a and b scaled down together until both fit in 17 bits (for 32-bit math).
static void
scale(u64 *a, u64 *b)
{
  while((*a >> 17) || (*b >> 17)){
    *a >>= 1;
    *b >>= 1;
  }
}

// Events recorded since the last clear, all CPUs.
static int
recorded(void)
{
  struct trace_status st;
  int i, n = 0;

  memset(&st, 0, sizeof(st));
  trace(TRACE_STATUS, 0, (const char *)&st);
  for(i = 0; i < st.ncpu; i++)
    n += st.cpu[i].recorded;
  return n;
}

// The TSC rate the kernel measured (kHz).
static int
tsc_khz(void)
{
  struct trace_status st;

  memset(&st, 0, sizeof(st));
  trace(TRACE_STATUS, 0, (const char *)&st);
  return st.tsc_khz;
}

// 100 x the percentage by which b exceeds a (both scaled to 17 bits
// first: no overflow in 32-bit math).
static int
pct_of(u64 a, u64 b)
{
  scale(&a, &b);
  return a ? ((int)b - (int)a) * 10000 / (int)a : 0;
}

// The mean of the fastest quarter (at least one) of the n runs t[] (sorts
// t): a busy host only ever adds time, and most runs it leaves alone.
static u64
fastest_quarter(u64 *t, int n)
{
  u64 x, sum = 0;
  int i, j, k = n / 4 > 0 ? n / 4 : 1;

  for(i = 1; i < n; i++)         // insertion sort
    for(j = i; j > 0 && t[j - 1] > t[j]; j--){
      x = t[j]; t[j] = t[j - 1]; t[j - 1] = x;
    }
  for(i = 0; i < k; i++)
    sum += t[i];
  return u64div(sum, k);
}

// The median of v[0..n-1] (sorts v).
static int
median(int *v, int n)
{
  int i, j, t;

  for(i = 1; i < n; i++)         // insertion sort
    for(j = i; j > 0 && v[j - 1] > v[j]; j--){
      t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
    }
  return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// One touch run with tracing on (on = 1, cleared first; *events = what it
// recorded) or off. Both make the same control calls first (each holds
// the other CPUs with an IPI), then wait for the next clock tick, so that
// neither run starts while the other virtual CPU is still awake or a tick
// is due.
static u64
run_one(int pages, int on, int *events)
{
  u64 t;

  trace(TRACE_CLEAR, 0, 0);
  trace(on ? TRACE_ON : TRACE_OFF, 0, 0);
  sleep(1);
  t = touch_run(pages);
  trace(TRACE_OFF, 0, 0);
  *events = recorded();
  return t;
}

static const char *part_names[TRACE_NPARTS] = {
  "check", "irq", "rdtsc", "off", "record", "record_cli", "off_cli", "fault", "page",
  "floor", "stores",
};

// Best of 30 of 100 x the cycles of part p (tracing on, markers of this pid).
static int
part_cycles(int p)
{
  int i, r, best = 0x7fffffff;

  for(i = 0; i < 30; i++){
    trace(TRACE_CLEAR, 0, 0);
    if(p != TRACE_PART_CHECK)
      trace(TRACE_ON, 0, 0);
    if((r = trace(TRACE_BENCHPART, p, 0)) >= 0 && r < best)
      best = r;
    trace(TRACE_OFF, 0, 0);
  }
  return best;
}

// One statistic in both machine-readable shapes.
static void
put_stat(const char *name, int v)
{
  printf("csvstat,%s,%d\n%s=%d\n", name, v, name, v);
}

// "12.34" for 100 x v.
static void
pr100(const char *before, int v, const char *after)
{
  printf("%s%s%d.%02d%s", before, v < 0 ? "-" : "", (v < 0 ? -v : v) / 100,
         (v < 0 ? -v : v) % 100, after);
}

int
main(int argc, char **argv)
{
  int pages = argc > 1 ? atoi(argv[1]) : 512;
  int reps = argc > 2 ? atoi(argv[2]) : 31;
  int ev_off = 0x7fffffff, ev_on = 0x7fffffff, pct, pct_pairs, pct_q, per_event, events = 0, e, eoff, i, r;
  int parts[TRACE_NPARTS], pair[MAXREPS];
  u64 off = ~0ULL, on = ~0ULL, ton, toff, offs[MAXREPS], ons[MAXREPS];

  if(pages < 1 || reps < 1 || reps > MAXREPS){
    fprintf(2, "usage: tracebench [PAGES [REPS]]\n");
    exit(2);
  }
  trace(TRACE_OFF, 0, 0);
  trace(TRACE_MASK, TRACE_MASK_DEFAULT, 0);
  trace(TRACE_PID, 0, 0);
  trace(TRACE_MODE, TRACE_FLIGHT, 0);
  if(trace(TRACE_SIZE, argc > 3 ? atoi(argv[3]) : 8192, 0) < 0){
    fprintf(2, "tracebench: cannot have %s records per CPU\n", argc > 3 ? argv[3] : "8192");
    exit(1);
  }
  // Best of 5: the host may be busy. (30 shorter loops here made the
  // touch runs below slower with tracing on, by more than their events
  // cost; not understood, so this part stays as it was.)
  for(i = 0; i < 5; i++){
    if((r = trace(TRACE_BENCH, 20000, 0)) > 0 && r < ev_off)
      ev_off = r;
    trace(TRACE_CLEAR, 0, 0);
    trace(TRACE_ON, 0, 0);
    if((r = trace(TRACE_BENCH, 20000, 0)) > 0 && r < ev_on)
      ev_on = r;
    trace(TRACE_OFF, 0, 0);
  }

  touch_run(pages);                     // warm up (page tables, translation)
  for(i = 0; i < reps; i++){            // off and on alternate, in pairs
    if(i & 1){
      ton = run_one(pages, 1, &e);
      toff = run_one(pages, 0, &eoff);
    } else {
      toff = run_one(pages, 0, &eoff);
      ton = run_one(pages, 1, &e);
    }
    if(ton < on){ on = ton; events = e; }
    if(toff < off) off = toff;
    pair[i] = pct_of(toff, ton);
    offs[i] = toff;
    ons[i] = ton;
  }

  pct = pct_of(off, on);
  pct_pairs = median(pair, reps);
  pct_q = pct_of(fastest_quarter(offs, reps), fastest_quarter(ons, reps));
  per_event = events > 0 && on > off && on - off < 0x7fffffffULL / 100
    ? (int)(on - off) * 100 / events : 0;
  pr100("one event (kernel loop of trace_marker): off ", ev_off, " cycles, ");
  pr100("on ", ev_on, " cycles\n");
  printf("touch %d pages: off %d Kcycles, on %d Kcycles (best of %d), %d events recorded\n",
         pages, (int)(off >> 10), (int)(on >> 10), reps, events);
  pr100("slowdown ", pct, "% (best against best), ");
  pr100("", pct_q, "% (fastest quarter of each), ");
  pr100("", pct_pairs, "% (median of the pairs), ");
  pr100("", per_event, " cycles per recorded event\n");
  trace(TRACE_MASK, 1 << TEV_MARKER, 0);
  trace(TRACE_PID, getpid(), 0);
  printf("where an event's cycles go (x100):");
  for(i = 0; i < TRACE_NPARTS; i++){
    parts[i] = part_cycles(i);
    printf(" %s %d", part_names[i], parts[i]);
  }
  printf("\n");
  trace(TRACE_PID, 0, 0);
  trace(TRACE_MASK, TRACE_MASK_DEFAULT, 0);
  for(i = 0; i < TRACE_NPARTS; i++){
    char name[40] = "part_cycles_x100_";
    strcpy(name + strlen(name), part_names[i]);
    put_stat(name, parts[i]);
  }
  put_stat("tsc_khz", tsc_khz());
  printf("csvstat,event_cycles_off_x100,%d\ncsvstat,event_cycles_on_x100,%d\n", ev_off, ev_on);
  printf("csvstat,touch_kcycles_off,%d\ncsvstat,touch_kcycles_on,%d\n",
         (int)(off >> 10), (int)(on >> 10));
  printf("csvstat,slowdown_pct_x100,%d\n", pct);
  printf("csvstat,slowdown_pairs_pct_x100,%d\ncsvstat,touch_pairs,%d\n", pct_pairs, reps);
  printf("csvstat,slowdown_quarter_pct_x100,%d\n", pct_q);
  printf("csvstat,touch_events,%d\ncsvstat,touch_cycles_per_event_x100,%d\n", events, per_event);
  exit(0);
}
