"""Unit tests of the host side of the scripted-run protocol (tools/run.py,
tools/qemu_run.py) with a stand-in for qemu (fake_qemu.py): marker parsing,
exit codes, timeouts, panics, and that no qemu survives run.py.
These need no kernel."""
import os
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu_run  # noqa: E402

FAKE = os.path.join(HERE, "fake_qemu.py")
RUN = os.path.join(ROOT, "tools", "run.py")
PY = "/usr/bin/python3"


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Point the harness at fake_qemu.py; returns a function that sets the
    scenario and gives the (image, info file) to use."""
    img = tmp_path / "fs.img"
    img.write_bytes(b"\0" * 1024)
    info = tmp_path / "info"
    monkeypatch.setenv("QEMU", FAKE)
    monkeypatch.setenv("FAKE_QEMU_INFO", str(info))

    def use(scenario):
        monkeypatch.setenv("FAKE_QEMU_SCENARIO", scenario)
        return str(img), str(info)
    return use


def run_py(args, timeout=30):
    return subprocess.run([PY, RUN] + args, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=timeout)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def fake_pid(info, wait=5.0):
    end = time.time() + wait
    while time.time() < end:
        if os.path.exists(info):
            with open(info) as f:
                return int(f.readline())
        time.sleep(0.05)
    raise AssertionError("fake qemu never started")


# ---- OutputParser, no processes ------------------------------------------

def feed_all(parser, lines):
    return [t for t in (parser.feed(l) for l in lines) if t is not None]


def test_parser_between_markers():
    p = qemu_run.OutputParser()
    shown = feed_all(p, ["boot msg", "@@RUN-BEGIN@@", "a", "", "b", "@@RUN-END 5@@", "after"])
    assert shown == ["a", "", "b"]
    assert p.status == 5 and p.ended() and not p.panic


def test_parser_marker_sharing_a_line():
    p = qemu_run.OutputParser()
    shown = feed_all(p, ["x@@RUN-BEGIN@@first", "last@@RUN-END -2@@"])
    assert shown == ["first", "last"]
    assert p.status == -2


def test_parser_raw_shows_everything():
    p = qemu_run.OutputParser(raw=True)
    lines = ["boot", "@@RUN-BEGIN@@", "a", "@@RUN-END 0@@", "bye"]
    assert feed_all(p, lines) == lines
    assert p.output == ["a"]


def test_parser_panic_collects_following_lines():
    p = qemu_run.OutputParser()
    feed_all(p, ["cpu0: up", "panic: bad thing", "  cpu 0, stack: 1 2"])
    assert p.panic == ["panic: bad thing", "  cpu 0, stack: 1 2"]
    assert not p.begun


def test_exit_code_mapping():
    assert [qemu_run.exit_code(s) for s in (0, 1, 3, 255, -1, -7, 256)] == [0, 1, 3, 255, 1, 1, 1]


# ---- run.py with the fake qemu ---------------------------------------------

def test_status_and_output(fake):
    img, info = fake("ok")
    p = run_py(["--image", img, "--com2", img + ".com2", "--cpus", "3", "--mem", "64", "--", "x"])
    assert p.returncode == 3, p.stderr
    assert p.stdout == "hello world\nsecond line\n"
    with open(info) as f:
        argv = f.read().split("\n")
    assert "-no-reboot" in argv and "stdio" in argv
    assert "file:" + img + ".com2" in argv
    assert argv[argv.index("-smp") + 1] == "3" and argv[argv.index("-m") + 1] == "64"
    assert any(a.startswith("file=%s,index=1" % img) for a in argv)
    assert any("kernel.img,index=0" in a for a in argv)


def test_zero_negative_big_partial(fake):
    for sc, code, out in (("zero", 0, ""), ("negative", 1, "pid 3 (x): killed\n"),
                          ("big", 1, ""), ("partial", 7, "no newline here\n")):
        img, _ = fake(sc)
        p = run_py(["--image", img, "--", "x"])
        assert (p.returncode, p.stdout) == (code, out), sc


def test_raw(fake):
    img, _ = fake("ok")
    p = run_py(["--raw", "--image", img, "--", "x"])
    assert p.returncode == 3
    assert "SeaBIOS (version fake)\n" in p.stdout and "@@RUN-END 3@@" in p.stdout
    assert "\r" not in p.stdout


def test_timeout_kills_guest(fake):
    img, info = fake("hang")
    t = time.time()
    p = run_py(["--timeout", "1.5", "--image", img, "--", "x"])
    assert p.returncode == 124
    assert "run.py: guest timed out after 1.5 s" in p.stderr
    assert p.stdout == "still going\n"
    assert time.time() - t < 10
    assert not pid_alive(fake_pid(info))


def test_panic(fake):
    for sc in ("panic", "midpanic"):
        img, info = fake(sc)
        p = run_py(["--timeout", "20", "--image", img, "--", "x"])
        assert p.returncode == 125, sc
        assert "panic: " in p.stdout and "stack:" in p.stdout
        assert "kernel panic" in p.stderr
        assert not pid_alive(fake_pid(info))
        os.unlink(info)


def test_panic_text_from_a_program_is_not_a_panic(fake):
    img, _ = fake("falsepanic")
    p = run_py(["--image", img, "--", "x"])
    assert p.returncode == 0
    assert p.stdout == "echo says panic: not really\n"


def test_qemu_exits_without_end(fake):
    for sc in ("noend", "nobegin"):
        img, _ = fake(sc)
        p = run_py(["--image", img, "--", "x"])
        assert p.returncode == 125, sc
        assert "run.py: qemu exited" in p.stderr


def test_guest_that_does_not_power_off_is_killed(fake, monkeypatch):
    monkeypatch.setattr(qemu_run, "POWEROFF_GRACE", 0.5)
    img, info = fake("noexit")
    res = qemu_run.run("x", image=img, timeout=20)
    assert (res.kind, res.code, res.output) == ("ok", 0, ["done"])
    assert not pid_alive(fake_pid(info))


def test_streams_output(fake):
    img, _ = fake("slow")
    got = []
    res = qemu_run.run("x", image=img, timeout=20,
                       on_output=lambda t: got.append((t, time.monotonic())))
    assert res.code == 0 and [t for t, _ in got] == ["tick 0", "tick 1", "tick 2"]
    assert got[2][1] - got[0][1] > 0.4     # not all at the end


def test_killing_run_py_kills_qemu(fake):
    img, info = fake("hang")
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if os.path.exists(info):
            os.unlink(info)
        p = subprocess.Popen([PY, RUN, "--image", img, "--", "x"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pid = fake_pid(info)
        assert pid_alive(pid)
        p.send_signal(sig)
        p.wait(10)
        end = time.time() + 5
        while pid_alive(pid) and time.time() < end:
            time.sleep(0.05)
        assert not pid_alive(pid), "qemu survived run.py's %s" % sig


def test_guest_helpers(fake):
    img, info = fake("slow")
    with qemu_run.boot(img) as g:
        assert g.wait_for(r"tick (\d)", 10).group(1) == "0"
        assert g.wait_for(r"tick 2", 10)
        pid = fake_pid(info)
    assert not pid_alive(pid)


# ---- tests/run_all.py's bookkeeping ---------------------------------------------

sys.path.insert(0, os.path.join(ROOT, "tests"))
import run_all  # noqa: E402


def result(kind, status, output, message=""):
    r = qemu_run.RunResult()
    r.kind, r.status, r.output, r.message = kind, status, output, message
    return r


def test_suite_lines():
    out = ["PASS sys.open", "noise", "FAIL sys.read: got 3 want 4", "  PASS sys.x  ",
           "pid 4 (t): killed: page fault: bad address at 0x0 (eip 0x1000)"]
    assert run_all.parse_suite("systest", result("ok", 1, out)) == [
        (True, "sys.open", None), (False, "sys.read", "got 3 want 4"), (True, "sys.x", None)]


def test_suite_failures_without_fail_lines():
    cases = [(result("ok", 0, []), "printed no PASS/FAIL"),
             (result("ok", 2, ["PASS a.b"]), "status 2"),
             (result("timeout", None, ["PASS a.b"], "guest timed out after 5 s"), "timed out"),
             (result("panic", None, [], "kernel panic: panic: x"), "kernel panic"),
             (result("noend", None, [], "qemu exited (status 1)"), "crashed")]
    for res, why in cases:
        lines = run_all.parse_suite("t", res)
        assert lines[-1][:2] == (False, "t") and why in lines[-1][2], lines


def test_junit_parsing(tmp_path):
    x = tmp_path / "r.xml"
    x.write_text('<testsuites><testsuite>'
                 '<testcase classname="tests.host.test_a" name="test_ok"/>'
                 '<testcase classname="tests.host.test_a" name="test_bad[1]">'
                 '<failure message="AssertionError: no&#10;more">tb</failure></testcase>'
                 '<testcase classname="tests.host.test_b" name="test_err"><error message="boom"/>'
                 '</testcase></testsuite></testsuites>')
    assert run_all.parse_junit(str(x)) == [
        (True, "host.test_a.test_ok", None),
        (False, "host.test_a.test_bad[1]", "AssertionError: no"),
        (False, "host.test_b.test_err", "boom")]
    assert run_all.host_name("tests/host/test_a.py::test_bad[1]") == "host.test_a.test_bad[1]"


def test_matcher():
    m = run_all.matcher("sys")
    assert m("systest") and not m("proctest")
    g = run_all.matcher("host.test_crash*")
    assert g("host.test_crash.test_x") and not g("host.test_run.test_y")
    assert run_all.matcher(None)("anything")
