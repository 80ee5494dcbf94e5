// robusttest: guards that keep one process from hurting others.
//   robusttest [NAME...]
// - The allocator self-tests (which take every free page for a moment)
//   run only in the test mode init turns on at boot for scripted runs;
//   no other process can turn it on, and once off it stays off. The trace
//   crash command (which panics the kernel on purpose) is bound to it too.
// - A function frame bigger than the stack jumps below it into the guard
//   gap, and the process is killed, instead of writing into the mapping
//   placed just below the gap.
#include "kernel/types.h"
#include "kernel/mman.h"
#include "kernel/errno.h"
#include "kernel/kalloctest.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/testlib.h"

// Run last in this suite: it turns the test mode off for this boot.
static void
kalloctest_needs_testmode(void)
{
  CHECK_EQ(kalloctest(KAT_SELFTEST, 0), 0);       // a scripted run: on
  CHECK_ERR(kalloctest(KAT_TESTMODE, (void *)1), EPERM);   // not init
  CHECK_EQ(kalloctest(KAT_TESTMODE, 0), 1);       // off; it was on
  CHECK_ERR(kalloctest(KAT_SELFTEST, 0), EPERM);
  struct kat_frag f;
  memset(&f, 0, sizeof(f));
  CHECK_ERR(kalloctest(KAT_FRAG, &f), EPERM);
  struct kat_bench b;
  memset(&b, 0, sizeof(b));
  b.iters = 10;
  b.batch = 1;
  CHECK_ERR(kalloctest(KAT_BENCH, &b), EPERM);
  CHECK_ERR(trace(TRACE_CRASH, TRACE_CRASH_YES, 0), EPERM);
  CHECK_ERR(kalloctest(KAT_TESTMODE, (void *)1), EPERM);   // and stays off
  CHECK_EQ(kalloctest(KAT_TESTMODE, 0), 0);
}

#define FRAME (300 * 1024)
#define BELOW (512 * 1024)      // the neighbour mapping's size

// A frame of FRAME bytes; writes its lowest byte (far below the stack's
// bottom) and returns something the compiler cannot drop.
static int __attribute__((noinline))
big_frame(volatile char *sink)
{
  volatile char big[FRAME];
  big[0] = 'X';
  big[FRAME / 2] = 'Y';
  *sink = big[0];
  return big[FRAME / 2];
}

static void
big_frame_is_killed(void)
{
  int pid = test_fork();
  if (pid == 0) {
    // mmap hands out the highest free range first: right below the gap.
    char *m = mmap(0, BELOW, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
    if (m == MAP_FAILED)
      exit(3);
    char sink;
    big_frame(&sink);
    for (int i = 0; i < BELOW; i++)
      if (m[i] != 0)
        exit(2);                // the frame landed in the mapping below
    exit(4);                    // survived, somewhere else
  }
  int st = test_wait(pid);
  if (st == 2)
    test_fail("a %d KiB frame wrote into the mapping below the stack", FRAME / 1024);
  if (st != -1)
    test_fail("a %d KiB frame: child exited %d, want killed", FRAME / 1024, st);
}

static struct test tests[] = {
  TEST(big_frame_is_killed),
  TEST(kalloctest_needs_testmode),
};

int
main(int argc, char **argv)
{
  return test_run("robust", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
