"""Fork policies side by side (user/bench/forkbench.c).

Fork with a parent that touched N = 0, 1024, 4096, 16384 pages (up to
64 MiB), under each policy the kernel has (eager copy, vm.cow=0;
copy-on-write, vm.cow=1; on-demand fork, vm.cow=2), with a child that
exits at once or first writes every page; and the floors each step is
held against, measured in the same boot (a null fault, a page allocation
and free in the kernel, a 4 KiB rep movsl copy).

Output lines: csv,floor,name,cycles and
csv,policy,npages,child,fork_cycles,total_cycles,pgalloc,pgfree,faults,cow_faults,child_cycles
"""
import numpy as np
import pandas as pd

from kbench import parse as P, plot as K, stats as S
from kbench.report import md_table, ratio

TITLE = "Fork: eager copy, copy-on-write and on-demand fork (forkbench)"
ORDER = 30
# 256 MiB: a 64 MiB parent and its eager copy must fit at once.
RUNS = [{"name": "forkbench", "cmd": "forkbench 3", "mem": 256}]
DETERMINISTIC = True     # CPU-bound: identical output under CLOCK=icount

FORK = [("policy", str), ("npages", int), ("child", str), ("fork_cycles", int),
        ("total_cycles", int), ("pgalloc", int), ("pgfree", int), ("faults", int),
        ("cow_faults", int), ("child_cycles", int), ("store_median", int)]
FORK_OLD = FORK[:9]      # before child_cycles and store_median: read as unknown (NaN)
FLOOR = [("name", str), ("cycles", int)]
POLICIES = {"eager": 0, "cow": 1, "odf": 2}


def parse(run, lines, source):
    """Two line kinds: csv,floor,... (FLOOR) and csv,<policy>,... (FORK)."""
    t = P.Tables()
    rows, floors = [], []
    for i, line in P.csv_lines(lines, source, t.problems):
        kind, _, rest = line.partition(",")
        values = rest.split(",") if rest else []
        if kind != "csv":
            t.problems.append(P.Problem(source, i, "unknown line kind %r" % kind, line))
            continue
        floor = values[:1] == ["floor"]
        schema = FLOOR if floor else FORK_OLD if len(values) == len(FORK_OLD) else FORK
        if floor:
            values = values[1:]
        if P.is_header(values, schema):
            P.check_header(values, schema, source, i, line, t.problems)
            continue
        try:
            (floors if floor else rows).append(P.convert(values, schema))
        except ValueError as e:
            t.problems.append(P.Problem(source, i, str(e), line))
    t["runs"] = P.frame(rows, FORK)
    t["runs"] = t["runs"].astype({"child_cycles": float, "store_median": float})
    t["floors"] = P.frame(floors, FLOOR)
    return t


def fork_cost(runs):
    """Per (policy, child, npages): medians and min/max, extra_pages
    (pgalloc beyond the same policy/child's npages 0) and
    cycles_per_extra_page (where at least half the pages were copied)."""
    if runs.empty:
        return pd.DataFrame(columns=["policy", "child", "npages", "fork_cycles",
                                     "total_cycles", "pgalloc", "extra_pages"])
    runs = runs.copy()
    for c in ("child_cycles", "store_median"):     # unknown in older output
        if c not in runs.columns:
            runs[c] = np.nan
    t = S.over_boots(runs, ["policy", "child", "npages"],
                     ["fork_cycles", "total_cycles", "child_cycles", "store_median"],
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
    t["_k"] = t["policy"].map(lambda p: POLICIES.get(p, 9))
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


def floors_of(fl):
    """Floor name -> cycles (median over boots)."""
    if fl.empty:
        return {}
    return fl.groupby("name")["cycles"].median().astype(float).to_dict()


def step_floors(fl):
    """Each step's floor per page, from the measured parts (NaN where a part
    is missing, or where the step has no per-page floor)."""
    f = floors_of(fl)
    g = lambda *names: sum(f[n] for n in names) if all(n in f for n in names) else np.nan
    return {("eager", "fork"): g("page_alloc", "copy_4k"),
            ("eager", "exit"): g("page_free"),
            ("cow", "cow fault"): g("null_fault", "page_alloc", "copy_4k"),
            ("odf", "cow fault"): g("null_fault", "page_alloc", "copy_4k")}


def fork_steps(fork, fl):
    """Per policy and N > 0: cycles per page of each step against its floor.
    fork = (fork call at N - at 0) / N, child exit rows; exit = the rest of
    the round trip (child exit + wait), the same way; cow fault (write rows)
    = the median of the child's N stores, one to each page, each timed alone
    (each a copy-on-write fault; for eager a plain store that takes no
    fault). The median, not the loop's mean: the host preempts the emulator
    now and then, and a mean over a loop of 16384 faults takes every
    preemption in."""
    cols = ["policy", "npages", "step", "cycles_per_page", "floor", "vs_floor"]
    if fork.empty:
        return pd.DataFrame(columns=cols)
    floors = step_floors(fl)
    rows = []
    for (policy, child), t in fork.groupby(["policy", "child"]):
        t = t.set_index("npages")
        if 0 not in t.index:
            continue
        for n in t.index[t.index > 0]:
            if child == "exit":
                fk = (t.loc[n, "fork_cycles"] - t.loc[0, "fork_cycles"]) / n
                ex = ((t.loc[n, "total_cycles"] - t.loc[n, "fork_cycles"]) -
                      (t.loc[0, "total_cycles"] - t.loc[0, "fork_cycles"])) / n
                steps = [("fork", fk), ("exit", ex)]
            else:
                steps = [("cow fault" if policy != "eager" else "store (no fault)",
                          float(t.loc[n, "store_median"]))]
            for step, c in steps:
                fv = floors.get((policy, step), np.nan)
                rows.append({"policy": policy, "npages": n, "step": step,
                             "cycles_per_page": c, "floor": fv,
                             "vs_floor": c / fv if fv == fv and fv > 0 else np.nan})
    out = pd.DataFrame(rows, columns=cols)
    out["_k"] = out["policy"].map(lambda p: POLICIES.get(p, 9))
    return out.sort_values(["_k", "step", "npages"]).drop(columns="_k").reset_index(drop=True)


def fork_summary(fork):
    """Per N: fork + child exit + wait under each policy (Mcycles) and each
    sharing policy's speed-up over the eager copy."""
    if fork.empty:
        return pd.DataFrame(columns=["npages"])
    ex = fork[fork["child"] == "exit"].pivot(index="npages", columns="policy",
                                            values="total_cycles")
    out = pd.DataFrame({"npages": ex.index, "mib": ex.index * 4096 / 2**20})
    for p in [p for p in POLICIES if p in ex.columns]:
        out[p + "_mcycles"] = ex[p].to_numpy() / 1e6
        if p != "eager" and "eager" in ex.columns:
            out[p + "_speedup"] = (ex["eager"] / ex[p]).to_numpy()
    return out.reset_index(drop=True)


def analyse(data):
    runs = data.table("forkbench.runs")
    fl = data.table("forkbench.floors")
    f = fork_cost(runs)
    c = fork_compare(f)
    fl_t = (fl.groupby("name")["cycles"].agg(["median", "min", "max"]).reset_index()
            if len(fl) else pd.DataFrame(columns=["name", "median", "min", "max"]))
    return {"fork_cost": f, "fork_compare": c, "fork_break_even": break_even(c),
            "fork_floors": fl_t, "fork_steps": fork_steps(f, fl), "fork_summary": fork_summary(f),
            "_runs": runs}


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
    s += summary_lines(tables)
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


def summary_lines(tables):
    """The policies side by side, then each step per page against its floor."""
    sm, st, fl = tables["fork_summary"], tables["fork_steps"], tables["fork_floors"]
    s = ["Guest with 256 MiB (a 64 MiB parent and its eager copy fit at once). "
         "Fork + child exit + wait, Mcycles (median over boots of the fastest of each "
         "boot's runs); speed-up = eager / policy.", ""]
    fmt = {c: "{:.2f}" for c in sm.columns if c.endswith("_mcycles")}
    fmt.update({c: "{:.1f}x" for c in sm.columns if c.endswith("_speedup")})
    fmt["mib"] = "{:.0f}"
    s += [md_table(sm, fmt, {"npages": "parent pages", "mib": "MiB",
                             "eager_mcycles": "eager", "cow_mcycles": "cow",
                             "cow_speedup": "cow speed-up", "odf_mcycles": "on-demand",
                             "odf_speedup": "on-demand speed-up"}), ""]
    if not fl.empty:
        s += ["Floors measured in the same boot (cycles, median over boots): " +
              ", ".join("%s %.0f" % (r.name, r.median) for r in fl.itertuples()) +
              ". A copy-on-write fault's floor = null_fault + page_alloc + copy_4k; an "
              "eager fork's per page = page_alloc + copy_4k; an eager exit's per page = "
              "page_free. Sharing policies' fork and exit have no per-page floor.", ""]
    if not st.empty:
        s += ["Cycles per parent page of each step (fork and exit: the difference from "
              "N = 0, over N; cow fault: the median of the child's stores to each page, "
              "each timed alone). Where a sharing policy's fork or exit costs a few cycles "
              "per page, the noise of the N = 0 round trip can exceed it and the figure "
              "comes out negative: read it as \"about zero\".", "",
              md_table(st, {"cycles_per_page": "{:.0f}", "floor": "{:.0f}",
                            "vs_floor": "{:.2f}x"},
                       {"npages": "parent pages", "cycles_per_page": "cycles/page",
                        "vs_floor": "vs floor"}), ""]
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
    sm, st = tables["fork_summary"], tables["fork_steps"]
    for r in sm[sm["npages"] == 4096].to_dict("records"):
        for p in ("cow", "odf"):
            if p + "_speedup" in r and r[p + "_speedup"] == r[p + "_speedup"]:
                out.append("Fork + exit at 16 MiB: %s %.1fx faster than the eager copy."
                           % ({"cow": "copy-on-write", "odf": "on-demand fork"}[p],
                              r[p + "_speedup"]))
    f = st[(st["step"] == "cow fault") & (st["policy"] == "cow")]
    if len(f) and f["vs_floor"].notna().any():
        r = f.sort_values("npages").iloc[-1]
        out.append("A copy-on-write fault: %.0f cycles, %.2fx its floor (null fault + page "
                   "allocation + 4 KiB copy, %.0f)." % (r.cycles_per_page, r.vs_floor, r.floor))
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
