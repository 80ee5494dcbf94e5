"""Tracing overhead (user/bench/tracebench.c).

Cycles to record one event with tracing off and on, and a fault-heavy
workload (map, touch and unmap N pages) with tracing off and on: per page a
fault, a page_alloc and a page_free event (the default mask, every
process), plus one mmap and one munmap per run. The slowdown of a boot is
its best traced run against its best untraced run (a busy host only adds
time); two other estimates are shown beside it: the mean of the fastest
quarter of each, and the median of the adjacent off/on pairs' slowdowns.
On a busy host all three swing from boot to boot; when the boots disagree
by more than the target itself the verdict says so instead of met / not
met.

Output lines: csvstat,NAME,VALUE and "touch N pages: ..." (N, the workload)
"""
import re

import pandas as pd

from kbench import parse as P, plot as K, stats as S
from kbench.report import md_table

TITLE = "Tracing overhead (tracebench)"
ORDER = 50
RUNS = [{"name": "tracebench", "cmd": "tracebench 512 31"}]
DETERMINISTIC = True

TOUCH_RE = re.compile(r"^touch (\d+) pages:")
TARGET_PCT = 5.0          # the design target for the slowdown with tracing on
TARGET_EVENT = 100.0      # the design target for cycles per event with tracing on
PART_PREFIX = "part_cycles_x100_"
PART_MEANING = {
    "check": "is this event type traced (one test of trace_live)",
    "irq": "saving and restoring the interrupt flag",
    "rdtsc": "reading the time-stamp counter",
    "off": "a whole counted event of a type not traced, interrupts on at the call",
    "off_cli": "the same, interrupts already off (the fault path's case)",
    "record": "a whole record, interrupts on at the call",
    "record_cli": "a whole record, interrupts already off (the fault path's case)",
    "fault": "a fault's record as the fault path makes it (inline, interrupts off)",
    "page": "a page_alloc/page_free record as the allocator makes it (inline, its lock held)",
    "floor": "the least a record can cost: rdtsc and 12 stores, no test, no counter",
    "stores": "the 12 stores of a record alone",
}
# Record kinds of the fault-heavy workload (TRACE_BENCHPART parts) and how
# many of each it records per touched page.
WORKLOAD_PARTS = {"fault": 1, "page": 2}


def parse(run, lines, source):
    """tracebench output -> Tables stats (name, value), with touch_pages."""
    t = P.Tables()
    stats = []
    lines = list(lines)
    for raw in lines:
        m = TOUCH_RE.match(raw.strip())
        if m:
            stats.append({"name": "touch_pages", "value": int(m.group(1))})
    for i, line in P.csv_lines(lines, source, t.problems):
        kind, _, rest = line.partition(",")
        if kind != "csvstat":
            t.problems.append(P.Problem(source, i, "unknown line kind %r" % kind, line))
            continue
        s = P.stat(rest.split(","), source, i, line, t.problems, "value")
        if s:
            stats.append(s)
    t["stats"] = pd.DataFrame(stats, columns=["name", "value"])
    return t


def per_boot(stats):
    """stats -> one row per boot: event_off, event_on (cycles/event),
    touch_off, touch_on (cycles), slowdown (%), added_per_page (cycles)."""
    cols = ["boot", "event_off", "event_on", "touch_off", "touch_on", "slowdown",
            "slowdown_quarter", "slowdown_pairs", "added_per_page"]
    if stats.empty:
        return pd.DataFrame(columns=cols)
    w = stats.pivot_table(index="boot", columns="name", values="value", aggfunc="first")
    out = pd.DataFrame(index=w.index)
    if "event_cycles_off_x100" in w:
        out["event_off"] = w["event_cycles_off_x100"] / 100
    if "event_cycles_on_x100" in w:
        out["event_on"] = w["event_cycles_on_x100"] / 100
    if "touch_kcycles_off" in w and "touch_kcycles_on" in w:
        off, on = w["touch_kcycles_off"] * 1024.0, w["touch_kcycles_on"] * 1024.0
        out["touch_off"], out["touch_on"] = off, on
        out["slowdown"] = (on - off) / off * 100
        if "slowdown_quarter_pct_x100" in w:  # the fastest quarter of each
            out["slowdown_quarter"] = w["slowdown_quarter_pct_x100"] / 100
        if "slowdown_pairs_pct_x100" in w:    # the median of the off/on pairs
            out["slowdown_pairs"] = w["slowdown_pairs_pct_x100"] / 100
        if "touch_pages" in w:
            out["added_per_page"] = (on - off) / w["touch_pages"]
    return out.reindex(columns=cols[1:]).reset_index()


UNITS = {"event_off": "cycles/event", "event_on": "cycles/event", "touch_off": "cycles",
         "touch_on": "cycles", "slowdown": "%", "slowdown_quarter": "%", "slowdown_pairs": "%",
         "added_per_page": "cycles/page"}


def trace_overhead(pb):
    """per_boot -> rows metric, value (median), min, max, unit, boots."""
    cols = ["metric", "value", "min", "max", "unit", "boots"]
    rows = []
    for m, unit in UNITS.items():
        s = pb[m].dropna().astype(float) if m in pb else pd.Series(dtype=float)
        if len(s):
            rows.append({"metric": m, "value": float(s.median()), "min": float(s.min()),
                         "max": float(s.max()), "unit": unit, "boots": len(s)})
    return pd.DataFrame(rows, columns=cols)


def trace_parts(stats):
    """stats -> rows part, cycles (median over boots), min, max, meaning: where
    the cycles of one record go, measured part by part in the kernel."""
    cols = ["part", "cycles", "min", "max", "meaning"]
    if stats.empty:
        return pd.DataFrame(columns=cols)
    p = stats[stats["name"].str.startswith(PART_PREFIX)]
    rows = []
    for name, g in p.groupby("name", sort=False):
        part = name[len(PART_PREFIX):]
        v = g["value"].astype(float) / 100
        rows.append({"part": part, "cycles": float(v.median()), "min": float(v.min()),
                     "max": float(v.max()), "meaning": PART_MEANING.get(part, "")})
    return pd.DataFrame(rows, columns=cols)


def analyse(data):
    stats = data.table("tracebench.stats")
    pb = per_boot(stats)
    return {"trace_overhead": trace_overhead(pb), "trace_parts": trace_parts(stats),
            "_per_boot": pb}


def samples(tables):
    pb = tables["_per_boot"]
    parts = [pd.DataFrame({"metric": m, "boot": pb["boot"], "cycles": pb[m].astype(float)})
             for m in ("event_off", "event_on", "touch_off", "touch_on") if m in pb]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=S.SAMPLE_COLS)


def figures(tables, ctx):
    return [("trace_overhead.png", plot_overhead(tables["trace_overhead"]))]


def plot_overhead(over):
    """Left: cycles to record one event, tracing off / on; right: the
    fault-heavy workload, tracing off / on (bars: median over boots;
    whiskers: min..max)."""
    if over.empty:
        return K.empty_figure("no tracebench data")
    fig, (ax, ax2) = K.plt.subplots(1, 2, figsize=(9, 3.8))
    o = over.set_index("metric")
    for a, pair, scale, ylabel in ((ax, ("event_off", "event_on"), 1, "cycles per event"),
                                   (ax2, ("touch_off", "touch_on"), 1e6,
                                    "Mcycles: map, touch, unmap")):
        names = [m for m in pair if m in o.index]
        y = [o.loc[m, "value"] / scale for m in names]
        err = [[(o.loc[m, "value"] - o.loc[m, "min"]) / scale for m in names],
               [(o.loc[m, "max"] - o.loc[m, "value"]) / scale for m in names]]
        a.bar(["tracing off", "tracing on"][:len(names)], y, yerr=err, capsize=4,
              color=["tab:gray", "tab:purple"][:len(names)])
        a.set_ylabel(ylabel)
        a.set_xlabel("trace setting")
        a.grid(axis="y", alpha=0.3)
    ax.set_title("Recording one event", fontsize=10)
    title = "Fault-heavy workload"
    if "slowdown" in o.index:
        title += ": %.1f%% slower with tracing on" % o.loc["slowdown", "value"]
    ax2.set_title(title, fontsize=10)
    K.note(fig, K.BARS_MEDIAN)
    fig.tight_layout()
    return fig


def event_costs(over, parts):
    """trace_overhead, trace_parts -> rows record, cycles (median over boots),
    per_page (how many the workload records per touched page), meaning: the
    cost of one record with tracing on, for each kind the bench times."""
    cols = ["record", "cycles", "per_page", "meaning"]
    rows = []
    v = dict(zip(over["metric"], over["value"])) if not over.empty else {}
    if "event_on" in v:
        rows.append({"record": "marker", "cycles": v["event_on"], "per_page": 0,
                     "meaning": "trace_marker() from a kernel loop (a 24-byte label copied, "
                                "interrupts on: cli/sti)"})
    p = parts.set_index("part") if parts is not None and not parts.empty else None
    for part, n in WORKLOAD_PARTS.items():
        if p is not None and part in p.index:
            rows.append({"record": part, "cycles": float(p.loc[part, "cycles"]), "per_page": n,
                         "meaning": PART_MEANING[part]})
    return pd.DataFrame(rows, columns=cols)


def section(tables, ctx):
    over = tables["trace_overhead"]
    if over.empty:
        return ["No tracebench data.", ""]
    t = over.copy()
    for c in ("value", "min", "max"):
        t[c] = ["%.0f" % v if u == "cycles" else "%.2f" % v for v, u in zip(over[c], over["unit"])]
    s = ["Median over boots (min, max). `event_off`/`event_on`: cycles to record one marker "
         "event with tracing off (the fast path) and on; `touch_*`: map, touch and unmap the "
         "workload's pages (best run of the boot); `slowdown`: the best traced run against "
         "the best untraced one (a busy host only adds time); `slowdown_quarter`: the "
         "mean of the fastest quarter of the traced runs against that of the untraced "
         "ones; `slowdown_pairs`: the median of the adjacent off/on pairs' slowdowns; "
         "`added_per_page`: cycles tracing adds per touched page (from `slowdown`).", "",
         md_table(t), "", "![trace overhead](tracecost/trace_overhead.png)", ""]
    v = dict(zip(over["metric"], over["value"]))
    if "slowdown" in v:
        o = over.set_index("metric")
        spread = o.loc["slowdown", "max"] - o.loc["slowdown", "min"]
        if spread > TARGET_PCT:
            verdict = ("NOT judged: the boots disagree by %.1f points, more than the target "
                       "itself; the host was busy (see its load above): run again when it is "
                       "idle, or with CLOCK=icount for guest instructions" % spread)
        else:
            verdict = "met" if v["slowdown"] <= TARGET_PCT else "NOT met"
        s += ["Fault-heavy workload slowdown with tracing on (default mask, every process, "
              "flight mode; per page a fault, a page_alloc and a page_free record): "
              "**%.1f%%** (median over boots; the design target is at most %.0f%%: %s)." % (
                  v["slowdown"], TARGET_PCT, verdict), ""]
    parts = tables.get("trace_parts")
    icount = getattr(ctx, "clock", "tsc") == "icount"
    if icount:
        s += ["Under `CLOCK=icount` a cycle is one guest instruction: the figures below "
              "count the instructions of each record path exactly (they repeat from boot "
              "to boot). The targets speak of host cycles, `CLOCK=tsc`, where `rdtsc` "
              "alone costs about 75.", ""]
    ev = event_costs(over, parts)
    if not ev.empty:
        e = ev.copy()
        e["cycles"] = ["%.0f" % x for x in ev["cycles"]]
        met = [r for r, c in zip(ev["record"], ev["cycles"]) if c <= TARGET_EVENT]
        s += ["Cycles to record one event with tracing on, per kind of record (median over "
              "boots; the design target is at most %.0f cycles per event: %s):" % (
                  TARGET_EVENT, "met by every kind" if len(met) == len(ev) else
                  "NOT met" + (" (met by: %s)" % ", ".join(met) if met else "")), "",
              md_table(e), ""]
    if parts is not None and not parts.empty:
        p = dict(zip(parts["part"], parts["cycles"]))
        if "floor" in p and "rdtsc" in p and not icount:
            s += ["The floor: a record that only reads the time-stamp counter and writes "
                  "its 48 bytes costs %.0f cycles (`floor`), of which `rdtsc` alone is "
                  "%.0f. Under qemu's TCG (no KVM) `rdtsc` is a helper call into the "
                  "emulator, which takes a lock and reads the host's counter (a host `perf` "
                  "profile of a loop of page records put a third of qemu's time in its "
                  "`cpu_get_ticks`), so no record that carries a timestamp can come much "
                  "under the floor; what a record adds above it is its tests, counters and "
                  "fields." % (p["floor"], p["rdtsc"]), ""]
        if all(k in p for k in ("page", "rdtsc", "stores", "off_cli")):
            rest = p["page"] - p["rdtsc"] - p["stores"] - p["off_cli"]
            s += ["A page record, part by part: `rdtsc` %.0f + its 12 stores %.0f + the "
                  "event step as when not traced (counter, trace_live test) %.0f + the "
                  "rest (the slot: pid, the head < lim gate, the per-type count, the "
                  "fields' values) %.0f = %.0f cycles." % (
                      p["rdtsc"], p["stores"], p["off_cli"], rest, p["page"]), ""]
        t = parts.copy()
        for c in ("cycles", "min", "max"):
            t[c] = ["%.0f" % x for x in parts[c]]
        s += ["Where a record's cycles go (each part timed alone in the kernel, cycles per "
              "call, median over boots (min, max); the parts overlap, so they do not add up "
              "exactly to a whole record):", "", md_table(t), ""]
    return s


def key_figures(tables, ctx):
    o = tables["trace_overhead"]
    v = dict(zip(o["metric"], o["value"]))
    if "slowdown" not in v:
        return []
    parts = tables.get("trace_parts")
    p = dict(zip(parts["part"], parts["cycles"])) if parts is not None else {}
    rec = "".join("%s record %.0f cycles, " % (k, p[k]) for k in WORKLOAD_PARTS if k in p)
    return ["Tracing: %smarker %.0f cycles on (%.0f off); fault-heavy workload %.1f%% slower "
            "with tracing on." % (rec, v.get("event_on", float("nan")),
                                   v.get("event_off", float("nan")), v["slowdown"])]
