// Suite "fuzz": processes make thousands of system calls with hostile
// arguments (kernel addresses, -1, huge sizes, pointers into the middle of
// their own memory). Whatever the calls do to the caller, the kernel must
// not panic, and every page must come back when the callers are gone
// (testlib compares free pages around each test; run_all fscks the disk).
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/syscall.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define NCHILD 6        // fuzzing processes per test
#define NCALLS 3000     // calls each
#define LIMIT  300      // ticks before a stuck fuzzer is killed

// Calls a fuzzer must not make: they end or stall the run for reasons that
// say nothing about the kernel (exit, fork bombs, killing the harness,
// sleeping for ages, power, allocator benchmarks, global trace/sysctl
// state, and pipes, whose reads would block the fuzzer on itself).
static int
excluded(int num)
{
  return num == SYS_exit || num == SYS_fork || num == SYS_kill ||
         num == SYS_sleep || num == SYS_poweroff || num == SYS_kalloctest ||
         num == SYS_trace || num == SYS_sysctl || num == SYS_pipe;
}

// Calls that change the caller's mappings. Let loose on the whole address
// space they would mostly unmap the fuzzer's own code and end the run early.
static int
remaps(int num)
{
  return num == SYS_munmap || num == SYS_mprotect || num == SYS_mmap;
}

static uint seed;

static uint
rnd(void)
{
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}

// Trap into the kernel with syscall num and six arguments laid out on the
// stack the way the usys stubs leave them (fake return address first).
static int
rawsys(int num, uint *a)
{
  int r;
  asm volatile("pushl 20(%%edi)\n\t"
               "pushl 16(%%edi)\n\t"
               "pushl 12(%%edi)\n\t"
               "pushl 8(%%edi)\n\t"
               "pushl 4(%%edi)\n\t"
               "pushl 0(%%edi)\n\t"
               "pushl $0\n\t"
               "int $64\n\t"
               "addl $28, %%esp"
               : "=a"(r)
               : "0"(num), "D"(a)
               : "memory", "cc");
  return r;
}

// One hostile argument: a boundary value, a pointer into our own stack,
// heap or text, a small fd, or noise.
static uint
arg(char *stackbuf, char *heapbuf)
{
  static const uint edge[] = {
    0, 1, 2, 3, 0xffffffff, 0x7fffffff, 0x80000000, 0x80001000,
    0xfffff000, 0x1000, 0xfff, 4096, 65536, 0x10000000, 0xbfff0000, 0x7ffff000,
  };
  switch (rnd() % 6) {
  case 0: return edge[rnd() % (sizeof(edge) / sizeof(edge[0]))];
  case 1: return (uint)stackbuf + rnd() % 256;
  case 2: return (uint)heapbuf + rnd() % 8192;
  case 3: return rnd() % 12;
  case 4: return (uint)"/fz";
  default: return rnd();
  }
}

static void
fuzz(uint s)
{
  char stackbuf[256];
  char *heapbuf = malloc(8192);
  seed = s;
  close(0);     // nothing here may block on, or scribble over, the console
  close(1);
  close(2);
  memset(stackbuf, 'a', sizeof(stackbuf));
  for (int i = 0; i < NCALLS; i++) {
    uint a[6];
    int num = 1 + rnd() % SYS_fsstat;
    if (excluded(num))
      continue;
    for (int j = 0; j < 6; j++)
      a[j] = arg(stackbuf, heapbuf);
    if (remaps(num))   // keep our own text, data and stack: aim above them
      a[0] = 0x40000000 + (a[0] & 0x1fffffff);
    rawsys(num, a);
  }
  exit(0);
}

// Start a fuzzer with seed s and a watchdog that kills it after LIMIT ticks.
// Returns 1 if the fuzzer finished its calls, 0 if it died or was stopped.
static int
fuzz_one(uint s)
{
  int pid = test_fork();
  if (pid == 0)
    fuzz(s);
  int dog = test_fork();
  if (dog == 0) {
    sleep(LIMIT);
    kill(pid);
    exit(0);
  }
  int st = test_wait(pid);
  kill(dog);
  test_wait(dog);
  return st == 0;
}

static void
random_calls(void)
{
  int finished = 0;
  for (int i = 0; i < NCHILD; i++)
    finished += fuzz_one(0x9e3779b9u * (i + 1));
  // The kernel is still here (we are running); it must also still work.
  CHECK(getpid() > 0);
  int p[2];
  CHECK_EQ(pipe(p), 0);
  CHECK_EQ(write(p[1], "ok", 2), 2);
  char b[2];
  CHECK_EQ(read(p[0], b, 2), 2);
  close(p[0]);
  close(p[1]);
  printf("  fuzz.random_calls: %d of %d fuzzers ran all %d calls\n", finished, NCHILD, NCALLS);
  CHECK(finished > 0);   // the fuzzing itself must have happened
}

// The same, with all six fuzzers running at once on both CPUs.
static void
concurrent_calls(void)
{
  int pids[NCHILD];
  for (int i = 0; i < NCHILD; i++) {
    pids[i] = test_fork();
    if (pids[i] == 0)
      fuzz(0x85ebca6bu * (i + 7));
  }
  int dog = test_fork();
  if (dog == 0) {
    sleep(LIMIT);
    for (int i = 0; i < NCHILD; i++)
      kill(pids[i]);
    exit(0);
  }
  for (int i = 0; i < NCHILD; i++)
    test_wait(pids[i]);
  kill(dog);
  test_wait(dog);
  CHECK(getpid() > 0);
}

static struct test tests[] = {
  TEST(random_calls),
  TEST(concurrent_calls),
};

int
main(int argc, char **argv)
{
  return test_run("fuzz", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
