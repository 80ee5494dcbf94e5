// proctest: processes under load, pipes, concurrent file system use,
// and running out of memory (out of disk is in disktest).
//   proctest [NAME...]   run all tests, or only the named ones
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/fs.h"
#include "user/user.h"
#include "user/lib/testlib.h"

static char buf[16384];

// The byte at offset i of the test streams.
static char
pattern(uint i)
{
  return (char)(i * 7 + (i >> 10) + 3);
}

// ---- processes ----

#define NPROC 50
#define ROUNDS 5

static void
fork_exec_load(void)
{
  int pids[NPROC], want[NPROC];
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < NPROC; i++) {
      want[i] = (i % 2) ? 0 : (round * NPROC + i) % 120 + 1;
      int pid = test_fork();
      if (pid == 0) {
        if (i % 2) {
          char *argv[] = { "sleep", "1", 0 };
          exec("/sleep", argv);
          exit(99);
        }
        exit(want[i]);
      }
      pids[i] = pid;
    }
    for (int n = 0; n < NPROC; n++) {
      int st;
      int pid = wait(&st);
      if (pid < 0)
        test_fail("round %d: wait: %s after %d children", round, strerror(errno), n);
      int i = 0;
      while (i < NPROC && pids[i] != pid)
        i++;
      if (i == NPROC)
        test_fail("wait returned unknown pid %d", pid);
      if (st != want[i])
        test_fail("child %d (pid %d) status %d, want %d", i, pid, st, want[i]);
      pids[i] = -1;
    }
    CHECK_ERR(wait(0), ECHILD);
  }
}

// Children that fork children: a tree three levels deep, every status checked.
static void
fork_tree(void)
{
  for (int a = 0; a < 4; a++) {
    int pid = test_fork();
    if (pid == 0) {
      int bad = 0;
      for (int b = 0; b < 4; b++) {
        int c = fork();
        if (c < 0)
          exit(100);
        if (c == 0)
          exit(a * 10 + b);
        int st;
        if (wait(&st) != c || st != a * 10 + b)
          bad = 1;
      }
      exit(bad ? 101 : a);
    }
    int st = test_wait(pid);
    CHECK_EQ(st, a);
  }
}

// ---- pipes ----

#define BIG (2 * 1024 * 1024)

// Write BIG pattern bytes to fd in chunks of changing size.
static void
produce(int fd)
{
  uint off = 0;
  int step = 1;
  while (off < BIG) {
    int n = (step * 997) % 9000 + 1;
    if (n > BIG - off)
      n = BIG - off;
    for (int i = 0; i < n; i++)
      buf[i] = pattern(off + i);
    if (write(fd, buf, n) != n)
      exit(2);
    off += n;
    step++;
  }
}

// Read fd to its end, checking the pattern; returns the byte count.
static uint
consume(int fd)
{
  uint off = 0;
  int n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    for (int i = 0; i < n; i++)
      if (buf[i] != pattern(off + i))
        test_fail("byte %d is %d, want %d", off + i, buf[i], pattern(off + i));
    off += n;
  }
  if (n < 0)
    test_fail("read: %s", strerror(errno));
  return off;
}

static void
pipe_big(void)
{
  int p[2];
  CHECK(pipe(p) == 0);
  int pid = test_fork();
  if (pid == 0) {
    close(p[0]);
    produce(p[1]);
    exit(0);
  }
  close(p[1]);
  CHECK_EQ(consume(p[0]), BIG);
  close(p[0]);
  CHECK_EQ(test_wait(pid), 0);
}

// producer | cat | cat | this process
static void
pipe_chain(void)
{
  int in[2];
  CHECK(pipe(in) == 0);
  int pid = test_fork();
  if (pid == 0) {
    close(in[0]);
    produce(in[1]);
    exit(0);
  }
  close(in[1]);
  int pids[2];
  for (int k = 0; k < 2; k++) {
    int out[2];
    CHECK(pipe(out) == 0);
    pids[k] = test_fork();
    if (pids[k] == 0) {
      close(0);
      dup(in[0]);
      close(1);
      dup(out[1]);
      close(in[0]);
      close(out[0]);
      close(out[1]);
      char *argv[] = { "cat", 0 };
      exec("/cat", argv);
      exit(99);
    }
    close(in[0]);
    close(out[1]);
    in[0] = out[0];
  }
  CHECK_EQ(consume(in[0]), BIG);
  close(in[0]);
  CHECK_EQ(test_wait(pid), 0);
  CHECK_EQ(test_wait(pids[0]), 0);
  CHECK_EQ(test_wait(pids[1]), 0);
}

static void
pipe_epipe(void)
{
  int p[2];
  // reader gone before the write
  CHECK(pipe(p) == 0);
  close(p[0]);
  CHECK_ERR(write(p[1], "x", 1), EPIPE);
  close(p[1]);
  // a writer blocked on a full pipe wakes up with EPIPE when the reader goes
  CHECK(pipe(p) == 0);
  int pid = test_fork();
  if (pid == 0) {
    close(p[0]);
    memset(buf, 'w', sizeof(buf));
    for (int i = 0; i < 1000; i++) {
      if (write(p[1], buf, sizeof(buf)) < 0)
        exit(errno == EPIPE ? 0 : 2);
    }
    exit(3);       // the pipe never filled up?
  }
  close(p[1]);
  CHECK(read(p[0], buf, 100) > 0);
  sleep(5);
  close(p[0]);
  CHECK_EQ(test_wait(pid), 0);
  // reader blocked on an empty pipe sees end of file when the writer goes
  CHECK(pipe(p) == 0);
  pid = test_fork();
  if (pid == 0) {
    close(p[1]);
    exit(read(p[0], buf, 10) == 0 ? 0 : 1);
  }
  sleep(5);
  close(p[1]);
  close(p[0]);
  CHECK_EQ(test_wait(pid), 0);
}

// ---- file system concurrency ----

#define NWORKERS 4
#define NFILES   50

// One worker: create, write, read back and delete NFILES files in dir.
static void
file_worker(int k)
{
  char name[32], data[600], back[600];
  for (int i = 0; i < NFILES; i++) {
    snprintf(name, sizeof(name), "shared/w%d_%d", k, i);
    int len = 100 + (k * 131 + i * 17) % 500;
    for (int j = 0; j < len; j++)
      data[j] = (char)(k * 31 + i * 7 + j);
    int fd = open(name, O_CREATE | O_RDWR);
    if (fd < 0)
      test_fail("worker %d: create %s: %s", k, name, strerror(errno));
    if (write(fd, data, len) != len)
      test_fail("worker %d: write %s: %s", k, name, strerror(errno));
    close(fd);
    if ((fd = open(name, O_RDONLY)) < 0)
      test_fail("worker %d: reopen %s: %s", k, name, strerror(errno));
    int n = read(fd, back, sizeof(back));
    close(fd);
    if (n != len || memcmp(back, data, len) != 0)
      test_fail("worker %d: %s read back %d bytes, wrong", k, name, n);
    if (i % 3 == 2) {
      // delete two files back: keeps several files alive at a time
      snprintf(name, sizeof(name), "shared/w%d_%d", k, i - 2);
      if (unlink(name) < 0)
        test_fail("worker %d: unlink %s: %s", k, name, strerror(errno));
    }
  }
  for (int i = 0; i < NFILES; i++) {
    if (i % 3 == 0 && i + 2 < NFILES)
      continue;    // deleted already
    snprintf(name, sizeof(name), "shared/w%d_%d", k, i);
    if (unlink(name) < 0)
      test_fail("worker %d: final unlink %s: %s", k, name, strerror(errno));
  }
}

// The names in dir other than "." and ".."; fails the test on error.
static int
count_entries(const char *dir)
{
  int fd = open(dir, O_RDONLY);
  if (fd < 0)
    test_fail("open %s: %s", dir, strerror(errno));
  struct dirent de;
  int n = 0;
  while (read(fd, &de, sizeof(de)) == sizeof(de)) {
    if (de.inum == 0 || strcmp(de.name, ".") == 0 || strcmp(de.name, "..") == 0)
      continue;
    n++;
  }
  close(fd);
  return n;
}

static void
concurrent_files(void)
{
  CHECK(mkdir("shared") == 0);
  for (int round = 0; round < 2; round++) {
    int pids[NWORKERS];
    for (int k = 0; k < NWORKERS; k++) {
      pids[k] = test_fork();
      if (pids[k] == 0) {
        file_worker(k);
        exit(0);
      }
    }
    for (int k = 0; k < NWORKERS; k++)
      CHECK_EQ(test_wait(pids[k]), 0);
    CHECK_EQ(count_entries("shared"), 0);
  }
  CHECK(unlink("shared") == 0);
}

// Several processes append to one file at once: nothing is lost.
static void
concurrent_append(void)
{
  int fd = open("log", O_CREATE | O_RDWR);
  CHECK(fd >= 0);
  close(fd);
  for (int k = 0; k < 4; k++) {
    if (test_fork() == 0) {
      int f = open("log", O_WRONLY | O_APPEND);
      char line[16];
      for (int i = 0; i < 100; i++) {
        snprintf(line, sizeof(line), "%d:%03d\n", k, i);
        if (write(f, line, 6) != 6)
          exit(1);
      }
      exit(0);
    }
  }
  for (int k = 0; k < 4; k++)
    CHECK_EQ(test_wait(0), 0);
  struct stat st;
  CHECK(stat("log", &st) == 0);
  CHECK_EQ(st.size, 4 * 100 * 6);
}

// ---- running out of resources ----

// A child grows its heap and touches it until memory runs out: sbrk fails
// with ENOMEM (status 2) or the child is killed (-1). The kernel survives,
// and the test framework checks that every page comes back.
static void
out_of_memory(void)
{
  for (int round = 0; round < 2; round++) {
    int pid = test_fork();
    if (pid == 0) {
      for (;;) {
        char *p = sbrk(1024 * 1024);
        if (p == (char *)-1)
          exit(errno == ENOMEM ? 2 : 3);
        for (int i = 0; i < 1024 * 1024; i += 4096)
          p[i] = 1;
      }
    }
    int st = test_wait(pid);
    if (st != 2 && st != -1)
      test_fail("memory hog ended with status %d", st);
  }
  // still able to run things
  int pid = test_fork();
  if (pid == 0) {
    char *argv[] = { "sleep", "0", 0 };
    exec("/sleep", argv);
    exit(99);
  }
  CHECK_EQ(test_wait(pid), 0);
}

static struct test tests[] = {
  TEST(fork_exec_load), TEST(fork_tree), TEST(pipe_big), TEST(pipe_chain), TEST(pipe_epipe),
  TEST(concurrent_files), TEST(concurrent_append), TEST(out_of_memory),
};

int
main(int argc, char **argv)
{
  test_set_timeout(6000);
  return test_run("proctest", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
