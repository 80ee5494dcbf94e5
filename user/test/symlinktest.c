// symlinktest: symbolic links. Following them (also in the middle of a
// path), relative targets, chains and cycles (ELOOP), dangling links,
// O_NOFOLLOW, readlink, unlink, `ln -s` and `ls`, and processes racing
// to create, follow and delete links on several CPUs.
//   symlinktest [NAME...]
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/param.h"
#include "kernel/fsstat.h"
#include "user/user.h"
#include "user/lib/testlib.h"

// The contents of path (at most max-1 bytes, NUL-terminated); -1 if it
// cannot be opened (errno set).
static int
slurp(const char *path, char *out, int max)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  int n = 0, r;
  while (n < max - 1 && (r = read(fd, out + n, max - 1 - n)) > 0)
    n += r;
  out[n] = 0;
  close(fd);
  return n;
}

// Fail unless path opens (following links) and holds exactly want.
static void
expect_contents(const char *path, const char *want)
{
  char got[128];
  if (slurp(path, got, sizeof(got)) < 0)
    test_fail("open %s: %s", path, strerror(errno));
  if (strcmp(got, want) != 0)
    test_fail("%s holds \"%s\", want \"%s\"", path, got, want);
}

// Fail unless readlink(path) gives exactly want.
static void
expect_link(const char *path, const char *want)
{
  char got[MAXPATH + 1];
  int n = readlink(path, got, MAXPATH);
  if (n < 0)
    test_fail("readlink %s: %s", path, strerror(errno));
  got[n] = 0;
  if (strcmp(got, want) != 0)
    test_fail("readlink %s = \"%s\", want \"%s\"", path, got, want);
}

static int
type_of(const char *path, int follow)
{
  struct stat st;
  if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
    test_fail("%s %s: %s", follow ? "stat" : "lstat", path, strerror(errno));
  return st.type;
}

// Does s contain sub?
static int
contains(const char *s, const char *sub)
{
  int n = strlen(sub);
  for (; *s; s++)
    if (strncmp(s, sub, n) == 0)
      return 1;
  return 0;
}

// A link to a file opens the file; its own type is T_SYMLINK.
static void
basic(void)
{
  test_write_file("f", "hello");
  CHECK(symlink("f", "l") == 0);
  expect_contents("l", "hello");
  CHECK_EQ(type_of("l", 1), T_FILE);
  CHECK_EQ(type_of("l", 0), T_SYMLINK);
  // Writing through the link changes the target.
  int fd = open("l", O_WRONLY | O_TRUNC);
  CHECK(fd >= 0);
  CHECK_EQ(write(fd, "bye", 3), 3);
  close(fd);
  expect_contents("f", "bye");
  // The name is taken; an empty target is refused.
  CHECK_ERR(symlink("other", "l"), EEXIST);
  CHECK_ERR(symlink("x", "f"), EEXIST);
  CHECK_ERR(symlink("", "e"), ENOENT);
  CHECK_ERR(symlink("f", "nodir/l"), ENOENT);
  // link() names the link itself, not its target.
  CHECK(link("l", "l2") == 0);
  CHECK_EQ(type_of("l2", 0), T_SYMLINK);
  expect_contents("l2", "bye");
  // An absolute target.
  CHECK(mkdir("/sl_abs") == 0);
  test_write_file("/sl_abs/file", "abs");
  CHECK(symlink("/sl_abs/file", "al") == 0);
  expect_contents("al", "abs");
  CHECK(unlink("/sl_abs/file") == 0 && unlink("/sl_abs") == 0);
}

// A relative target is resolved from the link's directory, not the cwd.
static void
relative(void)
{
  CHECK(mkdir("d") == 0);
  test_write_file("d/f", "in d");
  test_write_file("f", "in cwd");
  test_write_file("top", "top");
  CHECK(symlink("f", "d/l") == 0);
  expect_contents("d/l", "in d");
  CHECK(symlink("../top", "d/up") == 0);
  expect_contents("d/up", "top");
  CHECK(symlink("./d/../d/./f", "dots") == 0);
  expect_contents("dots", "in d");
  // From another cwd the same link still means d/f.
  CHECK(chdir("d") == 0);
  expect_contents("l", "in d");
  expect_contents("up", "top");
  CHECK(chdir("..") == 0);
}

// Links in the middle of a path: a/link/b, chdir and mkdir through
// them, ".." after a link, a file link used as a directory.
static void
through_dirs(void)
{
  CHECK(mkdir("a") == 0 && mkdir("a/real") == 0);
  test_write_file("a/real/b", "b!");
  test_write_file("a/x", "x!");
  CHECK(symlink("real", "a/link") == 0);
  CHECK_EQ(type_of("a/link", 1), T_DIR);
  expect_contents("a/link/b", "b!");
  expect_contents("a/link/../x", "x!");        // ".." of a/real is a
  CHECK(symlink("a/link", "ll") == 0);         // a link to a link to a dir
  expect_contents("ll/b", "b!");
  expect_contents("ll//b", "b!");
  CHECK(mkdir("a/link/new") == 0);
  CHECK_EQ(type_of("a/real/new", 0), T_DIR);
  test_write_file("ll/new/c", "c!");
  expect_contents("a/real/new/c", "c!");
  CHECK(chdir("ll/new") == 0);
  expect_contents("c", "c!");
  expect_contents("../b", "b!");
  CHECK(chdir("../../..") == 0);               // a/real -> a -> the test dir
  expect_contents("ll/b", "b!");
  // An absolute path through a link, from /.
  CHECK(mkdir("/sl_dir") == 0 && mkdir("/sl_dir/r") == 0);
  test_write_file("/sl_dir/r/b", "abs b");
  CHECK(symlink("r", "/sl_dir/link") == 0);
  expect_contents("/sl_dir/link/b", "abs b");
  CHECK(symlink("/sl_dir/link", "/sl_dir/abs") == 0);
  expect_contents("/sl_dir/abs/b", "abs b");
  // A link to a file cannot be a directory.
  CHECK(symlink("a/x", "fl") == 0);
  CHECK_ERR(open("fl/y", O_RDONLY), ENOTDIR);
  CHECK_ERR(open("fl/y", O_CREATE | O_WRONLY), ENOTDIR);
  // Tidy the shared directory in /.
  CHECK(unlink("/sl_dir/abs") == 0 && unlink("/sl_dir/link") == 0);
  CHECK(unlink("/sl_dir/r/b") == 0 && unlink("/sl_dir/r") == 0 && unlink("/sl_dir") == 0);
}

// Make links c1 -> c0, c2 -> c1, ... cN -> c(N-1); c0 is a file.
static void
make_chain(const char *prefix, int n)
{
  char from[16], to[16];
  snprintf(to, sizeof(to), "%s0", prefix);
  test_write_file(to, "end");
  for (int i = 1; i <= n; i++) {
    snprintf(from, sizeof(from), "%s%d", prefix, i - 1);
    snprintf(to, sizeof(to), "%s%d", prefix, i);
    CHECK(symlink(from, to) == 0);
  }
}

// Following 10 links is fine; the 11th is ELOOP, for open, for a final
// link and one in the middle of a path, and for chdir.
static void
chains(void)
{
  make_chain("c", 11);
  expect_contents("c10", "end");
  CHECK_ERR(open("c11", O_RDONLY), ELOOP);
  CHECK_ERR(open("c11", O_RDWR | O_CREATE), ELOOP);
  // O_NOFOLLOW opens the last link itself even at the end of a long chain.
  int fd = open("c11", O_RDONLY | O_NOFOLLOW);
  CHECK(fd >= 0);
  close(fd);
  // A chain of directory links, used in the middle of a path.
  CHECK(mkdir("d0") == 0);
  test_write_file("d0/f", "deep");
  char from[16], to[16];
  for (int i = 1; i <= 11; i++) {
    snprintf(from, sizeof(from), "d%d", i - 1);
    snprintf(to, sizeof(to), "d%d", i);
    CHECK(symlink(from, to) == 0);
  }
  expect_contents("d10/f", "deep");
  CHECK_ERR(open("d11/f", O_RDONLY), ELOOP);
  CHECK_ERR(chdir("d11"), ELOOP);
  CHECK(chdir("d10") == 0);
  expect_contents("f", "deep");
  CHECK(chdir("..") == 0);
  // Links spread over one path: d0/c -> ../c9 -> ... -> c0 is 10 links,
  // through d1 it is 11.
  CHECK(symlink("../c9", "d0/c") == 0);
  expect_contents("d0/c", "end");
  CHECK_ERR(open("d1/c", O_RDONLY), ELOOP);
}

// Cycles end with ELOOP, never a hang.
static void
cycles(void)
{
  CHECK(symlink("self", "self") == 0);
  CHECK_ERR(open("self", O_RDONLY), ELOOP);
  CHECK(symlink("y", "x") == 0);
  CHECK(symlink("x", "y") == 0);
  CHECK_ERR(open("x", O_RDONLY), ELOOP);
  CHECK_ERR(open("y", O_CREATE | O_RDWR), ELOOP);
  CHECK_ERR(open("x/z", O_RDONLY), ELOOP);
  CHECK_ERR(chdir("y"), ELOOP);
  CHECK_ERR(mkdir("x/sub"), ELOOP);
  CHECK(mkdir("loop") == 0);
  CHECK(symlink("../loop", "loop/back") == 0);  // a legal cycle through a dir
  CHECK(mkdir("loop/back/back/back/sub") == 0);
  CHECK_EQ(type_of("loop/sub", 0), T_DIR);
  expect_link("x", "y");
  CHECK(unlink("x") == 0 && unlink("y") == 0 && unlink("self") == 0);
}

// A link to nothing: ENOENT when followed; it still exists itself.
static void
dangling(void)
{
  CHECK(symlink("nowhere", "dl") == 0);
  CHECK_ERR(open("dl", O_RDONLY), ENOENT);
  CHECK_ERR(open("dl/x", O_RDONLY), ENOENT);
  CHECK_ERR(chdir("dl"), ENOENT);
  CHECK_EQ(type_of("dl", 0), T_SYMLINK);
  expect_link("dl", "nowhere");
  // Once the target appears, the link works.
  test_write_file("nowhere", "here");
  expect_contents("dl", "here");
  CHECK(unlink("nowhere") == 0);
  CHECK_ERR(open("dl", O_RDONLY), ENOENT);
  CHECK(unlink("dl") == 0);
  CHECK_ERR(readlink("dl", (char[8]){0}, 8), ENOENT);
}

// O_NOFOLLOW opens the link itself: fstat says T_SYMLINK, reading gives
// the target; it may not be opened for writing. Only the last component
// is affected.
static void
nofollow(void)
{
  test_write_file("f", "file");
  CHECK(symlink("f", "l") == 0);
  int fd = open("l", O_RDONLY | O_NOFOLLOW);
  CHECK(fd >= 0);
  struct stat st;
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.type, T_SYMLINK);
  CHECK_EQ(st.size, 1);
  char buf[8];
  CHECK_EQ(read(fd, buf, sizeof(buf)), 1);
  CHECK_EQ(buf[0], 'f');
  close(fd);
  CHECK_ERR(open("l", O_WRONLY | O_NOFOLLOW), ELOOP);
  CHECK_ERR(open("l", O_RDWR | O_TRUNC | O_NOFOLLOW), ELOOP);
  expect_link("l", "f");
  // A plain file opens as usual.
  fd = open("f", O_RDONLY | O_NOFOLLOW);
  CHECK(fd >= 0);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.type, T_FILE);
  close(fd);
  // Links earlier in the path are still followed.
  CHECK(mkdir("r") == 0);
  test_write_file("r/g", "g");
  CHECK(symlink("r", "rl") == 0);
  fd = open("rl/g", O_RDONLY | O_NOFOLLOW);
  CHECK(fd >= 0);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.type, T_FILE);
  close(fd);
}

// readlink: the target without a NUL; truncated to the buffer; errors.
static void
readlink_calls(void)
{
  test_write_file("f", "f");
  CHECK(symlink("some/where/else", "l") == 0);
  char buf[32];
  memset(buf, 'Z', sizeof(buf));
  CHECK_EQ(readlink("l", buf, sizeof(buf)), 15);
  CHECK(memcmp(buf, "some/where/else", 15) == 0);
  CHECK_EQ(buf[15], 'Z');
  CHECK_EQ(readlink("l", buf, 4), 4);
  CHECK(memcmp(buf, "some", 4) == 0);
  CHECK_ERR(readlink("l", buf, 0), EINVAL);
  CHECK_ERR(readlink("f", buf, sizeof(buf)), EINVAL);
  CHECK_ERR(readlink(".", buf, sizeof(buf)), EINVAL);
  CHECK_ERR(readlink("missing", buf, sizeof(buf)), ENOENT);
  CHECK_ERR(readlink("l", (char *)0, 10), EFAULT);
  // The longest target that fits in a path.
  char longt[MAXPATH];
  memset(longt, 'q', MAXPATH - 1);
  longt[MAXPATH - 1] = 0;
  CHECK(symlink(longt, "long") == 0);
  expect_link("long", longt);
  // Through a directory link: the last component is read, not followed.
  CHECK(mkdir("d") == 0);
  CHECK(symlink("../f", "d/up") == 0);
  CHECK(symlink("d", "dl") == 0);
  expect_link("dl/up", "../f");
  expect_link("dl", "d");
}

// unlink removes the link, not its target; removing the target leaves
// the link dangling.
static void
unlink_link_vs_target(void)
{
  test_write_file("t", "target");
  CHECK(symlink("t", "l") == 0);
  struct fsstat s0;
  CHECK(fsstat(&s0) == 0);
  CHECK(unlink("l") == 0);
  expect_contents("t", "target");
  CHECK_ERR(readlink("l", (char[8]){0}, 8), ENOENT);
  struct fsstat s1;
  CHECK(fsstat(&s1) == 0);
  CHECK_EQ(s1.free_inodes, s0.free_inodes + 1);
  CHECK_EQ(s1.free_blocks, s0.free_blocks + 1);   // the block holding "t"
  CHECK(symlink("t", "l") == 0);
  CHECK(unlink("t") == 0);
  CHECK_ERR(open("l", O_RDONLY), ENOENT);
  CHECK_EQ(type_of("l", 0), T_SYMLINK);
  test_write_file("t", "again");
  expect_contents("l", "again");
  // A directory behind a link: unlinking the link leaves the directory.
  CHECK(mkdir("d") == 0);
  CHECK(symlink("d", "dl") == 0);
  CHECK(unlink("dl") == 0);
  CHECK_EQ(type_of("d", 0), T_DIR);
  CHECK(unlink("d") == 0);
}

// `ln -s` makes a link; `ls` shows "name -> target"; cat follows it.
static void
ln_and_ls(void)
{
  char out[512];
  test_write_file("target", "via sh\n");
  int st = test_sh("ln -s target lnk", out, sizeof(out), 1);
  if (st != 0)
    test_fail("ln -s exited %d: %s", st, out);
  CHECK_EQ(type_of("lnk", 0), T_SYMLINK);
  expect_link("lnk", "target");
  test_expect("cat lnk", "via sh\n", 0);
  st = test_sh("ls lnk", out, sizeof(out), 1);
  if (st != 0 || !contains(out, "lnk -> target"))
    test_fail("`ls lnk` printed \"%s\" (status %d)", out, st);
  st = test_sh("ls .", out, sizeof(out), 1);
  if (st != 0 || !contains(out, "lnk -> target") || !contains(out, "target "))
    test_fail("`ls .` printed \"%s\" (status %d)", out, st);
  st = test_sh("ln -s /no/such dang; ls dang", out, sizeof(out), 1);
  if (st != 0 || !contains(out, "dang -> /no/such"))
    test_fail("ls of a dangling link printed \"%s\" (status %d)", out, st);
  st = test_sh("ln -s target lnk", out, sizeof(out), 1);
  if (st == 0)
    test_fail("ln -s over an existing name succeeded");
}

// ---- several processes on several CPUs ------------------------------------

#define NTARGET 4
#define NLINKS 8
#define NWORKER 4
#define ROUNDS 600

// What link i points at: links 0..3 at files, 4..7 at links 0..3.
static void
link_target(int i, char *buf)
{
  if (i < NTARGET)
    snprintf(buf, 16, "/sl_c/t%d", i);
  else
    snprintf(buf, 16, "l%d", i - NTARGET);
}

static uint rnd_state;

static uint
rnd(void)
{
  rnd_state = rnd_state * 1103515245 + 12345;
  return (rnd_state >> 16) & 0x7FFF;
}

// One worker: random creates, follows, readlinks and deletes of the
// shared links. Any result other than the few legal ones fails the test.
// Exits 0, or 2 if it never managed to create, follow and delete a link.
static void
worker(int k)
{
  char name[16], target[16], want[16], got[64];
  int made = 0, followed = 0, removed = 0;
  rnd_state = 7919 * (k + 1);
  for (int r = 0; r < ROUNDS; r++) {
    int i = rnd() % NLINKS;
    snprintf(name, sizeof(name), "/sl_c/l%d", i);
    link_target(i, target);
    snprintf(want, sizeof(want), "target %d\n", i % NTARGET);
    switch (rnd() % 4) {
    case 0:
      if (symlink(target, name) == 0)
        made++;
      else if (errno != EEXIST)
        test_fail("worker %d: symlink %s: %s", k, name, strerror(errno));
      break;
    case 1:
      if (unlink(name) == 0)
        removed++;
      else if (errno != ENOENT)
        test_fail("worker %d: unlink %s: %s", k, name, strerror(errno));
      break;
    case 2:
      if (slurp(name, got, sizeof(got)) < 0) {
        if (errno != ENOENT)
          test_fail("worker %d: open %s: %s", k, name, strerror(errno));
      } else if (strcmp(got, want) != 0) {
        test_fail("worker %d: %s reads \"%s\", want \"%s\"", k, name, got, want);
      } else {
        followed++;
      }
      break;
    case 3: {
      int n = readlink(name, got, sizeof(got) - 1);
      if (n < 0 && errno != ENOENT)
        test_fail("worker %d: readlink %s: %s", k, name, strerror(errno));
      if (n >= 0) {
        got[n] = 0;
        if (strcmp(got, target) != 0)
          test_fail("worker %d: readlink %s = \"%s\", want \"%s\"", k, name, got, target);
      }
      break;
    }
    }
  }
  exit(made && followed && removed ? 0 : 2);
}

// NWORKER processes create, follow, readlink and delete the same links
// at once; afterwards every link is either absent or correct, and the
// in-memory inodes and disk inodes return to where they were.
static void
concurrent(void)
{
  char name[16], target[16];
  CHECK(mkdir("/sl_c") == 0);
  for (int i = 0; i < NTARGET; i++) {
    char path[16], data[16];
    snprintf(path, sizeof(path), "/sl_c/t%d", i);
    snprintf(data, sizeof(data), "target %d\n", i);
    test_write_file(path, data);
  }
  struct fsstat s0;
  CHECK(fsstat(&s0) == 0);
  int pids[NWORKER];
  for (int k = 0; k < NWORKER; k++)
    if ((pids[k] = test_fork()) == 0)
      worker(k);
  for (int k = 0; k < NWORKER; k++)
    CHECK_EQ(test_wait(pids[k]), 0);
  for (int i = 0; i < NLINKS; i++) {
    snprintf(name, sizeof(name), "/sl_c/l%d", i);
    struct stat st;
    if (lstat(name, &st) < 0) {
      CHECK_EQ(errno, ENOENT);
      continue;
    }
    CHECK_EQ(st.type, T_SYMLINK);
    link_target(i, target);
    expect_link(name, target);
    CHECK(unlink(name) == 0);
  }
  struct fsstat s1;
  CHECK(fsstat(&s1) == 0);
  CHECK_EQ(s1.free_inodes, s0.free_inodes);
  CHECK_EQ(s1.mem_inodes, s0.mem_inodes);
  for (int i = 0; i < NTARGET; i++) {
    snprintf(name, sizeof(name), "/sl_c/t%d", i);
    CHECK(unlink(name) == 0);
  }
  CHECK(unlink("/sl_c") == 0);
}

static struct test tests[] = {
  TEST(basic),
  TEST(relative),
  TEST(through_dirs),
  TEST(chains),
  TEST(cycles),
  TEST(dangling),
  TEST(nofollow),
  TEST(readlink_calls),
  TEST(unlink_link_vs_target),
  TEST(ln_and_ls),
  TEST(concurrent),
};

int
main(int argc, char **argv)
{
  test_set_timeout(6000);
  return test_run("symlink", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
