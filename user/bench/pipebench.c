// pipebench: how fast two processes hand data to each other through a pipe,
// in a fresh process and again after a burst of fork+exec+wait (a benchmark,
// not a test). It exposes scheduler hand-off costs: when the reader and the
// writer sit on different CPUs, every hand-off is a wake-up of a process on
// another CPU, and a wake-up that waits for that CPU's next clock tick
// (10 ms) shows up as a hundredfold cost per write.
//
//   pipebench [REPS]     repetitions of each measurement (default 3)
//
// Phases, in this order, all in the same parent process:
//   fresh   right after start
//   burst   after NBURST (20) rounds of fork + exec(pipebench -x) + wait
// In each phase, two measurements between the parent and a forked child:
//   pingpong    1-byte messages back and forth over two pipes, NROUND (2000)
//               round trips; cost = cycles per round trip (two hand-offs)
//   throughput  the child writes 4 MiB in 512-byte writes, the parent reads
//               them (512 bytes at a time); cost = cycles per write
//   throughput_pw  the same the other way round: the parent writes, the
//               child reads; timed by the writer
// Each measurement runs REPS times; the minimum, median and maximum are
// printed, with what the repetitions took in all: clock ticks (10 ms),
// wake-up IPIs sent to halted CPUs, those that lost the race with a tick,
// and processes moved between CPUs (vmstat sched_ipis, sched_ipi_late,
// sched_migrations; -1 if the kernel has no such counters).
// Output, one line per measurement, plain key=value pairs (one line each):
//   pipebench cpus=2 phase=fresh test=pingpong rounds=2000 reps=3
//     min=C med=C max=C unit=cycles_per_round ticks=T ipis=I ipi_late=L migrations=M
//   pipebench cpus=2 phase=fresh test=throughput bytes=4194304 write=512 reps=3
//     min=C med=C max=C unit=cycles_per_write ticks=T ipis=I ipi_late=L migrations=M
// cpus is the kernel's kern.ncpu setting (0 if it has none). The figure of
// merit: cycles per write (and per round trip) should not depend on cpus
// or phase.
// Exit status 0, or 1 if a pipe, fork or exec failed or data went missing.
#include "kernel/types.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/cycles.h"

#define NBURST   20
#define NROUND   2000
#define TPUT     (4 * 1024 * 1024)
#define WSIZE    512
#define MAXREPS  15

typedef unsigned long long u64;

static char wbuf[WSIZE], rbuf[WSIZE];
static int ncpu;

// Counter c of vmstat, or -1 if this kernel does not have it.
static int
counter(struct vmstat *v, int c)
{
  return c < (int)v->n ? (int)v->v[c] : -1;
}

static void
die(const char *what)
{
  fprintf(2, "pipebench: %s: %s\n", what, strerror(errno));
  exit(1);
}

// Wait for child pid; fail unless it exited 0.
static void
reap(int pid, const char *what)
{
  int st = -1;

  if(wait(&st) != pid || st != 0){
    fprintf(2, "pipebench: %s: child failed (status %d)\n", what, st);
    exit(1);
  }
}

// One ping-pong run: cycles per round trip.
static u64
pingpong(void)
{
  int to[2], from[2], pid, i;
  char c = 'x';
  u64 t0, t1;

  if(pipe(to) < 0 || pipe(from) < 0)
    die("pipe");
  if((pid = fork()) < 0)
    die("fork");
  if(pid == 0){
    close(to[1]);
    close(from[0]);
    for(i = 0; i < NROUND; i++)
      if(read(to[0], &c, 1) != 1 || write(from[1], &c, 1) != 1)
        exit(1);
    exit(0);
  }
  close(to[0]);
  close(from[1]);
  t0 = rdtsc();
  for(i = 0; i < NROUND; i++)
    if(write(to[1], &c, 1) != 1 || read(from[0], &c, 1) != 1)
      die("pingpong");
  t1 = rdtsc();
  close(to[1]);
  close(from[0]);
  reap(pid, "pingpong");
  return u64div(t1 - t0, NROUND);
}

// One throughput run: cycles per 512-byte write, timed by the reader from
// the first write's arrival to the last.
static u64
throughput(void)
{
  int fds[2], pid, n, i;
  uint got = 0;
  u64 t0, t1;

  if(pipe(fds) < 0)
    die("pipe");
  if((pid = fork()) < 0)
    die("fork");
  if(pid == 0){
    close(fds[0]);
    for(i = 0; i < TPUT / WSIZE; i++)
      if(write(fds[1], wbuf, WSIZE) != WSIZE)
        exit(1);
    exit(0);
  }
  close(fds[1]);
  t0 = rdtsc();
  while((n = read(fds[0], rbuf, WSIZE)) > 0)
    got += n;
  t1 = rdtsc();
  close(fds[0]);
  reap(pid, "throughput");
  if(got != TPUT){
    fprintf(2, "pipebench: throughput: read %d bytes, expected %d\n", got, TPUT);
    exit(1);
  }
  return u64div(t1 - t0, TPUT / WSIZE);
}

// Throughput the other way round: the parent writes, the child reads;
// timed by the writer.
static u64
throughput_pw(void)
{
  int fds[2], pid, i;
  u64 t0, t1;

  if(pipe(fds) < 0)
    die("pipe");
  if((pid = fork()) < 0)
    die("fork");
  if(pid == 0){
    uint got = 0;
    int n;
    close(fds[1]);
    while((n = read(fds[0], rbuf, WSIZE)) > 0)
      got += n;
    exit(got != TPUT);
  }
  close(fds[0]);
  t0 = rdtsc();
  for(i = 0; i < TPUT / WSIZE; i++)
    if(write(fds[1], wbuf, WSIZE) != WSIZE)
      die("write");
  t1 = rdtsc();
  close(fds[1]);
  reap(pid, "throughput_pw");
  return u64div(t1 - t0, TPUT / WSIZE);
}

// Sort v[0..n) ascending (n is small).
static void
sort(u64 *v, int n)
{
  int i, j;
  u64 t;

  for(i = 1; i < n; i++)
    for(j = i; j > 0 && v[j - 1] > v[j]; j--){
      t = v[j]; v[j] = v[j - 1]; v[j - 1] = t;
    }
}

// Run fn reps times and print one key=value line about it.
static void
measure(const char *phase, const char *test, const char *params, const char *unit,
        u64 (*fn)(void), int reps)
{
  u64 v[MAXREPS];
  char b1[24], b2[24], b3[24];
  struct vmstat s0, s1;
  int i, t0, k, d[3];
  static const int cs[3] = { VM_SCHED_IPIS, VM_SCHED_IPI_LATE, VM_SCHED_MIGRATIONS };

  memset(&s0, 0, sizeof(s0));
  memset(&s1, 0, sizeof(s1));
  vmstat(&s0, sizeof(s0));
  t0 = uptime();
  for(i = 0; i < reps; i++)
    v[i] = fn();
  t0 = uptime() - t0;
  vmstat(&s1, sizeof(s1));
  for(k = 0; k < 3; k++)
    d[k] = counter(&s0, cs[k]) < 0 ? -1 : counter(&s1, cs[k]) - counter(&s0, cs[k]);
  sort(v, reps);
  printf("pipebench cpus=%d phase=%s test=%s %s reps=%d min=%s med=%s max=%s unit=%s "
         "ticks=%d ipis=%d ipi_late=%d migrations=%d\n",
         ncpu, phase, test, params, reps, u64str(v[0], b1), u64str(v[reps / 2], b2),
         u64str(v[reps - 1], b3), unit, t0, d[0], d[1], d[2]);
}

static void
phase(const char *name, int reps)
{
  measure(name, "pingpong", "rounds=2000", "cycles_per_round", pingpong, reps);
  measure(name, "throughput", "bytes=4194304 write=512", "cycles_per_write",
          throughput, reps);
  measure(name, "throughput_pw", "bytes=4194304 write=512", "cycles_per_write",
          throughput_pw, reps);
}

// NBURST rounds of fork, exec of this program with -x (exits at once), wait.
static void
burst(char *self)
{
  char *argv[] = { self, "-x", 0 };
  int i, pid;

  for(i = 0; i < NBURST; i++){
    if((pid = fork()) < 0)
      die("fork");
    if(pid == 0){
      exec(self, argv);
      exec("/pipebench", argv);
      fprintf(2, "pipebench: exec %s: %s\n", self, strerror(errno));
      exit(1);
    }
    reap(pid, "burst");
  }
}

int
main(int argc, char **argv)
{
  int reps = 3;

  if(argc > 1 && strcmp(argv[1], "-x") == 0)
    exit(0);
  if(argc > 1)
    reps = atoi(argv[1]);
  if(reps < 1 || reps > MAXREPS){
    fprintf(2, "usage: pipebench [REPS]   (1..%d)\n", MAXREPS);
    exit(2);
  }
  memset(wbuf, 'p', sizeof(wbuf));
  if((ncpu = sysctl("kern.ncpu", -1)) < 0)
    ncpu = 0;
  phase("fresh", reps);
  burst(argv[0]);
  phase("burst", reps);
  exit(0);
}
