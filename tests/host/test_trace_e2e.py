"""End to end tests of tracing: boot the real kernel (tools/run.py, COM2 to
a file), run `tracetest dump K` / `tracetest overflow MODE N` in the guest,
decode the dump with trace/ktrace and check it exactly against what the
program did and what the kernel's counters say. Also `make trace`.

    /usr/bin/python3 -m pytest tests/host/test_trace_e2e.py
"""
import json
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "trace"))
sys.path.insert(0, os.path.join(ROOT, "tools"))

from ktrace import parse_dump  # noqa: E402
from ktrace.transform import to_frame, load_symbols, counter_agreement  # noqa: E402
import qemu_run  # noqa: E402

PY = "/usr/bin/python3"
RUN = os.path.join(ROOT, "tools", "run.py")
ELF = os.path.join(ROOT, "out", "kernel.elf")
PG = 4096
PF_WRITE, PF_USER = 2, 4
KERNBASE = 0x80000000
SMALL = 128                      # tracetest's buffer size for overflows
CODES = {"fault": 1, "page_alloc": 2, "marker": 10}


def guest(cmd, com2, cpus=2, timeout=180):
    """Run cmd in a fresh guest with COM2 to com2; its output lines."""
    for p in (qemu_run.KERNEL_IMG, qemu_run.MKFS, ELF):
        assert os.path.exists(p), "not built (run make): " + p
    p = subprocess.run([PY, RUN, "--cpus", str(cpus), "--timeout", str(timeout),
                        "--com2", str(com2), "--", cmd],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=timeout + 60)
    assert p.returncode == 0, "guest: %r exited %d\n%s\n%s" % (cmd, p.returncode,
                                                               p.stdout, p.stderr)
    return p.stdout.splitlines()


def decode(path):
    with open(path, "rb") as fh:
        d = parse_dump(fh.read())
    assert d.problems == [], [str(p) for p in d.problems]
    assert d.header_ok and d.end is not None
    return d


# ---- k pages touched: exactly the expected events -------------------------------

@pytest.mark.parametrize("cpus,k", [(2, 37), (1, 100)])
def test_touch_k_pages(tmp_path, cpus, k):
    com2 = tmp_path / "dump.bin"
    out = guest("tracetest dump %d" % k, com2, cpus)
    m = next(filter(None, (re.match(r"region 0x([0-9a-f]+) pages (\d+) pid (\d+)$", l)
                           for l in out)), None)
    assert m, out
    region, pages, pid = int(m.group(1), 16), int(m.group(2)), int(m.group(3))
    assert pages == k and region % PG == 0
    vm_line = next(l for l in out if l.startswith("vmstat "))
    words = vm_line.split()[1:]
    delta = {words[i]: int(words[i + 1]) for i in range(0, len(words), 2)}

    d = decode(com2)
    cfg = d.config
    assert (cfg["mode"], cfg["pid"]) == ("stop", pid)
    assert cfg["mask"] == sum(1 << c for c in CODES.values())
    s = d.summary()
    assert s["kernel_lost"] == 0
    assert s["records"] == sum(c["recorded"] for c in s["per_cpu"].values())
    assert d.end[1] == s["records"] and d.end[2] == 0

    df = to_frame(d, load_symbols(ELF))
    assert set(df["pid"]) == {pid}
    assert set(df["type"]) <= {"fault", "page_alloc", "marker"}
    df = df.sort_values("tsc", kind="stable").reset_index(drop=True)

    # Markers: exactly the two, first and last.
    marks = df[df.type == "marker"]
    assert list(marks.label) == ["touch-begin", "touch-end"]
    assert list(marks.arg) == [region - (1 << 32) if region >= 1 << 31 else region, k]
    assert list(marks.index) == [0, len(df) - 1]

    # Faults: one per page, at the address the program wrote, resolved by
    # zero fill, a user write to a page not present.
    faults = df[df.type == "fault"]
    assert len(faults) == k
    want = sorted(region + i * PG + (i * 97) % PG for i in range(k))
    assert sorted(int(v) for v in faults.va) == want
    assert set(faults.how) == {"zero"}
    assert set(int(e) for e in faults.err) == {PF_WRITE | PF_USER}
    assert all(0 < int(e) < KERNBASE for e in faults.eip)
    assert all(int(c) > 0 for c in faults.cycles)

    # Page allocations: one order-0 page per fault, from the fault path,
    # each allocated inside its own fault (just before the fault's record);
    # other allocations (at most one page table per 4 MiB slot) also order 0.
    allocs = df[df.type == "page_alloc"]
    assert set(int(o) for o in allocs.order) == {0}
    assert len(set(int(p) for p in allocs.pa)) == len(allocs)
    data = allocs[allocs.site_sym.str.startswith(("page_fill", "vm_user_page"))]
    assert len(data) == k, list(allocs.site_sym)
    slots = len({v >> 22 for v in want})
    assert len(allocs) - k <= slots, list(allocs.site_sym)
    events = list(df.type)
    for i in faults.index:
        j = i - 1
        while events[j] == "page_alloc" and not df.site_sym[j].startswith(
                ("page_fill", "vm_user_page")):
            j -= 1
        assert events[j] == "page_alloc", (i, events[max(0, i - 3):i + 1])

    # Counters: the program's vmstat increments and the header's (while
    # tracing was on) equal the event counts.
    assert delta["fault_zero"] == delta["faults"] == k
    assert delta["pgalloc"] == len(allocs)
    assert sum(v for n, v in delta.items() if n.startswith("fault_")) == k
    assert d.counters["fault_zero"] == d.counters["faults"] == k
    assert d.counters["pgalloc"] == len(allocs)
    assert d.counters["markers"] == 2
    agree = counter_agreement(d, df)
    assert len(agree) and agree.agree.all(), agree


# ---- a forced overflow: exactly how many records were lost --------------------------

@pytest.mark.parametrize("cpus,mode,n", [(1, "stop", 250), (1, "flight", 250),
                                         (2, "stop", 250), (2, "flight", 1000)])
def test_overflow(tmp_path, cpus, mode, n):
    com2 = tmp_path / "dump.bin"
    out = guest("tracetest overflow %s %d" % (mode, n), com2, cpus)
    m = next(filter(None, (re.match(r"overflow (\d+) pid (\d+)$", l) for l in out)), None)
    assert m and int(m.group(1)) == n, out
    pid = int(m.group(2))

    d = decode(com2)
    assert (d.config["mode"], d.config["cap"], d.config["pid"]) == (mode, SMALL, pid)
    s = d.summary()
    per = s["per_cpu"]
    assert sum(c["recorded"] for c in per.values()) == n
    held = 0
    for c, v in per.items():
        assert v["held"] == min(v["recorded"], SMALL)
        assert v["lost"] == v["recorded"] - v["held"]
        assert v["decoded"] == v["held"]
        held += v["held"]
    assert s["kernel_lost"] == n - held == d.end[2]
    assert s["records"] == held == d.end[1]
    assert held >= min(n, SMALL)
    assert d.counters["markers"] == n

    df = to_frame(d)
    assert set(df.type) == {"marker"} and set(df.pid) == {pid}
    args = [int(a) for a in df.arg]
    assert len(set(args)) == len(args) and all(0 <= a < n for a in args)
    for c, v in per.items():
        mine = df[df.cpu == c].sort_values("seq")
        first = 0 if mode == "stop" else v["recorded"] - v["held"]
        assert list(mine.seq) == list(range(first, first + v["held"]))
        assert list(mine.arg) == sorted(mine.arg)       # in the order made
    if cpus == 1:
        # One CPU: which markers survive is exact too.
        keep = range(SMALL) if mode == "stop" else range(n - SMALL, n)
        assert sorted(args) == list(keep)
        assert s["kernel_lost"] == n - SMALL


# ---- make trace -----------------------------------------------------------------------

def test_make_trace(tmp_path):
    name = "e2e-%d" % os.getpid()
    folder = os.path.join(ROOT, "results", "trace-" + name)
    try:
        p = subprocess.run(["make", "-s", "trace", "CMD=echo hello trace", "TRACENAME=" + name],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=300)
        assert p.returncode == 0, p.stdout
        assert "hello trace" in p.stdout
        for f in ("dump.bin", "events.csv", "trace.json", "report.txt"):
            assert os.path.getsize(os.path.join(folder, f)) > 0, f
        with open(os.path.join(folder, "report.txt")) as fh:
            report = fh.read()
        assert "OK" in report and "counters agree with the trace: yes" in report, report

        with open(os.path.join(folder, "trace.json")) as fh:
            doc = json.load(fh)
        evs = doc["traceEvents"]
        assert evs
        for e in evs:
            assert {"name", "ph", "pid", "tid"} <= set(e), e
            if e["ph"] != "M":
                assert isinstance(e["ts"], (int, float))
                assert "args" in e and "seq" in e["args"]
            if e["ph"] == "X":
                assert e["dur"] >= 0
        phs = {e["ph"] for e in evs}
        assert {"X", "i", "M"} <= phs
        names = {e["name"] for e in evs}
        assert {"fork", "exec", "exit"} <= names
        assert any(e["ph"] == "M" and e["args"]["name"].startswith("echo") for e in evs)

        d = decode(os.path.join(folder, "dump.bin"))
        df = to_frame(d)
        execs = df[df.type == "exec"]
        assert "echo" in set(execs.name)
        echo_pid = int(execs[execs.name == "echo"].pid.iloc[0])
        exits = df[(df.type == "exit") & (df.pid == echo_pid)]
        assert list(exits.status) == [0]
        forks = df[(df.type == "fork") & (df.child == echo_pid)]
        assert len(forks) == 1 and forks.name.iloc[0] == "trace"
        with open(os.path.join(folder, "events.csv")) as fh:
            header = fh.readline().strip().split(",")
        assert header[:6] == ["seq", "cpu", "pid", "tsc", "t", "type"]
    finally:
        subprocess.run(["rm", "-rf", folder])
