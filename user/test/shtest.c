// shtest: the shell's lists and expansions: && and ||, $?, variables and
// arguments, the exit and cd builtins, the true and false programs, and
// syntax errors with their line and column, driven through `sh -c`.
//   shtest [NAME...]   run all tests, or only the named ones
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"
#include "user/lib/testlib.h"

static char out[4096];

// cmd must print exactly want on stdout and stderr together and exit with st.
static void
expect_all(const char *cmd, const char *want, int st)
{
  int s = test_sh(cmd, out, sizeof(out), 1);
  if (strcmp(out, want) != 0)
    test_fail("`%s` printed \"%s\", want \"%s\"", cmd, out, want);
  if (s != st)
    test_fail("`%s` exited %d, want %d", cmd, s, st);
}

static void
true_false(void)
{
  test_expect("true", "", 0);
  test_expect("false", "", 1);
  test_expect("true ignored args", "", 0);
  test_expect("false ignored args", "", 1);
}

static void
and_or(void)
{
  test_expect("true && echo a", "a\n", 0);
  test_expect("false && echo a", "", 1);
  test_expect("false || echo b", "b\n", 0);
  test_expect("true || echo b", "", 0);
  test_expect("true && false", "", 1);
  test_expect("false || false", "", 1);
  test_expect("echo a&&echo b||echo c", "a\nb\n", 0);
  test_expect("nosuchcmd || echo fallback", "fallback\n", 0);
  // equal precedence, grouped from the left
  test_expect("false && echo x || echo y", "y\n", 0);
  test_expect("true || echo x && echo y", "y\n", 0);
  test_expect("false || echo a && echo b", "a\nb\n", 0);
  test_expect("true && false || false && echo no", "", 1);
  // a newline may follow && and ||
  test_expect("echo a &&\n\n echo b ||\n echo c", "a\nb\n", 0);
  // quoted or escaped, they are words
  test_expect("echo '&&' \"||\" \\&\\&", "&& || &&\n", 0);
}

static void
and_or_precedence(void)
{
  // '|' binds tighter than && and ||
  test_expect("echo a && echo b | wc", "a\n1 1 2\n", 0);
  test_expect("echo abc | grep zzz && echo found || echo missing", "missing\n", 0);
  test_expect("echo abc | grep b && echo yes", "abc\nyes\n", 0);
  // ';' and newline bind looser
  test_expect("false && echo a; echo b", "b\n", 0);
  test_expect("true; false && echo a", "", 1);
  test_expect("false || echo a\necho b", "a\nb\n", 0);
  // '&' puts the whole and-or list in the background: its status is 0
  test_expect("false && true &", "", 0);
  test_expect("false && true & echo $?", "0\n", 0);
  test_expect("echo one > f1 && echo two > f2 & wait; cat f1 f2", "one\ntwo\n", 0);
  // parentheses group
  test_expect("(false || echo sub) && echo after", "sub\nafter\n", 0);
  test_expect("true || (echo no; false) && echo yes", "yes\n", 0);
}

static void
status_param(void)
{
  test_expect("false; echo $?", "1\n", 0);
  test_expect("true; echo $?", "0\n", 0);
  test_expect("echo $?", "0\n", 0);
  test_expect("(exit 7); echo $?", "7\n", 0);
  test_expect("nosuchcmd; echo $?", "127\n", 0);
  test_expect("echo abc | grep zzz; echo $?", "1\n", 0);
  test_expect("false && true; echo $?", "1\n", 0);
  test_expect("false; echo $? | cat", "1\n", 0);
  test_expect("false; echo \"status $?\" $?$? ${?}x", "status 1 11 1x\n", 0);
  test_expect("false; echo '$?' \\$? \"\\$?\"", "$? $? $?\n", 0);
  test_expect("false; (echo $?)", "1\n", 0);
  test_expect("cd /nonexistent; echo $?", "1\n", 0);
  test_expect("echo $ a$ $/", "$ a$ $/\n", 0);
}

static void
exit_builtin(void)
{
  test_expect("false; exit", "", 1);
  test_expect("true; exit", "", 0);
  test_expect("exit 255", "", 255);
  test_expect("false; exit; echo never", "", 1);
  test_expect("true && exit 4; echo never", "", 4);
  test_expect("(exit 3) || echo failed", "failed\n", 0);
  expect_all("exit 256", "sh: exit: 256: not a status (0..255)\n", 2);
  expect_all("exit abc; echo never", "sh: exit: abc: not a status (0..255)\n", 2);
  expect_all("exit -1", "sh: exit: -1: not a status (0..255)\n", 2);
  expect_all("exit 1 2; echo still", "sh: exit: too many arguments\nstill\n", 0);
}

static void
cd_builtin(void)
{
  // without an argument cd goes to /
  test_expect("mkdir cdd; cd cdd; cd && echo hi > shtest.cd; cat /shtest.cd; rm /shtest.cd",
              "hi\n", 0);
  expect_all("cd cdd cdd", "sh: cd: too many arguments\n", 2);
  test_expect("cd nonexistent || echo failed", "failed\n", 0);
}

static void
variables(void)
{
  test_expect("A=hello; echo $A", "hello\n", 0);
  test_expect("A=hello; echo ${A}world $Aworld. x${A}", "helloworld . xhello\n", 0);
  test_expect("A='a  b'; echo \"[$A]\"", "[a  b]\n", 0);
  test_expect("A=1 B=$A; echo $B", "1\n", 0);
  test_expect("A=1; A=2; echo $A", "2\n", 0);
  test_expect("A=x; echo '$A' \\$A \"\\$A\"", "$A $A $A\n", 0);
  // an unquoted word that expands to nothing is dropped; a quoted one stays
  test_expect("echo $UNSET x", "x\n", 0);
  test_expect("echo \"$UNSET\" x '' y", " x  y\n", 0);
  // a subshell or a pipeline member has its own variables
  test_expect("A=1; (A=2; echo $A); echo $A", "2\n1\n", 0);
  test_expect("A=1; A=2 | cat; echo $A", "1\n", 0);
  test_expect("false; S=$?; true; echo $S $?", "1 0\n", 0);
  test_expect("F=vout; echo hi > $F; cat vout", "hi\n", 0);
  test_expect("P=/true; $P && echo ran", "ran\n", 0);
  test_expect("A=; echo \"[$A]\"", "[]\n", 0);
  test_expect("A=x; echo $A=1", "x=1\n", 0);
  // an assignment needs a bare NAME before '='
  test_expect("'A'=1", "", 127);
  test_expect("A\\=1", "", 127);
  expect_all("A=1 echo hi; echo $?",
             "sh: A=1: an assignment cannot precede a command (programs have no environment)\n2\n",
             0);
  expect_all("echo ${1a}", "sh: line 1: bad substitution (column 6)\n", 2);
  expect_all("echo ${A", "sh: line 1: bad substitution (column 6)\n", 2);
}

static void
arguments(void)
{
  test_write_file("args.sh", "echo $0 $# $1 $2; echo \"[$3]\"\n");
  test_expect("sh args.sh a 'b c'", "args.sh 2 a b c\n[]\n", 0);
  test_expect("sh args.sh", "args.sh 0\n[]\n", 0);
  test_write_file("nine.sh", "echo $9 $# $1x");
  test_expect("sh nine.sh 1 2 3 4 5 6 7 8 9 10", "9 10 1x\n", 0);
  test_expect("sh -c 'echo $0 $# $1' zero one", "zero 1 one\n", 0);
  test_expect("sh -c 'echo $0 $#'", "sh 0\n", 0);
}

static void
syntax_errors(void)
{
  expect_all("echo a && && echo b", "sh: line 1: syntax error near '&&' (column 11)\n", 2);
  expect_all("&& echo a", "sh: line 1: syntax error near '&&' (column 1)\n", 2);
  expect_all("echo a || ; echo b", "sh: line 1: syntax error near ';' (column 11)\n", 2);
  expect_all("echo a &&", "sh: line 1: syntax error near 'end of input' (column 10)\n", 2);
  expect_all("echo a & & echo b", "sh: line 1: syntax error near '&' (column 10)\n", 2);
  expect_all("echo a ||| echo b", "sh: line 1: syntax error near '|' (column 10)\n", 2);
  expect_all("echo 'abc", "sh: line 1: unterminated quote (column 6)\n", 2);
  expect_all("echo x >&y", "sh: line 1: bad redirection (column 8)\n", 2);
  expect_all("echo x\necho y )", "sh: line 2: syntax error near ')' (column 8)\n", 2);
  // nothing runs: the whole text is parsed first
  expect_all("echo first; echo a &&& b", "sh: line 1: syntax error near '&' (column 22)\n", 2);
}

static void
script_errors(void)
{
  // a script is parsed whole: an error on line 3 stops it before line 1 runs
  test_write_file("bad.sh", "echo a\necho b\necho c & & echo d\n");
  expect_all("sh bad.sh", "sh: line 3: syntax error near '&' (column 10)\n", 2);
  expect_all("sh bad.sh || echo failed",
             "sh: line 3: syntax error near '&' (column 10)\nfailed\n", 0);
  // lines are counted inside quotes too
  test_write_file("quote.sh", "echo 'a\nb' ; ;\n");
  expect_all("sh quote.sh", "sh: line 2: syntax error near ';' (column 6)\n", 2);
  test_write_file("open.sh", "echo a |\n\n");
  expect_all("sh open.sh", "sh: line 3: syntax error near 'end of input' (column 1)\n", 2);
  // commands on stdin run a line at a time and stop at the error
  test_write_file("stdin.sh", "echo one\necho two &&& x\necho three\n");
  expect_all("sh < stdin.sh", "one\nsh: line 2: syntax error near '&' (column 12)\n", 2);
  test_write_file("cont.sh", "echo one &&\necho two\necho 'x\ny' &&\n& echo z\n");
  expect_all("sh < cont.sh", "one\ntwo\nsh: line 5: syntax error near '&' (column 1)\n", 2);
  // a script that parses runs to its end and returns its last status
  test_write_file("good.sh", "false || echo recovered\ntrue && echo ok\nfalse\n");
  expect_all("sh good.sh", "recovered\nok\n", 1);
}

static struct test tests[] = {
  TEST(true_false), TEST(and_or), TEST(and_or_precedence), TEST(status_param),
  TEST(exit_builtin), TEST(cd_builtin), TEST(variables), TEST(arguments),
  TEST(syntax_errors), TEST(script_errors),
};

int
main(int argc, char **argv)
{
  return test_run("shtest", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
