"""The shell as `make run` drives it (tools/run.py): && and ||, $?, and the
exit status a scripted run returns, including after a syntax error."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu_run  # noqa: E402

RUN = os.path.join(ROOT, "tools", "run.py")


def run_py(cmd, timeout=120):
    for p in (qemu_run.KERNEL_IMG, qemu_run.MKFS):
        assert os.path.exists(p), "not built (run make): " + p
    return subprocess.run(["/usr/bin/python3", RUN, "--timeout", "60", "--", cmd],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout)


def test_and_or_and_status():
    p = run_py("false || echo recovered; true && echo ok; false; echo $?")
    assert (p.returncode, p.stdout) == (0, "recovered\nok\n1\n"), p.stderr


def test_failing_step_stops_the_chain():
    p = run_py("echo one && false && echo never")
    assert (p.returncode, p.stdout) == (1, "one\n"), p.stderr


def test_exit_status_after_or_chain():
    p = run_py("true && exit 5; echo never")
    assert (p.returncode, p.stdout) == (5, ""), p.stderr


def test_syntax_error_fails_the_run():
    # A run command of several lines is parsed whole: nothing runs, the error
    # names its line and column, and the run's status is 2.
    p = run_py("echo first\necho a && && echo b\necho last")
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert p.stdout == "sh: line 2: syntax error near '&&' (column 11)\n", p.stderr


def make_run(cmd, timeout=300):
    return subprocess.run(["make", "-s", "--no-print-directory", "run", "TIMEOUT=60",
                           "CMD=" + cmd], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)


def test_make_run_passes_cmd_as_typed():
    # Neither make (whose $? is an automatic variable) nor the host shell
    # may expand CMD before the guest's shell sees it.
    p = make_run("false || echo recovered; true && echo ok; false; echo $?")
    assert (p.returncode, p.stdout) == (0, "recovered\nok\n1\n"), p.stderr
    p = make_run("X=\"it's\"; echo \"$X\" '$X' \\\\")
    assert (p.returncode, p.stdout) == (0, "it's $X \\\n"), p.stderr


def test_make_run_fails_on_syntax_error():
    p = make_run("echo a &&")
    assert p.returncode == 2, (p.stdout, p.stderr)   # make's status for any failure
    assert p.stdout == "sh: line 1: syntax error near 'end of input' (column 10)\n", p.stderr
    assert "Error 2" in p.stderr
