"""Dirty-bit vs full msync (user/bench/msyncbench.c).

A file mapped MAP_SHARED, every page present; write one byte in 1/10/50/100 %
of its pages, then time msync(MS_SYNC) of the whole mapping, with the kernel
writing back only pages whose PTE dirty bit is set (vm.msync_all=0, "dirty")
or every present page (vm.msync_all=1, "full"). A second, traced run of a
smaller file records every page write-back (msync_write events) for the
timeline of one msync.

Output line (header first): csv,file_pages,pct,dirtied,mode,cycles,pages_written,bytes_written
"""
import numpy as np
import pandas as pd

from kbench import parse as P, plot as K, stats as S
from kbench.report import md_table, ratio

TITLE = "Dirty-bit vs full msync (msyncbench)"
ORDER = 20
RUNS = [{"name": "msyncbench", "cmd": "msyncbench 256 3"},
        {"name": "msynctrace", "cmd": "trace run -p -m stop -s 65536 -e msync_write,marker "
         "msyncbench 64 1", "boots": 1, "com2": True, "needs": ["trace", "msyncbench"]}]
DETERMINISTIC = False
WHY_NOT_DETERMINISTIC = (
    "every msync waits for disk writes, which qemu completes on host threads at host "
    "speed; meanwhile the idle guest's clock jumps from one timer deadline to the next, so "
    "under icount an msync time counts the ticks the host took to write, not guest work. "
    "Read the page counts (exact) and the host-clock run for times")

MSYNC = [("file_pages", int), ("pct", int), ("dirtied", int), ("mode", str), ("cycles", int),
         ("pages_written", int), ("bytes_written", int)]
MODES = ["dirty", "full"]


def parse(run, lines, source):
    return P.parse_rows(lines, MSYNC, source, "runs")


def msync_compare(runs):
    """One row per (file_pages, pct, mode): dirtied, cycles (median, min,
    max), pages/bytes written (exact), and ratios to the dirty row."""
    cols = ["file_pages", "pct", "dirtied", "mode", "cycles", "cycles_min", "cycles_max",
            "pages_written", "bytes_written", "boots", "cycles_vs_dirty", "pages_vs_dirty"]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    t = S.over_boots(runs, ["file_pages", "pct", "dirtied", "mode"], ["cycles"],
                     ["pages_written", "bytes_written"])
    base = t[t["mode"] == "dirty"].set_index(["file_pages", "pct"])
    key = pd.MultiIndex.from_frame(t[["file_pages", "pct"]])
    with np.errstate(divide="ignore", invalid="ignore"):
        t["cycles_vs_dirty"] = t["cycles"].to_numpy(float) / \
            base["cycles"].reindex(key).to_numpy(float)
        t["pages_vs_dirty"] = t["pages_written"].to_numpy(float) / \
            base["pages_written"].reindex(key).to_numpy(float)
    t["_k"] = t["mode"].map(lambda m: (MODES.index(m) if m in MODES else len(MODES), m))
    return t.sort_values(["file_pages", "pct", "_k"]).drop(columns="_k") \
        .reset_index(drop=True)[cols]


def msync_speedup(table):
    """Per pct measured in both modes: dirty and full cycles, speedup =
    full / dirty time, ideal = full / dirty pages written (n/d: what a
    write-back whose cost were only its pages would gain), efficiency =
    speedup / ideal."""
    cols = ["file_pages", "pct", "dirtied", "dirty_cycles", "full_cycles", "speedup",
            "ideal", "efficiency"]
    if table.empty or not set(MODES) <= set(table["mode"]):
        return pd.DataFrame(columns=cols)
    keys = ["file_pages", "pct", "dirtied"]
    d = table[table["mode"] == "dirty"].set_index(keys)
    f = table[table["mode"] == "full"].set_index(keys)
    j = d[["cycles", "pages_written"]].join(f[["cycles", "pages_written"]], how="inner",
                                            lsuffix="_d", rsuffix="_f")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({"dirty_cycles": j["cycles_d"], "full_cycles": j["cycles_f"],
                            "speedup": j["cycles_f"] / j["cycles_d"],
                            "ideal": j["pages_written_f"] / j["pages_written_d"]})
        out["efficiency"] = out["speedup"] / out["ideal"]
    return out.reset_index().sort_values(["file_pages", "pct"]).reset_index(drop=True)[cols]


def split_calls(events):
    """msync_write events (why "msync") -> the same rows in time order plus
    "call": one number per msync call. A call writes the mapping's dirty
    pages in ascending file order, so a new call begins where the file
    offset stops rising."""
    ev = events[(events["type"] == "msync_write")]
    if "why" in ev:
        ev = ev[ev["why"].astype(str) == "msync"]
    ev = ev.sort_values("tsc", kind="stable").copy()
    if ev.empty:
        ev["call"] = []
        return ev
    off = ev["off"].astype("int64")
    ev["call"] = (off.diff().fillna(1) <= 0).cumsum().astype(int)
    return ev


def one_msync(events):
    """The first of the msync calls that wrote back the most pages ->
    t_cycles (since its first write-back), page (file offset /
    4096), bytes, total_bytes (running)."""
    cols = ["t_cycles", "page", "bytes", "total_bytes", "call"]
    ev = split_calls(events)
    if ev.empty:
        return pd.DataFrame(columns=cols)
    sizes = ev.groupby("call", sort=True).size()
    call = sizes.idxmax()
    e = ev[ev["call"] == call]
    t0 = float(e["tsc"].iloc[0])
    out = pd.DataFrame({"t_cycles": e["tsc"].astype(float).to_numpy() - t0,
                        "page": (e["off"].astype("int64") // 4096).to_numpy(),
                        "bytes": e["bytes"].astype("int64").to_numpy()})
    out["total_bytes"] = out["bytes"].cumsum()
    out["call"] = int(call)
    return out[cols]


def analyse(data):
    runs = data.table("msyncbench.runs")
    t = msync_compare(runs)
    tr = data.traces.get("msynctrace")
    timeline = one_msync(tr[0]) if tr is not None else pd.DataFrame()
    return {"msync_compare": t, "msync_speedup": msync_speedup(t), "msync_timeline": timeline,
            "_runs": runs, "_trace": tr[1] if tr is not None else None}


def samples(tables):
    return S.samples_from(tables["_runs"], ["mode", "pct"], "cycles")


def tsc_khz(tables):
    tr = tables["_trace"]
    return tr.get("tsc_khz") if tr else None


def figures(tables, ctx):
    return [("msync_compare.png", plot_compare(tables["msync_compare"])),
            ("msync_timeline.png", plot_timeline(tables["msync_timeline"], ctx))]


def plot_compare(table):
    """Left: msync time by share written, per mode (bars: median over
    boots; whiskers: min..max; log scale). Right: pages written back."""
    if table.empty:
        return K.empty_figure("no msyncbench data")
    fig, (ax, ax2) = K.plt.subplots(1, 2, figsize=(11, 4.6))
    labels = {"dirty": "dirty bit (vm.msync_all=0)", "full": "all present pages (vm.msync_all=1)"}
    K.grouped_bars(ax, table, "pct", "mode", "cycles", 1e6, errors=True, order=MODES,
                   xfmt="%d%%", labels=labels)
    K.grouped_bars(ax2, table.assign(pw=table["pages_written"]), "pct", "mode", "pw", 1,
                   errors=False, order=MODES, xfmt="%d%%", labels=labels)
    npages = int(table["file_pages"].iloc[0])
    ax.set_yscale("log")
    ax.set_ylabel("Mcycles per msync(MS_SYNC) (log scale)")
    ax.set_title("Time (bars: median over boots of the fastest run; whiskers: min..max)",
                 fontsize=9)
    ax2.set_ylabel("pages written back (vmstat msync_pages)")
    ax2.set_ylim(0, npages * 1.15)
    ax2.set_title("Pages written back (exact)", fontsize=9)
    for a in (ax, ax2):
        a.set_xlabel("share of the file's pages written before msync (%)")
    fig.suptitle("Dirty-bit vs full msync of a %d-page (%d KiB) MAP_SHARED file mapping"
                 % (npages, npages * 4), fontsize=11)
    K.note(fig, "counts are exact; times are per msync call")
    fig.tight_layout()
    return fig


def plot_timeline(tl, ctx):
    """The write-back events of one msync: file page written (points) and
    bytes written so far (line) against time since its first write-back."""
    if tl.empty:
        return K.empty_figure("no traced msync run")
    fig, ax = K.plt.subplots(figsize=(9, 4))
    x = [ctx.us(v) / 1000 for v in tl["t_cycles"]]
    ax.plot(x, tl["page"], "o", markersize=3, color="tab:green", label="page written back")
    ax.set_xlabel("time since the msync's first write-back (ms)")
    ax.set_ylabel("file page (offset / 4 KiB)")
    ax2 = ax.twinx()
    ax2.step(x, tl["total_bytes"] / 1024, where="post", color="tab:red", label="KiB written")
    ax2.set_ylabel("KiB written back so far")
    ax2.set_ylim(bottom=0)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper left")
    ax.set_title("One msync(MS_SYNC), %d page write-backs (traced run, msync_write events)"
                 % len(tl), fontsize=10)
    ax.grid(alpha=0.3)
    K.note(fig, "one point per msync_write event; time from the event's TSC")
    fig.tight_layout()
    return fig


def section(tables, ctx):
    table, sp, tl = tables["msync_compare"], tables["msync_speedup"], tables["msync_timeline"]
    if table.empty:
        return ["**Skipped: no msyncbench data in this run** (the program was not built, not "
                "selected, or its runs failed: see Runs and Problems).", ""]
    n = int(table["file_pages"].iloc[0])
    t = table[["pct", "dirtied", "mode", "cycles", "cycles_min", "cycles_max",
               "pages_written", "bytes_written", "boots"]].copy()
    t["pct"] = ["%d%%" % p for p in t["pct"]]
    t["ms"] = [ctx.us(v) / 1000 for v in table["cycles"]]
    t["range"] = ["%.2f..%.2f" % (a / 1e6, b / 1e6)
                  for a, b in zip(t["cycles_min"], t["cycles_max"])]
    t["cycles"] = t["cycles"] / 1e6
    t = t[["pct", "dirtied", "mode", "cycles", "ms", "range", "pages_written", "bytes_written",
           "boots"]]
    s = ["A %d-page (%d KiB) file mapped `MAP_SHARED`, every page present; write one byte in "
         "`dirtied` pages, then time `msync(MS_SYNC)` of the whole mapping. Mcycles = median "
         "over boots of each boot's fastest run (min..max over boots); pages and bytes are "
         "the vmstat msync counters' deltas (exact)." % (n, n * 4), "",
         md_table(t, {"cycles": "{:.2f}", "ms": "{:.2f}"},
                  {"cycles": "Mcycles", "range": "Mcyc range", "pages_written": "pages written",
                   "bytes_written": "bytes written"}), ""]
    if not sp.empty:
        r = sp.copy()
        r["pct"] = ["%d%%" % p for p in sp["pct"]]
        r["dirty_cycles"] = sp["dirty_cycles"] / 1e6
        r["full_cycles"] = sp["full_cycles"] / 1e6
        r = r.drop(columns="file_pages")
        s += ["Speed-up of the dirty-bit msync over the full one, against the ideal n/d "
              "(pages the full msync writes over pages the dirty one writes):", "",
              md_table(r, {"dirty_cycles": "{:.2f}", "full_cycles": "{:.2f}",
                           "speedup": "{:.2f}x", "ideal": "{:.2f}x", "efficiency": "{:.0%}"},
                       {"dirty_cycles": "dirty Mcyc", "full_cycles": "full Mcyc",
                        "speedup": "speed-up", "ideal": "ideal n/d"}), ""]
        s += interpret(sp)
    if not tl.empty:
        span = tl["t_cycles"].iloc[-1]
        gaps = tl["t_cycles"].diff().dropna()
        s += ["Timeline of one msync from the traced run: %d pages written back in %.2f ms, "
              "one after another (median %.0f µs between write-backs, longest %.0f µs): "
              "each write-back is a disk write the call waits for." % (
                  len(tl), ctx.us(span) / 1000, ctx.us(gaps.median()) if len(gaps) else 0,
                  ctx.us(gaps.max()) if len(gaps) else 0), "",
              "![msync timeline](msync/msync_timeline.png)", ""]
    s += ["![msync](msync/msync_compare.png)", ""]
    return s


def interpret(sp):
    """Speed-up against n/d, per share, and what the gap says."""
    s = ["Interpretation:", ""]
    for r in sp[sp["ideal"] > 1.0001].itertuples():
        per_d = r.dirty_cycles / r.dirtied
        per_f = r.full_cycles / (r.dirtied * r.ideal)
        if r.efficiency < 0.9:
            why = ("below the ideal: the dirty msync pays a cost per call that does not "
                   "shrink with the pages written (walking every page-table entry of the "
                   "mapping, the log commit): %.0f cycles per page written against %.0f for "
                   "the full one" % (per_d, per_f))
        elif r.efficiency > 1.1:
            why = ("above the ideal: per page written, the full msync costs more than the "
                   "dirty one (%.0f against %.0f cycles), so writing fewer pages saves more "
                   "than their share" % (per_f, per_d))
        else:
            why = "close to the ideal: the time is almost all per-page write-back"
        s.append("- %d of %d pages dirty: speed-up %.2fx against an ideal of %.2fx (%.0f%%); "
                 "%s." % (r.dirtied, r.file_pages, r.speedup, r.ideal, 100 * r.efficiency, why))
    full = sp[sp["ideal"] <= 1.0001]
    if len(full):
        s.append("- Every page dirty: both modes write the same pages (ideal 1x), measured "
                 "%.2fx%s." % (full["speedup"].iloc[0],
                              "" if abs(full["speedup"].iloc[0] - 1) < 0.1 else
                              ": a difference no page count explains, so read it against the "
                              "spread table"))
    return s + [""]


def key_figures(tables, ctx):
    sp = tables["msync_speedup"]
    if sp.empty:
        return []
    return ["Dirty-bit msync speed-up over full write-back: " + "; ".join(
        "%d%% dirty: %s (ideal %s)" % (r.pct, ratio(r.speedup), ratio(r.ideal))
        for r in sp.itertuples()) + "."]
