// systest: every system call's normal path and its errors.
//   systest [NAME...]   run all tests, or only the named ones
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/param.h"
#include "kernel/memstat.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define KADDR ((char *)0x80001000)   // kernel space
#define TOP   ((char *)0xffffffff)
#define NOMAP ((char *)0x60000000)   // nothing is mapped here

static char buf[8192];

// Open path for reading and writing, creating it; fails the test on error.
static int
create(const char *path)
{
  int fd = open(path, O_RDWR | O_CREATE | O_TRUNC);
  if (fd < 0)
    test_fail("create %s: %s", path, strerror(errno));
  return fd;
}

static void
bad_fd(void)
{
  struct stat st;
  CHECK_ERR(read(-1, buf, 1), EBADF);
  CHECK_ERR(read(99, buf, 1), EBADF);
  CHECK_ERR(read(1000000, buf, 1), EBADF);
  CHECK_ERR(write(99, buf, 1), EBADF);
  CHECK_ERR(close(99), EBADF);
  CHECK_ERR(close(-5), EBADF);
  CHECK_ERR(fstat(99, &st), EBADF);
  CHECK_ERR(dup(99), EBADF);
  CHECK_ERR(lseek(99, 0, SEEK_SET), EBADF);
  int fd = create("f");
  CHECK(close(fd) == 0);
  CHECK_ERR(close(fd), EBADF);
  CHECK_ERR(write(fd, "x", 1), EBADF);
  // wrong direction
  fd = open("f", O_RDONLY);
  CHECK(fd >= 0);
  CHECK_ERR(write(fd, "x", 1), EBADF);
  close(fd);
  fd = open("f", O_WRONLY);
  CHECK(fd >= 0);
  CHECK_ERR(read(fd, buf, 1), EBADF);
  close(fd);
}

// Bad and kernel-space pointers: -1 with EFAULT, never a crash.
static void
bad_pointers(void)
{
  char *bad[] = { KADDR, TOP, 0, NOMAP };
  int fd = create("f");
  CHECK(write(fd, "hello", 5) == 5);
  for (int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char *p = bad[i];
    {
      CHECK(lseek(fd, 0, SEEK_SET) == 0);
      CHECK_ERR(read(fd, p, 5), EFAULT);
      CHECK_ERR(write(fd, p, 5), EFAULT);
      CHECK_ERR(open(p, O_RDONLY), EFAULT);
      CHECK_ERR(open(p, O_CREATE | O_RDWR), EFAULT);
      CHECK_ERR(fstat(fd, (struct stat *)p), EFAULT);
      CHECK_ERR(pipe((int *)p), EFAULT);
      CHECK_ERR(exec(p, 0), EFAULT);
      CHECK_ERR(unlink(p), EFAULT);
      CHECK_ERR(mkdir(p), EFAULT);
      CHECK_ERR(chdir(p), EFAULT);
      CHECK_ERR(link(p, "g"), EFAULT);
      CHECK_ERR(link("f", p), EFAULT);
      CHECK_ERR(symlink(p, "g"), EFAULT);
      CHECK_ERR(readlink(p, buf, 10), EFAULT);
      CHECK_ERR(memstat((struct memstat *)p), EFAULT);
    }
    // an argument vector holding a bad string pointer
    char *argv[] = { "echo", p, 0 };
    if (p != 0)
      CHECK_ERR(exec("/echo", argv), EFAULT);
    CHECK_ERR(exec("/echo", (char **)p), EFAULT);
  }
  // read-only memory (program text) cannot be written by the kernel either
  char *text = (char *)bad_fd;
  char saved[8];
  memmove(saved, text, 8);
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  CHECK_ERR(read(fd, text, 5), EFAULT);
  CHECK_ERR(pipe((int *)text), EFAULT);
  CHECK_ERR(fstat(fd, (struct stat *)text), EFAULT);
  CHECK(memcmp(saved, text, 8) == 0);
  // a buffer straddling the end of user space
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  CHECK_ERR(read(fd, KADDR - 0x1000 - 2, 5), EFAULT);   // 0x7ffffffe..0x80000002
  // wait with a bad status pointer: the child is still reported
  int pid = test_fork();
  if (pid == 0)
    exit(0);
  int r = wait((int *)KADDR);
  CHECK(r == -1 && errno == EFAULT);
  while (wait(0) >= 0)
    ;
  close(fd);
}

static void
open_errors(void)
{
  CHECK_ERR(open("nonexistent", O_RDONLY), ENOENT);
  CHECK_ERR(open("nodir/x", O_RDONLY), ENOENT);
  CHECK_ERR(open("nodir/x", O_CREATE | O_RDWR), ENOENT);
  CHECK_ERR(open("", O_RDONLY), ENOENT);
  CHECK_ERR(unlink("nonexistent"), ENOENT);
  CHECK_ERR(chdir("nonexistent"), ENOENT);
  CHECK(mkdir("d") == 0);
  CHECK_ERR(mkdir("d"), EEXIST);
  CHECK_ERR(mkdir("/"), EEXIST);
  CHECK_ERR(open("d", O_WRONLY), EISDIR);
  CHECK_ERR(open("d", O_RDWR), EISDIR);
  CHECK_ERR(open("d", O_CREATE | O_RDWR), EISDIR);
  int fd = open("d", O_RDONLY);
  CHECK(fd >= 0);
  close(fd);
  close(create("f"));
  CHECK_ERR(chdir("f"), ENOTDIR);
  CHECK_ERR(open("f/x", O_RDONLY), ENOTDIR);
  CHECK_ERR(mkdir("f/x"), ENOTDIR);
  CHECK_ERR(open("f", 3), EINVAL);
  // a path longer than MAXPATH
  static char longp[MAXPATH + 50];
  memset(longp, 'a', sizeof(longp) - 1);
  longp[sizeof(longp) - 1] = 0;
  CHECK_ERR(open(longp, O_RDONLY), ENAMETOOLONG);
  // a name longer than DIRSIZ is refused or truncated, never a crash
  fd = open("abcdefghijklmnopqrstuvwxyz", O_CREATE | O_RDWR);
  if (fd >= 0)
    close(fd);
}

static void
dirs(void)
{
  CHECK(mkdir("d") == 0);
  CHECK(mkdir("d/e") == 0);
  close(create("d/e/f"));
  CHECK_ERR(unlink("d/e"), ENOTEMPTY);
  CHECK_ERR(unlink("d/e/."), EISDIR);
  CHECK_ERR(unlink("d/.."), EISDIR);
  CHECK(chdir("d/e") == 0);
  CHECK(open("f", O_RDONLY) >= 0);
  CHECK(chdir("../..") == 0);
  CHECK(unlink("d/e/f") == 0);
  CHECK(unlink("d/e") == 0);
  CHECK_ERR(chdir("d/e"), ENOENT);
  struct stat st;
  CHECK(stat("d", &st) == 0);
  CHECK_EQ(st.type, T_DIR);
  int n0 = st.nlink;
  CHECK(n0 >= 1);
  CHECK(mkdir("d/x") == 0);       // its ".." links to d
  CHECK(stat("d", &st) == 0);
  CHECK_EQ(st.nlink, n0 + 1);
  CHECK(unlink("d/x") == 0);
  CHECK(stat("d", &st) == 0);
  CHECK_EQ(st.nlink, n0);
}

static void
dup_shares_offset(void)
{
  int fd = create("f");
  int fd2 = dup(fd);
  CHECK(fd2 > fd);
  CHECK(write(fd, "abc", 3) == 3);
  CHECK(write(fd2, "def", 3) == 3);
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 6);
  close(fd);
  CHECK(lseek(fd2, 0, SEEK_SET) == 0);
  CHECK_EQ(read(fd2, buf, 100), 6);
  CHECK(memcmp(buf, "abcdef", 6) == 0);
  close(fd2);
  // dup takes the lowest free descriptor
  int a = create("g");
  int b = dup(a);
  close(a);
  int c = dup(b);
  CHECK_EQ(c, a);
  close(b);
  close(c);
}

static void
lseek_all(void)
{
  int fd = create("f");
  CHECK(write(fd, "0123456789", 10) == 10);
  CHECK_EQ(lseek(fd, 3, SEEK_SET), 3);
  CHECK_EQ(read(fd, buf, 2), 2);
  CHECK(buf[0] == '3' && buf[1] == '4');
  CHECK_EQ(lseek(fd, 2, SEEK_CUR), 7);
  CHECK_EQ(lseek(fd, -1, SEEK_CUR), 6);
  CHECK_EQ(lseek(fd, -2, SEEK_END), 8);
  CHECK_EQ(read(fd, buf, 10), 2);
  CHECK(buf[0] == '8' && buf[1] == '9');
  CHECK_EQ(read(fd, buf, 10), 0);
  CHECK_ERR(lseek(fd, -20, SEEK_CUR), EINVAL);
  CHECK_ERR(lseek(fd, 0, 7), EINVAL);
  // a hole reads back as zeros
  CHECK_EQ(lseek(fd, 5000, SEEK_SET), 5000);
  CHECK(write(fd, "Z", 1) == 1);
  struct stat st;
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, 5001);
  CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
  CHECK_EQ(read(fd, buf, 5001), 5001);
  CHECK(memcmp(buf, "0123456789", 10) == 0);
  for (int i = 10; i < 5000; i++)
    if (buf[i] != 0)
      test_fail("hole byte %d is %d", i, buf[i]);
  CHECK(buf[5000] == 'Z');
  close(fd);
  int p[2];
  CHECK(pipe(p) == 0);
  CHECK_ERR(lseek(p[0], 0, SEEK_SET), ESPIPE);
  CHECK_ERR(lseek(p[1], 0, SEEK_CUR), ESPIPE);
  close(p[0]);
  close(p[1]);
}

static void
fstat_fields(void)
{
  struct stat st, st2;
  int fd = create("f");
  CHECK(write(fd, buf, 1234) == 1234);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.type, T_FILE);
  CHECK_EQ(st.size, 1234);
  CHECK_EQ(st.nlink, 1);
  CHECK(st.ino > 0);
  CHECK(stat("f", &st2) == 0);
  CHECK_EQ(st2.ino, st.ino);
  CHECK_EQ(st2.dev, st.dev);
  close(fd);
  CHECK(stat("/", &st) == 0);
  CHECK_EQ(st.type, T_DIR);
  CHECK_EQ(st.ino, 1);
  CHECK(stat("/console", &st) == 0);
  CHECK_EQ(st.type, T_DEVICE);
  CHECK(fstat(1, &st) == 0);
  // O_TRUNC empties, O_APPEND appends
  fd = open("f", O_WRONLY | O_TRUNC);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, 0);
  CHECK(write(fd, "ab", 2) == 2);
  close(fd);
  fd = open("f", O_WRONLY | O_APPEND);
  CHECK(write(fd, "cd", 2) == 2);
  CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
  CHECK(write(fd, "ef", 2) == 2);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, 6);
  close(fd);
}

static void
link_counts(void)
{
  struct stat st;
  int fd = create("a");
  CHECK(write(fd, "data", 4) == 4);
  CHECK(link("a", "b") == 0);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.nlink, 2);
  CHECK_ERR(link("a", "b"), EEXIST);
  CHECK_ERR(link("nonexistent", "c"), ENOENT);
  CHECK(mkdir("d") == 0);
  CHECK_ERR(link("d", "e"), EPERM);
  CHECK(unlink("a") == 0);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.nlink, 1);
  CHECK_ERR(open("a", O_RDONLY), ENOENT);
  int fd2 = open("b", O_RDONLY);
  CHECK_EQ(read(fd2, buf, 10), 4);
  CHECK(memcmp(buf, "data", 4) == 0);
  CHECK(unlink("b") == 0);
  // still readable through the open descriptor after the last unlink
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.nlink, 0);
  CHECK_EQ(lseek(fd2, 0, SEEK_SET), 0);
  CHECK_EQ(read(fd2, buf, 10), 4);
  close(fd);
  close(fd2);
}

static void
symlinks(void)
{
  struct stat st;
  close(create("target"));
  CHECK(symlink("target", "l1") == 0);
  CHECK(symlink("l1", "l2") == 0);
  CHECK_EQ(readlink("l2", buf, sizeof(buf)), 2);
  CHECK(memcmp(buf, "l1", 2) == 0);
  CHECK(stat("l2", &st) == 0);
  CHECK_EQ(st.type, T_FILE);
  CHECK(lstat("l2", &st) == 0);
  CHECK_EQ(st.type, T_SYMLINK);
  CHECK_ERR(readlink("target", buf, 10), EINVAL);
  CHECK_ERR(readlink("nonexistent", buf, 10), ENOENT);
  CHECK_ERR(symlink("x", "l1"), EEXIST);
  CHECK(symlink("loop2", "loop1") == 0);
  CHECK(symlink("loop1", "loop2") == 0);
  CHECK_ERR(open("loop1", O_RDONLY), ELOOP);
  CHECK(symlink("nowhere", "dangling") == 0);
  CHECK_ERR(open("dangling", O_RDONLY), ENOENT);
  CHECK(unlink("l1") == 0);
  CHECK_ERR(open("l2", O_RDONLY), ENOENT);
}

static void
wait_status(void)
{
  int vals[] = { 0, 7, -3, 255, 1000 };
  for (int i = 0; i < 5; i++) {
    int pid = test_fork();
    if (pid == 0)
      exit(vals[i]);
    int st = 12345;
    CHECK_EQ(wait(&st), pid);
    CHECK_EQ(st, vals[i]);
  }
  int pid = test_fork();
  if (pid == 0)
    exit(3);
  CHECK_EQ(wait(0), pid);   // a null status pointer is allowed
  CHECK_ERR(wait(0), ECHILD);
  int st;
  CHECK_ERR(wait(&st), ECHILD);
}

static void
killed_child(void)
{
  int p[2];
  CHECK(pipe(p) == 0);
  int pid = test_fork();
  if (pid == 0) {
    write(p[1], "r", 1);
    for (;;)
      ;                     // spin: kill must stop a running process
  }
  CHECK(read(p[0], buf, 1) == 1);
  CHECK(kill(pid) == 0);
  int st;
  CHECK_EQ(wait(&st), pid);
  CHECK_EQ(st, -1);
  // and a sleeping one
  pid = test_fork();
  if (pid == 0) {
    sleep(100000);
    exit(0);
  }
  sleep(2);
  CHECK(kill(pid) == 0);
  CHECK_EQ(wait(&st), pid);
  CHECK_EQ(st, -1);
  // a child that faults is killed
  pid = test_fork();
  if (pid == 0) {
    *(volatile int *)NOMAP = 1;
    exit(0);
  }
  CHECK_EQ(wait(&st), pid);
  CHECK_EQ(st, -1);
  CHECK_ERR(kill(99999), ESRCH);
  CHECK_ERR(kill(-1), ESRCH);
  CHECK_ERR(kill(0), ESRCH);
  CHECK_ERR(kill(pid), ESRCH);   // reaped: gone
  close(p[0]);
  close(p[1]);
}

static void
getpid_fork(void)
{
  int p[2];
  CHECK(pipe(p) == 0);
  int me = getpid();
  CHECK(me > 0);
  int pid = test_fork();
  if (pid == 0) {
    int mine = getpid();
    write(p[1], &mine, sizeof(mine));
    exit(0);
  }
  int got = 0;
  CHECK(read(p[0], &got, sizeof(got)) == sizeof(got));
  CHECK_EQ(got, pid);
  CHECK(got != me);
  CHECK_EQ(test_wait(pid), 0);
  close(p[0]);
  close(p[1]);
}

static void
sbrk_grow_shrink(void)
{
  char *old = sbrk(0);
  char *p = sbrk(40960);
  CHECK(p == old);
  CHECK(sbrk(0) == old + 40960);
  for (int i = 0; i < 40960; i += 4096)
    CHECK(p[i] == 0);                 // fresh memory is zero
  memset(p, 0x5a, 40960);
  CHECK(sbrk(-40960) == old + 40960);
  CHECK(sbrk(0) == old);
  // the shrunk memory is gone: touching it kills a child
  int pid = test_fork();
  if (pid == 0) {
    p[4096] = 1;
    exit(0);
  }
  CHECK_EQ(test_wait(pid), -1);
  // grow again: zeros, not the old contents
  p = sbrk(8192);
  CHECK(p == old);
  CHECK(p[100] == 0 && p[5000] == 0);
  CHECK_ERR((int)sbrk(0x7fffffff), ENOMEM);
  CHECK(sbrk(0) == old + 8192);
  CHECK(sbrk(-8192) == old + 8192);
}

static void
exec_errors(void)
{
  char *argv[] = { "x", 0 };
  CHECK_ERR(exec("nonexistent", argv), ENOENT);
  CHECK_ERR(exec("/nonexistent", argv), ENOENT);
  test_write_file("text", "#!/bin/sh\necho this is not an ELF file\n");
  CHECK_ERR(exec("text", argv), ENOEXEC);
  close(create("empty"));
  CHECK_ERR(exec("empty", argv), ENOEXEC);
  CHECK(mkdir("d") == 0);
  int r = exec("d", argv);
  CHECK(r == -1 && (errno == EACCES || errno == ENOEXEC || errno == EISDIR));
  static char *many[MAXARG + 2];
  for (int i = 0; i < MAXARG + 1; i++)
    many[i] = "a";
  many[MAXARG + 1] = 0;
  CHECK_ERR(exec("/echo", many), E2BIG);
  // still alive and well after the failures; a good exec works
  char *args[] = { "echo", "exec", "works", 0 };
  int out, pid = test_spawn("/echo", args, 0, &out);
  CHECK_EQ(test_read_all(out, buf, 100), 11);
  CHECK(memcmp(buf, "exec works\n", 11) == 0);
  CHECK_EQ(test_wait(pid), 0);
}

static void
sleep_uptime(void)
{
  int t0 = uptime();
  CHECK(t0 > 0);
  CHECK(sleep(10) == 0);
  int t1 = uptime();
  CHECK(t1 - t0 >= 10);
  CHECK(t1 - t0 < 500);
  CHECK(sleep(0) == 0);
}

static void
pipe_basic(void)
{
  int p[2];
  CHECK(pipe(p) == 0);
  CHECK(p[0] >= 0 && p[1] >= 0 && p[0] != p[1]);
  CHECK(write(p[1], "hello", 5) == 5);
  CHECK_EQ(read(p[0], buf, 100), 5);
  CHECK(memcmp(buf, "hello", 5) == 0);
  CHECK_ERR(write(p[0], "x", 1), EBADF);
  CHECK_ERR(read(p[1], buf, 1), EBADF);
  close(p[1]);
  CHECK_EQ(read(p[0], buf, 100), 0);    // end of file
  close(p[0]);
  struct stat st;
  CHECK(pipe(p) == 0);
  CHECK(fstat(p[0], &st) == 0 || errno == EBADF);
  close(p[0]);
  CHECK_ERR(write(p[1], "x", 1), EPIPE);
  close(p[1]);
}

static void
memstat_sane(void)
{
  struct memstat ms;
  CHECK(memstat(&ms) == 0);
  CHECK(ms.total_pages > 1000);
  CHECK(ms.free_pages > 0 && ms.free_pages <= ms.total_pages);
  uint sum = 0;
  for (int k = 0; k < BUDDY_NORDERS; k++)
    sum += ms.free_blocks[k] << k;
  CHECK_EQ(sum, ms.free_pages);
  // allocating memory shows up
  char *p = sbrk(20 * 4096);
  for (int i = 0; i < 20; i++)
    p[i * 4096] = 1;
  struct memstat ms2;
  CHECK(memstat(&ms2) == 0);
  CHECK(ms2.free_pages <= ms.free_pages - 20);
  sbrk(-20 * 4096);
}

// init (pid 1) cannot be killed: that would take the whole system down.
static void
kill_init(void)
{
  CHECK_ERR(kill(1), EPERM);
}

// ---- added by helper D2 ----
#include "kernel/fs.h"

#define GUARD ((char *)0x7ffbf000)   // the guard page below the user stack
#define TOPPG ((char *)0xfffff000)   // the last page of the address space

// A page-aligned address just past the heap: the heap is grown to end on
// a page boundary first, so [result, result + 4096) is unmapped.
static char *
heap_edge(void)
{
  uint brk = (uint)sbrk(0);
  uint pg = (brk + 4095) & ~4095;
  CHECK(sbrk(pg - brk) != (char *)-1);
  return (char *)pg;
}

// More bad pointers: every call that takes one, each pointer an argument
// at a time, and strings/buffers that run off the end of the heap.
static void
bad_pointers_more(void)
{
  char *edge = heap_edge();
  char *bad[] = { TOPPG, GUARD, edge, edge + 100 * 4096, (char *)0x80000000 };
  int fd = create("f");
  CHECK(write(fd, "0123456789", 10) == 10);
  close(create("g"));
  CHECK(mkdir("d") == 0);
  CHECK(symlink("f", "sl") == 0);
  for (int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char *p = bad[i];
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    CHECK_ERR(read(fd, p, 10), EFAULT);
    CHECK_ERR(write(fd, p, 10), EFAULT);
    CHECK_ERR(open(p, O_RDONLY), EFAULT);
    CHECK_ERR(fstat(fd, (struct stat *)p), EFAULT);
    CHECK_ERR(pipe((int *)p), EFAULT);
    CHECK_ERR(exec(p, 0), EFAULT);
    CHECK_ERR(mkdir(p), EFAULT);
    CHECK_ERR(mknod(p, 1, 0), EFAULT);
    CHECK_ERR(unlink(p), EFAULT);
    CHECK_ERR(chdir(p), EFAULT);
    CHECK_ERR(link(p, "h"), EFAULT);
    CHECK_ERR(link("f", p), EFAULT);
    CHECK_ERR(symlink(p, "h"), EFAULT);
    CHECK_ERR(symlink("f", p), EFAULT);
    CHECK_ERR(readlink(p, buf, 10), EFAULT);
    CHECK_ERR(readlink("sl", p, 10), EFAULT);
    CHECK_ERR(write(1, p, 5), EFAULT);          // the console device too
    CHECK_ERR(wait((int *)p), ECHILD);          // no child: nothing to store
    int pid = test_fork();
    if (pid == 0)
      exit(5);
    CHECK_ERR(wait((int *)p), EFAULT);
    while (wait(0) >= 0)
      ;
    char *argv[] = { "echo", "x", p, 0 };
    CHECK_ERR(exec("/echo", argv), EFAULT);
    CHECK_ERR(exec("/echo", (char **)p), EFAULT);
  }
  // nothing was created by the failed calls
  struct stat st;
  CHECK_ERR(stat("h", &st), ENOENT);
  // a string without its NUL before the heap ends
  memset(edge - 5, 'a', 5);
  CHECK_ERR(open(edge - 5, O_RDONLY), EFAULT);
  CHECK_ERR(open(edge - 5, O_CREATE | O_RDWR), EFAULT);
  CHECK_ERR(mkdir(edge - 5), EFAULT);
  CHECK_ERR(stat("aaaaa", &st), ENOENT);
  // buffers that start mapped and run into unmapped memory
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  CHECK_ERR(read(fd, edge - 5, 10), EFAULT);
  CHECK_ERR(fstat(fd, (struct stat *)(edge - 4)), EFAULT);
  int lo = dup(0);                  // the lowest free descriptor
  close(lo);
  CHECK_ERR(pipe((int *)(edge - 4)), EFAULT);
  CHECK_EQ(dup(0), lo);             // the failed pipe left no descriptors
  close(lo);
  // a pipe: bad buffers on both ends, and the data is still there after
  int p[2];
  CHECK(pipe(p) == 0);
  CHECK_ERR(write(p[1], KADDR, 3), EFAULT);
  CHECK(write(p[1], "abc", 3) == 3);
  CHECK_ERR(read(p[0], KADDR, 3), EFAULT);
  close(p[1]);
  int n = read(p[0], buf, 10);
  CHECK(n == 3 || n == 0);      // EFAULT may or may not have eaten the bytes
  close(p[0]);
  close(fd);
}

// O_CREATE alone never truncates; writes overwrite in place.
static void
open_create_modes(void)
{
  struct stat st;
  int fd = open("new", O_CREATE | O_RDONLY);
  CHECK(fd >= 0);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.type, T_FILE);
  CHECK_EQ(st.size, 0);
  CHECK_EQ(st.nlink, 1);
  CHECK_ERR(write(fd, "x", 1), EBADF);
  close(fd);
  test_write_file("f", "abcdef");
  fd = open("f", O_CREATE | O_WRONLY);
  CHECK(fd >= 0);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, 6);
  CHECK(write(fd, "XY", 2) == 2);
  close(fd);
  fd = open("f", O_RDONLY);
  CHECK_EQ(read(fd, buf, 100), 6);
  CHECK(memcmp(buf, "XYcdef", 6) == 0);
  close(fd);
  // the same inode comes back for the same name
  struct stat a, b;
  CHECK(stat("f", &a) == 0);
  close(open("f", O_CREATE | O_RDWR));
  CHECK(stat("f", &b) == 0);
  CHECK_EQ(a.ino, b.ino);
  // O_TRUNC | O_CREATE on a new name, and O_TRUNC of a file open elsewhere
  fd = open("t", O_CREATE | O_TRUNC | O_RDWR);
  CHECK(fd >= 0);
  CHECK(write(fd, "12345", 5) == 5);
  int fd2 = open("t", O_WRONLY | O_TRUNC);
  CHECK(fd2 >= 0);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, 0);
  CHECK_EQ(read(fd, buf, 10), 0);            // offset 5 is past the end now
  close(fd2);
  close(fd);
  // two O_APPEND descriptors both append
  fd = open("ap", O_CREATE | O_WRONLY | O_APPEND);
  fd2 = open("ap", O_WRONLY | O_APPEND);
  CHECK(write(fd, "aa", 2) == 2);
  CHECK(write(fd2, "bb", 2) == 2);
  CHECK(write(fd, "cc", 2) == 2);
  close(fd);
  close(fd2);
  fd = open("ap", O_RDONLY);
  CHECK_EQ(read(fd, buf, 100), 6);
  CHECK(memcmp(buf, "aabbcc", 6) == 0);
  close(fd);
  // O_CREATE below a file, and on a directory for reading
  CHECK_ERR(open("f/x", O_CREATE | O_RDWR), ENOTDIR);
  CHECK(mkdir("d") == 0);
  CHECK_ERR(open("d", O_CREATE | O_RDONLY), EISDIR);
}

// lseek corner cases: negative results, past the end, holes in the
// indirect and doubly-indirect ranges, and offsets past the largest file.
static void
lseek_more(void)
{
  static char zero[4096];
  int fd = create("f");
  CHECK(write(fd, "abc", 3) == 3);
  CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
  CHECK_ERR(lseek(fd, -4, SEEK_END), EINVAL);
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 3);          // unchanged by the failures
  CHECK_EQ(lseek(fd, 10, SEEK_END), 13);
  CHECK_EQ(read(fd, buf, 10), 0);               // reading past the end
  struct stat st;
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, 3);                         // seeking alone does not grow it
  // holes: NDIRECT blocks are direct, then singly and doubly indirect
  uint offs[] = { 20 * BSIZE + 7, (NDIRECT + NINDIRECT + 3) * BSIZE + 100 };
  for (int k = 0; k < 2; k++) {
    CHECK_EQ(lseek(fd, offs[k], SEEK_SET), offs[k]);
    CHECK(write(fd, "Q", 1) == 1);
    CHECK(fstat(fd, &st) == 0);
    CHECK_EQ(st.size, offs[k] + 1);
  }
  CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
  uint off = 0;
  while (off < offs[1] + 1) {
    int n = read(fd, buf, 4096);
    if (n <= 0)
      test_fail("read at %d: %d", off, n);
    for (int i = 0; i < n; i++, off++) {
      char want = off < 3 ? "abc"[off] : (off == offs[0] || off == offs[1]) ? 'Q' : 0;
      if (buf[i] != want)
        test_fail("byte %d is %d, want %d", off, buf[i], want);
    }
  }
  CHECK_EQ(read(fd, buf, 10), 0);
  // past the largest file: EFBIG, even where offset + n overflows
  CHECK_EQ(lseek(fd, MAXFILESIZE, SEEK_SET), MAXFILESIZE);
  CHECK_ERR(write(fd, "x", 1), EFBIG);
  CHECK_EQ(lseek(fd, 0x7fffffff, SEEK_SET), 0x7fffffff);
  CHECK_ERR(write(fd, zero, 100), EFBIG);
  CHECK_EQ(read(fd, buf, 10), 0);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, offs[1] + 1);
  close(fd);
  // a directory can be sought and read as a file of dirents
  fd = open(".", O_RDONLY);
  CHECK(fd >= 0);
  CHECK_EQ(lseek(fd, sizeof(struct dirent), SEEK_SET), sizeof(struct dirent));
  struct dirent de;
  CHECK_EQ(read(fd, &de, sizeof(de)), sizeof(de));
  CHECK(strcmp(de.name, "..") == 0);
  close(fd);
}

// After fork, parent and child share each open file's offset.
static void
fork_shares_offset(void)
{
  int fd = create("f");
  CHECK(write(fd, "ab", 2) == 2);
  int pid = test_fork();
  if (pid == 0) {
    if (write(fd, "cde", 3) != 3)
      exit(2);
    exit(0);
  }
  CHECK_EQ(test_wait(pid), 0);
  CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
  CHECK(write(fd, "f", 1) == 1);
  CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
  CHECK_EQ(read(fd, buf, 100), 6);
  CHECK(memcmp(buf, "abcdef", 6) == 0);
  close(fd);
}

// read and write counts: negative, zero, and short reads at the end.
static void
rw_counts(void)
{
  int fd = create("f");
  CHECK_ERR(write(fd, buf, -1), EINVAL);
  CHECK_ERR(read(fd, buf, -5), EINVAL);
  CHECK_EQ(write(fd, buf, 0), 0);
  CHECK_EQ(write(fd, KADDR, 0), 0);            // nothing to copy: not a fault
  CHECK(write(fd, "hello", 5) == 5);
  CHECK_EQ(lseek(fd, 2, SEEK_SET), 2);
  CHECK_EQ(read(fd, buf, 0), 0);
  CHECK_EQ(read(fd, buf, 100), 3);
  CHECK_EQ(read(fd, buf, 100), 0);
  close(fd);
  // a directory opened read-only is not writable
  fd = open(".", O_RDONLY);
  CHECK_ERR(write(fd, "x", 1), EBADF);
  close(fd);
}

// mknod makes device files; unknown majors fail with ENODEV on use.
static void
mknod_devices(void)
{
  struct stat st;
  CHECK(mknod("cons", 1, 0) == 0);
  CHECK(stat("cons", &st) == 0);
  CHECK_EQ(st.type, T_DEVICE);
  CHECK_ERR(mknod("cons", 1, 0), EEXIST);
  CHECK_ERR(mknod("bad", -1, 0), EINVAL);
  CHECK_ERR(mknod("bad", NDEV, 0), EINVAL);
  CHECK_ERR(mknod("nodir/x", 1, 0), ENOENT);
  CHECK_ERR(stat("bad", &st), ENOENT);
  int fd = open("cons", O_WRONLY);
  CHECK(fd >= 0);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.type, T_DEVICE);
  CHECK_EQ(write(fd, buf, 0), 0);
  CHECK_ERR(lseek(fd, 0, SEEK_SET), ESPIPE);
  close(fd);
  CHECK(mknod("nodrv", NDEV - 1, 3) == 0);
  fd = open("nodrv", O_RDWR);
  CHECK(fd >= 0);
  CHECK_ERR(read(fd, buf, 1), ENODEV);
  CHECK_ERR(write(fd, "x", 1), ENODEV);
  close(fd);
  CHECK(unlink("nodrv") == 0);
  CHECK(unlink("cons") == 0);
}

// exec's argument limits: exactly MAXARG arguments work, and so do as many
// bytes of them as ARGMAX allows; one more argument, or one that crosses
// ARGMAX, fails with E2BIG and leaves the caller running.
static void
exec_limits(void)
{
  static char *args[MAXARG + 1];
  args[0] = "echo";
  for (int i = 1; i < MAXARG; i++)
    args[i] = "a";
  args[MAXARG] = 0;
  int out, pid = test_spawn("/echo", args, 0, &out);
  CHECK_EQ(test_read_all(out, buf, sizeof(buf)), 2 * (MAXARG - 1));  // "a a ... a\n"
  CHECK_EQ(test_wait(pid), 0);
  // Bytes: each 99-letter argument takes 104 of ARGMAX (string, NUL,
  // alignment, pointer), "echo" 8 and argv's 0 another 4: 314 fit, 315 not.
  char *word = malloc(100);
  CHECK(word != 0);
  memset(word, 'w', 99);
  word[99] = 0;
  for (int i = 1; i <= 315; i++)
    args[i] = word;
  args[316] = 0;
  CHECK_ERR(exec("/echo", args), E2BIG);
  args[315] = 0;
  pid = test_spawn("/echo", args, 0, &out);
  CHECK_EQ(test_read_all(out, buf, sizeof(buf)), 314 * 100);
  CHECK_EQ(test_wait(pid), 0);
  free(word);
  // MAXARG strings of 12000 bytes: far more than ARGMAX
  char *huge = malloc(12000);
  CHECK(huge != 0);
  memset(huge, 'b', 11999);
  huge[11999] = 0;
  for (int i = 1; i < MAXARG; i++)
    args[i] = huge;
  CHECK_ERR(exec("/echo", args), E2BIG);
  free(huge);
  // an argv with no terminating null before unmapped memory
  char **edge = (char **)heap_edge();
  edge[-1] = "echo";
  CHECK_ERR(exec("/echo", edge - 1), EFAULT);
}

// strerror's messages and perror's format (on fd 2).
static void
errno_text(void)
{
  CHECK(strcmp(strerror(ENOENT), "no such file or directory") == 0);
  CHECK(strcmp(strerror(EBADF), "bad file descriptor") == 0);
  CHECK(strcmp(strerror(EFAULT), "bad address") == 0);
  CHECK(strcmp(strerror(ENOSPC), "no space left on device") == 0);
  CHECK(strcmp(strerror(ENOTEMPTY), "directory not empty") == 0);
  CHECK(strcmp(strerror(0), "unknown error") == 0);
  CHECK(strcmp(strerror(-1), "unknown error") == 0);
  CHECK(strcmp(strerror(100000), "unknown error") == 0);
  CHECK(strcmp(strerror(6), "unknown error") == 0);   // a gap in the table
  // errno: set by a failing call, left alone by a good one
  CHECK_ERR(close(77), EBADF);
  CHECK(getpid() > 0);
  CHECK_EQ(errno, EBADF);
  // perror, captured through a pipe on fd 2
  int p[2];
  CHECK(pipe(p) == 0);
  int saved = dup(2);
  close(2);
  CHECK_EQ(dup(p[1]), 2);
  errno = ENOENT;
  perror("open x");
  errno = EISDIR;
  perror("");
  errno = 12345;
  perror("odd");
  close(2);
  CHECK_EQ(dup(saved), 2);
  close(saved);
  close(p[1]);
  int n = 0, r;
  while ((r = read(p[0], buf + n, sizeof(buf) - 1 - n)) > 0)
    n += r;
  buf[n] = 0;
  close(p[0]);
  const char *want = "open x: no such file or directory\nis a directory\nodd: unknown error\n";
  if (strcmp(buf, want) != 0)
    test_fail("perror printed \"%s\", want \"%s\"", buf, want);
}

// chdir: ".." at the root is the root; a removed working directory
// cannot get new entries.
static void
chdir_more(void)
{
  struct stat st;
  CHECK(chdir("/") == 0);
  CHECK(chdir("..") == 0);
  CHECK(chdir("../..") == 0);
  CHECK(stat(".", &st) == 0);
  CHECK_EQ(st.ino, 1);
  CHECK(mkdir("/d2cwd") == 0);
  CHECK(chdir("/d2cwd") == 0);
  int r = unlink("/d2cwd");
  if (r == 0) {
    CHECK_ERR(open("x", O_CREATE | O_RDWR), ENOENT);
    CHECK_ERR(mkdir("y"), ENOENT);
    CHECK_ERR(mknod("z", 1, 0), ENOENT);
    CHECK_ERR(symlink("a", "w"), ENOENT);
    CHECK(chdir("/") == 0);
    CHECK_ERR(stat("/d2cwd", &st), ENOENT);
  } else {
    CHECK(errno == EBUSY || errno == EINVAL || errno == EPERM);
    CHECK(chdir("/") == 0);
    CHECK(unlink("/d2cwd") == 0);
  }
}

// Processes: killing oneself, killing a blocked reader, orphans.
static void
proc_more(void)
{
  int st;
  int pid = test_fork();
  if (pid == 0) {
    kill(getpid());
    for (;;)
      ;
  }
  CHECK_EQ(wait(&st), pid);
  CHECK_EQ(st, -1);
  // a reader blocked on an empty pipe
  int p[2];
  CHECK(pipe(p) == 0);
  pid = test_fork();
  if (pid == 0) {
    read(p[0], buf, 1);
    exit(0);
  }
  sleep(3);
  CHECK(kill(pid) == 0);
  CHECK_EQ(wait(&st), pid);
  CHECK_EQ(st, -1);
  close(p[0]);
  close(p[1]);
  // a grandchild outlives its parent: it is not ours to wait for
  CHECK(pipe(p) == 0);
  pid = test_fork();
  if (pid == 0) {
    if (fork() == 0) {
      close(p[0]);
      sleep(5);
      write(p[1], "g", 1);
      exit(0);
    }
    exit(4);
  }
  close(p[1]);
  CHECK_EQ(wait(&st), pid);
  CHECK_EQ(st, 4);
  CHECK_ERR(wait(&st), ECHILD);
  CHECK_EQ(read(p[0], buf, 10), 1);     // the orphan still ran
  CHECK_EQ(read(p[0], buf, 10), 0);     // and has exited (its end is closed)
  close(p[0]);
  sleep(2);                             // init reaps it
  CHECK_ERR(sleep(-1), EINVAL);
}

// sbrk: shrinking below the heap's start fails and changes nothing.
static void
sbrk_more(void)
{
  char *old = sbrk(0);
  CHECK((int)sbrk(-0x10000000) == -1);
  CHECK(sbrk(0) == old);
  char *p = sbrk(1);
  CHECK(p == old);
  *p = 7;
  CHECK(sbrk(0) == old + 1);
  CHECK(sbrk(-1) == old + 1);
  CHECK(sbrk(0) == old);
}

// Many descriptors for one file, each the lowest free one; all come back
// (the leak check).
static void
many_fds(void)
{
  static int fds[500];
  int fd = create("f");
  for (int i = 0; i < 500; i++) {
    fds[i] = dup(fd);
    CHECK(fds[i] >= 0);
    CHECK(i == 0 || fds[i] > fds[i - 1]);
  }
  for (int i = 0; i < 500; i++)
    CHECK(close(fds[i]) == 0);
  CHECK_ERR(close(fds[499]), EBADF);
  CHECK_EQ(dup(fd), fds[0]);
  close(fds[0]);
  close(fd);
}

// Damaged ELF files: exec refuses each with ENOEXEC and the caller goes on.
static void
exec_bad_elf(void)
{
  struct stat st;
  int fd = open("/echo", O_RDONLY);
  CHECK(fd >= 0);
  CHECK(fstat(fd, &st) == 0);
  char *img = malloc(st.size), *copy = malloc(st.size);
  CHECK(img != 0 && copy != 0);
  CHECK_EQ(read(fd, img, st.size), st.size);
  close(fd);
  uint phoff = *(uint *)(img + 28);
  int phnum = *(ushort *)(img + 44);
  uint ph = 0;                                  // the first PT_LOAD header
  for (int i = 0; i < phnum && ph == 0; i++)
    if (*(uint *)(img + phoff + 32 * i) == 1)
      ph = phoff + 32 * i;
  CHECK(ph != 0);
  // field offset, size (2 or 4), value
  struct { int off, size; uint val; } bad[] = {
    { 0, 4, 0x464c457e },             // magic
    { 4, 1, 2 },                      // 64-bit class
    { 18, 2, 62 },                    // machine: x86-64
    { 24, 4, 0 },                     // entry in page 0
    { 24, 4, 0x80001000 },            // entry in the kernel
    { 28, 4, 0x7ffffff0 },            // program headers past the end
    { 42, 2, 16 },                    // program header size
    { 44, 2, 0 },                     // no program headers
    { 44, 2, 60000 },                 // too many
    { ph + 4, 4, 0x7ffffff0 },        // segment data past the end of the file
    { ph + 8, 4, 0 },                 // segment at address 0
    { ph + 8, 4, 0x7fff0000 },        // segment over the stack
    { ph + 8, 4, 0xfffff000 },        // segment in the kernel; wraps around
    { ph + 16, 4, 0x7fffffff },       // file size > memory size
    { ph + 20, 4, 0xfffff000 },       // memory size wraps around
  };
  char *argv[] = { "echo", "bad", 0 };
  for (int k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
    memmove(copy, img, st.size);
    if (bad[k].size == 1)
      copy[bad[k].off] = bad[k].val;
    else if (bad[k].size == 2)
      *(ushort *)(copy + bad[k].off) = bad[k].val;
    else
      *(uint *)(copy + bad[k].off) = bad[k].val;
    fd = open("bad", O_CREATE | O_TRUNC | O_WRONLY);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, copy, st.size), st.size);
    close(fd);
    int r = exec("bad", argv);
    if (r != -1 || errno != ENOEXEC)
      test_fail("damage %d (offset %d): exec gave %d errno %d, want ENOEXEC",
                k, bad[k].off, r, errno);
  }
  // cut short: only the ELF header, then only part of it
  int cuts[] = { 52, 20, (int)ph + 16 };
  for (int k = 0; k < 3; k++) {
    fd = open("bad", O_CREATE | O_TRUNC | O_WRONLY);
    CHECK_EQ(write(fd, img, cuts[k]), cuts[k]);
    close(fd);
    CHECK_ERR(exec("bad", argv), ENOEXEC);
  }
  // the undamaged copy works
  fd = open("good", O_CREATE | O_TRUNC | O_WRONLY);
  CHECK_EQ(write(fd, img, st.size), st.size);
  close(fd);
  int pid = test_fork();
  if (pid == 0) {
    close(1);
    open("out", O_CREATE | O_WRONLY);
    char *args[] = { "good", "fine", 0 };
    exec("good", args);
    exit(99);
  }
  CHECK_EQ(test_wait(pid), 0);
  fd = open("out", O_RDONLY);
  CHECK_EQ(read(fd, buf, 100), 5);
  CHECK(memcmp(buf, "fine\n", 5) == 0);
  close(fd);
  free(img);
  free(copy);
}

// Killing a child that has already exited does not change its status.
static void
kill_zombie(void)
{
  int pid = test_fork();
  if (pid == 0)
    exit(7);
  sleep(5);                      // it has exited by now, unreaped
  int r = kill(pid);
  CHECK(r == 0 || errno == ESRCH);
  int st;
  CHECK_EQ(wait(&st), pid);
  CHECK_EQ(st, 7);
}

static struct test tests[] = {
  TEST(bad_fd), TEST(bad_pointers), TEST(open_errors), TEST(dirs), TEST(dup_shares_offset),
  TEST(lseek_all), TEST(fstat_fields), TEST(link_counts), TEST(symlinks), TEST(wait_status),
  TEST(killed_child), TEST(getpid_fork), TEST(sbrk_grow_shrink), TEST(exec_errors),
  TEST(sleep_uptime), TEST(pipe_basic), TEST(memstat_sane), TEST(kill_init),
  // added by helper D2
  TEST(bad_pointers_more), TEST(open_create_modes), TEST(lseek_more), TEST(fork_shares_offset),
  TEST(rw_counts), TEST(mknod_devices), TEST(exec_limits), TEST(errno_text), TEST(chdir_more),
  TEST(proc_more), TEST(sbrk_more), TEST(many_fds), TEST(exec_bad_elf), TEST(kill_zombie),
};

int
main(int argc, char **argv)
{
  return test_run("systest", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
