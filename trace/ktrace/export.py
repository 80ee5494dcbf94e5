"""Write a decoded trace: tidy CSV and Chrome trace-event JSON (open the
JSON in https://ui.perfetto.dev or chrome://tracing)."""
import json

import pandas as pd

DEFAULT_TSC_PER_US = 1000.0      # when the dump does not say (assume 1 GHz)
TICK_HZ = 100                    # the kernel's timer rate (lapic.c)


def tsc_per_us(dump):
    """TSC cycles per microsecond, from the header's tsc_per_tick."""
    per_tick = dump.config.get("tsc_per_tick")
    if isinstance(per_tick, int) and per_tick > 0:
        return per_tick * TICK_HZ / 1e6
    return DEFAULT_TSC_PER_US


def write_csv(df, path):
    df.to_csv(path, index=False)


def _clean(v):
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def chrome_events(df, dump):
    """The list of trace events: faults as complete slices (their cycles as
    duration), everything else as instant events; tracks are pid / cpu."""
    rate = tsc_per_us(dump)
    base = int(df["tsc"].min()) if len(df) else 0
    fields = [c for c in df.columns if c not in ("seq", "cpu", "pid", "tsc", "t", "type")]
    out, names = [], {}
    for row in df.itertuples(index=False):
        r = row._asdict()
        args = {k: _clean(r[k]) for k in fields if _clean(r[k]) is not None}
        args["seq"] = int(r["seq"])
        ts = (int(r["tsc"]) - base) / rate
        e = {"name": r["type"], "cat": r["type"], "pid": int(r["pid"]), "tid": int(r["cpu"]),
             "ts": ts, "args": args}
        if r["type"] == "fault":
            dur = (_clean(r.get("cycles")) or 0) / rate
            e.update(ph="X", ts=ts - dur, dur=dur, name="fault " + str(r.get("how")))
        elif r["type"] == "marker":
            e.update(ph="i", s="p", name="mark " + str(r.get("label")))
        else:
            e.update(ph="i", s="t")
        if r["type"] in ("exec", "fork", "exit") and r.get("name"):
            names[int(r["pid"])] = r["name"]
        out.append(e)
    for pid, name in sorted(names.items()):
        out.append({"name": "process_name", "ph": "M", "pid": pid, "tid": 0,
                    "args": {"name": "%s (%d)" % (name, pid)}})
    return out


def write_chrome_json(df, dump, path):
    doc = {"traceEvents": chrome_events(df, dump), "displayTimeUnit": "ns",
           "otherData": {"tsc_per_us": tsc_per_us(dump),
                         "mode": str(dump.config.get("mode", "?"))}}
    with open(path, "w") as fh:
        json.dump(doc, fh)
