// faultinj: allocation failure at every point of the common system calls.
//   faultinj [NAME...]        (run by tests/host/test_faultinj.py, which
//                              then checks the disk with fsck)
//   faultinj --hit            (internal: the program exec'd by the exec case)
// For each call in the table, and N = 1, 2, ...: a child sets the call up,
// arms failnth(N) (the Nth kernel allocation of its next system call
// fails), makes the call and asks failnth(0) whether the failure was met.
// The call must succeed, or fail with ENOMEM having met it; or the child
// may be killed (status -1). Free pages must be back exactly when the
// child is gone. The sweep ends at the first N the call completes without
// meeting the failure, which must come before MAXN.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/mman.h"
#include "kernel/tracectl.h"
#include "kernel/errno.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define MAXN 400
#define ST_DONE 0          // the call did not meet the injected failure
#define ST_HIT 10          // it met it and behaved
#define ST_BAD 20          // it failed wrongly (the child printed why)

static char buf[40 * 1024];
static int fd0, fds[2];
static char *mem;

struct fcase {
  const char *name;
  void (*setup)(void);     // in the child, before arming
  int (*call)(void);       // the system call under test: >= 0 or -1 with errno
  void (*after)(int r);    // in the child, after the verdict (may be 0)
};

static void
mkfile(const char *path, int n)
{
  int fd = open(path, O_CREATE | O_RDWR | O_TRUNC);
  if (fd < 0 || write(fd, buf, n) != n)
    test_fail("setup %s: %s", path, strerror(errno));
  close(fd);
}

static void s_none(void) {}
static void s_file(void) { mkfile("f", 3000); }
static void s_open(void) { s_file(); fd0 = open("f", O_RDWR); }
static void s_dir(void) { if (mkdir("d") < 0) test_fail("mkdir d"); }
static void s_anon(void)
{
  mem = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    test_fail("setup mmap: %s", strerror(errno));
  memset(mem, 1, 3 * 4096);
}
static void s_shared(void)
{
  s_open();
  mem = mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd0, 0);
  if (mem == MAP_FAILED)
    test_fail("setup mmap: %s", strerror(errno));
  memset(mem, 2, 3000);
}
static void s_lazy(void)
{
  s_open();
  mem = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    test_fail("setup mmap: %s", strerror(errno));
}
static void s_brk(void)
{
  char *p = sbrk(8192);
  if (p == (char *)-1)
    test_fail("setup sbrk");
  memset(p, 3, 8192);
}

static int c_getpid(void) { return getpid(); }
static int c_create(void) { return open("f", O_CREATE | O_RDWR); }
static int c_open(void) { return open("f", O_RDONLY); }
static int c_trunc(void) { return open("f", O_RDWR | O_TRUNC); }
static int c_write(void) { return write(fd0, buf, 3000); }
static int c_write_big(void) { return write(fd0, buf, sizeof(buf)); }
static int c_read(void) { return read(fd0, buf, 3000); }
static int c_read_lazy(void) { return read(fd0, mem + 4096, 3000); }
static int c_unlink(void) { return unlink("f"); }
static int c_link(void) { return link("f", "g"); }
static int c_symlink(void) { return symlink("f", "s"); }
static int c_follow(void) { return open("s", O_RDONLY); }
static int c_readlink(void) { return readlink("s", buf, 100); }
static int c_mkdir(void) { return mkdir("d"); }
static int c_rmdir(void) { return unlink("d"); }
static int c_chdir(void) { return chdir("d"); }
static int c_pipe(void) { return pipe(fds); }
static int c_dup(void) { return dup(fd0); }
static int c_fork(void)
{
  int pid = fork();
  if (pid == 0)
    exit(0);
  return pid;
}
static void a_fork(int r) { if (r > 0) wait(0); }
static int c_exec(void)
{
  char *argv[] = { "faultinj", "--hit", 0 };
  return exec("/faultinj", argv);
}
static int c_sbrk_grow(void) { return sbrk(3 * 4096) == (char *)-1 ? -1 : 0; }
static int c_sbrk_shrink(void) { return sbrk(-8192) == (char *)-1 ? -1 : 0; }
static int
mmap_result(void *p)
{
  return p == MAP_FAILED ? -1 : 0;
}
static int c_mmap_anon(void)
{
  return mmap_result(mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
}
static int c_mmap_anon_pop(void)
{
  return mmap_result(mmap(0, 4 * 4096, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0));
}
static int c_mmap_file_priv(void)
{
  return mmap_result(mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd0, 0));
}
static int c_mmap_file_shared(void)
{
  return mmap_result(mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd0, 0));
}
static int c_mmap_file_pop(void)
{
  return mmap_result(mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd0, 0));
}
static int c_munmap(void) { return munmap(mem, 3 * 4096); }
static int c_munmap_middle(void) { return munmap(mem + 4096, 4096); }
static int c_mprotect_middle(void) { return mprotect(mem + 4096, 4096, PROT_READ); }
static int c_msync(void) { return msync(mem, 2 * 4096, MS_SYNC); }
static int c_trace_size(void) { return trace(TRACE_SIZE, 512, 0); }
static int c_mmap_fixed_middle(void)
{
  return mmap_result(mmap(mem + 4096, 4096, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS,
                          -1, 0));
}
static int c_mknod(void) { return mknod("f", 1, 0); }
static void s_mappings(void)
{
  s_shared();                   // a dirty shared file mapping, then
  char *file = mem;
  s_anon();                     // a touched private one, and a heap
  s_brk();
  mem = file;
}

static struct fcase cases[] = {
  { "getpid", s_none, c_getpid, 0 },     // allocates nothing: ends at once
  { "create", s_none, c_create, 0 },
  { "open", s_file, c_open, 0 },
  { "open_trunc", s_file, c_trunc, 0 },
  { "write", s_open, c_write, 0 },
  { "write_big", s_open, c_write_big, 0 },
  { "read", s_open, c_read, 0 },
  { "read_into_lazy", s_lazy, c_read_lazy, 0 },
  { "unlink", s_file, c_unlink, 0 },
  { "link", s_file, c_link, 0 },
  { "symlink", s_none, c_symlink, 0 },
  { "mkdir", s_none, c_mkdir, 0 },
  { "rmdir", s_dir, c_rmdir, 0 },
  { "chdir", s_dir, c_chdir, 0 },
  { "pipe", s_none, c_pipe, 0 },
  { "dup", s_open, c_dup, 0 },
  { "fork", s_none, c_fork, a_fork },
  { "exec", s_none, c_exec, 0 },
  { "sbrk_grow", s_none, c_sbrk_grow, 0 },
  { "sbrk_shrink", s_brk, c_sbrk_shrink, 0 },
  { "mmap_anon", s_none, c_mmap_anon, 0 },
  { "mmap_anon_populate", s_none, c_mmap_anon_pop, 0 },
  { "mmap_file_private", s_open, c_mmap_file_priv, 0 },
  { "mmap_file_shared", s_open, c_mmap_file_shared, 0 },
  { "mmap_file_populate", s_open, c_mmap_file_pop, 0 },
  { "munmap", s_anon, c_munmap, 0 },
  { "munmap_middle", s_anon, c_munmap_middle, 0 },
  { "mprotect_middle", s_anon, c_mprotect_middle, 0 },
  { "msync", s_shared, c_msync, 0 },
  { "trace_size", s_none, c_trace_size, 0 },
  { "mmap_fixed_middle", s_anon, c_mmap_fixed_middle, 0 },
  { "mknod", s_none, c_mknod, 0 },
  { "fork_with_mappings", s_mappings, c_fork, a_fork },
};
#define NCASES (int)(sizeof(cases) / sizeof(cases[0]))

// The symlink cases need a link to follow.
static void s_link(void) { s_file(); if (symlink("f", "s") < 0) test_fail("setup symlink"); }
static struct fcase more[] = {
  { "follow_symlink", s_link, c_follow, 0 },
  { "readlink", s_link, c_readlink, 0 },
};

// The verdict on one call: exit status for the parent.
static int
verdict(const char *name, int n, int r, int err, int hit)
{
  if (r >= 0)
    return hit ? ST_HIT : ST_DONE;
  if (hit && err == ENOMEM)
    return ST_HIT;
  printf("faultinj: %s, N=%d: failed with errno %d (%s), injected failure %s\n",
         name, n, err, strerror(err), hit ? "met" : "not met");
  return ST_BAD;
}

// Remove what a case may have left in the working directory.
static void
tidy(void)
{
  unlink("f");
  unlink("g");
  unlink("s");
  unlink("d");
}

// One attempt of c with N = n in a child. Returns the child's status
// (ST_* or -1 if killed); fails the test if free pages do not come back.
static int warm;               // 0 until a first attempt has run

static int
attempt(struct fcase *c, int n)
{
  int before, after, st, pid;

  trace(TRACE_SIZE, 512, 0);    // the trace case frees and remakes these
  before = test_freepages();
  pid = test_fork();
  if (pid == 0) {
    c->setup();
    failnth(n);
    int r = c->call();
    int err = errno;
    int hit = failnth(0);
    st = verdict(c->name, n, r, err, hit);
    if (c->after)
      c->after(r);
    exit(st);
  }
  st = test_wait(pid);
  tidy();
  trace(TRACE_SIZE, 512, 0);
  after = test_freepages();
  // (The first attempt grows this process's own stack and heap.)
  if (after != before && warm++ > 0)
    test_fail("%s, N=%d (status %d): %d free pages before, %d after", c->name, n, st,
              before, after);
  return st;
}

// Sweep N over case c until it completes without meeting the failure.
static void
sweep(struct fcase *c)
{
  int n, st, hits = 0, kills = 0;

  for (n = 1; n < MAXN; n++) {
    st = attempt(c, n);
    if (st == ST_DONE)
      break;
    if (st == -1)
      kills++;
    else if (st == ST_HIT)
      hits++;
    else
      test_fail("%s, N=%d: status %d (see the line above)", c->name, n, st);
  }
  if (n == MAXN)
    test_fail("%s: still meeting the failure at N=%d", c->name, MAXN);
  printf("faultinj: %s: %d allocation points, %d handled, %d killed\n", c->name, n - 1,
         hits, kills);
}

static void
all_cases(void)
{
  int i;
  for (i = 0; i < NCASES; i++)
    sweep(&cases[i]);
  for (i = 0; i < (int)(sizeof(more) / sizeof(more[0])); i++)
    sweep(&more[i]);
}

// The mechanism itself: armed, the first allocation of the next call
// fails and is reported; unarmed, nothing fails; the arming lasts one call.
static void
mechanism(void)
{
  int fds2[2];
  CHECK_EQ(failnth(0), 0);
  CHECK_ERR(failnth(-1), EINVAL);
  CHECK_EQ(failnth(1), 0);
  CHECK_ERR(pipe(fds2), ENOMEM);
  CHECK_EQ(failnth(0), 1);
  CHECK_EQ(failnth(0), 0);          // the previous call (failnth) met nothing
  CHECK_EQ(failnth(1), 0);
  CHECK_EQ(getpid() > 0, 1);        // allocates nothing: the arming is spent
  CHECK_EQ(failnth(0), 0);
  CHECK_EQ(pipe(fds2), 0);
  close(fds2[0]);
  close(fds2[1]);
}

static struct test tests[] = {
  TEST(mechanism),
  TEST(all_cases),
};

int
main(int argc, char **argv)
{
  if (argc == 2 && strcmp(argv[1], "--hit") == 0)
    exit(failnth(0) ? ST_HIT : ST_DONE);   // exec'd by the exec case: it succeeded
  for (int i = 0; i < (int)sizeof(buf); i++)
    buf[i] = 'a' + i % 26;
  // The trace case leaves trace buffers of this size behind: make them
  // before the framework counts free pages.
  trace(TRACE_SIZE, 512, 0);
  test_set_timeout(60000);
  return test_run("faultinj", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
