"""Transform stage: pure functions, DataFrame(s) in -> DataFrame out. No
files, no printing, no knowledge of the text formats (parse.py has that).

Timing figures come from several fresh guests ("boot" column); a table
keeps the median over boots and the min/max beside it. Counts (pages,
faults) are exact and the same in every boot; tables keep the median too
(which then equals each boot's value).

    >>> runs = pd.DataFrame({"boot": [1, 1], "region_kib": [8192, 8192], "pct": [10, 10],
    ...                      "mode": ["lazy", "populate"], "cycles": [100, 400],
    ...                      "pages": [207, 2050], "faults": [205, 0]})
    >>> lazy_vs_eager(runs)[["pct", "mode", "cycles", "cycles_vs_lazy"]].to_dict("records")
    [{'pct': 10, 'mode': 'lazy', 'cycles': 100.0, 'cycles_vs_lazy': 1.0}, {'pct': 10, 'mode': 'populate', 'cycles': 400.0, 'cycles_vs_lazy': 4.0}]
"""
import re

import numpy as np
import pandas as pd

MODE_ORDER = ["lazy", "populate", "vm.lazy=0"]
PHASE_RE = re.compile(r"^ph:(?P<mode>[^:]+):(?P<pct>\d+)$")


def _mode_key(s):
    """Sort key: the known modes in MODE_ORDER, others after, by name."""
    return s.map(lambda m: (MODE_ORDER.index(m) if m in MODE_ORDER else len(MODE_ORDER), m))


def over_boots(df, keys, timed, counted=()):
    """Group by keys; for each timed column: median, <col>_min, <col>_max;
    for each counted column: the median; plus "boots" (rows per group)."""
    g = df.groupby(keys, sort=True)
    out = g.size().rename("boots").to_frame()
    for c in timed:
        out[c] = g[c].median().astype(float)
        out[c + "_min"] = g[c].min()
        out[c + "_max"] = g[c].max()
    for c in counted:
        m = g[c].median()
        out[c] = m.astype("int64") if len(m) and (m == m.round()).all() else m
    out = out.reset_index()
    cols = list(keys) + [x for c in timed for x in (c, c + "_min", c + "_max")] + \
        list(counted) + ["boots"]
    return out[cols]


# ---- lazy vs eager ------------------------------------------------------------------

def lazy_vs_eager(runs):
    """vmbench runs (boot, region_kib, pct, mode, cycles, pages, faults) ->
    one row per (region_kib, pct, mode): medians, min/max cycles, and the
    ratios to the lazy row of the same pct: cycles_vs_lazy, pages_vs_lazy."""
    cols = ["region_kib", "pct", "mode", "cycles", "cycles_min", "cycles_max", "pages",
            "faults", "boots", "cycles_vs_lazy", "pages_vs_lazy"]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    t = over_boots(runs, ["region_kib", "pct", "mode"], ["cycles"], ["pages", "faults"])
    lazy = t[t["mode"] == "lazy"].set_index(["region_kib", "pct"])
    key = pd.MultiIndex.from_frame(t[["region_kib", "pct"]])
    base_c = lazy["cycles"].reindex(key).to_numpy(dtype=float)
    base_p = lazy["pages"].reindex(key).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t["cycles_vs_lazy"] = t["cycles"].to_numpy(dtype=float) / base_c
        t["pages_vs_lazy"] = t["pages"].to_numpy(dtype=float) / base_p
    t = t.sort_values(["region_kib", "pct", "mode"], key=lambda s: _mode_key(s)
                      if s.name == "mode" else s).reset_index(drop=True)
    return t[cols]


def modes_wide(table, value):
    """lazy_vs_eager's table -> one row per pct, one column per mode, of
    `value` (e.g. "cycles" or "pages")."""
    if table.empty:
        return pd.DataFrame()
    w = table.pivot_table(index="pct", columns="mode", values=value, aggfunc="first")
    order = [m for m in MODE_ORDER if m in w.columns] + \
        sorted(c for c in w.columns if c not in MODE_ORDER)
    w = w[order]
    w.columns.name = None
    return w.reset_index()


def fault_cost(stats):
    """vmbench stats (boot, name, cycles) -> one row per name with median and
    min/max cycles, plus a row "fault_over_floor": lazy_fault's median over
    syscall_plus_zero's median (how far a fault is above what it cannot beat)."""
    cols = ["name", "cycles", "cycles_min", "cycles_max", "boots"]
    if stats.empty:
        return pd.DataFrame(columns=cols)
    t = over_boots(stats, ["name"], ["cycles"])
    order = ["lazy_fault", "null_syscall", "zero_page", "syscall_plus_zero"]
    t["_k"] = t["name"].map(lambda n: order.index(n) if n in order else len(order))
    t = t.sort_values(["_k", "name"]).drop(columns="_k").reset_index(drop=True)
    med = dict(zip(t["name"], t["cycles"]))
    if med.get("lazy_fault") and med.get("syscall_plus_zero"):
        r = med["lazy_fault"] / med["syscall_plus_zero"]
        t = pd.concat([t, pd.DataFrame([{"name": "fault_over_floor", "cycles": r,
                                         "cycles_min": np.nan, "cycles_max": np.nan,
                                         "boots": int(t["boots"].max())}])],
                      ignore_index=True)
    return t[cols]


# ---- allocators ----------------------------------------------------------------------

def alloc_by_order(buddy):
    """allocbench buddy rows -> per order: median/min/max of pair, alloc and
    free cycles, median allocations per second, and alloc cycles per page."""
    timed = ["pair_cycles", "alloc_cycles", "free_cycles"]
    if buddy.empty:
        return pd.DataFrame(columns=["order", "pages"] + timed)
    t = over_boots(buddy, ["order", "pages"], timed, ["batch", "allocs_per_s", "pairs_per_s"])
    t["alloc_cycles_per_page"] = t["alloc_cycles"] / t["pages"]
    return t.sort_values("order").reset_index(drop=True)


def kmalloc_by_size(km):
    """allocbench kmalloc rows -> per size: median/min/max cycles."""
    timed = ["pair_cycles", "alloc_cycles", "free_cycles"]
    if km.empty:
        return pd.DataFrame(columns=["size"] + timed)
    t = over_boots(km, ["size"], timed, ["allocs_per_s", "pairs_per_s"])
    return t.sort_values("size").reset_index(drop=True)


def fragmentation(frag, norders=11):
    """allocbench frag rows (phase, free_pages, largest_pages, b0..b10; one
    set per boot) -> long table for the first boot: phase, order,
    free_blocks, pages_in_blocks (blocks << order), unusable (share of free
    pages in blocks below this order: memory that cannot serve a request of
    this order), and the phase's free_pages, largest_pages, ext_frag
    (1 - largest/free), boots_agree (every boot saw the same free lists)."""
    cols = ["phase", "order", "free_blocks", "pages_in_blocks", "unusable", "free_pages",
            "largest_pages", "ext_frag", "boots_agree"]
    if frag.empty:
        return pd.DataFrame(columns=cols)
    bcols = ["b%d" % k for k in range(norders)]
    first = frag[frag["boot"] == frag["boot"].min()]
    rows = []
    for _, r in first.iterrows():
        same = frag[frag["phase"] == r["phase"]][["free_pages", "largest_pages"] + bcols]
        agree = bool((same == same.iloc[0]).all(axis=None))
        free = int(r["free_pages"])
        below = 0
        for k in range(norders):
            blocks = int(r["b%d" % k])
            rows.append({"phase": r["phase"], "order": k, "free_blocks": blocks,
                         "pages_in_blocks": blocks << k,
                         "unusable": below / free if free else 0.0,
                         "free_pages": free, "largest_pages": int(r["largest_pages"]),
                         "ext_frag": 1 - int(r["largest_pages"]) / free if free else 0.0,
                         "boots_agree": agree})
            below += blocks << k
    return pd.DataFrame(rows, columns=cols)


def check_free_lists(frag, norders=11):
    """frag rows plus listed_pages (sum of blocks << order) and consistent
    (listed_pages == free_pages): a sanity check of the benchmark's output."""
    out = frag.copy()
    listed = pd.Series(0, index=frag.index, dtype="int64")
    for k in range(norders):
        listed += frag["b%d" % k].astype("int64") * (1 << k)
    out["listed_pages"] = listed
    out["consistent"] = listed == frag["free_pages"]
    return out


# ---- tracing cost -------------------------------------------------------------------

def trace_overhead(stats):
    """tracebench stats (boot, name, value) -> rows metric, value (median),
    min, max, unit: cycles per event off/on, the touch workload off/on, the
    slowdown in percent (the median of each boot's own figure) and the
    cycles tracing adds per touched page."""
    cols = ["metric", "value", "min", "max", "unit", "boots"]
    if stats.empty:
        return pd.DataFrame(columns=cols)
    w = stats.pivot_table(index="boot", columns="name", values="value", aggfunc="first")
    out = []

    def add(metric, series, unit):
        s = pd.Series(series, dtype=float).dropna()
        if len(s):
            out.append({"metric": metric, "value": float(s.median()), "min": float(s.min()),
                        "max": float(s.max()), "unit": unit, "boots": len(s)})

    if "event_cycles_off_x100" in w:
        add("event_off", w["event_cycles_off_x100"] / 100, "cycles/event")
    if "event_cycles_on_x100" in w:
        add("event_on", w["event_cycles_on_x100"] / 100, "cycles/event")
    if "touch_kcycles_off" in w and "touch_kcycles_on" in w:
        add("touch_off", w["touch_kcycles_off"] * 1024, "cycles")
        add("touch_on", w["touch_kcycles_on"] * 1024, "cycles")
        off, on = w["touch_kcycles_off"], w["touch_kcycles_on"]
        add("slowdown", (on - off) / off * 100, "%")
        if "touch_pages" in w:
            add("added_per_page", (on - off) * 1024 / w["touch_pages"], "cycles/page")
    return pd.DataFrame(out, columns=cols)


# ---- fork ----------------------------------------------------------------------------

def fork_cost(runs):
    """forkbench rows (boot, policy, npages, child, fork_cycles, total_cycles,
    pgalloc, pgfree, faults, cow_faults) -> per (policy, child, npages):
    medians and min/max, extra_pages (pgalloc minus the same policy/child's
    at npages 0: the copied user pages), and cycles_per_extra_page (round
    trip minus the npages-0 round trip, per extra page; only where at least
    half of the npages were copied, else the figure would mean nothing).
    Rows: policy eager first, then cow, then others."""
    if runs.empty:
        return pd.DataFrame(columns=["policy", "child", "npages", "fork_cycles",
                                     "total_cycles", "pgalloc", "extra_pages"])
    t = over_boots(runs, ["policy", "child", "npages"], ["fork_cycles", "total_cycles"],
                   ["pgalloc", "pgfree", "faults", "cow_faults"])
    base = t[t["npages"] == 0].set_index(["policy", "child"])
    key = pd.MultiIndex.from_frame(t[["policy", "child"]])
    b_alloc = base["pgalloc"].reindex(key).to_numpy(dtype=float)
    b_total = base["total_cycles"].reindex(key).to_numpy(dtype=float)
    t["extra_pages"] = t["pgalloc"].to_numpy(dtype=float) - b_alloc
    with np.errstate(divide="ignore", invalid="ignore"):
        per = (t["total_cycles"].to_numpy(dtype=float) - b_total) / t["extra_pages"].to_numpy()
    copied = (t["extra_pages"].to_numpy() > 0) & \
        (t["extra_pages"].to_numpy() >= 0.5 * t["npages"].to_numpy())
    t["cycles_per_extra_page"] = np.where(copied, per, np.nan)
    order = {"eager": 0, "cow": 1}
    t["_k"] = t["policy"].map(lambda p: order.get(p, 2))
    t = t.sort_values(["_k", "policy", "child", "npages"]).drop(columns="_k")
    return t.reset_index(drop=True)


def fork_compare(fork):
    """fork_cost's table -> per (child, npages) where both policies were
    measured: eager and cow round-trip cycles and pages allocated, and
    cow_vs_eager_cycles / cow_vs_eager_pages (below 1: copy-on-write wins)."""
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


def cow_present(fork):
    """True if any fork row used copy-on-write (a "cow" policy or COW faults)."""
    if fork.empty:
        return False
    return bool((fork["policy"] == "cow").any() or (fork["cow_faults"] > 0).any())


# ---- msync ---------------------------------------------------------------------------

MSYNC_MODES = ["dirty", "full"]


def msync_compare(runs):
    """msyncbench rows (boot, file_pages, pct, dirtied, mode, cycles,
    pages_written, bytes_written) -> tidy: one row per (file_pages, pct,
    mode): dirtied, cycles (median over boots, min, max), pages_written,
    bytes_written (exact: medians), boots, and the ratios to the "dirty"
    row of the same pct: cycles_vs_dirty, pages_vs_dirty (on a "full" row:
    how much more the full write-back costs; 1.0 on the dirty row).
    Rows by pct, then dirty before full."""
    cols = ["file_pages", "pct", "dirtied", "mode", "cycles", "cycles_min", "cycles_max",
            "pages_written", "bytes_written", "boots", "cycles_vs_dirty", "pages_vs_dirty"]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    t = over_boots(runs, ["file_pages", "pct", "dirtied", "mode"], ["cycles"],
                   ["pages_written", "bytes_written"])
    base = t[t["mode"] == "dirty"].set_index(["file_pages", "pct"])
    key = pd.MultiIndex.from_frame(t[["file_pages", "pct"]])
    base_c = base["cycles"].reindex(key).to_numpy(dtype=float)
    base_p = base["pages_written"].reindex(key).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t["cycles_vs_dirty"] = t["cycles"].to_numpy(dtype=float) / base_c
        t["pages_vs_dirty"] = t["pages_written"].to_numpy(dtype=float) / base_p
    t["_k"] = t["mode"].map(lambda m: (MSYNC_MODES.index(m) if m in MSYNC_MODES
                                       else len(MSYNC_MODES), m))
    t = t.sort_values(["file_pages", "pct", "_k"]).drop(columns="_k")
    return t.reset_index(drop=True)[cols]


def msync_wide(table):
    """msync_compare's table -> one row per (file_pages, pct) measured in both
    modes: dirtied, dirty_cycles, full_cycles, full_over_dirty_cycles,
    dirty_pages, full_pages, full_over_dirty_pages (pages written)."""
    cols = ["file_pages", "pct", "dirtied", "dirty_cycles", "full_cycles",
            "full_over_dirty_cycles", "dirty_pages", "full_pages", "full_over_dirty_pages"]
    if table.empty or not set(MSYNC_MODES) <= set(table["mode"]):
        return pd.DataFrame(columns=cols)
    keys = ["file_pages", "pct", "dirtied"]
    d = table[table["mode"] == "dirty"].set_index(keys)
    f = table[table["mode"] == "full"].set_index(keys)
    j = d[["cycles", "pages_written"]].join(f[["cycles", "pages_written"]], how="inner",
                                            lsuffix="_d", rsuffix="_f")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "dirty_cycles": j["cycles_d"], "full_cycles": j["cycles_f"],
            "full_over_dirty_cycles": j["cycles_f"] / j["cycles_d"],
            "dirty_pages": j["pages_written_d"], "full_pages": j["pages_written_f"],
            "full_over_dirty_pages": j["pages_written_f"] / j["pages_written_d"]})
    out = out.reset_index().sort_values(["file_pages", "pct"]).reset_index(drop=True)
    return out[cols]


# ---- the traced run -------------------------------------------------------------------

def phases(events):
    """Marker events "ph:MODE:PCT" (arg 1 = start, 0 = end) -> one row per
    phase: phase, mode, pct, tsc_begin, tsc_end, complete (both markers
    seen), in order of start. Markers of other shapes are ignored."""
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
    """events plus a "phase" column: the complete phase whose [begin, end]
    holds the event's tsc (None outside every phase)."""
    out = events.copy()
    out["phase"] = None
    done = ph[ph["complete"]] if not ph.empty else ph
    for _, p in done.iterrows():
        inside = (out["tsc"] >= p["tsc_begin"]) & (out["tsc"] <= p["tsc_end"])
        out.loc[inside, "phase"] = p["phase"]
    return out


def phase_counts(events, ph):
    """Per complete phase: mode, pct, duration (tsc cycles), faults (all
    kinds), zero_faults, page_allocs (events), pages_alloc (sum of 2^order),
    pages_freed, fault_cycles_median (the kernel's own timing of each fault)."""
    cols = ["phase", "mode", "pct", "duration", "faults", "zero_faults", "page_allocs",
            "pages_alloc", "pages_freed", "fault_cycles_median"]
    if ph.empty:
        return pd.DataFrame(columns=cols)
    ev = assign_phase(events, ph)
    rows = []
    for _, p in ph[ph["complete"]].iterrows():
        e = ev[ev["phase"] == p["phase"]]
        f = e[e["type"] == "fault"]
        a = e[e["type"] == "page_alloc"]
        fr = e[e["type"] == "page_free"]
        rows.append({
            "phase": p["phase"], "mode": p["mode"], "pct": p["pct"],
            "duration": int(p["tsc_end"]) - int(p["tsc_begin"]),
            "faults": len(f), "zero_faults": int((f["how"] == "zero").sum()) if len(f) else 0,
            "page_allocs": len(a),
            "pages_alloc": int((2 ** a["order"].astype("int64")).sum()) if len(a) else 0,
            "pages_freed": int((2 ** fr["order"].astype("int64")).sum()) if len(fr) else 0,
            "fault_cycles_median": float(f["cycles"].astype(float).median()) if len(f) else np.nan,
        })
    return pd.DataFrame(rows, columns=cols)


def compare_counts(counts, runs):
    """phase_counts joined with the program's own vmstat view (vmphases csv
    rows: pct, mode, pages, faults) -> adds counter_pages, counter_faults and
    agree (trace and counters give the same faults and pages)."""
    r = runs.rename(columns={"pages": "counter_pages", "faults": "counter_faults"})
    r = r.drop_duplicates(["pct", "mode"])[["pct", "mode", "counter_pages", "counter_faults"]]
    out = counts.merge(r, on=["pct", "mode"], how="left")
    out["agree"] = (out["zero_faults"] == out["counter_faults"]) & \
        (out["pages_alloc"] == out["counter_pages"])
    return out


def event_timeline(events, ph, kind="fault", scale=1e6):
    """Events of one type inside phases -> t (tsc cycles since the first
    phase's start, divided by scale: 1e6 gives Mcycles), phase, mode, pct,
    n (running count within the phase), weight (1, or 2^order pages for
    page_alloc / page_free), total (running sum of weight over the run)."""
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
        "pct": meta.loc[f["phase"], "pct"].to_numpy() if len(f) else [],
    })
    out["n"] = out.groupby("phase").cumcount() + 1
    if kind in ("page_alloc", "page_free") and len(f):
        out["weight"] = 2 ** f["order"].astype("int64").to_numpy()
    else:
        out["weight"] = 1
    out["total"] = out["weight"].cumsum() if len(out) else out["weight"]
    return out.reset_index(drop=True)[cols]


def fault_timeline(events, ph, scale=1e6):
    """event_timeline of the fault events."""
    return event_timeline(events, ph, "fault", scale)
