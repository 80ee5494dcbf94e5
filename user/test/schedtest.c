// schedtest: the scheduler's promises that a program can observe.
//   schedtest [NAME...]   run all tests, or only the named ones
//
// Everything asserted is counted, not timed: the kernel counts the wake-ups
// that sent an IPI to a halted CPU (vmstat sched_ipis) and, of those, the
// ones whose CPU took a clock tick before the process ran (sched_ipi_late).
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/mman.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define ROUNDS  30      // wake-ups per direction in wake_halted

// What the two processes of wake_halted share (a MAP_SHARED file page).
struct shared {
  volatile int asleep[2];          // round number process i is about to sleep in
  volatile int ran[2 * ROUNDS];    // 1 once the round's sleeper runs
};

// Number of CPUs (sysctl kern.ncpu), or 0 if the kernel does not say.
static int
ncpus(void)
{
  int n = sysctl("kern.ncpu", -1);

  return n > 0 ? n : 0;
}

// Map a fresh one-page file MAP_SHARED, and touch it: a page present at
// fork is shared with the child (there is no page cache to share it later).
static struct shared *
map_shared(void)
{
  static char zero[4096];
  struct shared *s;
  int fd;

  fd = open("shm", O_CREATE | O_RDWR);
  CHECK(fd >= 0);
  CHECK_EQ(write(fd, zero, sizeof(zero)), sizeof(zero));
  s = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK(s != MAP_FAILED);
  close(fd);
  s->ran[0] = 0;
  return s;
}

// One side of wake_halted (me = 0 or 1). In even rounds process 0 wakes
// process 1, in odd rounds the other way round. The waker waits until the
// sleeper has announced its sleep and a tick boundary has passed (by then
// the sleeper's CPU has halted) and a few more polls, varied from round
// to round so that wake-ups fall at different points of the other CPU's
// clock period, writes a byte to the sleeper's pipe and,
// without sleeping itself (its own CPU stays busy), spins until the sleeper
// says it runs.
static void
wake_side(struct shared *s, int me, int rd, int wr)
{
  int r, t, n;
  char c = 'w';

  for(r = 0; r < 2 * ROUNDS; r++){
    if(r % 2 != me){               // sleeper
      s->asleep[me] = r + 1;
      if(read(rd, &c, 1) != 1)
        test_fail("read: %s", strerror(errno));
      s->ran[r] = 1;
      continue;
    }
    t = uptime();                  // waker: the peer must be asleep
    while(s->asleep[1 - me] != r + 1)
      if(uptime() - t > 500)
        test_fail("round %d: the peer never got to sleep", r);
    t = uptime();
    while(uptime() == t)
      ;
    for(n = (r * 37 % 16) * 100; n > 0; n--)   // vary the phase against the clock
      (void)uptime();
    if(write(wr, &c, 1) != 1)
      test_fail("write: %s", strerror(errno));
    t = uptime();
    while(!s->ran[r])
      if(uptime() - t > 500)
        test_fail("round %d: the woken process did not run in 500 ticks", r);
  }
}

// A process woken while its CPU is halted runs at once, not at that CPU's
// next clock tick. The two processes wake each other ROUNDS times each,
// the waker staying busy; the sleeper's CPU has halted every time, so most
// wake-ups must send an IPI (at least ROUNDS of the 2*ROUNDS: a CPU may
// also be kept awake by other work), and of those at most half may run
// only after a tick of the sleeper's CPU: a busy host can delay a virtual
// CPU by milliseconds, and a tick falls into such a delay now and then
// (up to a fifth of them at a host load of 15 on 2 cores). Waiting for
// the tick instead, every one of them would (97% seen with the IPI
// left out).
static void
wake_halted(void)
{
  int a2b[2], b2a[2], pid, st, ipis, late;
  struct vmstat v0, v1;
  struct shared *s;

  if(ncpus() < 2){
    printf("  schedtest.wake_halted: %d cpu: needs 2, nothing to check\n", ncpus());
    return;
  }
  s = map_shared();
  CHECK(pipe(a2b) == 0 && pipe(b2a) == 0);
  CHECK(vmstat(&v0, sizeof(v0)) == sizeof(v0));
  pid = test_fork();
  if(pid == 0){
    wake_side(s, 1, a2b[0], b2a[1]);
    exit(0);
  }
  wake_side(s, 0, b2a[0], a2b[1]);
  st = test_wait(pid);
  CHECK(vmstat(&v1, sizeof(v1)) == sizeof(v1));
  CHECK_EQ(st, 0);
  ipis = v1.v[VM_SCHED_IPIS] - v0.v[VM_SCHED_IPIS];
  late = v1.v[VM_SCHED_IPI_LATE] - v0.v[VM_SCHED_IPI_LATE];
  printf("  schedtest.wake_halted: %d wake-ups, %d IPIs, %d of them after a tick\n",
         2 * ROUNDS, ipis, late);
  if(ipis < ROUNDS)
    test_fail("only %d of %d wake-ups of a process on a halted CPU sent an IPI", ipis,
              2 * ROUNDS);
  if(late * 2 > ipis)
    test_fail("%d of %d processes woken with an IPI ran only after a clock tick of "
              "their CPU", late, ipis);
  munmap((void *)s, 4096);
  close(a2b[0]); close(a2b[1]); close(b2a[0]); close(b2a[1]);
}

// kern.ncpu is read-only and says how many CPUs run processes;
// sched.steal_wait takes 0 or 1 only.
static void
settings(void)
{
  int n = sysctl("kern.ncpu", -1), old;

  CHECK(n >= 1 && n <= 8);
  CHECK_ERR(sysctl("kern.ncpu", n), EINVAL);
  CHECK_ERR(sysctl("kern.ncpu", n + 1), EINVAL);
  CHECK_EQ(sysctl("kern.ncpu", -1), n);
  old = sysctl("sched.steal_wait", -1);
  CHECK(old == 0 || old == 1);
  CHECK_ERR(sysctl("sched.steal_wait", 2), EINVAL);
  CHECK_EQ(sysctl("sched.steal_wait", 1 - old), old);
  CHECK_EQ(sysctl("sched.steal_wait", old), 1 - old);
}

static struct test tests[] = {
  TEST(settings),
  TEST(wake_halted),
};

int
main(int argc, char **argv)
{
  return test_run("schedtest", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
