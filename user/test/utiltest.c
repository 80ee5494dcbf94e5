// utiltest: the user programs and the shell, driven through `sh -c` with
// their output captured and compared exactly.
//   utiltest [NAME...]   run all tests, or only the named ones
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"
#include "user/lib/testlib.h"

static char out[8192];

// Output must contain text.
static void
expect_contains(const char *cmd, const char *text, int st)
{
  int s = test_sh(cmd, out, sizeof(out), 1);
  int n = strlen(text), found = 0;
  for (char *p = out; *p && !found; p++)
    found = strncmp(p, text, n) == 0;
  if (!found)
    test_fail("`%s` printed \"%s\", which lacks \"%s\"", cmd, out, text);
  if (s != st)
    test_fail("`%s` exited %d, want %d", cmd, s, st);
}

// ---- sleep ----

static void
sleep_usage(void)
{
  test_expect("sleep", "", 1);
  test_expect("sleep abc", "", 1);
  test_expect("sleep -5", "", 1);
  test_expect("sleep 3x", "", 1);
  expect_contains("sleep", "usage", 1);
  test_expect("sleep 0", "", 0);
}

static void
sleep_ticks(void)
{
  int t0 = uptime();
  test_expect("sleep 10", "", 0);
  int t1 = uptime();
  if (t1 - t0 < 10)
    test_fail("sleep 10 took %d ticks", t1 - t0);
}

// ---- find ----

// ft/a/b/c with files; directory order is creation order.
static void
make_tree(void)
{
  CHECK(mkdir("ft") == 0);
  CHECK(mkdir("ft/a") == 0);
  test_write_file("ft/b", "hello top\n");
  test_write_file("ft/a/x.txt", "nothing\n");
  CHECK(mkdir("ft/a/b") == 0);
  test_write_file("ft/a/b/hello.c", "int hello;\n");
  CHECK(mkdir("ft/a/b/c") == 0);
  test_write_file("ft/a/b/c/b", "deep hello\n");
  test_write_file("ft/a/b/c/note.c", "no greeting\n");
}

static void
find_name(void)
{
  make_tree();
  test_expect("find ft b", "ft/a/b\nft/a/b/c/b\nft/b\n", 0);
  test_expect("cd ft; find . b", "./a/b\n./a/b/c/b\n./b\n", 0);
  test_expect("find ft/ c", "ft/a/b/c\n", 0);
  test_expect("find ft nomatch", "", 0);
  test_expect("find ft",
              "ft/a\nft/a/x.txt\nft/a/b\nft/a/b/hello.c\nft/a/b/c\n"
              "ft/a/b/c/b\nft/a/b/c/note.c\nft/b\n", 0);
}

static void
find_glob(void)
{
  make_tree();
  test_expect("find ft '*.c'", "ft/a/b/hello.c\nft/a/b/c/note.c\n", 0);
  test_expect("find ft 'x.?\?""?'", "ft/a/x.txt\n", 0);
  test_expect("find ft 'x.?""?'", "", 0);
  test_expect("find ft '*o*'", "ft/a/b/hello.c\nft/a/b/c/note.c\n", 0);
  test_expect("find ft '?'", "ft/a\nft/a/b\nft/a/b/c\nft/a/b/c/b\nft/b\n", 0);
}

static void
find_type(void)
{
  make_tree();
  test_expect("find ft b -type f", "ft/a/b/c/b\nft/b\n", 0);
  test_expect("find ft b -type d", "ft/a/b\n", 0);
  test_expect("find ft -type d", "ft/a\nft/a/b\nft/a/b/c\n", 0);
  test_expect("find ft -type x", "", 1);
}

static void
find_errors(void)
{
  test_expect("find nonexistent b", "", 1);
  expect_contains("find nonexistent b", "find: nonexistent: no such file", 1);
  test_expect("find", "", 1);
  // a symlink to a directory is listed but not followed
  make_tree();
  CHECK(symlink("a", "ft/link") == 0);
  test_expect("find ft b -type f", "ft/a/b/c/b\nft/b\n", 0);
  test_expect("find ft link", "ft/link\n", 0);
}

// A chain of directories whose full path is far longer than MAXPATH.
static void
find_deep(void)
{
  static char want[4096];
  CHECK(mkdir("fd") == 0);
  CHECK(chdir("fd") == 0);
  strcpy(want, "fd");
  for (int i = 0; i < 40; i++) {
    char name[16];
    snprintf(name, sizeof(name), "level%05d", i);
    CHECK(mkdir(name) == 0);
    CHECK(chdir(name) == 0);
    strcat(want, "/");
    strcat(want, name);
  }
  test_write_file("target", "x");
  strcat(want, "/target\n");
  for (int i = 0; i < 41; i++)
    CHECK(chdir("..") == 0);
  test_expect("find fd target", want, 0);
}

// ---- xargs ----

static void
xargs_basic(void)
{
  test_expect("echo hello too | xargs echo bye", "bye hello too\n", 0);
  test_write_file("xl", "one\ntwo  three\n\nfour\n");
  test_expect("xargs echo x < xl", "x one\nx two three\nx four\n", 0);
  test_expect("cat xl | xargs echo", "one\ntwo three\nfour\n", 0);
}

static void
xargs_n(void)
{
  test_expect("echo 1 2 3 4 5 | xargs -n 2 echo", "1 2\n3 4\n5\n", 0);
  test_write_file("xn", "a b\nc\nd e f\n");
  test_expect("xargs -n 1 echo - < xn", "- a\n- b\n- c\n- d\n- e\n- f\n", 0);
  test_expect("xargs -n 4 echo < xn", "a b c d\ne f\n", 0);
  test_expect("echo a | xargs -n 0 echo", "", 1);
}

static void
xargs_failing(void)
{
  test_write_file("xf1", "hello one\n");
  test_write_file("xf2", "nothing\n");
  test_write_file("xf3", "hello three\n");
  test_write_file("xlist", "xf2\nxf1\nxf3\n");
  test_expect("xargs grep hello < xlist", "hello one\nhello three\n", 1);
  test_expect("xargs -n 1 grep hello xf1 < xlist",
              "xf1:hello one\nxf1:hello one\nxf1:hello one\nxf1:hello one\nxf3:hello three\n",
              0);
  test_expect("echo xf1 | xargs grep hello", "hello one\n", 0);
  test_expect("echo x | xargs nosuchprogram; echo $", "$\n", 0);
  test_expect("echo x | xargs nosuchprogram", "", 1);
}

static void
find_xargs_grep(void)
{
  make_tree();
  test_expect("cd ft; find . b | xargs grep hello", "deep hello\nhello top\n", 1);
  test_expect("cd ft; find . b -type f | xargs grep hello", "deep hello\nhello top\n", 0);
  test_expect("find ft '*.c' | xargs -n 5 grep hello",
              "ft/a/b/hello.c:int hello;\n", 0);
}

// ---- simple programs ----

static void
echo_out(void)
{
  test_expect("echo", "\n", 0);
  test_expect("echo a  b   c", "a b c\n", 0);
  test_expect("echo 'a  b' \"c|d\" e\\;f", "a  b c|d e;f\n", 0);
}

static void
cat_out(void)
{
  test_write_file("c1", "first\n");
  test_write_file("c2", "second\nmore");
  test_expect("cat c1", "first\n", 0);
  test_expect("cat c1 c2", "first\nsecond\nmore", 0);
  test_expect("cat < c1", "first\n", 0);
  test_expect("cat c1 nonexistent c1", "first\nfirst\n", 1);
  expect_contains("cat nonexistent", "cat: nonexistent: no such file or directory", 1);
}

static void
wc_out(void)
{
  test_write_file("w1", "one two\nthree\n  four  five six\n");
  test_expect("wc w1", "3 6 31 w1\n", 0);
  test_expect("wc < w1", "3 6 31\n", 0);
  test_expect("echo | wc", "1 0 1\n", 0);
  test_expect("wc nonexistent", "", 1);
}

static void
grep_patterns(void)
{
  test_write_file("g1", "apple\nbanana\ncherry pie\naab\nab\nb\nend$\n");
  test_expect("grep an g1", "banana\n", 0);
  test_expect("grep ^a g1", "apple\naab\nab\n", 0);
  test_expect("grep e$ g1", "apple\ncherry pie\n", 0);
  test_expect("grep ^b$ g1", "b\n", 0);
  test_expect("grep 'p.e' g1", "apple\ncherry pie\n", 0);
  test_expect("grep '^a*ab$' g1", "aab\nab\n", 0);
  test_expect("grep '^.*r.*p' g1", "cherry pie\n", 0);
  test_expect("grep 'd\\$' g1", "end$\n", 0);
  test_expect("grep zzz g1", "", 1);
  test_expect("grep x nonexistent", "", 2);
  test_expect("cat g1 | grep ^ch", "cherry pie\n", 0);
}

static void
mkdir_rm_ln(void)
{
  test_expect("mkdir m1 m1/sub && echo made", "made\n", 0);
  test_expect("echo x > m1/sub/f; cat m1/sub/f", "x\n", 0);
  test_expect("mkdir m1", "", 1);
  test_expect("rm m1/sub", "", 1);                   // not empty
  test_expect("rm m1/sub/f m1/sub; ls m1/sub", "", 1);
  test_expect("echo data > lf; ln lf lf2; cat lf2; rm lf; cat lf2", "data\ndata\n", 0);
  test_expect("ln -s lf2 ls1; cat ls1", "data\n", 0);
  test_expect("ln nonexistent x", "", 1);
  test_expect("ln", "", 1);
}

// ls prints "name type ino size" and "name -> target type ino size".
static void
ls_out(void)
{
  static char want[1024];
  struct stat dot, dotdot, f, d, l;
  CHECK(mkdir("lt") == 0);
  test_write_file("lt/f", "abc");
  CHECK(mkdir("lt/d") == 0);
  CHECK(symlink("f", "lt/l") == 0);
  CHECK(stat("lt", &dot) == 0);
  CHECK(stat(".", &dotdot) == 0);
  CHECK(stat("lt/f", &f) == 0);
  CHECK(stat("lt/d", &d) == 0);
  CHECK(lstat("lt/l", &l) == 0);
  CHECK(l.type == T_SYMLINK);
  snprintf(want, sizeof(want),
           ".              %d %d %d\n..             %d %d %d\nf              %d %d 3\n"
           "d              %d %d %d\nl -> f %d %d 1\n",
           T_DIR, dot.ino, dot.size, T_DIR, dotdot.ino, dotdot.size, T_FILE, f.ino,
           T_DIR, d.ino, d.size, T_SYMLINK, l.ino);
  test_expect("ls lt", want, 0);
  snprintf(want, sizeof(want), "lt/f           %d %d 3\n", T_FILE, f.ino);
  test_expect("ls lt/f", want, 0);
  test_expect("ls nonexistent", "", 1);
}

static void
kill_prog(void)
{
  test_expect("kill", "", 1);
  test_expect("kill 99999", "", 1);
  int pid = test_fork();
  if (pid == 0) {
    for (;;)
      sleep(100);
  }
  char cmd[32];
  snprintf(cmd, sizeof(cmd), "kill %d", pid);
  test_expect(cmd, "", 0);
  CHECK_EQ(test_wait(pid), -1);
}

static void
free_prog(void)
{
  expect_contains("free", "free", 0);
  expect_contains("free", "kmalloc", 0);
}

// ---- sh ----

static void
sh_pipes(void)
{
  test_expect("echo hi | cat | cat | cat", "hi\n", 0);
  test_expect("echo a b c | wc", "1 3 6\n", 0);
  test_expect("echo abc | grep zzz", "", 1);
  test_expect("echo abc | grep zzz | cat", "", 0);
}

static void
sh_redirect(void)
{
  test_expect("echo one > r1; echo two >> r1; cat < r1", "one\ntwo\n", 0);
  test_expect("echo three > r1; cat r1", "three\n", 0);
  test_expect("cat < r1 > r2; cat r2", "three\n", 0);
  test_expect("cat nonexistent 2> r3; cat r3",
              "cat: nonexistent: no such file or directory\n", 0);
  test_expect("cat nonexistent 2>&1", "cat: nonexistent: no such file or directory\n", 1);
  test_expect("> r4; cat r4", "", 0);
  test_expect("cat < nonexistent", "", 1);
  test_expect("echo x >", "", 2);
}

static void
sh_lists(void)
{
  test_expect("echo a; echo b;echo c;", "a\nb\nc\n", 0);
  test_expect("(echo a; echo b) | wc", "2 2 4\n", 0);
  test_expect("(echo x; (echo y)) > p1; cat p1", "x\ny\n", 0);
  test_expect("(cd /; exit 4); echo $?", "4\n", 0);
  test_expect("(exit 4)", "", 4);
  test_expect("echo a > bg1 & wait; cat bg1", "a\n", 0);
  test_expect("(echo a; echo b", "", 2);
  test_expect("echo a )", "", 2);
  test_expect("; echo a", "", 2);
  test_expect("echo a | ; echo b", "", 2);
}

static void
sh_background(void)
{
  int t0 = uptime();
  test_expect("sleep 30 > out & echo now", "now\n", 0);
  int t1 = uptime();
  // the background sleep is an orphan now; wait until it must be over
  test_expect("sleep 40 & wait; echo done", "done\n", 0);
  int t2 = uptime();
  if (t1 - t0 >= 30)
    test_fail("`sleep 30 &` was not in the background (%d ticks)", t1 - t0);
  if (t2 - t1 < 40)
    test_fail("`sleep 40 & wait` took %d ticks", t2 - t1);
}

static void
sh_status(void)
{
  test_write_file("s1", "abc\n");
  test_expect("exit 3", "", 3);
  test_expect("grep zzz s1", "", 1);
  test_expect("grep zzz s1; echo ok", "ok\n", 0);
  test_expect("echo ok; grep zzz s1", "ok\n", 1);
  test_expect("", "", 0);
  test_expect("# only a comment", "", 0);
  test_expect("echo a # comment", "a\n", 0);
  test_expect("nosuchcmd", "", 127);
  expect_contains("nosuchcmd", "sh: nosuchcmd: not found", 127);
  test_expect("sh -c 'exit 5'", "", 5);
}

static void
sh_script(void)
{
  test_write_file("script", "echo one\n\n# comment\ncd /\necho two | cat\nexit 6\necho never\n");
  test_expect("sh script", "one\ntwo\n", 6);
  test_expect("sh nonexistent", "", 127);
  // commands from a pipe or a file on stdin: no prompt (stderr included here)
  test_write_file("script3", "echo from stdin\nexit 4\n");
  int st = test_sh("sh < script3", out, sizeof(out), 1);
  if (strcmp(out, "from stdin\n") != 0 || st != 4)
    test_fail("`sh < script3` printed \"%s\" status %d", out, st);
  st = test_sh("echo echo piped | sh", out, sizeof(out), 1);
  if (strcmp(out, "piped\n") != 0 || st != 0)
    test_fail("`echo echo piped | sh` printed \"%s\" status %d", out, st);
  test_write_file("script2", "echo last line without newline");
  test_expect("sh script2", "last line without newline\n", 0);
}

static void
sh_cd(void)
{
  test_expect("mkdir cdt; cd cdt; echo x > f; cat f; cd ..; cat cdt/f", "x\nx\n", 0);
  test_expect("cd nonexistent", "", 1);
  test_expect("cd cdt/f", "", 1);
}

// ---- more xargs, find and sleep ----

// A file with one line of words 1..n.
static void
write_words(const char *path, int n)
{
  static char line[8192];
  line[0] = 0;
  for (int i = 1; i <= n; i++)
    snprintf(line + strlen(line), sizeof(line) - strlen(line), i < n ? "%d " : "%d\n", i);
  test_write_file(path, line);
}

// A file with one line of n words of len letters each.
static void
write_long_words(const char *path, int n, int len)
{
  static char line[48 * 1024];
  int at = 0;
  for (int i = 0; i < n && at + len + 1 < (int)sizeof(line); i++) {
    memset(line + at, 'a' + i % 26, len);
    at += len;
    line[at++] = i < n - 1 ? ' ' : '\n';
  }
  line[at] = 0;
  test_write_file(path, line);
}

// Lines with more words (MAXARG) or bytes (ARGMAX) than one exec takes
// run in several pieces, and every word is used.
static void
xargs_long_lines(void)
{
  static char want[1024];
  write_words("w40", 40);
  want[0] = 0;
  for (int i = 1; i <= 40; i++)
    snprintf(want + strlen(want), sizeof(want) - strlen(want), "%d\n", i);
  test_expect("xargs -n 1 echo < w40", want, 0);
  test_expect("xargs -n 7 echo < w40 | wc", "6 40 111\n", 0);
  test_expect("xargs echo < w40 | wc", "1 40 111\n", 0);
  // 1500 words: 1022 fit beside "echo" (MAXARG 1023), the rest in a second run
  write_words("w1500", 1500);
  test_expect("xargs echo < w1500 | wc", "2 1500 6393\n", 0);
  test_expect("xargs echo a b < w1500 | wc", "2 1504 6401\n", 0);
  test_expect("xargs -n 1022 echo < w1500 | wc", "2 1500 6393\n", 0);
  test_expect("xargs -n 1023 echo < w1500", "", 1);    // no room for a word
  // 400 words of 99 bytes: 314 fit in ARGMAX (32 KiB) beside "echo"
  write_long_words("wbig", 400, 99);
  test_expect("xargs echo < wbig | wc", "2 400 40000\n", 0);
  test_expect("xargs -n 1000 echo < wbig | wc", "2 400 40000\n", 0);
  // one word longer than ARGMAX: its run fails, the next still happens
  write_long_words("whuge", 1, 33000);
  test_expect("xargs echo < whuge", "", 1);
  expect_contains("xargs echo < whuge", "argument list too long", 1);
  test_expect("(cat whuge; echo ok) | xargs echo", "ok\n", 1);
  test_expect("cat whuge | xargs echo", "", 1);
}

static void
xargs_errors(void)
{
  test_expect("echo a | xargs", "", 1);                 // usage
  expect_contains("echo a | xargs", "usage", 1);
  test_expect("echo a | xargs -n", "", 1);
  test_expect("echo a | xargs -n x echo", "", 1);
  test_expect("echo a | xargs -n -2 echo", "", 1);
  test_write_file("empty", "");
  test_expect("xargs echo x < empty", "", 0);           // no input: no runs
  test_write_file("nonl", "a\tb  c");                   // tabs, no final newline
  test_expect("xargs echo < nonl", "a b c\n", 0);
  test_write_file("blank", "\n  \n\t\n");
  test_expect("xargs echo x < blank", "", 0);
  // a failed run is counted, and the runs after it still happen
  test_write_file("list", "nonexistent\nnonl\n");
  test_expect("xargs -n 1 cat < list", "a\tb  c", 1);
  test_expect("xargs cat < list", "a\tb  c", 1);
}

static void
find_more(void)
{
  make_tree();
  test_expect("find ft/b b", "", 1);                    // not a directory
  expect_contains("find ft/b b", "not a directory", 1);
  test_expect("find ft b -type", "", 1);
  test_expect("find ft b c", "", 1);
  test_expect("find ft '*'",
              "ft/a\nft/a/x.txt\nft/a/b\nft/a/b/hello.c\nft/a/b/c\n"
              "ft/a/b/c/b\nft/a/b/c/note.c\nft/b\n", 0);
  test_expect("find ft 'h*o.c'", "ft/a/b/hello.c\n", 0);
  test_expect("find ft '*.*.*'", "", 0);
  test_expect("find ft '?*?'", "ft/a/x.txt\nft/a/b/hello.c\nft/a/b/c/note.c\n", 0);
  test_expect("find ft '**t*'", "ft/a/x.txt\nft/a/b/c/note.c\n", 0);
  test_expect("find ft -type f 'n*'", "ft/a/b/c/note.c\n", 0);
  // names of the longest length (DIRSIZ = 14) and names with dots
  CHECK(mkdir("ft/abcdefghijklmn") == 0);
  test_write_file("ft/abcdefghijklmn/.hidden", "");
  test_expect("find ft/abcdefghijklmn", "ft/abcdefghijklmn/.hidden\n", 0);
  test_expect("find ft 'abcdefghijklm?' -type d", "ft/abcdefghijklmn\n", 0);
  test_expect("find ft/abcdefghijklmn '.*'", "ft/abcdefghijklmn/.hidden\n", 0);
  // an empty directory prints nothing
  CHECK(mkdir("em") == 0);
  test_expect("find em", "", 0);
  test_expect("find em/", "", 0);
  test_expect("cd ft/a; find .. x.txt", "../a/x.txt\n", 0);
}

// An entry that vanishes between find reading its directory and looking
// at the entry is unreadable: find must report it and walk on. find's
// output goes to a pipe read one byte first: find has then read the
// directory, and it cannot reach the victim, which comes after more than a
// pipe's worth (4096 bytes) of output, before the victim is removed.
#define NBEFORE 240     // lines of 18 bytes before the victim
static void
find_unreadable(void)
{
  static char got[8192], want[8192], err[128];
  char name[32];
  CHECK(mkdir("uf") == 0);
  want[0] = 0;
  for (int i = 0; i < NBEFORE; i++) {
    snprintf(name, sizeof(name), "uf/f%013d", i);   // DIRSIZ-long names
    test_write_file(name, "");
    strcat(want, name);
    strcat(want, "\n");
  }
  test_write_file("uf/victim", "");
  test_write_file("uf/g", "");
  strcat(want, "uf/g\n");
  char *argv[] = {"find", "uf", 0};
  int out, pid = test_spawn("/find", argv, "uf.err", &out);
  CHECK_EQ(read(out, got, 1), 1);
  CHECK(unlink("uf/victim") == 0);
  test_read_all(out, got + 1, sizeof(got) - 1);
  CHECK_EQ(test_wait(pid), 1);
  if (strcmp(got, want) != 0)
    test_fail("find printed %d bytes, want %d (every entry but the victim)",
              strlen(got), strlen(want));
  int fd = open("uf.err", O_RDONLY);
  CHECK(fd >= 0);
  CHECK(test_read_all(fd, err, sizeof(err)) > 0);
  snprintf(want, sizeof(want), "find: uf/victim: %s\n", strerror(ENOENT));
  if (strcmp(err, want) != 0)
    test_fail("find's error was \"%s\", want \"%s\"", err, want);
}

// 150 levels: a path of about 1800 bytes.
static void
find_deeper(void)
{
  static char want[4096];
  CHECK(mkdir("z") == 0);
  CHECK(chdir("z") == 0);
  strcpy(want, "z");
  for (int i = 0; i < 150; i++) {
    char name[16];
    snprintf(name, sizeof(name), "d%09d", i);
    CHECK(mkdir(name) == 0);
    CHECK(chdir(name) == 0);
    strcat(want, "/");
    strcat(want, name);
  }
  test_write_file("leaf", "x");
  strcat(want, "/leaf\n");
  for (int i = 0; i < 151; i++)
    CHECK(chdir("..") == 0);
  test_expect("find z leaf", want, 0);
  test_expect("find z leaf -type d", "", 0);
  char cmd[32];
  snprintf(cmd, sizeof(cmd), "1 1 %d\n", strlen(want));
  test_expect("find z leaf | wc", cmd, 0);
}

static void
sleep_more(void)
{
  test_expect("sleep 5 3", "", 1);
  test_expect("sleep +5", "", 1);
  test_expect("sleep ''", "", 1);
  int t0 = uptime();
  test_expect("sleep 25", "", 0);
  int t1 = uptime();
  if (t1 - t0 < 25)
    test_fail("sleep 25 took %d ticks", t1 - t0);
  t0 = uptime();
  test_expect("sleep 3; sleep 4; sleep 5", "", 0);
  t1 = uptime();
  if (t1 - t0 < 12)
    test_fail("sleeps of 3+4+5 took %d ticks", t1 - t0);
}

static struct test tests[] = {
  TEST(sleep_usage), TEST(sleep_ticks),
  TEST(find_name), TEST(find_glob), TEST(find_type), TEST(find_errors), TEST(find_deep),
  TEST(xargs_basic), TEST(xargs_n), TEST(xargs_failing), TEST(find_xargs_grep),
  TEST(echo_out), TEST(cat_out), TEST(wc_out), TEST(grep_patterns), TEST(mkdir_rm_ln),
  TEST(ls_out), TEST(kill_prog), TEST(free_prog),
  TEST(sh_pipes), TEST(sh_redirect), TEST(sh_lists), TEST(sh_background), TEST(sh_status),
  TEST(sh_script), TEST(sh_cd),
  TEST(xargs_long_lines), TEST(xargs_errors), TEST(find_more), TEST(find_deeper),
  TEST(find_unreadable), TEST(sleep_more),
};

int
main(int argc, char **argv)
{
  return test_run("utiltest", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
