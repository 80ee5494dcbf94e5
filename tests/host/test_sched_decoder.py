"""Tests of the scheduler-event decoder (trace/ktrace/sched.py): wake-up
latency, running slices and the Chrome JSON, on synthetic dumps and on a
real one made by the kernel (fixtures/trace_sched_kernel.bin, made with
    /usr/bin/python3 tools/run.py --com2 tests/host/fixtures/trace_sched_kernel.bin -- \\
      'trace run -a -e sched_wakeup,sched_switch,sched_migrate,fork,exec,exit \\
         sh -c "echo hi | wc; ls / | grep e"'
regenerate it when kernel/trace_events.h changes).

    /usr/bin/python3 -m pytest tests/host/test_sched_decoder.py
"""
import io
import json
import os
import sys

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "trace"))

from ktrace import parse_dump, load_source_table  # noqa: E402
from ktrace.transform import to_frame  # noqa: E402
from ktrace.writer import SimWriter  # noqa: E402
from ktrace.cli import main as cli_main  # noqa: E402
from ktrace import sched  # noqa: E402

KDUMP = os.path.join(HERE, "fixtures", "trace_sched_kernel.bin")
STEP = 137                       # SimWriter's tsc step per event


Writer = SimWriter                # (bumps sched_ipis, sched_migrations as the kernel does)


def scenario():
    """cpu 0 runs 4, which wakes 5 onto halted cpu 1 (ipi) and blocks;
    cpu 1 runs 5; 4 is woken back onto cpu 0 and never runs before the
    end; cpu 0 takes 6 from cpu 1's queue."""
    w = Writer(ncpu=2, cap=64, tsc_khz=1_000_000)           # 1000 cycles per us
    w.emit(0, "sched_switch", pid=0, prev=0, next=4, reason=4)           # tsc 1137
    w.emit(0, "sched_wakeup", pid=4, woken=5, target=1, ipi=1)           # 1274
    w.emit(1, "sched_switch", pid=0, prev=0, next=5, reason=4)           # 1411
    w.emit(0, "sched_switch", pid=0, prev=4, next=0, reason=0)           # 1548
    w.emit(1, "sched_wakeup", pid=5, woken=4, target=0, ipi=1)           # 1685
    w.emit(1, "sched_wakeup", pid=5, woken=6, target=1, ipi=0)           # 1822
    w.emit(0, "sched_migrate", pid=0, moved=6, from_cpu=1, to_cpu=0)     # 1959
    w.emit(0, "sched_switch", pid=0, prev=0, next=6, reason=4)           # 2096
    w.emit(0, "sched_switch", pid=0, prev=6, next=0, reason=3)           # 2233
    return parse_dump(w.dump())


def test_reasons_follow_the_kernel_list():
    r = sched.sched_reasons()
    assert r == {0: "blocked", 1: "yielded", 2: "preempted", 3: "exited", 4: "idle"}
    src = load_source_table()
    names = {et.name: et.spec for et in src.events.values()}
    assert names["sched_switch"] == "prev:d next:d reason:u"
    assert names["sched_wakeup"] == "woken:d target:u ipi:u"


def test_wake_latency():
    d = scenario()
    df = to_frame(d)
    lat = sched.wake_latency(df, rate=1000.0)
    assert list(lat.woken) == [5, 4, 6]
    five, four, six = (lat.iloc[i] for i in range(3))
    assert five.waker == 4 and five.target == 1 and five.ipi == 1
    assert five.latency == STEP and five.run_cpu == 1
    assert abs(five.latency_us - STEP / 1000.0) < 1e-9
    assert pd.isna(four.latency)                 # woken, never ran before the end
    assert six.latency == 2 * STEP and six.run_cpu == 0     # ran where it was taken to
    by = sched.latency_by_process(lat)
    row = by[by.pid == 4].iloc[0]
    assert row.wakeups == 1 and row.started == 0 and row.ipi == 1


def test_wake_latency_uses_the_next_start_only():
    w = Writer(ncpu=1, cap=64)
    w.emit(0, "sched_switch", pid=0, prev=0, next=7, reason=4)     # an earlier run: not it
    w.emit(0, "sched_switch", pid=0, prev=7, next=0, reason=0)
    w.emit(0, "sched_wakeup", pid=0, woken=7, target=0, ipi=0)
    w.emit(0, "sched_switch", pid=0, prev=0, next=7, reason=4)
    w.emit(0, "sched_switch", pid=0, prev=7, next=0, reason=0)
    w.emit(0, "sched_wakeup", pid=0, woken=7, target=0, ipi=0)
    w.emit(0, "sched_wakeup", pid=0, woken=8, target=0, ipi=0)
    w.emit(0, "sched_switch", pid=0, prev=0, next=7, reason=4)
    lat = sched.wake_latency(to_frame(parse_dump(w.dump())))
    assert list(lat.latency[:2]) == [STEP, 2 * STEP]
    assert pd.isna(lat.latency[2])                 # 8 never ran


def test_histogram_counts_every_started_wakeup():
    lat = sched.wake_latency(to_frame(scenario()), rate=1.0)    # 1 cycle per "us"
    h = sched.latency_histogram(lat)
    assert h["count"].sum() == 2
    assert int(h[(h.lo_us == 128)]["count"].iloc[0]) == 1       # 137
    assert int(h[(h.lo_us == 256)]["count"].iloc[0]) == 1       # 274
    assert pd.isna(h.iloc[-1].hi_us)


def test_running_slices():
    sl = sched.running_slices(to_frame(scenario()))
    rows = [tuple(r) for r in sl[["cpu", "pid", "start", "end", "reason"]].itertuples(index=False)]
    assert rows == [(0, 4, 1137, 1548, "blocked"),
                    (1, 5, 1411, 2233, "running"),       # still on cpu 1 at the end
                    (0, 6, 2096, 2233, "exited")]


def test_chrome_slices_per_cpu_and_process():
    d = scenario()
    df = to_frame(d)
    ev = sched.sched_chrome_events(df, d, names={4: "sh"})
    xs = [e for e in ev if e["ph"] == "X"]
    procs = [(e["pid"], e["tid"]) for e in xs if e["pid"] != sched.CPU_TRACK_PID]
    assert procs == [(4, 0), (5, 1), (6, 0)]
    cpu_track = [e for e in xs if e["pid"] == sched.CPU_TRACK_PID]
    assert [e["name"] for e in cpu_track] == ["sh (4)", "pid (5)", "pid (6)"]
    first = xs[0]
    assert first["ts"] == 0 and abs(first["dur"] - (1548 - 1137) / 1000.0) < 1e-9
    assert {e["args"]["name"] for e in ev if e["ph"] == "M"} == {"cpus", "cpu 0", "cpu 1"}


def test_cli_sched(tmp_path):
    path = tmp_path / "d.bin"
    path.write_bytes(Writer(ncpu=1).dump())         # no events at all: still works
    assert cli_main(["sched", str(path)]) == 0
    w = Writer(ncpu=2, cap=64, tsc_khz=1_000_000)
    w.emit(0, "sched_switch", pid=0, prev=0, next=4, reason=4)
    w.emit(0, "sched_wakeup", pid=4, woken=5, target=1, ipi=1)
    w.emit(1, "sched_switch", pid=0, prev=0, next=5, reason=4)
    path.write_bytes(w.dump())
    js, csv = tmp_path / "s.json", tmp_path / "w.csv"
    assert cli_main(["sched", str(path), "--json", str(js), "--csv", str(csv)]) == 0
    doc = json.loads(js.read_text())
    assert any(e.get("name") == "running" and e["pid"] == 5 for e in doc["traceEvents"])
    assert list(pd.read_csv(csv).latency) == [STEP]


def test_refuses_a_dump_without_a_clock(tmp_path, capsys):
    """No TSC rate in the dump: no latencies in made-up microseconds."""
    w = Writer(ncpu=1, tsc_khz=0)
    w.emit(0, "sched_wakeup", pid=0, woken=3, target=0, ipi=0)
    path = tmp_path / "noclock.bin"
    path.write_bytes(w.dump())
    assert cli_main(["sched", str(path)]) == 1
    assert "no TSC rate" in capsys.readouterr().err


def test_kernel_dump_is_consistent():
    """The kernel's own events: on each CPU a switch's prev is what the
    previous switch started; every started wake-up has latency >= 0; each
    migration's process next runs on the CPU that took it."""
    d = parse_dump(open(KDUMP, "rb").read())
    assert d.problems == [] and d.summary()["kernel_lost"] == 0
    df = to_frame(d)
    assert {"sched_wakeup", "sched_switch"} <= set(df.type)
    s = sched.switches(df)
    for cpu, g in s.groupby("cpu"):
        nexts = list(g.next)
        prevs = list(g.prev)
        assert prevs[1:] == nexts[:-1], "cpu %d: switch chain broken" % cpu
        assert (g[g.prev == 0].reason == "idle").all()
        assert (g[g.prev != 0].reason != "idle").all()
    lat = sched.wake_latency(df)
    started = lat.dropna(subset=["latency"])
    assert len(started) > 10 and (started.latency >= 0).all()
    for m in sched.migrations(df).itertuples(index=False):
        later = s[(s.tsc > m.tsc) & (s.next == m.moved)]
        assert len(later) and later.iloc[0].cpu == m.to_cpu
    # Every exec'd program ran on some CPU.
    sl = sched.running_slices(df)
    execs = df[df.type == "exec"]
    assert len(execs) and set(execs.pid) <= set(sl.pid)
