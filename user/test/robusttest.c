// robusttest: guards that keep one process from hurting others.
//   robusttest [NAME...]
// - The allocator self-tests (which take every free page for a moment)
//   run only in the test mode init turns on at boot for scripted runs;
//   no other process can turn it on, and once off it stays off. The trace
//   crash command (which panics the kernel on purpose) is bound to it too.
// - A function frame bigger than the stack jumps below it into the guard
//   gap, and the process is killed, instead of writing into the mapping
//   placed just below the gap.
// - Memory exhaustion: a hog that takes every free page gets a clean
//   ENOMEM; meanwhile fork fails with ENOMEM or its child is killed when
//   it touches memory; once the hog is gone the shell runs a command and
//   every page is back.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
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

#define HOG_CHUNK (256 * 1024)

// "robusttest -hog CTL REP": take every free page (MAP_POPULATE, big
// chunks then single pages) until mmap fails; send its errno up fd REP,
// then hold the memory until fd CTL has a byte (or is closed). Exits 0 if
// it took anything. (A program of its own, exec'd, so that it shares no
// copy-on-write page with the test: with nothing free, the test could not
// write to such a page.)
static void
hog(int ctl, int rep)
{
  int n = 0, e, size;
  char c;

  for (size = HOG_CHUNK; size >= 4096; size /= 2)
    while (mmap(0, size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0) != MAP_FAILED)
      n++;
  e = errno;
  write(rep, &e, sizeof(e));
  read(ctl, &c, 1);
  exit(n > 0 ? 0 : 2);
}

static void
oom_hog_then_shell(void)
{
  int ctl[2], rep[2], e, st, pid;
  char out[64];

  CHECK_EQ(pipe(ctl), 0);
  CHECK_EQ(pipe(rep), 0);
  int hpid = test_fork();
  if (hpid == 0) {
    char a[2][12];
    close(ctl[1]);
    close(rep[0]);
    snprintf(a[0], sizeof(a[0]), "%d", ctl[0]);
    snprintf(a[1], sizeof(a[1]), "%d", rep[1]);
    char *argv[] = { "/robusttest", "-hog", a[0], a[1], 0 };
    exec(argv[0], argv);
    exit(127);
  }
  close(ctl[0]);
  close(rep[1]);
  if (read(rep[0], &e, sizeof(e)) != sizeof(e)) {
    // Killed before it could say: that must be the kernel's clean kill.
    CHECK_EQ(test_wait(hpid), -1);
    close(ctl[1]);
    close(rep[0]);
    return;
  }
  CHECK_EQ(e, ENOMEM);
  // Nothing is free now. A new process either cannot be made, or is
  // killed when it touches memory (its first write to a page it shares
  // copy-on-write with us, or sbrk'd memory), or sbrk fails.
  pid = fork();
  if (pid < 0) {
    e = errno;
    CHECK_EQ(e, ENOMEM);
  } else if (pid == 0) {
    char *p = sbrk(64 * 4096);
    if (p == (char *)-1)
      exit(3);
    for (int i = 0; i < 64 * 4096; i += 4096)
      p[i] = 1;
    exit(4);
  } else {
    if (wait(&st) != pid || (st != -1 && st != 3)) {
      write(ctl[1], "x", 1);
      test_fail("a child touching memory with none free exited %d, want killed", st);
    }
  }
  // The hog lets go. (Until it is gone, this process must not touch a
  // page it has not touched before, such as test_wait's: no memory.)
  write(ctl[1], "x", 1);
  if (wait(&st) != hpid || st != 0)
    test_fail("the hog exited %d, want 0", st);
  close(ctl[1]);
  close(rep[0]);
  CHECK_EQ(test_sh("echo shell-ok", out, sizeof(out), 1), 0);
  if (strcmp(out, "shell-ok\n") != 0)
    test_fail("the shell after the hog printed \"%s\"", out);
}

// "robusttest -mapcat FILE": read FILE through a private read-only
// mapping and print its size and byte sum (tests/host/test_ioerr.py: a
// disk error under it must kill this process with a message, never read
// as zeros). Exits 0, or 1 if FILE cannot be opened or mapped.
static int
mapcat(const char *path)
{
  struct stat st;
  int fd = open(path, O_RDONLY);

  if (fd < 0 || fstat(fd, &st) < 0) {
    fprintf(2, "mapcat: %s: %s\n", path, strerror(errno));
    return 1;
  }
  char *m = mmap(0, st.size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) {
    fprintf(2, "mapcat: mmap %s: %s\n", path, strerror(errno));
    return 1;
  }
  uint sum = 0;
  for (uint i = 0; i < st.size; i++)   // faults in every page
    sum += m[i];
  printf("mapcat: %d bytes, sum %d\n", st.size, sum);
  return 0;
}

static struct test tests[] = {
  TEST(big_frame_is_killed),
  TEST(oom_hog_then_shell),
  TEST(kalloctest_needs_testmode),
};

int
main(int argc, char **argv)
{
  if (argc == 4 && strcmp(argv[1], "-hog") == 0)
    hog(atoi(argv[2]), atoi(argv[3]));
  if (argc == 3 && strcmp(argv[1], "-mapcat") == 0)
    return mapcat(argv[2]);
  return test_run("robust", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
