"""Copy-on-write vs eager fork (user/bench/forkbench.c).

Fork with a parent that touched N = 0, 64, 256, 1024 pages, under each
policy (eager copy; copy-on-write when the kernel has `sysctl vm.cow`),
with a child that exits at once or first writes every page.

Output line: csv,policy,npages,child,fork_cycles,total_cycles,pgalloc,pgfree,faults,cow_faults
"""
import numpy as np
import pandas as pd

from kbench import parse as P, plot as K, stats as S
from kbench.report import md_table, ratio

TITLE = "Copy-on-write vs eager fork (forkbench)"
ORDER = 30
RUNS = [{"name": "forkbench", "cmd": "forkbench 5"}]
DETERMINISTIC = True     # CPU-bound: identical output under CLOCK=icount

FORK = [("policy", str), ("npages", int), ("child", str), ("fork_cycles", int),
        ("total_cycles", int), ("pgalloc", int), ("pgfree", int), ("faults", int),
        ("cow_faults", int)]


def parse(run, lines, source):
    return P.parse_rows(lines, FORK, source, "runs")


def fork_cost(runs):
    """Per (policy, child, npages): medians and min/max, extra_pages
    (pgalloc beyond the same policy/child's npages 0) and
    cycles_per_extra_page (where at least half the pages were copied)."""
    if runs.empty:
        return pd.DataFrame(columns=["policy", "child", "npages", "fork_cycles",
                                     "total_cycles", "pgalloc", "extra_pages"])
    t = S.over_boots(runs, ["policy", "child", "npages"], ["fork_cycles", "total_cycles"],
                     ["pgalloc", "pgfree", "faults", "cow_faults"])
    base = t[t["npages"] == 0].set_index(["policy", "child"])
    key = pd.MultiIndex.from_frame(t[["policy", "child"]])
    t["extra_pages"] = t["pgalloc"].to_numpy(float) - base["pgalloc"].reindex(key).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per = (t["total_cycles"].to_numpy(float) -
               base["total_cycles"].reindex(key).to_numpy(float)) / t["extra_pages"].to_numpy()
    copied = (t["extra_pages"].to_numpy() > 0) & \
        (t["extra_pages"].to_numpy() >= 0.5 * t["npages"].to_numpy())
    t["cycles_per_extra_page"] = np.where(copied, per, np.nan)
    order = {"eager": 0, "cow": 1}
    t["_k"] = t["policy"].map(lambda p: order.get(p, 2))
    return t.sort_values(["_k", "policy", "child", "npages"]).drop(columns="_k") \
        .reset_index(drop=True)


def fork_compare(fork):
    """Per (child, npages) measured under both policies: round-trip cycles
    and pages, cow_vs_eager_cycles / _pages (below 1: COW wins)."""
    cols = ["child", "npages", "eager_cycles", "cow_cycles", "cow_vs_eager_cycles",
            "eager_pages", "cow_pages", "cow_vs_eager_pages", "cow_faults"]
    if fork.empty or not {"eager", "cow"} <= set(fork["policy"]):
        return pd.DataFrame(columns=cols)
    e = fork[fork["policy"] == "eager"].set_index(["child", "npages"])
    c = fork[fork["policy"] == "cow"].set_index(["child", "npages"])
    j = e[["total_cycles", "pgalloc"]].join(c[["total_cycles", "pgalloc", "cow_faults"]],
                                            how="inner", lsuffix="_e", rsuffix="_c")
    out = pd.DataFrame({
        "eager_cycles": j["total_cycles_e"], "cow_cycles": j["total_cycles_c"],
        "cow_vs_eager_cycles": j["total_cycles_c"] / j["total_cycles_e"],
        "eager_pages": j["pgalloc_e"], "cow_pages": j["pgalloc_c"],
        "cow_vs_eager_pages": j["pgalloc_c"] / j["pgalloc_e"],
        "cow_faults": j["cow_faults"]}).reset_index()
    return out.sort_values(["child", "npages"]).reset_index(drop=True)[cols]


def break_even(cmp):
    """Per npages: the share of the parent's pages the child must write
    before copy-on-write costs as much as the eager copy, assuming each
    policy's round trip is linear in the share written (between the "exit"
    = 0 % and "write" = 100 % measurements). NaN when the lines do not
    cross between 0 and 100 % (then one policy wins at every share)."""
    cols = ["npages", "break_even_pct", "cow_exit", "cow_write", "eager_exit", "eager_write"]
    if cmp.empty or not {"exit", "write"} <= set(cmp["child"]):
        return pd.DataFrame(columns=cols)
    ex = cmp[cmp["child"] == "exit"].set_index("npages")
    wr = cmp[cmp["child"] == "write"].set_index("npages")
    rows = []
    for n in sorted(set(ex.index) & set(wr.index)):
        ce, cw = ex.loc[n, "cow_cycles"], wr.loc[n, "cow_cycles"]
        ee, ew = ex.loc[n, "eager_cycles"], wr.loc[n, "eager_cycles"]
        slope = (cw - ce) - (ew - ee)
        w = (ee - ce) / slope if slope else np.nan
        rows.append({"npages": n, "break_even_pct": 100 * w if 0 <= w <= 1 else np.nan,
                     "cow_exit": ce, "cow_write": cw, "eager_exit": ee, "eager_write": ew})
    return pd.DataFrame(rows, columns=cols)


def cow_present(fork):
    if fork.empty:
        return False
    return bool((fork["policy"] == "cow").any() or (fork["cow_faults"] > 0).any())


def analyse(data):
    runs = data.table("forkbench.runs")
    f = fork_cost(runs)
    c = fork_compare(f)
    return {"fork_cost": f, "fork_compare": c, "fork_break_even": break_even(c), "_runs": runs}


def samples(tables):
    r = tables["_runs"]
    return S.samples_from(r, ["policy", "child", "npages"], "total_cycles")


def figures(tables, ctx):
    return [("fork_cost.png", plot_fork(tables["fork_cost"]))]


def plot_fork(fork):
    """Left: round-trip time vs parent size per policy and child behaviour
    (points: median; whiskers: min..max). Right: pages allocated."""
    if fork.empty:
        return K.empty_figure("no forkbench data")
    fig, (ax, ax2) = K.plt.subplots(1, 2, figsize=(11, 4.2))
    styles, markers = {"exit": "-", "write": ":"}, {"exit": "o", "write": "s"}
    for (policy, child), t in fork.groupby(["policy", "child"], sort=True):
        t = t.sort_values("npages")
        kw = {"marker": markers.get(child, "o"), "linestyle": styles.get(child, "-"),
              "color": K.COLORS.get(policy), "label": "%s fork, child %s" % (policy, child)}
        ax.errorbar(t["npages"], t["total_cycles"] / 1e6,
                    yerr=[(t["total_cycles"] - t["total_cycles_min"]) / 1e6,
                          (t["total_cycles_max"] - t["total_cycles"]) / 1e6], capsize=3, **kw)
        ax2.plot(t["npages"], t["pgalloc"], **kw)
    ax.set_xlabel("pages the parent touched before fork")
    ax.set_ylabel("Mcycles: fork + child exit + wait")
    ax.set_title("Time (points: median over boots; whiskers: min..max)", fontsize=10)
    ax2.set_xlabel("pages the parent touched before fork")
    ax2.set_ylabel("pages allocated per fork round trip")
    ax2.set_title("Memory (exact: vmstat pgalloc)", fontsize=10)
    for a in (ax, ax2):
        a.set_ylim(bottom=0)
        a.grid(alpha=0.3)
        a.legend(fontsize=8, loc="upper left")
    fig.suptitle("Fork cost vs parent size" + (": eager copy vs copy-on-write"
                                               if (fork["policy"] == "cow").any() else
                                               " (eager copy only)"), fontsize=11)
    K.note(fig, "round trip = fork + child exit + wait")
    fig.tight_layout()
    return fig


def section(tables, ctx):
    fork, cmp, be = tables["fork_cost"], tables["fork_compare"], tables["fork_break_even"]
    s = []
    if not cow_present(fork):
        s += ["**Copy-on-write: skipped: this kernel has no `vm.cow` setting** (forkbench "
              "found no COW faults). Below is the eager-copy baseline.", ""]
    if fork.empty:
        return s + ["No forkbench data.", ""]
    t = fork[["policy", "child", "npages", "fork_cycles", "total_cycles", "pgalloc",
              "extra_pages", "cycles_per_extra_page", "faults", "cow_faults"]].copy()
    t.insert(5, "round_trip_ms", [ctx.us(v) / 1000 for v in t["total_cycles"]])
    t["fork_cycles"] = t["fork_cycles"] / 1e6
    t["total_cycles"] = t["total_cycles"] / 1e6
    s += ["Fork with a parent that touched N pages; `fork` = the call in the parent, "
          "`round trip` = fork + child exit + wait (median over boots); `extra pages` = pages "
          "allocated beyond the N=0 fork (the copies).", "",
          md_table(t, {"fork_cycles": "{:.2f}", "total_cycles": "{:.2f}",
                       "round_trip_ms": "{:.3f}", "cycles_per_extra_page": "{:.0f}",
                       "extra_pages": "{:.0f}"},
                   {"fork_cycles": "fork Mcyc", "total_cycles": "round trip Mcyc",
                    "round_trip_ms": "round trip ms", "extra_pages": "extra pages",
                    "cycles_per_extra_page": "cyc/extra page"}), ""]
    if not cmp.empty:
        t = cmp.copy()
        t["eager_cycles"] = t["eager_cycles"] / 1e6
        t["cow_cycles"] = t["cow_cycles"] / 1e6
        t["cow_vs_eager_cycles"] = [ratio(v) for v in cmp["cow_vs_eager_cycles"]]
        t["cow_vs_eager_pages"] = [ratio(v) for v in cmp["cow_vs_eager_pages"]]
        s += ["Copy-on-write vs eager copy (round trip, Mcycles; below 1x: COW wins).", "",
              md_table(t, {"eager_cycles": "{:.2f}", "cow_cycles": "{:.2f}"},
                       {"eager_cycles": "eager Mcyc", "cow_cycles": "cow Mcyc",
                        "cow_vs_eager_cycles": "cow/eager time",
                        "cow_vs_eager_pages": "cow/eager pages"}), ""]
        s += interpret(cmp, be, fork)
    s += ["![fork](fork/fork_cost.png)", ""]
    return s


def interpret(cmp, be, fork):
    s = []
    wr = cmp[cmp["child"] == "write"].set_index("npages")
    cow = fork[(fork["policy"] == "cow") & (fork["child"] == "write")].set_index("npages")
    eag = fork[(fork["policy"] == "eager") & (fork["child"] == "exit")].set_index("npages")
    if len(wr):
        n = wr.index.max()
        line = ("- When the child writes all %d pages, COW costs %s the eager fork: it copies "
                "the same pages, but one trap at a time (%d COW faults)" % (
                    n, ratio(wr.loc[n, "cow_vs_eager_cycles"]), wr.loc[n, "cow_faults"]))
        if n in cow.index and n in eag.index and cow.loc[n, "cow_faults"]:
            per_fault = (cow.loc[n, "total_cycles"] - cow.loc[0, "total_cycles"]) / \
                cow.loc[n, "cow_faults"] if 0 in cow.index else np.nan
            per_copy = eag.loc[n, "cycles_per_extra_page"]
            line += ("; about %.0f cycles per COW fault against %.0f per page copied "
                     "eagerly" % (per_fault, per_copy))
        s.append(line + ".")
    for r in be[be["npages"] > 0].itertuples():
        if np.isnan(r.break_even_pct):
            win = "COW" if r.cow_write < r.eager_write else "eager"
            s.append("- Parent with %d pages: no break-even between 0 and 100 %% written; "
                     "%s wins at every share." % (r.npages, win))
        else:
            s.append("- Parent with %d pages: COW stays cheaper while the child writes less "
                     "than about **%.0f%%** of the pages (break-even by linear interpolation "
                     "between the exit and write-everything runs)." % (r.npages,
                                                                      r.break_even_pct))
    return ["Interpretation:", ""] + s + [""] if s else []


def key_figures(tables, ctx):
    out = []
    cmp, k = tables["fork_compare"], tables["fork_cost"]
    if not cmp.empty:
        ex = cmp[cmp["child"] == "exit"].set_index("npages")
        wr = cmp[cmp["child"] == "write"].set_index("npages")
        if len(ex):
            n = ex.index.max()
            line = ("Copy-on-write vs eager fork, parent with %d touched pages: fork + exit + "
                    "wait %s the time and %s the pages" % (
                        n, ratio(ex.loc[n, "cow_vs_eager_cycles"]),
                        ratio(ex.loc[n, "cow_vs_eager_pages"])))
            if n in wr.index:
                line += "; if the child then writes every page: %s the time" % ratio(
                    wr.loc[n, "cow_vs_eager_cycles"])
            out.append(line + ".")
    for r in tables["fork_break_even"].dropna().itertuples():
        out.append("COW/eager break-even (parent %d pages): child writes %.0f%% of the pages."
                   % (r.npages, r.break_even_pct))
    return out
