"""Lazy vs eager allocation (user/bench/vmbench.c).

vmbench maps a region and touches 1/10/50/100 % of its pages, lazily, with
MAP_POPULATE and with vm.lazy=0, and times one lazy fault beside the floor
a fault cannot beat (a null system call + zeroing a page). Each figure is
the fastest of REPS runs inside one guest; the tables hold the median over
boots.

Output lines:  csvstat,NAME,CYCLES  and  csv,region_kib,pct,mode,cycles,pages,faults
"""
import numpy as np
import pandas as pd

from kbench import parse as P, plot as K, stats as S
from kbench.report import md_table, ratio

TITLE = "Lazy vs eager allocation (vmbench)"
ORDER = 10
RUNS = [{"name": "vmbench", "cmd": "vmbench 32 3"}]
DETERMINISTIC = True     # vmbench starts every measurement on a clock tick

VM_RUN = [("region_kib", int), ("pct", int), ("mode", str), ("cycles", int),
          ("pages", int), ("faults", int)]
MODE_ORDER = ["lazy", "populate", "vm.lazy=0"]
STAT_ORDER = ["lazy_fault", "null_syscall", "zero_page", "syscall_plus_zero"]


def parse_vm(lines, source):
    """vmbench-format lines -> Tables stats (name, cycles), runs (VM_RUN)."""
    t = P.Tables()
    stats, runs = [], []
    for i, line in P.csv_lines(lines, source, t.problems):
        kind, _, rest = line.partition(",")
        values = rest.split(",") if rest else []
        if kind == "csvstat":
            s = P.stat(values, source, i, line, t.problems, "cycles")
            if s:
                stats.append(s)
        elif kind == "csv":
            if P.is_header(values, VM_RUN):
                P.check_header(values, VM_RUN, source, i, line, t.problems)
                continue
            try:
                runs.append(P.convert(values, VM_RUN))
            except ValueError as e:
                t.problems.append(P.Problem(source, i, str(e), line))
        else:
            t.problems.append(P.Problem(source, i, "unknown line kind %r" % kind, line))
    t["stats"] = pd.DataFrame(stats, columns=["name", "cycles"])
    t["runs"] = P.frame(runs, VM_RUN)
    return t


def parse(run, lines, source):
    return parse_vm(lines, source)


def _mode_key(s):
    return s.map(lambda m: (MODE_ORDER.index(m) if m in MODE_ORDER else len(MODE_ORDER), m))


def lazy_vs_eager(runs):
    """vmbench runs -> one row per (region_kib, pct, mode): medians,
    min/max cycles, and the ratios to the lazy row of the same pct."""
    cols = ["region_kib", "pct", "mode", "cycles", "cycles_min", "cycles_max", "pages",
            "faults", "boots", "cycles_vs_lazy", "pages_vs_lazy"]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    t = S.over_boots(runs, ["region_kib", "pct", "mode"], ["cycles"], ["pages", "faults"])
    lazy = t[t["mode"] == "lazy"].set_index(["region_kib", "pct"])
    key = pd.MultiIndex.from_frame(t[["region_kib", "pct"]])
    with np.errstate(divide="ignore", invalid="ignore"):
        t["cycles_vs_lazy"] = t["cycles"].to_numpy(float) / \
            lazy["cycles"].reindex(key).to_numpy(float)
        t["pages_vs_lazy"] = t["pages"].to_numpy(float) / \
            lazy["pages"].reindex(key).to_numpy(float)
    t = t.sort_values(["region_kib", "pct", "mode"], key=lambda s: _mode_key(s)
                      if s.name == "mode" else s).reset_index(drop=True)
    return t[cols]


def modes_wide(table, value):
    """lazy_vs_eager's table -> one row per pct, one column per mode."""
    if table.empty:
        return pd.DataFrame()
    w = table.pivot_table(index="pct", columns="mode", values=value, aggfunc="first")
    w = w[[m for m in MODE_ORDER if m in w.columns] +
          sorted(c for c in w.columns if c not in MODE_ORDER)]
    w.columns.name = None
    return w.reset_index()


def fault_cost(stats):
    """vmbench stats -> one row per name (median, min, max cycles) plus
    "fault_over_floor": lazy_fault over syscall_plus_zero (a ratio)."""
    cols = ["name", "cycles", "cycles_min", "cycles_max", "boots"]
    if stats.empty:
        return pd.DataFrame(columns=cols)
    t = S.over_boots(stats, ["name"], ["cycles"])
    t["_k"] = t["name"].map(lambda n: STAT_ORDER.index(n) if n in STAT_ORDER
                            else len(STAT_ORDER))
    t = t.sort_values(["_k", "name"]).drop(columns="_k").reset_index(drop=True)
    med = dict(zip(t["name"], t["cycles"]))
    if med.get("lazy_fault") and med.get("syscall_plus_zero"):
        t = pd.concat([t, pd.DataFrame([{
            "name": "fault_over_floor", "cycles": med["lazy_fault"] / med["syscall_plus_zero"],
            "cycles_min": np.nan, "cycles_max": np.nan, "boots": int(t["boots"].max())}])],
            ignore_index=True)
    return t[cols]


def crossovers(table):
    """Per eager mode: the touched share (%) where its time equals lazy's,
    by linear interpolation between measured shares -> rows mode,
    crossover_pct, lazy_cheaper_below (True if lazy wins below it)."""
    cols = ["mode", "crossover_pct", "lazy_cheaper_below"]
    w = modes_wide(table, "cycles")
    rows = []
    if not w.empty and "lazy" in w:
        for m in [c for c in w.columns if c not in ("pct", "lazy")]:
            for x, lazy_below_after in S.crossings(w["pct"], w["lazy"], w[m]):
                rows.append({"mode": m, "crossover_pct": x,
                             "lazy_cheaper_below": not lazy_below_after})
    return pd.DataFrame(rows, columns=cols)


def analyse(data):
    runs, stats = data.table("vmbench.runs"), data.table("vmbench.stats")
    t = lazy_vs_eager(runs)
    return {"lazy_vs_eager": t, "fault_cost": fault_cost(stats), "crossover": crossovers(t),
            "_runs": runs, "_stats": stats}


def samples(tables):
    """Per boot: each (mode, pct) time and each per-operation cost."""
    r, s = tables["_runs"], tables["_stats"]
    parts = [S.samples_from(s.assign(k="op"), ["k", "name"], "cycles"),
             S.samples_from(r, ["mode", "pct"], "cycles")]
    return pd.concat(parts, ignore_index=True)


def figures(tables, ctx):
    t = tables["lazy_vs_eager"]
    return [("lazy_vs_eager_cycles.png", plot_cycles(t)),
            ("lazy_vs_eager_pages.png", plot_pages(t))]


def plot_cycles(table):
    """Grouped bars: mmap + touch time per mode and touched share."""
    if table.empty:
        return K.empty_figure("no vmbench data")
    fig, ax = K.plt.subplots(figsize=(7, 4.2))
    mib = int(table["region_kib"].iloc[0]) // 1024
    K.grouped_bars(ax, table, "pct", "mode", "cycles", 1e6, errors=True, order=MODE_ORDER,
                   xfmt="%d%%")
    ax.set_xlabel("share of the region's pages touched (%)")
    ax.set_ylabel("Mcycles (mmap + touches)")
    ax.set_title("Lazy vs eager: time to map a %d MiB region and touch part of it" % mib,
                 fontsize=10)
    K.note(fig, K.BARS_MEDIAN)
    fig.tight_layout()
    return fig


def plot_pages(table):
    """Grouped bars, log axis: pages allocated per mode (exact counts)."""
    if table.empty:
        return K.empty_figure("no vmbench data")
    fig, ax = K.plt.subplots(figsize=(7, 4.2))
    mib = int(table["region_kib"].iloc[0]) // 1024
    K.grouped_bars(ax, table, "pct", "mode", "pages", 1, errors=False, order=MODE_ORDER,
                   xfmt="%d%%")
    ax.set_yscale("log")
    ax.set_xlabel("share of the region's pages touched (%)")
    ax.set_ylabel("pages allocated (free-page delta, log scale)")
    ax.set_title("Lazy vs eager: memory used for a %d MiB region" % mib, fontsize=10)
    K.note(fig, "bars: exact counts (the same in every boot); no whiskers")
    fig.tight_layout()
    return fig


def section(tables, ctx):
    lazy, fcost, cross = tables["lazy_vs_eager"], tables["fault_cost"], tables["crossover"]
    if lazy.empty:
        return ["No vmbench data (see Runs and Problems).", ""]
    s = []
    med = dict(zip(fcost["name"], fcost["cycles"])) if not fcost.empty else {}
    if med:
        rows = fcost[fcost["name"] != "fault_over_floor"].copy()
        rows["us"] = [ctx.us(c) for c in rows["cycles"]]
        rows["range"] = ["%.0f..%.0f" % (a, b) for a, b in zip(rows["cycles_min"],
                                                             rows["cycles_max"])]
        s += ["Cost of one operation (%s; median over boots, min..max):" % ctx.unit, "",
              md_table(rows[["name", "cycles", "us", "range", "boots"]],
                       {"cycles": "{:.0f}", "us": "{:.3f}"}, {"us": "µs"}), ""]
        if "fault_over_floor" in med:
            s += ["A lazy fault costs **%.1fx** the floor (null system call + zeroing a page: "
                  "%.0f %s): the rest is the trap's entry and exit and the fault's bookkeeping."
                  % (med["fault_over_floor"], med.get("syscall_plus_zero", 0), ctx.unit), ""]
    mib = int(lazy["region_kib"].iloc[0]) // 1024
    cyc, pages = modes_wide(lazy, "cycles"), modes_wide(lazy, "pages")
    t = pd.DataFrame({"touched": ["%d%%" % p for p in cyc["pct"]]})
    for m in [c for c in cyc.columns if c != "pct"]:
        t[m + " M" + ctx.unit] = cyc[m] / 1e6
        t[m + " ms"] = [ctx.us(v) / 1000 for v in cyc[m]]
    for m in [c for c in cyc.columns if c not in ("pct", "lazy")]:
        t[m + "/lazy"] = [ratio(v) for v in cyc[m] / cyc["lazy"]] if "lazy" in cyc else "-"
    for m in [c for c in pages.columns if c != "pct"]:
        t[m + " pages"] = pages[m]
    s += ["Map a %d MiB region and touch a share of its pages (mmap + touches; median over "
          "boots of each boot's fastest of 3). Ratios above 1: slower than lazy." % mib, "",
          md_table(t, {c: "{:.2f}" for c in t.columns if c.endswith(("Mcycles", "Minsns",
                                                                      "ms"))}), ""]
    s += interpret(lazy, cross, med)
    s += ["![cycles](lazy/lazy_vs_eager_cycles.png)", "", "![pages](lazy/lazy_vs_eager_pages.png)",
          ""]
    return s


def interpret(lazy, cross, med):
    """Data-driven sentences: where eager overtakes lazy and why."""
    s = []
    w = modes_wide(lazy, "cycles").set_index("pct")
    if "lazy" not in w or w.empty:
        return s
    top = w.index.max()
    per_page = med.get("lazy_fault")
    for m in [c for c in w.columns if c != "lazy"]:
        c = cross[cross["mode"] == m]
        if len(c):
            x = c["crossover_pct"].iloc[0]
            s.append("- %s costs the same as lazy at about **%.0f%%** of the pages touched "
                     "(linear interpolation between the measured shares); below that lazy "
                     "wins, above it %s wins." % (m, x, m if c["lazy_cheaper_below"].iloc[0]
                                                  else "lazy"))
        else:
            better = "lazy" if (w["lazy"] <= w[m]).all() else m
            s.append("- %s and lazy never cross between %d%% and %d%% touched: %s is "
                     "cheaper throughout." % (m, w.index.min(), top, better))
    eager = [c for c in w.columns if c != "lazy"]
    if eager and w.loc[top, "lazy"] > min(w.loc[top, e] for e in eager):
        best = min(eager, key=lambda e: w.loc[top, e])
        s.append("- At %d%% touched every page is needed anyway; lazy pays one trap per page "
                 "(%s) while %s allocates all pages in one pass inside the kernel, so eager "
                 "wins by %.2fx." % (top, "%.0f cycles each" % per_page if per_page else
                                     "a fault each", best,
                                     w.loc[top, "lazy"] / w.loc[top, best]))
    if s:
        s = ["Interpretation:", ""] + s + [""]
    return s


def key_figures(tables, ctx):
    out = []
    lazy, fc = tables["lazy_vs_eager"], tables["fault_cost"]
    if not lazy.empty:
        cyc, pages = modes_wide(lazy, "cycles").set_index("pct"), \
            modes_wide(lazy, "pages").set_index("pct")
        if "vm.lazy=0" in cyc and "lazy" in cyc:
            e, lz = "vm.lazy=0", "lazy"
            out.append("Eager (vm.lazy=0) vs lazy, touching " + "; ".join(
                "%d%%: %s time, %s pages" % (p, ratio(cyc.loc[p, e] / cyc.loc[p, lz]),
                                             ratio(pages.loc[p, e] / pages.loc[p, lz]))
                for p in cyc.index) + ".")
    if not fc.empty:
        med = dict(zip(fc["name"], fc["cycles"]))
        if "fault_over_floor" in med:
            out.append("One lazy fault: %.0f %s (%.2f µs) = %.2fx the floor (null syscall + "
                       "zeroing a page)." % (med["lazy_fault"], ctx.unit,
                                             ctx.us(med["lazy_fault"]), med["fault_over_floor"]))
    for r in tables["crossover"].itertuples():
        out.append("Lazy and %s cost the same at about %.0f%% of the pages touched." % (
            r.mode, r.crossover_pct))
    return out
