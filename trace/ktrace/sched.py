"""Scheduler events: wake-up-to-run latency and running slices per CPU.

Reads the sched_wakeup / sched_switch / sched_migrate rows of a decoded
trace (transform.to_frame) -- recorded only when asked for by name:

    guest$ trace run -e sched_wakeup,sched_switch,sched_migrate,fork,exec pipebench
    $ PYTHONPATH=trace /usr/bin/python3 -m ktrace sched results/trace-pipebench/dump.bin \\
          --json results/trace-pipebench/sched.json --csv results/trace-pipebench/wakeups.csv
    wake-up to run latency per process (us):
      pid name        wakeups  ipi   p50    p90    max
        4 pipebench      8012    3   2.1    3.0   96.3
    ...
    latency histogram (us): <1: 12  1-2: 3040  2-4: 4800 ...
    cpu 0: 15210 switches, 40 migrations in; busy 97.5%

Latency of a wake-up: from the sched_wakeup event naming a process to the
next sched_switch that starts it (on any CPU). A wake-up whose process is
not started before the trace ends has no latency (NaN) and is counted as
pending. Slices: on each CPU, a switch ends the slice of `prev` and starts
one of `next`; a slice still open at the end of the trace ends there
(reason "running").
"""
import json
import os
import re

import pandas as pd

from .events import SOURCE
from .checks import cross_check
from .export import chrome_events, tsc_per_us, NoClock

_SCHED_RE = re.compile(r'^TRACE_SCHED\((\w+),\s*(\d+),\s*"(\w+)"\)')
LAT_EDGES_US = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]
CPU_TRACK_PID = 0        # the Chrome "process" holding one track per CPU


def sched_reasons(path=SOURCE):
    """{code: name} of TRACE_SCHED_KINDS in kernel/trace_events.h."""
    out = {}
    with open(path) as fh:
        for line in fh:
            m = _SCHED_RE.match(line.strip())
            if m:
                out[int(m.group(2))] = m.group(3)
    return out


def _rows(df, kind, cols):
    if df is None or len(df) == 0 or "type" not in df.columns:
        return pd.DataFrame(columns=["tsc", "cpu", "pid"] + cols)
    d = df[df["type"] == kind]
    out = d[["tsc", "cpu", "pid"] + [c for c in cols if c in d.columns]].copy()
    for c in cols:
        if c not in out.columns:
            out[c] = pd.NA
    for c in ["tsc", "cpu", "pid"] + cols:
        out[c] = out[c].astype("int64")
    return out.sort_values("tsc", kind="stable").reset_index(drop=True)


def switches(df, reasons=None):
    """sched_switch rows: tsc, cpu, prev, next, reason (named)."""
    reasons = reasons if reasons is not None else sched_reasons()
    s = _rows(df, "sched_switch", ["prev", "next", "reason"])
    s["reason"] = s["reason"].map(lambda r: reasons.get(int(r), "?%d" % int(r)))
    return s


def wakeups(df):
    """sched_wakeup rows: tsc, cpu (where the waker ran), pid (the waker;
    0: none), woken, target (its CPU), ipi."""
    return _rows(df, "sched_wakeup", ["woken", "target", "ipi"])


def migrations(df):
    return _rows(df, "sched_migrate", ["moved", "from_cpu", "to_cpu"])


def process_names(df):
    """{pid: last program name} from fork/exec/exit events."""
    names = {}
    if df is None or len(df) == 0 or "name" not in df.columns:
        return names
    for row in df[df["type"].isin(["fork", "exec", "exit"])].itertuples(index=False):
        if isinstance(row.name, str) and row.name:
            if row.type == "fork" and hasattr(row, "child") and pd.notna(row.child):
                names.setdefault(int(row.child), row.name)
            names[int(row.pid)] = row.name
    return names


def wake_latency(df, rate=None):
    """One row per wake-up: tsc, woken, waker, target, ipi, run_cpu,
    run_tsc, latency (cycles) and latency_us (if rate, TSC cycles per us,
    is given). Unstarted wake-ups have NaN latency."""
    w = wakeups(df)
    s = switches(df, reasons={})
    starts = {}
    for row in s[s["next"] != 0].itertuples(index=False):
        starts.setdefault(int(row.next), []).append((int(row.tsc), int(row.cpu)))
    pos = {pid: 0 for pid in starts}
    out = []
    for row in w.itertuples(index=False):
        pid = int(row.woken)
        lst = starts.get(pid, [])
        i = pos.get(pid, 0)
        while i < len(lst) and lst[i][0] < row.tsc:
            i += 1
        pos[pid] = i
        run_tsc, run_cpu = lst[i] if i < len(lst) else (None, None)
        out.append({"tsc": int(row.tsc), "woken": pid, "waker": int(row.pid),
                    "target": int(row.target), "ipi": int(row.ipi),
                    "run_cpu": run_cpu, "run_tsc": run_tsc,
                    "latency": None if run_tsc is None else run_tsc - int(row.tsc)})
    cols = ["tsc", "woken", "waker", "target", "ipi", "run_cpu", "run_tsc", "latency"]
    lat = pd.DataFrame(out, columns=cols)
    for c in ("run_cpu", "run_tsc", "latency"):
        lat[c] = lat[c].astype("Int64")
    if rate:
        lat["latency_us"] = lat["latency"].astype("float64") / rate
    return lat


def latency_by_process(lat, names=None):
    """Per woken process: wakeups, started, ipi, p50_us, p90_us, max_us."""
    names = names or {}
    rows = []
    for pid, g in lat.groupby("woken"):
        us = g["latency_us"].dropna()
        rows.append({"pid": int(pid), "name": names.get(int(pid), ""),
                     "wakeups": len(g), "started": len(us), "ipi": int(g["ipi"].sum()),
                     "p50_us": us.quantile(0.5) if len(us) else float("nan"),
                     "p90_us": us.quantile(0.9) if len(us) else float("nan"),
                     "max_us": us.max() if len(us) else float("nan")})
    return pd.DataFrame(rows, columns=["pid", "name", "wakeups", "started", "ipi",
                                       "p50_us", "p90_us", "max_us"])


def latency_histogram(lat, edges=LAT_EDGES_US):
    """Wake-ups per latency bucket [edges[i], edges[i+1]) in us; the last
    bucket is open-ended. Columns: lo_us, hi_us (None: open), count."""
    us = lat["latency_us"].dropna() if "latency_us" in lat else pd.Series([], dtype=float)
    rows = []
    for i, lo in enumerate(edges):
        hi = edges[i + 1] if i + 1 < len(edges) else None
        n = int(((us >= lo) & (us < hi)).sum()) if hi is not None else int((us >= lo).sum())
        rows.append({"lo_us": lo, "hi_us": hi, "count": n})
    return pd.DataFrame(rows, columns=["lo_us", "hi_us", "count"])


def running_slices(df, reasons=None):
    """Per CPU, who ran when: rows cpu, pid, start, end (tsc), reason (why
    it left, or "running" if still on the CPU when the trace ends).
    A CPU's first switch tells who was running before it only from then."""
    s = switches(df, reasons)
    end_tsc = int(df["tsc"].max()) if df is not None and len(df) else 0
    out = []
    for cpu, g in s.groupby("cpu"):
        cur = None                     # (pid, start)
        for row in g.itertuples(index=False):
            if cur is not None and cur[0] == row.prev and row.prev != 0:
                out.append({"cpu": int(cpu), "pid": cur[0], "start": cur[1],
                            "end": int(row.tsc), "reason": row.reason})
            cur = (int(row.next), int(row.tsc)) if row.next != 0 else None
        if cur is not None:
            out.append({"cpu": int(cpu), "pid": cur[0], "start": cur[1], "end": end_tsc,
                        "reason": "running"})
    sl = pd.DataFrame(out, columns=["cpu", "pid", "start", "end", "reason"])
    return sl.sort_values(["start", "cpu"], kind="stable").reset_index(drop=True)


def sched_chrome_events(df, dump, names=None):
    """Chrome trace events for the running slices: on each process's track
    for the CPU it ran on (pid = process, tid = cpu), and on a "cpus"
    process with one track per CPU (pid CPU_TRACK_PID, tid = cpu)."""
    rate = tsc_per_us(dump)
    base = int(df["tsc"].min()) if len(df) else 0
    names = names if names is not None else process_names(df)
    out = []
    for r in running_slices(df).itertuples(index=False):
        ts, dur = (r.start - base) / rate, (r.end - r.start) / rate
        label = "%s (%d)" % (names.get(r.pid, "pid"), r.pid)
        args = {"left": r.reason}
        out.append({"name": "running", "cat": "sched", "ph": "X", "pid": int(r.pid),
                    "tid": int(r.cpu), "ts": ts, "dur": dur, "args": args})
        out.append({"name": label, "cat": "sched", "ph": "X", "pid": CPU_TRACK_PID,
                    "tid": int(r.cpu), "ts": ts, "dur": dur, "args": args})
    out.append({"name": "process_name", "ph": "M", "pid": CPU_TRACK_PID, "tid": 0,
                "args": {"name": "cpus"}})
    for c in sorted(set(int(x) for x in switches(df, {})["cpu"])):
        out.append({"name": "thread_name", "ph": "M", "pid": CPU_TRACK_PID, "tid": c,
                    "args": {"name": "cpu %d" % c}})
    return out


def report(df, dump, out):
    """Print the per-process latency table, the histogram and per-CPU
    counts to the file out. Returns the wake-up latency frame."""
    rate = tsc_per_us(dump)
    lat = wake_latency(df, rate)
    names = process_names(df)
    by = latency_by_process(lat, names)
    pending = int(lat["latency"].isna().sum())
    print("wake-ups %d (ipi %d, not started before the end %d), tsc %.0f per us "
          "(measured at boot)" % (len(lat), int(lat["ipi"].sum()) if len(lat) else 0,
                                  pending, rate), file=out)
    print("wake-up to run latency per process (us):", file=out)
    print("  %5s %-15s %8s %6s %9s %9s %9s" % ("pid", "name", "wakeups", "ipi", "p50", "p90",
                                                 "max"), file=out)
    for r in by.itertuples(index=False):
        print("  %5d %-15s %8d %6d %9.1f %9.1f %9.1f"
              % (r.pid, r.name[:15], r.wakeups, r.ipi, r.p50_us, r.p90_us, r.max_us), file=out)
    h = latency_histogram(lat)
    print("latency histogram (us): " + "  ".join(
        "%s-%s: %d" % (r.lo_us, "" if pd.isna(r.hi_us) else int(r.hi_us), r.count)
        for r in h.itertuples(index=False)), file=out)
    s, m, sl = switches(df), migrations(df), running_slices(df)
    span = (int(df["tsc"].max()) - int(df["tsc"].min())) if len(df) else 0
    for c in sorted(set(s["cpu"]) | set(m["to_cpu"])):
        busy = (sl[sl["cpu"] == c]["end"] - sl[sl["cpu"] == c]["start"]).sum()
        print("cpu %d: %d switches, %d migrations in; busy %.1f%%"
              % (c, int((s["cpu"] == c).sum()), int((m["to_cpu"] == c).sum()),
                 100.0 * busy / span if span else 0.0), file=out)
    return lat


def cmd_sched(args):
    import sys
    from .wire import parse_dump
    from .transform import to_frame
    with open(args.dump, "rb") as fh:
        dump = parse_dump(fh.read())
    cross_check(dump)
    df = to_frame(dump)
    try:
        lat = report(df, dump, sys.stdout)
    except NoClock as e:        # never a guessed clock
        print("ktrace sched: %s" % e, file=sys.stderr)
        return 1
    for path in (args.csv, args.json):
        if path and os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
    if args.csv:
        lat.to_csv(args.csv, index=False)
    if args.json:
        doc = {"traceEvents": chrome_events(df, dump) + sched_chrome_events(df, dump),
               "displayTimeUnit": "ns", "otherData": {"tsc_per_us": tsc_per_us(dump)}}
        with open(args.json, "w") as fh:
            json.dump(doc, fh)
    for p in dump.problems:
        print("problem: %s" % p)
    return 1 if dump.problems else 0


def add_command(sub):
    """Register `ktrace sched DUMP [--csv F] [--json F]` on the CLI's subparsers."""
    p = sub.add_parser("sched", help="wake-up latency per process, running slices per CPU")
    p.add_argument("dump")
    p.add_argument("--csv", help="one row per wake-up, with its latency")
    p.add_argument("--json", help="Chrome trace JSON: all events plus running slices")
    p.set_defaults(func=cmd_sched)
