// tracetest: in-guest tests of tracing and the VM counters (suite "trace").
//
//   tracetest            run every test: "PASS trace.NAME" / "FAIL trace.NAME: why"
//   tracetest dump K     touch K fresh pages with tracing on (faults, page
//                        allocations, markers; this pid only), then dump to
//                        COM2 and print "region 0xADDR pages K pid P" for the
//                        host-side check (tests/host/test_trace_e2e.py)
//   tracetest overflow MODE N   N markers through 100-record buffers in mode
//                        flight|stop, then dump to COM2
#include "kernel/types.h"
#include "kernel/mman.h"
#include "kernel/memstat.h"
#include "kernel/tracectl.h"
#include "user/user.h"

#define PG 4096
#define BUFSIZE 4096       // records per CPU the tests leave behind

// Report why a test failed (got a, wanted b); returns -1.
static int
fail(const char *msg, int a, int b)
{
  fprintf(2, "tracetest: %s: got %d, want %d\n", msg, a, b);
  return -1;
}

static void
status_sum(int *recorded, int *lost, int *held)
{
  struct trace_status st;
  int i;

  memset(&st, 0, sizeof(st));
  trace(TRACE_STATUS, 0, (const char *)&st);
  *recorded = *lost = *held = 0;
  for(i = 0; i < st.ncpu; i++){
    *recorded += st.cpu[i].recorded;
    *lost += st.cpu[i].lost;
    *held += st.cpu[i].held;
  }
}

static void
setup(int mask, int mode, int size)
{
  trace(TRACE_OFF, 0, 0);
  trace(TRACE_SIZE, size, 0);
  trace(TRACE_MODE, mode, 0);
  trace(TRACE_MASK, mask, 0);
  trace(TRACE_PID, getpid(), 0);
  trace(TRACE_CLEAR, 0, 0);
}

static void
restore(void)
{
  trace(TRACE_OFF, 0, 0);
  trace(TRACE_SIZE, BUFSIZE, 0);
  trace(TRACE_MODE, TRACE_FLIGHT, 0);
  trace(TRACE_MASK, ~1, 0);
  trace(TRACE_PID, 0, 0);
}

// Touch k fresh anonymous pages with tracing on; the fault and counter
// figures must all be exactly k.
static int
touch_pages(int k, int dump)
{
  struct vmstat a, b;
  int rec, lost, held, i;
  char *p;

  p = mmap(0, k * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if(p == MAP_FAILED)
    return fail("mmap failed", 0, 0);
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  setup((1 << TEV_FAULT) | (1 << TEV_PAGE_ALLOC) | (1 << TEV_MARKER), TRACE_STOP, BUFSIZE);
  trace(TRACE_ON, 0, 0);
  trace(TRACE_MARK, (int)p, "touch-begin");
  vmstat(&a, sizeof(a));
  for(i = 0; i < k; i++)
    p[i * PG + (i * 97) % PG] = i;
  vmstat(&b, sizeof(b));
  trace(TRACE_MARK, k, "touch-end");
  trace(TRACE_OFF, 0, 0);
  status_sum(&rec, &lost, &held);
  if(dump){
    printf("region 0x%x pages %d pid %d\n", (uint)p, k, getpid());
    trace(TRACE_DUMP, 0, 0);
  }
  restore();
  munmap(p, k * PG);
  if(b.v[VM_FAULT_ZERO] - a.v[VM_FAULT_ZERO] != k)
    return fail("fault_zero counter", b.v[VM_FAULT_ZERO] - a.v[VM_FAULT_ZERO], k);
  if(b.v[VM_FAULTS] - a.v[VM_FAULTS] != k)
    return fail("faults counter", b.v[VM_FAULTS] - a.v[VM_FAULTS], k);
  if(lost != 0)
    return fail("records lost", lost, 0);
  // 2 markers + k faults + (page_alloc events: at least k when buddy.c is hooked)
  if(b.v[VM_PGALLOC] == a.v[VM_PGALLOC]){
    if(rec != k + 2)
      return fail("records", rec, k + 2);
  } else if(rec < 2 * k + 2)
    return fail("records (with page_alloc)", rec, 2 * k + 2);
  return 0;
}

static int
test_touch(void)
{
  return touch_pages(37, 0);
}

// Push n markers through a buffer of cap records in mode: exactly n - held
// must be reported lost, and nothing else may be recorded.
static int
overflow(int mode)
{
  int n = 250, cap = 100, rec, lost, held, i;
  struct vmstat a, b;

  setup(1 << TEV_MARKER, mode, cap);
  vmstat(&a, sizeof(a));
  trace(TRACE_ON, 0, 0);
  for(i = 0; i < n; i++)
    trace(TRACE_MARK, i, "overflow");
  trace(TRACE_OFF, 0, 0);
  vmstat(&b, sizeof(b));
  status_sum(&rec, &lost, &held);
  restore();
  if(rec != n)
    return fail("recorded", rec, n);
  if(lost != n - held)
    return fail("lost != n - held", lost, n - held);
  if(held > cap * 8 || lost < n - 8 * cap)
    return fail("held", held, cap);
  if(b.v[VM_MARKERS] - a.v[VM_MARKERS] != n)
    return fail("markers counter", b.v[VM_MARKERS] - a.v[VM_MARKERS], n);
  return 0;
}

static int
test_overflow_stop(void)
{
  return overflow(TRACE_STOP);
}

static int
test_overflow_flight(void)
{
  return overflow(TRACE_FLIGHT);
}

// Bad commands and arguments give errors, never a crash.
static int
test_bad_args(void)
{
  if(trace(999, 0, 0) != -1 || errno != EINVAL)
    return fail("bad command", errno, EINVAL);
  if(trace(TRACE_SIZE, 0, 0) != -1 || trace(TRACE_SIZE, 1 << 30, 0) != -1)
    return fail("bad size accepted", 0, 0);
  if(trace(TRACE_MODE, 7, 0) != -1 || trace(TRACE_PID, -3, 0) != -1)
    return fail("bad mode/pid accepted", 0, 0);
  if(trace(TRACE_STATUS, 0, (const char *)0x10) != -1 || errno != EFAULT)
    return fail("bad status pointer", errno, EFAULT);
  if(trace(TRACE_MARK, 0, (const char *)0x10) != -1 || errno != EFAULT)
    return fail("bad label pointer", errno, EFAULT);
  if(vmstat((struct vmstat *)0x10, sizeof(struct vmstat)) != -1 || errno != EFAULT)
    return fail("bad vmstat pointer", errno, EFAULT);
  if(vmstat(0, 2) != -1)
    return fail("tiny vmstat size accepted", 0, 0);
  return 0;
}

static struct { int (*fn)(void); const char *name; } tests[] = {
  { test_touch, "touch" },
  { test_overflow_stop, "overflow_stop" },
  { test_overflow_flight, "overflow_flight" },
  { test_bad_args, "bad_args" },
};

static int
free_pages(void)
{
  struct memstat ms;

  memset(&ms, 0, sizeof(ms));
  memstat(&ms);
  return ms.free_pages;
}

int
main(int argc, char **argv)
{
  int i, pid, st, before, after, failed = 0;

  trace(TRACE_SIZE, BUFSIZE, 0);       // buffers exist before the leak checks
  if(argc == 3 && strcmp(argv[1], "dump") == 0)
    exit(touch_pages(atoi(argv[2]), 1) < 0);
  if(argc == 4 && strcmp(argv[1], "overflow") == 0){
    setup(1 << TEV_MARKER, strcmp(argv[2], "stop") == 0 ? TRACE_STOP : TRACE_FLIGHT, 100);
    trace(TRACE_ON, 0, 0);
    for(i = 0; i < atoi(argv[3]); i++)
      trace(TRACE_MARK, i, "overflow");
    trace(TRACE_OFF, 0, 0);
    printf("overflow %d markers pid %d\n", atoi(argv[3]), getpid());
    trace(TRACE_DUMP, 0, 0);
    restore();
    exit(0);
  }
  for(i = 0; i < (int)(sizeof(tests) / sizeof(tests[0])); i++){
    before = free_pages();
    if((pid = fork()) == 0)
      exit(tests[i].fn() < 0 ? 1 : 0);
    st = -1;
    wait(&st);
    after = free_pages();
    if(st != 0){
      printf("FAIL trace.%s: see message above\n", tests[i].name);
      failed++;
    } else if(after != before){
      printf("FAIL trace.%s: %d pages leaked\n", tests[i].name, before - after);
      failed++;
    } else
      printf("PASS trace.%s\n", tests[i].name);
  }
  exit(failed ? 1 : 0);
}
