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

// ---- added by helper D2 ----
#include "kernel/memstat.h"

// 40 children x 3 rounds, each exec'ing sh to exit with its own status.
static void
exec_status_load(void)
{
  for (int round = 0; round < 3; round++) {
    int pids[40];
    for (int i = 0; i < 40; i++) {
      pids[i] = test_fork();
      if (pids[i] == 0) {
        char cmd[16];
        snprintf(cmd, sizeof(cmd), "exit %d", (round * 40 + i) % 200);
        char *argv[] = { "sh", "-c", cmd, 0 };
        exec("/sh", argv);
        exit(255);
      }
    }
    for (int n = 0; n < 40; n++) {
      int st, pid = wait(&st);
      int i = 0;
      while (i < 40 && pids[i] != pid)
        i++;
      if (i == 40)
        test_fail("round %d: wait returned %d (%s)", round, pid, strerror(errno));
      if (st != (round * 40 + i) % 200)
        test_fail("round %d: child %d exited %d, want %d", round, i, st,
                  (round * 40 + i) % 200);
      pids[i] = 0;
    }
  }
}

// Many children killed at once: running, sleeping, blocked reading an
// empty pipe, blocked writing a full one. Every one reports -1.
static void
kill_many(void)
{
  int pids[32];
  int ready[2], block[2], full[2];
  CHECK(pipe(ready) == 0);
  CHECK(pipe(block) == 0);
  CHECK(pipe(full) == 0);
  for (int i = 0; i < 32; i++) {
    pids[i] = test_fork();
    if (pids[i] == 0) {
      write(ready[1], "r", 1);
      if (i % 4 == 0)
        for (;;)
          ;
      if (i % 4 == 1)
        sleep(100000);
      if (i % 4 == 2)
        read(block[0], buf, 1);     // nobody writes: blocks
      for (;;)
        write(full[1], buf, sizeof(buf));   // nobody reads: blocks
    }
  }
  for (int i = 0; i < 32; i++)
    CHECK(read(ready[0], buf, 1) == 1);
  sleep(2);
  for (int i = 0; i < 32; i++)
    CHECK(kill(pids[i]) == 0);
  for (int i = 0; i < 32; i++) {
    int st = test_wait(0);
    if (st != -1)
      test_fail("a killed child exited %d", st);
  }
  close(ready[0]);
  close(ready[1]);
  close(block[0]);
  close(block[1]);
  close(full[0]);
  close(full[1]);
}

// 4 processes race to create and remove the same names: each name is
// created exactly once and removed exactly once.
#define NRACE 60
static void
race_names(void)
{
  int p[2], made_all[2], go[2];
  CHECK(pipe(p) == 0);
  CHECK(pipe(made_all) == 0);
  CHECK(pipe(go) == 0);
  for (int k = 0; k < 4; k++) {
    if (test_fork() == 0) {
      int made = 0, gone = 0;
      char name[16];
      for (int i = 0; i < NRACE; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        int r = (i % 3 == 0) ? mkdir(name) : (i % 3 == 1) ?
                open(name, O_CREATE | O_RDWR) : link("/sh", name);
        if (i % 3 == 1) {   // O_CREATE opens an existing file: use link for the count
          if (r < 0)
            test_fail("create %s: %s", name, strerror(errno));
          close(r);
          snprintf(name, sizeof(name), "l%d", i);
          r = link("/sh", name);
        }
        if (r == 0)
          made++;
        else if (errno != EEXIST)
          test_fail("make %s: %s", name, strerror(errno));
      }
      write(made_all[1], "m", 1);      // all four finish making before
      if (read(go[0], name, 1) != 1)   // anyone starts removing
        test_fail("barrier: %s", strerror(errno));
      for (int i = 0; i < NRACE; i++) {
        snprintf(name, sizeof(name), i % 3 == 1 ? "l%d" : "r%d", i);
        if (unlink(name) == 0)
          gone++;
        else if (errno != ENOENT)
          test_fail("unlink %s: %s", name, strerror(errno));
        if (i % 3 == 1) {
          snprintf(name, sizeof(name), "r%d", i);
          unlink(name);      // any of the four may remove it
        }
      }
      int counts[2] = { made, gone };
      write(p[1], counts, sizeof(counts));
      exit(0);
    }
  }
  close(p[1]);
  for (int k = 0; k < 4; k++)
    CHECK(read(made_all[0], buf, 1) == 1);
  CHECK(write(go[1], "gggg", 4) == 4);
  close(made_all[0]);
  close(made_all[1]);
  close(go[0]);
  close(go[1]);
  int made = 0, gone = 0, counts[2];
  while (read(p[0], counts, sizeof(counts)) == sizeof(counts)) {
    made += counts[0];
    gone += counts[1];
  }
  close(p[0]);
  for (int k = 0; k < 4; k++)
    CHECK_EQ(test_wait(0), 0);
  CHECK_EQ(made, NRACE);
  CHECK_EQ(gone, NRACE);
  CHECK_EQ(count_entries("."), 0);
  struct stat st;
  CHECK(stat("/sh", &st) == 0);
  CHECK_EQ(st.nlink, 1);
}

// Near the memory limit: a process holding all but ~50 free pages forks
// and execs (both may fail with ENOMEM; nothing may leak, crash, or kill
// the hog, whose pages are all touched already); then everything still works.
static void
low_memory_fork(void)
{
  int pid = test_fork();
  if (pid == 0) {
    struct memstat ms;
    for (;;) {
      if (memstat(&ms) < 0)
        exit(2);
      if (ms.free_pages < 64)
        break;
      int n = (ms.free_pages - 48) * 4096;
      if (n > 4 * 1024 * 1024)
        n = 4 * 1024 * 1024;
      char *p = sbrk(n);
      if (p == (char *)-1)
        break;
      for (int i = 0; i < n; i += 4096)
        p[i] = 1;
    }
    int ok = 0, nomem = 0;
    for (int i = 0; i < 20; i++) {
      int c = fork();
      if (c < 0) {
        if (errno != ENOMEM)
          exit(3);
        nomem++;
        continue;
      }
      if (c == 0) {
        char *argv[] = { "sleep", "0", 0 };
        exec("/sleep", argv);
        exit(errno == ENOMEM ? 0 : 4);
      }
      int st;
      if (wait(&st) != c || (st != 0 && st != -1))
        exit(5);
      ok++;
    }
    // (without copy-on-write every fork fails here; with it, some may work)
    exit(ok + nomem == 20 ? 0 : 6);
  }
  int st = test_wait(pid);
  if (st != 0)
    test_fail("the memory hog exited %d", st);
  // still able to run things
  pid = test_fork();
  if (pid == 0) {
    char *argv[] = { "sh", "-c", "echo ok | cat > /dev_ok_file", 0 };
    exec("/sh", argv);
    exit(99);
  }
  CHECK_EQ(test_wait(pid), 0);
  CHECK(unlink("/dev_ok_file") == 0);
}

// The test framework kills what a timed-out test left running: the
// deliberately stuck suite testlibcheck leaves a child holding 256 pages.
static void
harness_cleans_up(void)
{
  char out[512];
  int before = test_freepages(), after = 0;

  CHECK_EQ(test_sh("/testlibcheck", out, sizeof(out), 1), 1);
  if (strstr(out, "FAIL testlib.stuck: timed out after 20 ticks") == 0)
    test_fail("testlibcheck printed: %s", out);
  for (int tries = 0; tries < 100; tries++) {
    if ((after = test_freepages()) >= before)
      break;
    sleep(1);
  }
  CHECK_EQ(after, before);
  CHECK(unlink("/testlib.0") == 0);     // the stuck test's directory
}

// Many writers into one pipe: the reader gets every byte.
static void
pipe_many_writers(void)
{
  int p[2];
  CHECK(pipe(p) == 0);
  for (int k = 0; k < 6; k++) {
    if (test_fork() == 0) {
      close(p[0]);
      memset(buf, 'a' + k, 1000);
      for (int i = 0; i < 200; i++)
        if (write(p[1], buf, 1000) != 1000)
          exit(1);
      exit(0);
    }
  }
  close(p[1]);
  int counts[6] = { 0 };
  int n;
  while ((n = read(p[0], buf, sizeof(buf))) > 0)
    for (int i = 0; i < n; i++) {
      int k = buf[i] - 'a';
      if (k < 0 || k >= 6)
        test_fail("stray byte %d", buf[i]);
      counts[k]++;
    }
  close(p[0]);
  for (int k = 0; k < 6; k++)
    CHECK_EQ(test_wait(0), 0);
  for (int k = 0; k < 6; k++)
    CHECK_EQ(counts[k], 200 * 1000);
}

// Create empty files until the inodes run out (ENOSPC); after deleting
// them the same number fits again. mkdir and symlink fail cleanly too.
static int
fill_inodes(void)
{
  char name[16];
  int n = 0;
  for (;;) {
    snprintf(name, sizeof(name), "i%d", n);
    int fd = open(name, O_CREATE | O_RDWR);
    if (fd < 0) {
      if (errno != ENOSPC)
        test_fail("create %s: %s", name, strerror(errno));
      break;
    }
    close(fd);
    n++;
    if (n > 100000)
      test_fail("100000 files and no ENOSPC");
  }
  CHECK_ERR(mkdir("onemore"), ENOSPC);
  CHECK_ERR(symlink("i0", "onemore"), ENOSPC);
  CHECK_ERR(mknod("onemore", 1, 0), ENOSPC);
  struct stat st;
  CHECK_ERR(stat("onemore", &st), ENOENT);
  return n;
}

static void
unfill_inodes(int n)
{
  char name[16];
  for (int i = 0; i < n; i++) {
    snprintf(name, sizeof(name), "i%d", i);
    if (unlink(name) < 0)
      test_fail("unlink %s: %s", name, strerror(errno));
  }
}

static void
out_of_inodes(void)
{
  int first = fill_inodes();
  CHECK(first > 10);
  unfill_inodes(first);
  int second = fill_inodes();
  CHECK_EQ(second, first);
  unfill_inodes(second);
  CHECK_EQ(count_entries("."), 0);
}

// Races between removing a directory and using it: one process creates
// entries in d (by name, or from inside it as its cwd) while another
// removes d. Either the removal or the creation wins; afterwards no inode
// or block is lost (fsstat counts are back where they started).
#include "kernel/fsstat.h"
static void
race_rmdir_create(void)
{
  struct fsstat before, after;
  CHECK(fsstat(&before) == 0);
  int removed = 0, created = 0;
  for (int i = 0; i < 150; i++) {
    CHECK(mkdir("d") == 0);
    int pid = test_fork();
    if (pid == 0) {
      int r;
      if (i % 3 == 0)
        r = open("d/x", O_CREATE | O_RDWR);
      else if (i % 3 == 1)
        r = mkdir("d/x");
      else
        r = chdir("d") < 0 ? -2 : open("x", O_CREATE | O_RDWR);
      if (r == -2)
        exit(3);                 // d was gone before the chdir
      if (r < 0)
        exit(errno == ENOENT ? 2 : 1);
      exit(0);
    }
    for (volatile int spin = 0; spin < (i % 30) * 20000; spin++)
      ;                          // vary who gets there first
    int r = unlink("d");
    int e = errno;
    int st = test_wait(pid);
    if (st == 1)
      test_fail("round %d: the creation failed with an unexpected error", i);
    if (r == 0) {
      removed++;
      if (st == 0)
        test_fail("round %d: d was removed, but an entry was created in it", i);
      struct stat s;
      CHECK_ERR(stat("d", &s), ENOENT);
    } else {
      if (e != ENOTEMPTY)
        test_fail("round %d: unlink d: %s", i, strerror(e));
      CHECK_EQ(st, 0);
      created++;
      CHECK(unlink("d/x") == 0);
      CHECK(unlink("d") == 0);
    }
  }
  CHECK(fsstat(&after) == 0);
  CHECK_EQ(after.free_inodes, before.free_inodes);
  CHECK_EQ(after.free_blocks, before.free_blocks);
  if (removed == 0 || created == 0)
    printf("race_rmdir_create: removal won %d times, creation %d\n", removed, created);
}

static struct test tests[] = {
  TEST(fork_exec_load), TEST(fork_tree), TEST(pipe_big), TEST(pipe_chain), TEST(pipe_epipe),
  TEST(concurrent_files), TEST(concurrent_append), TEST(out_of_memory),
  // added by helper D2
  TEST(exec_status_load), TEST(kill_many), TEST(race_names), TEST(low_memory_fork),
  TEST(pipe_many_writers), TEST(out_of_inodes), TEST(race_rmdir_create),
  TEST(harness_cleans_up),
};

int
main(int argc, char **argv)
{
  test_set_timeout(6000);
  return test_run("proctest", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
