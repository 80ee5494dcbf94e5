"""Write a decoded trace: tidy CSV and Chrome trace-event JSON (open the
JSON in https://ui.perfetto.dev or chrome://tracing). Both carry the
losses: CSV rows of type "lost", JSON instant events "N events lost" where
they happened plus totals in otherData.

    >>> write_csv(df, "events.csv", dump); write_chrome_json(df, dump, "trace.json")
"""
import json
import os
import re

import pandas as pd

from .checks import loss_table

TICK_HZ = 100                    # the kernel's timer rate (v1 dumps' tsc_per_tick)
SYSCALL_H = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "..", "..", "kernel", "syscall.h")


class NoClock(ValueError):
    """The dump does not say how fast its TSC ran."""


def tsc_per_us(dump):
    """TSC cycles per microsecond as the kernel measured it (tsc_khz; v1:
    tsc_per_tick). NoClock if the dump does not say: never a guess."""
    khz = dump.config.get("tsc_khz")
    if isinstance(khz, int) and khz > 0:
        return khz / 1000.0
    per_tick = dump.config.get("tsc_per_tick")
    if isinstance(per_tick, int) and per_tick > 0:
        return per_tick * TICK_HZ / 1e6
    raise NoClock("the dump has no TSC rate (tsc_khz): cannot give times")


def syscall_names(path=SYSCALL_H):
    """{number: name} from kernel/syscall.h ({} if unreadable)."""
    try:
        with open(path) as fh:
            return {int(m.group(2)): m.group(1) for m in
                    re.finditer(r"#define SYS_(\w+)\s+(\d+)", fh.read())}
    except OSError:
        return {}


def loss_events(dump, df):
    """One row per loss: (cpu, tsc, tsc_end, n, type name, why): events of
    a type the ring overwrote (flight: before the oldest kept record of the
    cpu) or dropped (stop: after the newest), and the pause windows."""
    out = []
    for c, name, _, _, over, _ in loss_table(dump):
        if over <= 0:
            continue
        mine = df[df["cpu"] == c]["tsc"] if len(df) else pd.Series(dtype="int64")
        if dump.config.get("mode") == "stop":
            t = int(mine.max()) if len(mine) else 0
            out.append((c, t, t, over, name, "dropped: buffer full"))
        else:
            t = int(mine.min()) if len(mine) else 0
            out.append((c, t, t, over, name, "overwritten: buffer wrapped"))
    names = {code: et.name for code, et in dump.table.events.items()}
    for p in dump.pauses:
        out.append((p.cpu, p.t0, p.t1, p.n, names.get(p.type, "?%d" % p.type),
                    "recording paused" + (" (still paused at the dump)" if p.open else "")))
    return out


def write_csv(df, path, dump=None):
    """The records, then (with dump) one row per loss: type "lost", the
    cpu, tsc (tsc_end), lost = how many, lost_type, lost_why."""
    if dump is not None:
        rows = [{"cpu": c, "tsc": t0, "type": "lost", "lost": n, "lost_type": name,
                 "lost_why": why, "tsc_end": t1}
                for c, t0, t1, n, name, why in loss_events(dump, df)]
        extra = pd.DataFrame(rows, columns=["cpu", "tsc", "type", "lost", "lost_type",
                                            "lost_why", "tsc_end"])
        df = df.copy()
        for col in ("lost", "lost_type", "lost_why", "tsc_end"):
            df[col] = None
        if len(extra):
            df = pd.concat([df, extra], ignore_index=True)
        for col in ("cpu", "tsc", "seq", "pid", "lost", "tsc_end"):
            if col in df.columns:
                try:
                    df[col] = df[col].astype("Int64")
                except (TypeError, ValueError, OverflowError):
                    pass                 # (values past 2^63: left as they are)
    df.to_csv(path, index=False)


def _clean(v):
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def _hex_fields(dump):
    return {f.name for et in dump.table.events.values() for f in et.fields if f.kind in "xp"}


def chrome_events(df, dump):
    """The trace events: faults and system calls as complete slices,
    everything else as instants, losses as global instants; pid = process,
    tid = CPU, with process and thread names. Times in µs from the earliest
    moment shown (never negative). NoClock if the dump has no TSC rate."""
    rate = tsc_per_us(dump)
    hexf = _hex_fields(dump)
    sysnames = syscall_names()
    losses = loss_events(dump, df)
    starts = []
    if len(df):
        starts.append(int(df["tsc"].min()))
        for kind in ("fault", "sys_exit"):
            rows = df[df["type"] == kind]
            if len(rows) and "cycles" in df.columns:
                starts.append(int((rows["tsc"] - rows["cycles"].fillna(0).astype("int64")).min()))
    starts += [t0 for _, t0, _, _, _, _ in losses]
    base = min(starts) if starts else 0
    fields = [c for c in df.columns if c not in ("seq", "cpu", "pid", "tsc", "t", "t_us", "type")]
    out, names, threads = [], {}, set()
    for row in df.itertuples(index=False):
        r = row._asdict()
        args = {}
        for k in fields:
            v = _clean(r[k])
            if v is not None:
                args[k] = "0x%x" % v if k in hexf and isinstance(v, int) else v
        args["seq"] = int(r["seq"])
        pid, cpu = int(r["pid"]), int(r["cpu"])
        ts = (int(r["tsc"]) - base) / rate
        e = {"name": r["type"], "cat": r["type"], "pid": pid, "tid": cpu, "ts": ts,
             "args": args}
        threads.add((pid, cpu))
        if r["type"] in ("fault", "sys_exit"):
            dur = (_clean(r.get("cycles")) or 0) / rate
            e.update(ph="X", ts=ts - dur, dur=dur)
            if r["type"] == "fault":
                e["name"] = "fault " + str(r.get("how"))
            else:
                num = _clean(r.get("num"))
                e["name"] = "sys " + sysnames.get(num, str(num))
                e["cat"] = "syscall"
        elif r["type"] == "marker":
            e.update(ph="i", s="p", name="mark " + str(r.get("label")))
        else:
            e.update(ph="i", s="t")
        if r["type"] in ("exec", "fork", "exit") and r.get("name"):
            names[pid] = r["name"]
        out.append(e)
    for c, t0, t1, n, name, why in losses:
        out.append({"name": "%d events lost" % n, "cat": "lost", "ph": "i", "s": "g",
                    "pid": 0, "tid": c, "ts": (t0 - base) / rate,
                    "args": {"lost": n, "type": name, "why": why, "cpu": c,
                             "until_us": (t1 - base) / rate}})
        threads.add((0, c))
    pids = sorted({p for p, _ in threads})
    for pid in pids:
        label = "lost events" if pid == 0 else "%s (%d)" % (names.get(pid, "pid"), pid)
        out.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
                    "args": {"name": label}})
    for pid, cpu in sorted(threads):
        out.append({"name": "thread_name", "ph": "M", "pid": pid, "tid": cpu,
                    "args": {"name": "cpu %d" % cpu}})
    return out


def write_chrome_json(df, dump, path):
    """The Chrome trace JSON; otherData carries the clock and loss totals."""
    rows = loss_table(dump)
    by_type = {}
    for _, name, _, _, over, paused in rows:
        by_type[name] = by_type.get(name, 0) + over + paused
    doc = {"traceEvents": chrome_events(df, dump), "displayTimeUnit": "ns",
           "otherData": {"tsc_per_us": tsc_per_us(dump),
                         "tsc_khz": dump.config.get("tsc_khz"),
                         "mode": str(dump.config.get("mode", "?")),
                         "records": len(dump.records),
                         "lost_overflow": sum(r[4] for r in rows),
                         "lost_paused": sum(r[5] for r in rows),
                         "lost_by_type": {k: v for k, v in by_type.items() if v},
                         "problems": [str(p) for p in dump.problems],
                         "dump": "%d of %d" % (dump.index + 1, dump.ndumps),
                         "reason": str(dump.config.get("reason", "call"))}}
    with open(path, "w") as fh:
        json.dump(doc, fh)
