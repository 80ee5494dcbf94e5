"""Report stage: transform.py's tables -> the text of REPORT.md (Markdown).
Pure: takes tables and facts, returns a string; the CLI writes the file.

    >>> print(md_table(pd.DataFrame({"order": [0, 1], "cycles": [2267.0, 3394.5]}),
    ...                {"cycles": "{:.0f}"}))
    | order | cycles |
    |------:|-------:|
    | 0 | 2267 |
    | 1 | 3394 |
"""
import math

import pandas as pd

from .transform import modes_wide, cow_present, fork_compare, msync_wide

SKIP_MSYNC = ("**Skipped: no msyncbench data in this run** (the program was not built, "
              "not selected, or its runs failed: see Runs and Problems), so there is no "
              "dirty-bit vs full-write-back comparison.")


def _fmt(v, f):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "-"
    if f:
        return f.format(v)
    if isinstance(v, float):
        return "{:.0f}".format(v) if abs(v) >= 100 else "{:.3g}".format(v)
    return str(v)


def md_table(df, formats=None, headers=None):
    """A Markdown table of df's columns (numbers right-aligned); formats maps
    a column to a format string, headers a column to its title."""
    formats = formats or {}
    headers = headers or {}
    cols = list(df.columns)
    titles = [headers.get(c, c) for c in cols]
    num = [pd.api.types.is_numeric_dtype(df[c]) for c in cols]
    out = ["| " + " | ".join(titles) + " |",
           "|" + "|".join(("-" * (len(t) + 1) + ":") if n else ("-" * (len(t) + 2))
                          for t, n in zip(titles, num)) + "|"]
    for row in df.itertuples(index=False):
        out.append("| " + " | ".join(_fmt(v, formats.get(c)) for v, c in zip(row, cols)) + " |")
    return "\n".join(out)


def _ratio(x):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else "%.2fx" % x


def section_lazy(lazy, fcost, phases_cmp, trace_summary):
    s = ["## Lazy vs eager allocation (vmbench, vmphases)", ""]
    if lazy.empty:
        return s + ["No vmbench data (see Runs and Problems).", ""]
    med = dict(zip(fcost["name"], fcost["cycles"])) if not fcost.empty else {}
    if med:
        s += ["Cycles per operation (median over boots, min..max):", ""]
        rows = fcost[fcost["name"] != "fault_over_floor"].copy()
        rows["range"] = [("%.0f..%.0f" % (a, b)) for a, b in
                         zip(rows["cycles_min"], rows["cycles_max"])]
        s += [md_table(rows[["name", "cycles", "range", "boots"]], {"cycles": "{:.0f}"}), ""]
        if "fault_over_floor" in med:
            s += ["A lazy fault costs **%.1fx** the floor (null syscall + zeroing a page: "
                  "%.0f cycles)." % (med["fault_over_floor"], med.get("syscall_plus_zero", 0)),
                  ""]
    mib = int(lazy["region_kib"].iloc[0]) // 1024
    cyc = modes_wide(lazy, "cycles")
    pages = modes_wide(lazy, "pages")
    faults = modes_wide(lazy, "faults")
    t = pd.DataFrame({"touched": ["%d%%" % p for p in cyc["pct"]]})
    for m in [c for c in cyc.columns if c != "pct"]:
        t[m + " Mcyc"] = cyc[m] / 1e6
    for m in [c for c in cyc.columns if c not in ("pct", "lazy")]:
        t[m + "/lazy"] = [_ratio(v) for v in cyc[m] / cyc["lazy"]] if "lazy" in cyc else "-"
    for m in [c for c in pages.columns if c != "pct"]:
        t[m + " pages"] = pages[m]
    if "lazy" in faults:
        t["lazy faults"] = faults["lazy"]
    s += ["Map a %d MiB region and touch a share of its pages (mmap + touches; median of "
          "each mode's fastest-of-3 time over the boots). Ratios > 1: slower than lazy." % mib,
          "", md_table(t, {c: "{:.2f}" for c in t.columns if c.endswith("Mcyc")}), ""]
    if phases_cmp is not None and not phases_cmp.empty:
        t = phases_cmp[["mode", "pct", "faults", "zero_faults", "counter_faults", "pages_alloc",
                        "counter_pages", "fault_cycles_median", "agree"]].copy()
        s += ["Traced run (`trace run vmphases`, one boot): events per phase counted from the "
              "trace between the program's marker events, beside the program's own vmstat "
              "deltas. `fault_cycles_median` is the kernel's timing of each fault "
              "(the fault event's cycles field).", "",
              md_table(t, {"fault_cycles_median": "{:.0f}"}), ""]
        lz = phases_cmp[(phases_cmp["mode"] == "lazy") & phases_cmp["faults"].gt(0)]
        if len(lz) and med.get("lazy_fault"):
            s += ["The kernel's own timing of a lazy fault (median per lazy phase) is %.0f..%.0f "
                  "cycles, against %.0f cycles seen from user space (vmbench): the difference "
                  "is the trap's entry and return, which the emulator makes costly." % (
                      lz["fault_cycles_median"].min(), lz["fault_cycles_median"].max(),
                      med["lazy_fault"]), ""]
        agree = bool(phases_cmp["agree"].all())
        s += ["Trace and counters agree in every phase: **%s**." % ("yes" if agree else "NO"),
              ""]
    if trace_summary:
        s += ["Trace dump: %d records, %d lost by the kernel, %d bad frames." % (
            trace_summary.get("records", 0), trace_summary.get("kernel_lost", 0),
            trace_summary.get("bad_frames", 0)), ""]
    s += ["![cycles](lazy_vs_eager_cycles.png)", "", "![pages](lazy_vs_eager_pages.png)", "",
          "![fault timeline](fault_timeline.png)", ""]
    return s


def section_fork(fork):
    s = ["## Copy-on-write vs eager fork (forkbench)", ""]
    if not cow_present(fork):
        s += ["**Copy-on-write: skipped: not implemented in this kernel yet** (forkbench found "
              "no `vm.cow` setting and no COW faults). Below is the eager-copy baseline the "
              "comparison will use; forkbench measures a `cow` policy by itself once "
              "`sysctl vm.cow` exists.", ""]
    if fork.empty:
        return s + ["No forkbench data.", ""]
    t = fork[["policy", "child", "npages", "fork_cycles", "total_cycles", "pgalloc",
              "extra_pages", "cycles_per_extra_page", "faults", "cow_faults"]].copy()
    t["fork_cycles"] = t["fork_cycles"] / 1e6
    t["total_cycles"] = t["total_cycles"] / 1e6
    s += ["Fork with a parent that touched N pages; `fork` = the call in the parent, "
          "`round trip` = fork + child exit + wait (Mcycles, median over boots); "
          "`extra pages` = pages allocated beyond the N=0 fork (the copies).", "",
          md_table(t, {"fork_cycles": "{:.2f}", "total_cycles": "{:.2f}",
                       "cycles_per_extra_page": "{:.0f}", "extra_pages": "{:.0f}"},
                   {"fork_cycles": "fork Mcyc", "total_cycles": "round trip Mcyc",
                    "extra_pages": "extra pages", "cycles_per_extra_page": "cyc/extra page"}),
          ""]
    cmp = fork_compare(fork)
    if not cmp.empty:
        t = cmp.copy()
        t["eager_cycles"] = t["eager_cycles"] / 1e6
        t["cow_cycles"] = t["cow_cycles"] / 1e6
        t["cow_vs_eager_cycles"] = [_ratio(v) for v in cmp["cow_vs_eager_cycles"]]
        t["cow_vs_eager_pages"] = [_ratio(v) for v in cmp["cow_vs_eager_pages"]]
        s += ["Copy-on-write vs eager copy (round trip, Mcycles; below 1x: COW wins). With "
              "`child write` the child writes every page, so COW pays one fault per page "
              "instead of the bulk copy.", "",
              md_table(t, {"eager_cycles": "{:.2f}", "cow_cycles": "{:.2f}"},
                       {"eager_cycles": "eager Mcyc", "cow_cycles": "cow Mcyc",
                        "cow_vs_eager_cycles": "cow/eager time",
                        "cow_vs_eager_pages": "cow/eager pages"}), ""]
    s += ["![fork](fork_cost.png)", ""]
    return s


def section_msync(table):
    s = ["## Dirty-bit vs full msync (msyncbench)", ""]
    if table is None or table.empty:
        return s + [SKIP_MSYNC, ""]
    n = int(table["file_pages"].iloc[0])
    t = table[["pct", "dirtied", "mode", "cycles", "cycles_min", "cycles_max",
               "pages_written", "bytes_written", "boots"]].copy()
    t["pct"] = ["%d%%" % p for p in t["pct"]]
    t["range"] = ["%.2f..%.2f" % (a / 1e6, b / 1e6)
                  for a, b in zip(t["cycles_min"], t["cycles_max"])]
    t["cycles"] = t["cycles"] / 1e6
    t = t[["pct", "dirtied", "mode", "cycles", "range", "pages_written", "bytes_written",
           "boots"]]
    s += ["A %d-page (%d KiB) file mapped `MAP_SHARED`, every page present; write one byte "
          "in `dirtied` pages (spread over the file), then time `msync(MS_SYNC)` of the "
          "whole mapping. `dirty` = vm.msync_all=0 (only pages whose PTE dirty bit is set "
          "are written back), `full` = vm.msync_all=1 (every present page: the baseline). "
          "Mcycles = median over boots of each boot's fastest run (min..max over boots); "
          "pages and bytes written are the vmstat msync counters' deltas (exact)."
          % (n, n * 4), "",
          md_table(t, {"cycles": "{:.2f}"}, {"cycles": "Mcycles", "range": "Mcyc range",
                                              "pages_written": "pages written",
                                              "bytes_written": "bytes written"}), ""]
    w = msync_wide(table)
    if not w.empty:
        r = w.copy()
        r["pct"] = ["%d%%" % p for p in w["pct"]]
        r["dirty_cycles"] = w["dirty_cycles"] / 1e6
        r["full_cycles"] = w["full_cycles"] / 1e6
        r["full_over_dirty_cycles"] = [_ratio(v) for v in w["full_over_dirty_cycles"]]
        r["full_over_dirty_pages"] = [_ratio(v) for v in w["full_over_dirty_pages"]]
        r = r.drop(columns="file_pages")
        s += ["Full over dirty-bit write-back (above 1x: the dirty bit saves that much):", "",
              md_table(r, {"dirty_cycles": "{:.2f}", "full_cycles": "{:.2f}"},
                       {"dirty_cycles": "dirty Mcyc", "full_cycles": "full Mcyc",
                        "full_over_dirty_cycles": "full/dirty time",
                        "dirty_pages": "dirty pages", "full_pages": "full pages",
                        "full_over_dirty_pages": "full/dirty pages"}), ""]
    s += ["![msync](msync_compare.png)", ""]
    return s


def section_alloc(buddy, km, frag, fragrun):
    s = ["## Buddy allocator and kmalloc (allocbench)", ""]
    if buddy.empty:
        return s + ["No allocbench data.", ""]
    t = buddy[["order", "pages", "batch", "pair_cycles", "alloc_cycles", "free_cycles",
               "allocs_per_s", "alloc_cycles_per_page"]].copy()
    t["range"] = ["%.0f..%.0f" % (a, b) for a, b in zip(buddy["pair_cycles_min"],
                                                       buddy["pair_cycles_max"])]
    s += ["Cycles per operation by order (median over boots; `range` = pair min..max; "
          "alloc/free measured in batches).", "",
          md_table(t, {"alloc_cycles_per_page": "{:.1f}", "allocs_per_s": "{:.0f}"},
                   {"range": "pair range"}), ""]
    if km is not None and not km.empty:
        s += ["kmalloc by size:", "",
              md_table(km[["size", "pair_cycles", "alloc_cycles", "free_cycles",
                           "allocs_per_s"]], {"allocs_per_s": "{:.0f}"}), ""]
    if not frag.empty:
        ph = frag.drop_duplicates("phase")[["phase", "free_pages", "largest_pages", "ext_frag",
                                           "boots_agree"]]
        s += ["Fragmentation after a seeded random workload (first boot; `ext_frag` = "
              "1 - largest free block / free pages):", "",
              md_table(ph, {"ext_frag": "{:.3f}"}), ""]
        w = frag.pivot_table(index="phase", columns="order", values="unusable",
                             aggfunc="first", sort=False)
        w.columns = ["o%d" % c for c in w.columns]
        w = w.reset_index()
        s += ["Unusable-free-space index per order (share of free pages in blocks too small "
              "for a request of that order):", "",
              md_table(w, {c: "{:.3f}" for c in w.columns if c != "phase"}), ""]
    if fragrun is not None and not fragrun.empty:
        r = fragrun.iloc[0]
        s += ["Workload: seed %d, %d allocations (%d failed), %d blocks = %d pages held at the "
              "end; free lists restored exactly afterwards: %s." % (
                  r["seed"], r["allocs"], r["failed"], r["held_blocks"], r["held_pages"],
                  "yes" if r["restored"] else "NO"), ""]
    s += ["![alloc](alloc_cost_by_order.png)", "", "![fragmentation](fragmentation.png)", ""]
    return s


def section_trace(over):
    s = ["## Tracing overhead (tracebench)", ""]
    if over.empty:
        return s + ["No tracebench data.", ""]
    t = over.copy()
    for c in ("value", "min", "max"):
        t[c] = ["%.0f" % v if u == "cycles" else "%.2f" % v for v, u in zip(over[c], over["unit"])]
    s += ["Median over boots (min, max). `event_off`/`event_on`: cycles to record one event "
          "with tracing off (the fast path) and on; `touch_*`: map, touch and unmap the "
          "workload's pages; `added_per_page`: cycles tracing adds per touched page.", "",
          md_table(t), ""]
    v = dict(zip(over["metric"], over["value"]))
    if "slowdown" in v:
        s += ["Fault-heavy workload slowdown with tracing on (every event, flight mode): "
              "**%.1f%%** (median; the issue's aim is under 5%%)." % v["slowdown"], ""]
    return s


def key_figures(tables):
    """A few bullet lines with the headline ratios (empty if no data)."""
    out = []
    lazy, fc = tables["lazy_vs_eager"], tables["fault_cost"]
    if not lazy.empty:
        cyc = modes_wide(lazy, "cycles").set_index("pct")
        pages = modes_wide(lazy, "pages").set_index("pct")
        eager = "vm.lazy=0" if "vm.lazy=0" in cyc else None
        if eager and "lazy" in cyc:
            parts = ["%d%%: %s time, %s pages" % (p, _ratio(cyc.loc[p, eager] / cyc.loc[p, "lazy"]),
                                                  _ratio(pages.loc[p, eager] / pages.loc[p, "lazy"]))
                     for p in cyc.index]
            out.append("Eager (vm.lazy=0) vs lazy, touching " + "; ".join(parts) + ".")
    if not fc.empty:
        med = dict(zip(fc["name"], fc["cycles"]))
        if "fault_over_floor" in med:
            out.append("One lazy fault: %.0f cycles = %.2fx the floor (null syscall + zeroing a "
                       "page, %.0f cycles)." % (med["lazy_fault"], med["fault_over_floor"],
                                                med["syscall_plus_zero"]))
    b = tables["alloc_by_order"]
    if not b.empty:
        lo, hi = b["pair_cycles"].min(), b["pair_cycles"].max()
        shape = "within %.0f%% of each other: the cost does not depend on the order" % (
            100 * (hi / lo - 1)) if hi < 1.25 * lo else "order %d costs most" % (
            b.loc[b["pair_cycles"].idxmax(), "order"])
        out.append("Buddy allocator: alloc+free pair %.0f..%.0f cycles across orders 0..%d (%s)."
                   % (lo, hi, b["order"].max(), shape))
    f = tables["fragmentation"]
    if not f.empty and (f["phase"] == "held").any():
        h = f[f["phase"] == "held"]
        out.append("Fragmentation while the random workload holds memory: 1 - largest/free = "
                   "%.3f; %.1f%% of free pages unusable for an order-%d request." % (
                       h["ext_frag"].iloc[0], 100 * h["unusable"].iloc[-1], h["order"].iloc[-1]))
    o = tables["trace_overhead"]
    if not o.empty:
        v = dict(zip(o["metric"], o["value"]))
        if "slowdown" in v:
            out.append("Tracing: %.0f cycles per event on (%.0f off); fault-heavy workload "
                       "%.1f%% slower with tracing on." % (v.get("event_on", float("nan")),
                                                         v.get("event_off", float("nan")),
                                                         v["slowdown"]))
    m = tables.get("msync_compare")
    w = msync_wide(m) if m is not None and not m.empty else pd.DataFrame()
    if not w.empty:
        parts = ["%d%% dirty (%d pages): %s the time, %s the pages" % (
            r.pct, r.dirtied, _ratio(r.full_over_dirty_cycles), _ratio(r.full_over_dirty_pages))
            for r in w.itertuples()]
        out.append("Full msync (vm.msync_all=1) vs dirty-bit msync of a %d-page shared "
                   "mapping: " % w["file_pages"].iloc[0] + "; ".join(parts) + ".")
    k = tables["fork_cost"]
    cmp = fork_compare(k) if not k.empty else pd.DataFrame()
    if not cmp.empty:
        ex = cmp[cmp["child"] == "exit"].set_index("npages")
        wr = cmp[cmp["child"] == "write"].set_index("npages")
        n = ex.index.max() if len(ex) else None
        if n is not None:
            line = ("Copy-on-write vs eager fork, parent with %d touched pages: fork + exit + "
                    "wait %s the time and %s the pages" % (
                        n, _ratio(ex.loc[n, "cow_vs_eager_cycles"]),
                        _ratio(ex.loc[n, "cow_vs_eager_pages"])))
            if n in wr.index:
                line += "; if the child then writes every page: %s the time (%d COW faults)" % (
                    _ratio(wr.loc[n, "cow_vs_eager_cycles"]), wr.loc[n, "cow_faults"])
            out.append(line + ".")
    if not k.empty:
        e = k[(k["policy"] == "eager") & (k["child"] == "exit")].set_index("npages")
        if len(e) > 1:
            n = e.index.max()
            out.append("Eager fork: %.2f Mcycles with an empty parent, %.2f with %d touched "
                       "pages (%.1fx; about %.0f cycles per copied page)." % (
                           e.loc[0, "total_cycles"] / 1e6, e.loc[n, "total_cycles"] / 1e6, n,
                           e.loc[n, "total_cycles"] / e.loc[0, "total_cycles"],
                           e.loc[n, "cycles_per_extra_page"]))
    return ["- " + x for x in out]


def render(facts, tables, problems):
    """The whole REPORT.md. facts: run name, git, cpus, mem, boots, runs
    table (DataFrame), skipped list; tables: name -> DataFrame; problems:
    list of strings."""
    s = ["# Benchmark report: %s" % facts.get("run", "?"), "",
         "Kernel %s; guest: %s CPUs, %s MiB; %s fresh boot(s) per timing benchmark. "
         "qemu-system-i386 with software emulation (TCG): cycles are host TSC cycles "
         "spent emulating, slow and noisy; compare ratios within this run. Counts "
         "(pages, faults, events) are exact." % (facts.get("git", "?"), facts.get("cpus", "?"),
                                                facts.get("mem", "?"), facts.get("boots", "?")),
         ""]
    load = facts.get("host_load")
    if load:
        s += ["Host: %s CPUs, load average (1/5/15 min) %s before, %s after the runs." % (
            facts.get("host_cpus", "?"), "/".join("%.2f" % x for x in load.get("before", [])),
            "/".join("%.2f" % x for x in load.get("after", []))), ""]
    kf = key_figures(tables)
    if kf:
        s += ["## Key figures", ""] + kf + [""]
    runs = facts.get("runs")
    if runs is not None and not runs.empty:
        s += ["## Runs", "", md_table(runs), ""]
    for sk in facts.get("skipped", []):
        s += ["- %s: skipped: %s" % (sk.get("bench"), sk.get("why"))]
    s += [""]
    s += section_lazy(tables["lazy_vs_eager"], tables["fault_cost"], tables.get("trace_phases"),
                      facts.get("trace_summary"))
    s += section_msync(tables.get("msync_compare"))
    s += section_fork(tables["fork_cost"])
    s += section_alloc(tables["alloc_by_order"], tables.get("kmalloc_by_size"),
                       tables["fragmentation"], tables.get("fragrun"))
    s += section_trace(tables["trace_overhead"])
    s += ["## Problems", ""]
    s += ["- " + p for p in problems] if problems else ["None: every line parsed."]
    s += [""]
    return "\n".join(s)
