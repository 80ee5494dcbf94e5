// tracetest: in-guest tests of tracing and the VM counters (suite "trace").
//
//   tracetest [TEST...]   run the tests (all, or those named): one line
//                         "PASS trace.NAME" / "FAIL trace.NAME: why" each
//   tracetest dump K      touch K fresh pages with tracing on (faults, page
//                         allocations, markers; this pid only), dump to COM2,
//                         print "region 0xADDR pages K pid P" and the
//                         counter increments "vmstat NAME N ..." for the
//                         host-side check (tests/host/test_trace_e2e.py)
//   tracetest overflow flight|stop N
//                         N markers (this pid only) through 128-record
//                         buffers, dump to COM2, print "overflow N pid P"
//   tracetest gaps K      a child touches K fresh pages while this process
//                         changes the settings (to the same values) and
//                         dumps 3 times; then a final dump (every process)
//   tracetest churn N     a child maps, touches and unmaps pages for ever
//                         (anonymous ones, and a shared file mapping it
//                         writes and msyncs: page cache and write-back
//                         events; the scheduler's events are traced too)
//                         while this process, N times, turns tracing off
//                         and on, flips the marker bit of the mask and
//                         dumps (and clears every 64th time); then kills
//                         the child and makes a final dump (tracing off).
//                         The host checks every dump against the counters.
//   tracetest cow K       touch K pages, fork, the child writes them (copy
//                         on write); run it under `trace run`
//   tracetest spin        tracing on, then loop for ever with no system call
//   tracetest crash       tracing on, some events, then panic the kernel
// Buffer sizes are powers of two (the kernel rounds up).
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/mman.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define PG 4096
#define BUFSIZE 4096       // records per CPU the tests leave behind
#define SMALL 128          // records per CPU for the overflow tests

static const char *counter_names[] = {
#define VMSTAT_COUNTER(N, idx, name) name,
  VMSTAT_COUNTERS
#undef VMSTAT_COUNTER
};

// Does s contain w?
static int
contains(const char *s, const char *w)
{
  int n = strlen(w);

  for(; *s; s++)
    if(strncmp(s, w, n) == 0)
      return 1;
  return 0;
}

static void
get_status(struct trace_status *st)
{
  memset(st, 0, sizeof(*st));
  CHECK_EQ(trace(TRACE_STATUS, 0, (const char *)st), 0);
}

// Totals over every CPU.
static void
status_sum(int *recorded, int *lost, int *held)
{
  struct trace_status st;
  int i;

  get_status(&st);
  *recorded = *lost = *held = 0;
  for(i = 0; i < st.ncpu; i++){
    *recorded += st.cpu[i].recorded;
    *lost += st.cpu[i].lost;
    *held += st.cpu[i].held;
  }
}

// Tracing off, buffers of size records in mode, only events in mask of
// this process, empty.
static void
setup(int mask, int mode, int size)
{
  CHECK_EQ(trace(TRACE_OFF, 0, 0), 0);
  CHECK_EQ(trace(TRACE_SIZE, size, 0), 0);
  CHECK_EQ(trace(TRACE_MODE, mode, 0), 0);
  CHECK_EQ(trace(TRACE_MASK, mask, 0), 0);
  CHECK_EQ(trace(TRACE_PID, getpid(), 0), 0);
  CHECK_EQ(trace(TRACE_CLEAR, 0, 0), 0);
}

// Back to what main() set up (same buffer size: no pages change hands).
static void
restore(void)
{
  trace(TRACE_OFF, 0, 0);
  trace(TRACE_SIZE, BUFSIZE, 0);
  trace(TRACE_MODE, TRACE_FLIGHT, 0);
  trace(TRACE_MASK, TRACE_MASK_DEFAULT, 0);
  trace(TRACE_PID, 0, 0);
  trace(TRACE_CLEAR, 0, 0);
}

// Touch k fresh anonymous pages with tracing on (faults, page allocations
// and two markers of this process). Checks that the fault counters grew by
// exactly k and nothing was lost; with dump, also writes the dump to COM2
// and prints what the host needs to check it. Returns the records made.
static int
touch_pages(int k, int dump)
{
  struct vmstat a, b;
  int rec, lost, held, i;
  char *p;

  p = mmap(0, k * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(p != MAP_FAILED);
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  setup((1 << TEV_FAULT) | (1 << TEV_PAGE_ALLOC) | (1 << TEV_MARKER), TRACE_STOP, BUFSIZE);
  CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
  trace(TRACE_MARK, (int)p, "touch-begin");
  vmstat(&a, sizeof(a));
  for(i = 0; i < k; i++)
    p[i * PG + (i * 97) % PG] = i;
  vmstat(&b, sizeof(b));
  trace(TRACE_MARK, k, "touch-end");
  CHECK_EQ(trace(TRACE_OFF, 0, 0), 0);
  status_sum(&rec, &lost, &held);
  if(dump){
    printf("region 0x%x pages %d pid %d\n", (uint)p, k, getpid());
    printf("vmstat");
    for(i = 0; i < VM_NCOUNTERS; i++)
      printf(" %s %d", counter_names[i], b.v[i] - a.v[i]);
    printf("\n");
    CHECK_EQ(trace(TRACE_DUMP, 0, 0), held);
  }
  restore();
  CHECK_EQ(munmap(p, k * PG), 0);
  CHECK_EQ(b.v[VM_FAULT_ZERO] - a.v[VM_FAULT_ZERO], k);
  CHECK_EQ(b.v[VM_FAULTS] - a.v[VM_FAULTS], k);
  CHECK_EQ(lost, 0);
  CHECK_EQ(held, rec);
  // 2 markers, k faults, and one page_alloc event per page allocated
  // (k data pages, perhaps a page table): the counter says how many.
  CHECK_EQ(rec, 2 + k + (int)(b.v[VM_PGALLOC] - a.v[VM_PGALLOC]));
  CHECK(b.v[VM_PGALLOC] - a.v[VM_PGALLOC] >= k);
  return rec;
}

static void
touch(void)
{
  touch_pages(37, 0);
}

// n markers of this process through SMALL-record buffers in mode. Exactly
// recorded - held must be reported lost, on every CPU, and what is kept
// must be the first (stop) or the last (flight) of each CPU's events.
static void
overflow_run(int mode, int n)
{
  struct trace_status st;
  struct vmstat a, b;
  int i, rec = 0, lost = 0, held = 0;

  setup(1 << TEV_MARKER, mode, SMALL);
  vmstat(&a, sizeof(a));
  CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
  for(i = 0; i < n; i++)
    trace(TRACE_MARK, i, "overflow");
  CHECK_EQ(trace(TRACE_OFF, 0, 0), 0);
  vmstat(&b, sizeof(b));
  get_status(&st);
  CHECK_EQ(st.cap, SMALL);
  CHECK_EQ(st.mode, mode);
  for(i = 0; i < st.ncpu; i++){
    CHECK(st.cpu[i].held <= SMALL);
    CHECK_EQ(st.cpu[i].held, st.cpu[i].recorded < SMALL ? st.cpu[i].recorded : SMALL);
    CHECK_EQ(st.cpu[i].lost, st.cpu[i].recorded - st.cpu[i].held);
    rec += st.cpu[i].recorded;
    lost += st.cpu[i].lost;
    held += st.cpu[i].held;
  }
  CHECK_EQ(rec, n);
  CHECK_EQ(lost, n - held);
  CHECK(held >= SMALL || held == n);
  CHECK_EQ(b.v[VM_MARKERS] - a.v[VM_MARKERS], n);
}

static void
overflow_stop(void)
{
  overflow_run(TRACE_STOP, 250);
  restore();
}

static void
overflow_flight(void)
{
  overflow_run(TRACE_FLIGHT, 250);
  restore();
}

// Many more events than fit, many times round the ring.
static void
overflow_wrap(void)
{
  overflow_run(TRACE_FLIGHT, 5000);
  overflow_run(TRACE_STOP, 5000);
  restore();
}

// Bad commands and arguments give errors, never a crash.
static void
bad_args(void)
{
  CHECK_ERR(trace(999, 0, 0), EINVAL);
  CHECK_ERR(trace(0, 0, 0), EINVAL);
  CHECK_ERR(trace(-1, 0, 0), EINVAL);
  CHECK_ERR(trace(TRACE_MODE, 7, 0), EINVAL);
  CHECK_ERR(trace(TRACE_MODE, -1, 0), EINVAL);
  CHECK_ERR(trace(TRACE_PID, -3, 0), EINVAL);
  CHECK_ERR(trace(TRACE_STATUS, 0, (const char *)0x10), EFAULT);
  CHECK_ERR(trace(TRACE_STATUS, 0, (const char *)0xFFFFFFF0), EFAULT);
  CHECK_ERR(trace(TRACE_MARK, 0, (const char *)0x10), EFAULT);
  CHECK_ERR(trace(TRACE_MARK, 0, (const char *)0x80000000), EFAULT);
  CHECK_ERR(trace(TRACE_BENCH, 0, 0), EINVAL);
  CHECK_ERR(trace(TRACE_BENCH, -5, 0), EINVAL);
  CHECK_ERR(trace(TRACE_BENCH, 2000000, 0), EINVAL);
  CHECK_ERR(trace(TRACE_CRASH, 0, 0), EINVAL);
  CHECK_ERR(trace(TRACE_CRASH, -1, 0), EINVAL);
  CHECK_ERR(trace(TRACE_FOLLOW, -2, 0), EINVAL);
  CHECK_ERR(trace(TRACE_BENCHPART, 99, 0), EINVAL);
  CHECK_ERR(trace(TRACE_BENCHPART, -1, 0), EINVAL);
  CHECK_ERR(vmstat((struct vmstat *)0x10, sizeof(struct vmstat)), EFAULT);
  CHECK_ERR(vmstat(0, 2), EINVAL);
  CHECK_ERR(vmstat(0, -1), EINVAL);
  restore();
}

// Sizes: zero, negative and huge are refused and leave the old buffers;
// others are rounded up to a power of two; the largest possible works.
static void
sizes(void)
{
  struct trace_status st;

  CHECK_EQ(trace(TRACE_SIZE, 100, 0), 0);
  get_status(&st);
  CHECK_EQ(st.cap, 128);
  CHECK_EQ(st.recsize, 48);
  CHECK_ERR(trace(TRACE_SIZE, 0, 0), EINVAL);
  CHECK_ERR(trace(TRACE_SIZE, -1, 0), EINVAL);
  CHECK_ERR(trace(TRACE_SIZE, 1 << 30, 0), EINVAL);
  CHECK_ERR(trace(TRACE_SIZE, 0x7FFFFFFF, 0), EINVAL);
  CHECK_ERR(trace(TRACE_SIZE, 65537, 0), EINVAL);
  get_status(&st);
  CHECK_EQ(st.cap, 128);
  CHECK_EQ(trace(TRACE_SIZE, 1, 0), 0);
  get_status(&st);
  CHECK_EQ(st.cap, 1);
  CHECK_EQ(trace(TRACE_SIZE, 65536, 0), 0);   // 3 MiB per CPU: fits in 128 MiB
  get_status(&st);
  CHECK_EQ(st.cap, 65536);
  // A one-record buffer in both modes.
  CHECK_EQ(trace(TRACE_SIZE, 1, 0), 0);
  overflow_run(TRACE_STOP, 10);
  overflow_run(TRACE_FLIGHT, 10);
  restore();
}

// Event masks: 0 records nothing, -1 (unknown bits too) is accepted and
// records everything, a mask without markers drops markers.
static void
masks(void)
{
  int rec, lost, held;
  struct trace_status st;

  setup(0, TRACE_FLIGHT, BUFSIZE);
  CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
  trace(TRACE_MARK, 1, "nothing");
  CHECK_EQ(trace(TRACE_OFF, 0, 0), 0);
  status_sum(&rec, &lost, &held);
  CHECK_EQ(rec, 0);

  setup(-1, TRACE_FLIGHT, BUFSIZE);
  get_status(&st);
  CHECK_EQ(st.mask, 0xFFFFFFFF);
  CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
  trace(TRACE_MARK, 1, "all");
  CHECK_EQ(trace(TRACE_OFF, 0, 0), 0);
  status_sum(&rec, &lost, &held);
  // the marker, and the system calls: MARK's entry and exit, OFF's entry
  // (ON's exit is not recorded: its entry came before tracing was on)
  CHECK_EQ(rec, 4);

  setup(TRACE_MASK_DEFAULT, TRACE_FLIGHT, BUFSIZE);   // no syscall events
  CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
  trace(TRACE_MARK, 1, "default");
  CHECK_EQ(trace(TRACE_OFF, 0, 0), 0);
  status_sum(&rec, &lost, &held);
  CHECK_EQ(rec, 1);

  setup(1 << TEV_FAULT, TRACE_FLIGHT, BUFSIZE);
  CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
  trace(TRACE_MARK, 1, "no markers");
  CHECK_EQ(trace(TRACE_OFF, 0, 0), 0);
  status_sum(&rec, &lost, &held);
  CHECK_EQ(rec, 0);
  restore();
}

// A pid filter naming no process records nothing (and our events are
// not recorded); pid 0 records everyone again.
static void
missing_pid(void)
{
  int rec, lost, held;

  setup(-1, TRACE_FLIGHT, BUFSIZE);
  CHECK_EQ(trace(TRACE_PID, 99999, 0), 0);
  CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
  trace(TRACE_MARK, 1, "not me");
  CHECK_EQ(trace(TRACE_OFF, 0, 0), 0);
  status_sum(&rec, &lost, &held);
  CHECK_EQ(rec, 0);
  CHECK_EQ(trace(TRACE_PID, 0, 0), 0);
  CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
  trace(TRACE_MARK, 1, "everyone");
  CHECK_EQ(trace(TRACE_OFF, 0, 0), 0);
  status_sum(&rec, &lost, &held);
  CHECK(rec >= 1);
  restore();
}

// A child that makes events of every kind as fast as it can (forks and
// exits, faults, page allocations and frees, mmap/munmap, markers) until
// it is killed.
static int
start_busy(void)
{
  int pid, k;
  char *p;

  if((pid = test_fork()) != 0)
    return pid;
  for(k = 0; ; k++){
    p = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if(p != MAP_FAILED){
      p[0] = p[PG] = p[3 * PG] = 1;
      munmap(p, 4 * PG);
    }
    trace(TRACE_MARK, k, "busy");
    if(k % 16 == 0){
      if((pid = fork()) == 0)
        exit(0);
      if(pid > 0)
        wait(0);
    }
  }
}

// Control commands while other CPUs are recording: on/off, clear, mode,
// size changes, dumps while on. Nothing may hang or crash, and the counts
// must stay consistent (held <= cap, lost = recorded - held).
static void
control_while_busy(void)
{
  struct trace_status st;
  int i, c, pids[3];

  CHECK_EQ(trace(TRACE_SIZE, 256, 0), 0);
  CHECK_EQ(trace(TRACE_MASK, -1, 0), 0);
  CHECK_EQ(trace(TRACE_PID, 0, 0), 0);
  CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
  for(i = 0; i < 3; i++)
    pids[i] = start_busy();
  for(i = 0; i < 48; i++){
    switch(i % 6){
    case 0: CHECK_EQ(trace(TRACE_MODE, (i / 6) & 1, 0), 0); break;
    case 1: CHECK_EQ(trace(TRACE_SIZE, 64 << (i % 4), 0), 0); break;
    case 2: CHECK(trace(TRACE_DUMP, 0, 0) >= 0); break;     // dump while on
    case 3: CHECK_EQ(trace(TRACE_CLEAR, 0, 0), 0); break;
    case 4: CHECK_EQ(trace(TRACE_OFF, 0, 0), 0); break;
    case 5: CHECK_EQ(trace(TRACE_ON, 0, 0), 0); break;
    }
    get_status(&st);
    for(c = 0; c < st.ncpu; c++){
      CHECK(st.cpu[c].held <= st.cap);
      if(!st.enabled)
        CHECK_EQ(st.cpu[c].lost, st.cpu[c].recorded - st.cpu[c].held);
    }
    sleep(1);
  }
  CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
  sleep(5);
  CHECK(trace(TRACE_DUMP, 0, 0) > 0);
  get_status(&st);
  CHECK_EQ(st.enabled, 1);                 // a dump does not stop tracing
  for(i = 0; i < 3; i++){
    CHECK_EQ(kill(pids[i]), 0);
    CHECK_EQ(test_wait(pids[i]), -1);
  }
  restore();
}

// The trace program's usage errors and refused settings: a message and
// a non-zero status, never a crash.
static void
trace_program(void)
{
  char out[512];

  CHECK_EQ(test_sh("/trace", out, sizeof(out), 1), 2);
  CHECK(contains(out, "usage: trace") != 0);
  CHECK_EQ(test_sh("/trace bogus", out, sizeof(out), 1), 2);
  CHECK_EQ(test_sh("/trace run", out, sizeof(out), 1), 2);
  CHECK_EQ(test_sh("/trace run -s", out, sizeof(out), 1), 2);
  CHECK_EQ(test_sh("/trace mode sideways", out, sizeof(out), 1), 2);
  CHECK_EQ(test_sh("/trace events fault,nosuch", out, sizeof(out), 1), 2);
  CHECK(contains(out, "nosuch") != 0);
  CHECK_EQ(test_sh("/trace size abc", out, sizeof(out), 1), 2);
  CHECK_EQ(test_sh("/trace size 0", out, sizeof(out), 1), 1);
  CHECK(contains(out, "Invalid argument") != 0 || contains(out, "nvalid") != 0);
  CHECK_EQ(test_sh("/trace size 99999999", out, sizeof(out), 1), 1);
  CHECK_EQ(test_sh("/trace pid -4", out, sizeof(out), 1), 2);
  CHECK_EQ(test_sh("/trace size 100", out, sizeof(out), 1), 0);
  CHECK(contains(out, "128") != 0);               // says what it got
  CHECK_EQ(test_sh("/trace run -s 100 -m stop /nosuchprogram", out, sizeof(out), 1), 127);
  CHECK_EQ(test_sh("/trace run -e marker,fault /trace mark hello 3", out, sizeof(out), 1), 0);
  CHECK(contains(out, "records dumped") != 0);
  CHECK_EQ(test_sh("/trace status", out, sizeof(out), 1), 0);
  CHECK(contains(out, "tracing off") != 0);
  restore();
}

// A follow filter records the process and the children it forks (and
// theirs), and nobody else; a plain pid filter only the process.
static void
follow(void)
{
  int rec, lost, held, pid, st, k;

  for(k = 0; k < 2; k++){
    setup(1 << TEV_MARKER, TRACE_FLIGHT, BUFSIZE);
    CHECK_EQ(trace(k ? TRACE_FOLLOW : TRACE_PID, getpid(), 0), 0);
    CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
    trace(TRACE_MARK, 1, "parent");
    if((pid = fork()) == 0){
      trace(TRACE_MARK, 2, "child");
      if((pid = fork()) == 0){
        trace(TRACE_MARK, 3, "grandchild");
        exit(0);
      }
      wait(0);
      exit(0);
    }
    CHECK(pid > 0);
    wait(&st);
    CHECK_EQ(trace(TRACE_OFF, 0, 0), 0);
    status_sum(&rec, &lost, &held);
    CHECK_EQ(rec, k ? 3 : 1);
  }
  restore();
}

// Events that arrive while a control command has recording paused are
// counted (paused), never silently dropped: a child's faults all appear as
// recorded or paused while this process keeps issuing commands.
static void
paused_counted(void)
{
  struct trace_status st;
  struct vmstat a, b;
  int i, k, pid, rec = 0, paused = 0, n = 2000;
  char *p;

  setup(1 << TEV_FAULT, TRACE_FLIGHT, 64);    // small: quick dumps, many pauses
  p = mmap(0, n * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(p != MAP_FAILED);
  CHECK_EQ(trace(TRACE_FOLLOW, getpid(), 0), 0);
  CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
  vmstat(&a, sizeof(a));
  if((pid = fork()) == 0){
    for(i = 0; i < n; i++)
      p[i * PG] = 1;
    exit(0);
  }
  for(k = 0; k < 100000 && pid > 0 && rec + paused < n; k++){
    trace(TRACE_MASK, 1 << TEV_FAULT, 0);     // pauses recording each time
    if(k % 2)
      trace(TRACE_DUMP, 0, 0);                // a longer pause
    get_status(&st);
    for(i = rec = paused = 0; i < st.ncpu; i++){
      rec += st.cpu[i].recorded;
      paused += st.cpu[i].paused;
    }
  }
  wait(0);
  vmstat(&b, sizeof(b));
  CHECK_EQ(trace(TRACE_OFF, 0, 0), 0);
  get_status(&st);
  for(i = rec = paused = 0; i < st.ncpu; i++){
    rec += st.cpu[i].recorded;
    paused += st.cpu[i].paused;
  }
  CHECK(rec + paused >= n);
  CHECK_EQ(rec + paused, (int)(b.v[VM_FAULTS] - a.v[VM_FAULTS]));
  CHECK_EQ(munmap(p, n * PG), 0);
  restore();
}

// Hundreds of pauses that each catch events (dumps while a child makes
// markers without pause): the kernel merges its pause windows when its
// list is full, and the counts stay exact.
static void
many_pauses(void)
{
  struct trace_status st;
  struct vmstat a, b;
  int i, pid, rec = 0, paused = 0;

  setup(1 << TEV_MARKER, TRACE_FLIGHT, 16);
  CHECK_EQ(trace(TRACE_FOLLOW, getpid(), 0), 0);
  vmstat(&a, sizeof(a));
  CHECK_EQ(trace(TRACE_ON, 0, 0), 0);
  if((pid = fork()) == 0)
    for(i = 0; ; i++)
      trace(TRACE_MARK, i, "many");
  CHECK(pid > 0);
  for(i = 0; i < 800; i++)
    trace(TRACE_DUMP, 0, 0);
  kill(pid);
  wait(0);
  CHECK_EQ(trace(TRACE_OFF, 0, 0), 0);
  vmstat(&b, sizeof(b));
  get_status(&st);
  for(i = 0; i < st.ncpu; i++){
    rec += st.cpu[i].recorded;
    paused += st.cpu[i].paused;
  }
  CHECK(paused > 0);
  CHECK(st.windows > 0 && st.windows <= 8 * 32 + 64);
  CHECK_EQ(rec + paused, (int)(b.v[VM_MARKERS] - a.v[VM_MARKERS]));
  restore();
}

static struct test tests[] = {
  TEST(touch),
  TEST(overflow_stop),
  TEST(overflow_flight),
  TEST(overflow_wrap),
  TEST(bad_args),
  TEST(sizes),
  TEST(masks),
  TEST(missing_pid),
  TEST(control_while_busy),
  TEST(trace_program),
  TEST(follow),
  TEST(paused_counted),
  TEST(many_pauses),
};

// tracetest gaps K: see the top of the file. Prints "gaps K".
static void
gaps_run(int k)
{
  int pid, i, st;
  char *p;

  trace(TRACE_OFF, 0, 0);
  trace(TRACE_SIZE, 16384, 0);
  trace(TRACE_MODE, TRACE_FLIGHT, 0);
  trace(TRACE_MASK, TRACE_MASK_DEFAULT, 0);
  trace(TRACE_PID, 0, 0);
  trace(TRACE_CLEAR, 0, 0);
  trace(TRACE_ON, 0, 0);
  if((pid = fork()) == 0){
    p = mmap(0, k * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if(p == MAP_FAILED)
      exit(1);
    for(i = 0; i < k; i++)
      p[i * PG] = i;
    munmap(p, k * PG);
    exit(0);
  }
  for(i = 0; i < 300 && pid > 0; i++){
    trace(TRACE_MASK, TRACE_MASK_DEFAULT, 0);
    trace(TRACE_PID, 0, 0);
    if(i % 100 == 50)
      trace(TRACE_DUMP, 0, 0);
  }
  wait(&st);
  trace(TRACE_OFF, 0, 0);
  trace(TRACE_DUMP, 0, 0);
  printf("gaps %d child %d status %d\n", k, pid, st);
  restore();
}

// tracetest churn N: see the top of the file. Prints "churn N child P".
// The marker bit's flips leave faults and page events checked exactly.
static void
churn_run(int n)
{
  uint mask = TRACE_MASK_DEFAULT | 1 << TEV_SCHED_WAKEUP | 1 << TEV_SCHED_SWITCH |
              1 << TEV_SCHED_MIGRATE;
  int pid, i, st, fd;
  char *p, page[PG];

  memset(page, 0, sizeof(page));
  unlink("churn.dat");
  if((fd = open("churn.dat", O_CREATE | O_RDWR)) < 0 || write(fd, page, PG) != PG ||
     write(fd, page, PG) != PG){
    printf("churn: cannot make churn.dat\n");
    exit(1);
  }
  trace(TRACE_OFF, 0, 0);
  trace(TRACE_SIZE, 64, 0);            // small: quick dumps
  trace(TRACE_MODE, TRACE_FLIGHT, 0);
  trace(TRACE_MASK, mask, 0);
  trace(TRACE_PID, 0, 0);
  trace(TRACE_CLEAR, 0, 0);
  trace(TRACE_ON, 0, 0);
  if((pid = fork()) == 0){
    for(;;){
      p = mmap(0, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if(p == MAP_FAILED)
        exit(1);
      for(i = 0; i < 16; i++)
        p[i * PG] = i;
      munmap(p, 16 * PG);
      p = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if(p == MAP_FAILED)
        exit(1);
      p[0]++;
      p[PG]++;
      msync(p, 2 * PG, MS_SYNC);
      munmap(p, 2 * PG);
    }
  }
  close(fd);
  for(i = 0; i < n && pid > 0; i++){
    trace(TRACE_OFF, 0, 0);
    trace(TRACE_ON, 0, 0);
    trace(TRACE_MASK, mask ^ (i & 1 ? 0 : 1 << TEV_MARKER), 0);
    if(i % 64 == 63)
      trace(TRACE_CLEAR, 0, 0);
    trace(TRACE_DUMP, 0, 0);
  }
  if(pid > 0)
    kill(pid);
  wait(&st);
  trace(TRACE_OFF, 0, 0);
  trace(TRACE_DUMP, 0, 0);
  unlink("churn.dat");
  printf("churn %d child %d\n", n, pid);
  restore();
}

// tracetest cow K: see the top of the file.
static void
cow_run(int k)
{
  char *p = sbrk(k * PG);
  int i, pid, st = -1;

  for(i = 0; i < k; i++)
    p[i * PG] = 1;
  if((pid = fork()) == 0){
    for(i = 0; i < k; i++)
      p[i * PG] = 2;
    exit(0);
  }
  wait(&st);
  printf("cow %d child %d status %d\n", k, pid, st);
}

// tracetest spin / crash: tracing on (every process), a few markers,
// then loop for ever or panic the kernel.
static void
spin_or_crash(int crash)
{
  volatile int x = 0;
  int i;

  trace(TRACE_OFF, 0, 0);
  trace(TRACE_MASK, TRACE_MASK_DEFAULT, 0);
  trace(TRACE_PID, 0, 0);
  trace(TRACE_CLEAR, 0, 0);
  trace(TRACE_ON, 0, 0);
  for(i = 0; i < 10; i++)
    trace(TRACE_MARK, i, crash ? "before-crash" : "spinning");
  printf("%s pid %d\n", crash ? "crashing" : "spinning", getpid());
  if(crash)
    trace(TRACE_CRASH, TRACE_CRASH_YES, 0);
  for(;;)
    x++;
}

int
main(int argc, char **argv)
{
  int i, n;

  if(argc == 3 && strcmp(argv[1], "cow") == 0){   // (leaves tracing as it is)
    cow_run(atoi(argv[2]));
    exit(0);
  }
  trace(TRACE_OFF, 0, 0);
  trace(TRACE_SIZE, BUFSIZE, 0);       // buffers exist before the leak checks
  if(argc == 3 && strcmp(argv[1], "dump") == 0)
    exit(touch_pages(atoi(argv[2]), 1) < 0);
  if(argc == 3 && strcmp(argv[1], "gaps") == 0){
    gaps_run(atoi(argv[2]));
    exit(0);
  }
  if(argc == 3 && strcmp(argv[1], "churn") == 0){
    churn_run(atoi(argv[2]));
    exit(0);
  }
  if(argc == 2 && (strcmp(argv[1], "spin") == 0 || strcmp(argv[1], "crash") == 0))
    spin_or_crash(strcmp(argv[1], "crash") == 0);
  if(argc == 4 && strcmp(argv[1], "overflow") == 0){
    n = atoi(argv[3]);
    setup(1 << TEV_MARKER, strcmp(argv[2], "stop") == 0 ? TRACE_STOP : TRACE_FLIGHT, SMALL);
    trace(TRACE_ON, 0, 0);
    for(i = 0; i < n; i++)
      trace(TRACE_MARK, i, "overflow");
    trace(TRACE_OFF, 0, 0);
    printf("overflow %d pid %d\n", n, getpid());
    trace(TRACE_DUMP, 0, 0);
    restore();
    exit(0);
  }
  return test_run("trace", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
