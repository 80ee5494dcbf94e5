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
from ktrace.checks import cross_check, loss_table, EVENT_COUNTERS  # noqa: E402
from ktrace.export import write_chrome_json  # noqa: E402
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


def guest(cmd, com2, cpus=2, timeout=180, status=0):
    """Run cmd in a fresh guest with COM2 to com2; its output lines (and
    run.py's messages). run.py must exit with status."""
    for p in (qemu_run.KERNEL_IMG, qemu_run.MKFS, ELF):
        assert os.path.exists(p), "not built (run make): " + p
    p = subprocess.run([PY, RUN, "--cpus", str(cpus), "--timeout", str(timeout),
                        "--com2", str(com2), "--", cmd],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=timeout + 300)
    assert p.returncode == status, "guest: %r exited %d\n%s\n%s" % (cmd, p.returncode,
                                                                    p.stdout, p.stderr)
    return p.stdout.splitlines() + p.stderr.splitlines()


def decode(path, index=-1):
    """The dump at index of the file, checked: intact and agreeing with
    the kernel's counts."""
    with open(path, "rb") as fh:
        d = parse_dump(fh.read(), index)
    cross_check(d)
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
    # the TSC rate the kernel measured against the PIT: always there, sane
    assert 100000 <= cfg["tsc_khz"] <= 10000000
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
        assert "OK" in report and "per-pid counts agree with the trace: yes" in report, report
        assert "pid filter" in report and "and descendants" in report

        with open(os.path.join(folder, "trace.json")) as fh:
            doc = json.load(fh)
        evs = doc["traceEvents"]
        assert evs
        for e in evs:
            assert {"name", "ph", "pid", "tid"} <= set(e), e
            if e["ph"] != "M":
                assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0
                assert "args" in e and ("seq" in e["args"] or e["cat"] == "lost")
            if e["ph"] == "X":
                assert e["dur"] >= 0
        phs = {e["ph"] for e in evs}
        assert {"X", "i", "M"} <= phs
        names = {e["name"] for e in evs}
        assert {"exec", "exit"} <= names        # (trace forks echo before it is followed)
        assert any(e["ph"] == "M" and e["args"]["name"].startswith("echo") for e in evs)

        d = decode(os.path.join(folder, "dump.bin"))
        df = to_frame(d)
        execs = df[df.type == "exec"]
        assert "echo" in set(execs.name)
        echo_pid = int(execs[execs.name == "echo"].pid.iloc[0])
        exits = df[(df.type == "exit") & (df.pid == echo_pid)]
        assert list(exits.status) == [0]
        assert d.config["pid"] == echo_pid and d.config["follow"] == 1
        assert set(df.pid) == {echo_pid}
        with open(os.path.join(folder, "events.csv")) as fh:
            header = fh.readline().strip().split(",")
        assert header[:7] == ["seq", "cpu", "pid", "tsc", "t", "t_us", "type"]
    finally:
        subprocess.run(["rm", "-rf", folder])


# ---- events while recording is paused: counted, and the counters agree -------------

def test_events_while_paused_are_counted(tmp_path):
    """A child touches 3000 pages while its parent changes settings and
    dumps three times: every dump decodes on its own, and the last one
    accounts for every fault (kept + lost while paused = the counter)."""
    com2 = tmp_path / "dump.bin"
    out = guest("tracetest gaps 3000", com2, timeout=400)
    assert any(l.startswith("gaps 3000 child") and l.endswith("status 0") for l in out), out
    d = decode(com2)
    assert d.ndumps == 4 and d.config["enabled"] == 0
    for k in range(3):
        mid = decode(com2, k)
        assert mid.config["enabled"] == 1
    paused = sum(p.n for p in d.pauses if d.table.events[p.type].name == "fault")
    kept = sum(1 for r in d.records if r.type == CODES["fault"])
    assert kept + paused == d.counters["faults"] >= 3000


def exact_disagreements(d):
    """Counters that disagree with the trace by even one event (the
    decoder allows one event in flight per CPU in a dump written while
    tracing runs; the kernel reads the counters and the paused counts with
    every CPU held out of the event code, so there is none)."""
    total = {}
    for _, name, passed, _, _, paused in loss_table(d):
        total[name] = total.get(name, 0) + passed + paused
    codes = {et.name: c for c, et in d.table.events.items()}
    mask, changed = d.config["mask"], d.config.get("mask_changed", 0)
    bad = []
    for counter, name in EVENT_COUNTERS.items():
        code = codes[name]
        if (mask >> code) & 1 and not (changed >> code) & 1 \
                and d.counters[counter] != total.get(name, 0):
            bad.append("dump %d: counter %s %d, trace %d"
                       % (d.index, counter, d.counters[counter], total.get(name, 0)))
    return bad


def test_counts_exact_while_settings_churn(tmp_path):
    """A child maps, touches and unmaps pages (anonymous, and a shared file
    mapping it msyncs) on one CPU while its parent, 300 times, turns
    tracing off and on, flips the marker bit of the mask and dumps
    (clearing every 64th time): each of the 301 dumps agrees with the
    kernel's counters to the event, the page-cache, write-back and
    scheduler counters too. (Failed with counters read outside the event
    code: a bump before a snapshot and the traced-or-not decision after
    it.)"""
    com2 = tmp_path / "dump.bin"
    out = guest("tracetest churn 300", com2, timeout=600)
    assert any(re.match(r"churn 300 child \d+$", l) for l in out), out
    data = com2.read_bytes()
    bad = []
    for k in range(301):
        d = parse_dump(data, k)
        assert d.ndumps == 301
        cross_check(d)
        bad += [str(p) for p in d.problems] + exact_disagreements(d)
    assert d.config["enabled"] == 0 and d.counters["faults"] > 0
    # The child's shared file mapping: page-cache hits and msync write-backs,
    # counted (and checked) like the faults.
    assert d.counters["pcache_hits"] > 0 and d.counters["writeback_msync"] > 0
    assert bad == [], bad


# ---- trace run follows the command's children; -p does not -------------------------

def test_trace_run_follows_children(tmp_path):
    """Also: syscall events (asked for with -e all) become slices."""
    com2 = tmp_path / "dump.bin"
    out = guest("trace run tracetest cow 64; trace run -p tracetest cow 64; "
                "trace run -e all tracetest cow 8", com2)
    runs = [re.match(r"cow (64|8) child (\d+) status 0$", l) for l in out]
    children = [int(m.group(2)) for m in runs if m]
    assert len(children) == 3, out
    check_syscall_slices(decode(com2, 2), children[2], tmp_path)
    for k, follow in ((0, True), (1, False)):
        d = decode(com2, k)
        assert d.ndumps == 3 and d.config["follow"] == int(follow)
        df = to_frame(d)
        parent = d.config["pid"]
        cow = df[(df.type == "fault") & df.how.isin(["cow_copy", "cow_reuse"])]
        mine = cow[cow.pid == children[k]]
        if follow:
            assert set(df.pid) == {parent, children[k]}
            assert len(mine) >= 64
            assert list(df[df.type == "fork"].child) == [children[k]]
        else:
            assert set(df.pid) == {parent} and len(mine) == 0


# ---- the flight recorder: a panic and a timeout both leave a dump -----------------

def test_panic_dumps_the_trace(tmp_path):
    com2 = tmp_path / "dump.bin"
    out = guest("tracetest crash", com2, timeout=200, status=qemu_run.EXIT_CRASH)
    assert any("trace: dump done" in l for l in out), out
    d = decode(com2)
    assert d.config["reason"] == "panic"
    df = to_frame(d)
    assert list(df[df.type == "marker"].label) == ["before-crash"] * 10


def test_timeout_asks_for_a_dump(tmp_path):
    com2 = tmp_path / "dump.bin"
    out = guest("tracetest spin", com2, timeout=40, status=qemu_run.EXIT_TIMEOUT)
    assert any("spinning pid" in l for l in out), out
    assert any("trace buffers dumped to COM2" in l for l in out), out
    d = decode(com2)
    assert d.config["reason"] == "console" and d.config["enabled"] == 1
    df = to_frame(d)
    assert list(df[df.type == "marker"].label) == ["spinning"] * 10


def check_syscall_slices(d, child, tmp_path):
    """Every system call of the traced processes has an entry and (but for
    exit, and fork in the child) an exit event; the JSON shows them as
    slices named after the call, with the COW faults outside them."""
    df = to_frame(d)
    enters, exits = df[df.type == "sys_enter"], df[df.type == "sys_exit"]
    assert len(enters) >= 5 and set(exits.pid) <= set(enters.pid) | {child}
    for pid in set(enters.pid):
        e = enters[enters.pid == pid]
        x = exits[exits.pid == pid]
        assert len(e) - len(x) in (0, 1), (pid, len(e), len(x))   # exit() never returns
        assert list(x.num) == list(e.num)[:len(x)]
    path = tmp_path / "sys.json"
    write_chrome_json(df, d, path)
    evs = json.load(open(path))["traceEvents"]
    names = {e["name"] for e in evs if e.get("cat") == "syscall" and e["ph"] == "X"}
    assert {"sys sbrk", "sys fork", "sys wait", "sys write"} <= names, names
