"""The traced lazy-vs-eager run (user/bench/vmphases.c under `trace run`).

vmphases repeats vmbench's touch phases inside marker events "ph:MODE:PCT"
(arg 1 = start, 0 = end). The trace counts faults and page allocations per
phase (checked against the program's own vmstat deltas), times every fault
in the kernel (the fault event's cycles field: the latency distribution per
fault kind) and shows the run over time. One boot: counts are exact.

Output line: csv,region_kib,pct,mode,cycles,pages,faults (the vmstat view)
"""
import re

import numpy as np
import pandas as pd

from kbench import parse as P, plot as K
from kbench.report import md_table

TITLE = "Faults seen by the trace (vmphases, traced)"
ORDER = 15
TRACE_OPTS = "-p -m stop -s 65536 -e fault,page_alloc,page_free,marker,mmap,munmap"
RUNS = [{"name": "vmphases", "cmd": "trace run %s vmphases 8" % TRACE_OPTS, "boots": 1,
         "com2": True, "needs": ["trace", "vmphases"]}]
# Its tables repeat under CLOCK=icount (every phase starts on a clock tick);
# the dump's bytes do not: its absolute times count from boot, disk included.
DETERMINISTIC = True

VM_RUN = [("region_kib", int), ("pct", int), ("mode", str), ("cycles", int),
          ("pages", int), ("faults", int)]
PHASE_RE = re.compile(r"^ph:(?P<mode>[^:]+):(?P<pct>\d+)$")
MODE_COLORS = {"lazy": "tab:blue", "populate": "tab:orange", "vm.lazy=0": "tab:red"}


def parse(run, lines, source):
    return P.parse_rows(lines, VM_RUN, source, "runs")


def phases(events):
    """Marker events "ph:MODE:PCT" -> one row per phase: phase, mode, pct,
    tsc_begin, tsc_end, complete (both markers seen), in order of start."""
    cols = ["phase", "mode", "pct", "tsc_begin", "tsc_end", "complete"]
    if events.empty or "label" not in events:
        return pd.DataFrame(columns=cols)
    mk = events[events["type"] == "marker"].sort_values("tsc", kind="stable")
    open_, rows = {}, []
    for _, r in mk.iterrows():
        m = PHASE_RE.match(str(r["label"]))
        if not m:
            continue
        lab = r["label"]
        if int(r["arg"]) == 1:
            if lab in open_:
                rows.append(open_.pop(lab))            # a start without an end
            open_[lab] = {"phase": lab, "mode": m.group("mode"), "pct": int(m.group("pct")),
                          "tsc_begin": int(r["tsc"]), "tsc_end": pd.NA, "complete": False}
        elif lab in open_:
            row = open_.pop(lab)
            row["tsc_end"] = int(r["tsc"])
            row["complete"] = True
            rows.append(row)
        else:
            rows.append({"phase": lab, "mode": m.group("mode"), "pct": int(m.group("pct")),
                         "tsc_begin": pd.NA, "tsc_end": int(r["tsc"]), "complete": False})
    rows.extend(open_.values())
    df = pd.DataFrame(rows, columns=cols)
    return df.sort_values("tsc_begin", kind="stable", na_position="last").reset_index(drop=True)


def assign_phase(events, ph):
    """events plus "phase": the complete phase holding the event's tsc."""
    out = events.copy()
    out["phase"] = None
    done = ph[ph["complete"]] if not ph.empty else ph
    for _, p in done.iterrows():
        inside = (out["tsc"] >= p["tsc_begin"]) & (out["tsc"] <= p["tsc_end"])
        out.loc[inside, "phase"] = p["phase"]
    return out


def phase_counts(events, ph):
    """Per complete phase: duration, faults, zero_faults, page_allocs,
    pages_alloc, pages_freed, fault_cycles_median."""
    cols = ["phase", "mode", "pct", "duration", "faults", "zero_faults", "page_allocs",
            "pages_alloc", "pages_freed", "fault_cycles_median"]
    if ph.empty:
        return pd.DataFrame(columns=cols)
    ev = assign_phase(events, ph)
    rows = []
    for _, p in ph[ph["complete"]].iterrows():
        e = ev[ev["phase"] == p["phase"]]
        f, a, fr = e[e["type"] == "fault"], e[e["type"] == "page_alloc"], \
            e[e["type"] == "page_free"]
        rows.append({
            "phase": p["phase"], "mode": p["mode"], "pct": p["pct"],
            "duration": int(p["tsc_end"]) - int(p["tsc_begin"]),
            "faults": len(f), "zero_faults": int((f["how"] == "zero").sum()) if len(f) else 0,
            "page_allocs": len(a),
            "pages_alloc": int((2 ** a["order"].astype("int64")).sum()) if len(a) else 0,
            "pages_freed": int((2 ** fr["order"].astype("int64")).sum()) if len(fr) else 0,
            "fault_cycles_median": float(f["cycles"].astype(float).median()) if len(f)
            else np.nan})
    return pd.DataFrame(rows, columns=cols)


def compare_counts(counts, runs):
    """phase_counts plus the program's vmstat view: counter_pages,
    counter_faults, agree."""
    r = runs.rename(columns={"pages": "counter_pages", "faults": "counter_faults"})
    r = r.drop_duplicates(["pct", "mode"])[["pct", "mode", "counter_pages", "counter_faults"]]
    out = counts.merge(r, on=["pct", "mode"], how="left")
    out["agree"] = (out["zero_faults"] == out["counter_faults"]) & \
        (out["pages_alloc"] == out["counter_pages"])
    return out


def event_timeline(events, ph, kind="fault", scale=1e6):
    """Events of one type inside phases -> t (cycles since the first phase
    began / scale), phase, mode, pct, n, weight, total (running sum)."""
    cols = ["t", "phase", "mode", "pct", "n", "weight", "total"]
    if ph.empty or events.empty:
        return pd.DataFrame(columns=cols)
    ev = assign_phase(events, ph)
    f = ev[(ev["type"] == kind) & ev["phase"].notna()].sort_values("tsc", kind="stable")
    t0 = ph["tsc_begin"].dropna().min()
    meta = ph.set_index("phase")
    out = pd.DataFrame({
        "t": (f["tsc"].astype(float) - float(t0)) / scale,
        "phase": f["phase"].to_numpy(),
        "mode": meta.loc[f["phase"], "mode"].to_numpy() if len(f) else [],
        "pct": meta.loc[f["phase"], "pct"].to_numpy() if len(f) else []})
    out["n"] = out.groupby("phase").cumcount() + 1
    if kind in ("page_alloc", "page_free") and len(f):
        out["weight"] = 2 ** f["order"].astype("int64").to_numpy()
    else:
        out["weight"] = 1
    out["total"] = out["weight"].cumsum() if len(out) else out["weight"]
    return out.reset_index(drop=True)[cols]


def fault_latency(events):
    """Fault events -> per fault kind ("how"): n, median, p90, p99, max of
    the kernel-measured cycles."""
    cols = ["how", "n", "median", "p90", "p99", "max"]
    f = events[events["type"] == "fault"] if not events.empty else events
    rows = []
    for how, g in (f.groupby("how", sort=True) if len(f) else []):
        c = g["cycles"].astype(float).to_numpy()
        p50, p90, p99 = np.percentile(c, [50, 90, 99])
        rows.append({"how": how, "n": len(c), "median": p50, "p90": p90, "p99": p99,
                     "max": c.max()})
    return pd.DataFrame(rows, columns=cols)


def analyse(data):
    tr = data.traces.get("vmphases")
    if tr is None:
        return {"trace_phases": pd.DataFrame(), "fault_timeline": pd.DataFrame(),
                "fault_latency": pd.DataFrame(), "_events": pd.DataFrame(), "_summary": None,
                "_phases": pd.DataFrame(columns=["complete"]), "_allocs": pd.DataFrame()}
    events, summary = tr
    ph = phases(events)
    for p in ph[~ph["complete"]].itertuples():
        data.problems.append(P.Problem("faults/vmphases trace", 0,
                                       "phase %s has only one marker" % p.phase))
    counts = compare_counts(phase_counts(events, ph), data.table("vmphases.runs"))
    return {"trace_phases": counts, "fault_timeline": event_timeline(events, ph),
            "fault_latency": fault_latency(events), "_events": events, "_summary": summary,
            "_phases": ph, "_allocs": event_timeline(events, ph, "page_alloc")}


def tsc_khz(tables):
    s = tables["_summary"]
    return s.get("tsc_khz") if s else None


def figures(tables, ctx):
    return [("fault_timeline.png", plot_timeline(tables["fault_timeline"], tables["_phases"],
                                                 tables["_allocs"])),
            ("fault_latency.png", plot_latency(tables["_events"], ctx))]


def plot_latency(events, ctx):
    """Per fault kind: histogram (left, log-spaced bins) and CDF (right) of
    the kernel-measured cycles of each fault, with µs on the top axis."""
    f = events[events["type"] == "fault"] if len(events) else events
    if f is None or not len(f):
        return K.empty_figure("no fault events in the trace")
    fig, (ax, ax2) = K.plt.subplots(1, 2, figsize=(11, 4.2))
    c = f["cycles"].astype(float).clip(lower=1)
    bins = np.logspace(np.log10(c.min()), np.log10(c.max() * 1.01), 40)
    for how, g in f.groupby("how", sort=True):
        v = np.sort(g["cycles"].astype(float).clip(lower=1).to_numpy())
        color = K.COLORS.get(how)
        ax.hist(v, bins=bins, histtype="step", linewidth=1.4, color=color,
                label="%s (%d faults)" % (how, len(v)))
        ax2.plot(v, np.arange(1, len(v) + 1) / len(v), color=color,
                 label="%s: median %.0f, p99 %.0f" % (how, np.median(v), np.percentile(v, 99)))
    for a in (ax, ax2):
        a.set_xscale("log")
        a.set_xlabel("cycles per fault, measured in the kernel (log scale)")
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
        if ctx.tsc_khz:
            top = a.secondary_xaxis("top", functions=(lambda x: x / ctx.tsc_khz * 1000,
                                                       lambda u: u * ctx.tsc_khz / 1000))
            top.set_xlabel("µs per fault", fontsize=8)
    ax.set_ylabel("faults per bin (bins equal on the log axis)")
    ax.set_title("Fault latency histogram per fault kind", fontsize=10)
    ax2.set_ylabel("share of faults at or below (CDF)")
    ax2.set_ylim(0, 1.01)
    ax2.set_title("Cumulative distribution", fontsize=10)
    K.note(fig, "one fault event = one sample; traced run, one boot")
    fig.tight_layout()
    return fig


def plot_timeline(timeline, ph, allocs=None, scale=1e6, unit="Mcycles"):
    """Cumulative faults (top) and pages allocated (bottom) over time, one
    shaded span per phase."""
    done = ph[ph["complete"]] if len(ph) else ph
    if done.empty:
        return K.empty_figure("no phases in the trace")
    panels = 2 if allocs is not None and len(allocs) else 1
    fig, axes = K.plt.subplots(panels, 1, figsize=(10, 3.2 + 2.4 * panels), sharex=True,
                               squeeze=False)
    axes = [a[0] for a in axes]
    t0 = float(done["tsc_begin"].min())
    series = [(timeline, "page faults so far")]
    if panels == 2:
        series.append((allocs, "pages allocated so far"))
    for k, (ax, (tl, ylabel)) in enumerate(zip(axes, series)):
        top = max(1, int(tl["total"].max()) if len(tl) else 1)
        for i, (_, p) in enumerate(done.iterrows()):
            a = (float(p["tsc_begin"]) - t0) / scale
            b = (float(p["tsc_end"]) - t0) / scale
            ax.axvspan(a, b, color=MODE_COLORS.get(p["mode"], "0.5"), alpha=0.12, linewidth=0)
            if k == 0:
                ax.text((a + b) / 2, top * (1.02 + 0.07 * (i % 3)), "%s\n%d%%" % (
                    {"vm.lazy=0": "eager"}.get(p["mode"], p["mode"][:4]), p["pct"]),
                    ha="center", va="bottom", fontsize=6)
        for mode in sorted(set(tl["mode"])) if len(tl) else []:
            t = tl[tl["mode"] == mode]
            ax.plot(t["t"], t["total"], ".", markersize=1.5, color=MODE_COLORS.get(mode),
                    label="%s: %d %s" % (mode, int(t["weight"].sum()),
                                         "faults" if k == 0 else "pages"))
        ax.set_ylim(0, top * (1.3 if k == 0 else 1.05))
        ax.set_ylabel(ylabel)
        if len(tl):
            ax.legend(fontsize=8, loc="upper left", markerscale=6)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time since the first phase began (%s)" % unit)
    axes[0].set_title("Traced lazy vs eager run over time (shaded = phase: blue lazy, "
                      "orange MAP_POPULATE, red vm.lazy=0)", fontsize=9)
    K.note(fig, "one point per event (exact counts)")
    fig.tight_layout()
    return fig


def key_figures(tables, ctx):
    pc, lat = tables["trace_phases"], tables["fault_latency"]
    out = []
    if not pc.empty:
        out.append("Traced run: trace and vmstat counters agree in %d of %d phases." % (
            int(pc["agree"].sum()), len(pc)))
    for r in lat.itertuples():
        if r.n >= 10:
            out.append("Faults resolved as %s (%d): median %.0f cycles (%.2f µs), 99th "
                       "percentile %.0f, measured in the kernel." % (
                           r.how, r.n, r.median, ctx.us(r.median), r.p99))
    return out


def section(tables, ctx):
    pc, lat, summary = tables["trace_phases"], tables["fault_latency"], tables["_summary"]
    if pc.empty:
        return ["No traced run in this run folder (see Runs and Problems).", ""]
    t = pc[["mode", "pct", "faults", "zero_faults", "counter_faults", "pages_alloc",
            "counter_pages", "fault_cycles_median", "agree"]]
    s = ["Events per phase counted from the trace between the program's marker events, "
         "beside the program's own vmstat deltas. `fault_cycles_median` is the kernel's own "
         "timing of each fault (the fault event's cycles field).", "",
         md_table(t, {"fault_cycles_median": "{:.0f}"}), "",
         "Trace and counters agree in every phase: **%s**." % (
             "yes" if bool(pc["agree"].all()) else "NO"), ""]
    if not lat.empty:
        l2 = lat.copy()
        l2["median_us"] = [ctx.us(v) for v in lat["median"]]
        s += ["Fault latency per kind (kernel-measured cycles; one sample per fault):", "",
              md_table(l2, {"median": "{:.0f}", "p90": "{:.0f}", "p99": "{:.0f}",
                            "max": "{:.0f}", "median_us": "{:.2f}"},
                       {"median_us": "median µs"}), ""]
        z = lat.set_index("how")
        if "zero" in z.index and z.loc["zero", "median"]:
            s += ["The slowest 1%% of zero-fill faults take %.1fx the median or more: the "
                  "kernel's timing covers everything that happens inside the fault, for "
                  "example a timer interrupt taken meanwhile." % (
                      z.loc["zero", "p99"] / z.loc["zero", "median"]), ""]
    if summary:
        s += ["Trace dump: %d records, %d lost by the kernel, %d bad frames." % (
            summary.get("records", 0), summary.get("kernel_lost", 0),
            summary.get("bad_frames", 0)), ""]
    s += ["![fault latency](faults/fault_latency.png)", "",
          "![fault timeline](faults/fault_timeline.png)", ""]
    return s
