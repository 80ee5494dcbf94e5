"""Buddy allocator and kmalloc (user/bench/allocbench.c).

Cycles of an alloc+free pair and of allocations and frees in batches per
buddy order 0..10 and per kmalloc size; the free lists before and while a
seeded random workload holds half the memory.

Output lines (a line whose third field is a column name is a header):
  csv,tsc_khz,KHZ
  csv,buddy,order,pages,batch,pair_cycles,alloc_cycles,free_cycles,pairs_per_s,allocs_per_s
  csv,kmalloc,size,pair_cycles,alloc_cycles,free_cycles,pairs_per_s,allocs_per_s
  csv,frag,phase,free_pages,largest_pages,ext_frag_permille,b0,...,b10
  csv,fragrun,seed,allocs,failed,held_blocks,held_pages,restored
"""
import pandas as pd

from kbench import parse as P, plot as K, stats as S
from kbench.report import md_table

TITLE = "Buddy allocator and kmalloc (allocbench)"
ORDER = 40
RUNS = [{"name": "allocbench", "cmd": "allocbench"}]
DETERMINISTIC = True     # per-second rates: from the 1 GHz icount clock (exact_rates)

NORDERS = 11
BUDDY = [("order", int), ("pages", int), ("batch", int), ("pair_cycles", int),
         ("alloc_cycles", int), ("free_cycles", int), ("pairs_per_s", int),
         ("allocs_per_s", int)]
KMALLOC = [("size", int), ("pair_cycles", int), ("alloc_cycles", int), ("free_cycles", int),
           ("pairs_per_s", int), ("allocs_per_s", int)]
FRAG = ([("phase", str), ("free_pages", int), ("largest_pages", int),
         ("ext_frag_permille", int)] + [("b%d" % k, int) for k in range(NORDERS)])
FRAGRUN = [("seed", int), ("allocs", int), ("failed", int), ("held_blocks", int),
           ("held_pages", int), ("restored", int)]
SCHEMAS = {"buddy": BUDDY, "kmalloc": KMALLOC, "frag": FRAG, "fragrun": FRAGRUN}
TIMED = ["pair_cycles", "alloc_cycles", "free_cycles"]
KM_MAXSMALL = 2048          # larger kmalloc requests are whole buddy blocks, not slabs


def parse(run, lines, source):
    """allocbench output -> Tables buddy, kmalloc, frag, fragrun, tsc."""
    t = P.Tables()
    rows = {k: [] for k in SCHEMAS}
    tsc = []
    for i, line in P.csv_lines(lines, source, t.problems):
        values = line.split(",")
        if values[0] != "csv" or len(values) < 2:
            t.problems.append(P.Problem(source, i, "not a csv,TABLE,... line", line))
            continue
        table, values = values[1], values[2:]
        if table == "tsc_khz":
            if len(values) == 1 and P.INT_RE.match(values[0]):
                tsc.append({"tsc_khz": int(values[0])})
            else:
                t.problems.append(P.Problem(source, i, "expected csv,tsc_khz,INTEGER", line))
            continue
        schema = SCHEMAS.get(table)
        if schema is None:
            t.problems.append(P.Problem(source, i, "unknown table %r" % table, line))
            continue
        if P.is_header(values, schema):
            P.check_header(values, schema, source, i, line, t.problems)
            continue
        try:
            rows[table].append(P.convert(values, schema))
        except ValueError as e:
            t.problems.append(P.Problem(source, i, "%s: %s" % (table, e), line))
    for k, schema in SCHEMAS.items():
        t[k] = P.frame(rows[k], schema)
    t["tsc"] = pd.DataFrame(tsc, columns=["tsc_khz"])
    return t


def alloc_by_order(buddy):
    """Per order: median/min/max cycles, allocations per second, alloc
    cycles per page."""
    if buddy.empty:
        return pd.DataFrame(columns=["order", "pages"] + TIMED)
    t = S.over_boots(buddy, ["order", "pages"], TIMED, ["batch", "allocs_per_s", "pairs_per_s"])
    t["alloc_cycles_per_page"] = t["alloc_cycles"] / t["pages"]
    return t.sort_values("order").reset_index(drop=True)


def kmalloc_by_size(km):
    """Per size: median/min/max cycles."""
    if km.empty:
        return pd.DataFrame(columns=["size"] + TIMED)
    t = S.over_boots(km, ["size"], TIMED, ["allocs_per_s", "pairs_per_s"])
    return t.sort_values("size").reset_index(drop=True)


def fragmentation(frag, norders=NORDERS):
    """frag rows -> long table for the first boot: phase, order,
    free_blocks, pages_in_blocks, unusable (share of free pages in blocks
    below this order), free_pages, largest_pages, ext_frag (1 -
    largest/free), boots_agree (every boot saw the same free lists)."""
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


def check_free_lists(frag, norders=NORDERS):
    """frag rows plus listed_pages (sum of blocks << order) and consistent."""
    out = frag.copy()
    listed = pd.Series(0, index=frag.index, dtype="int64")
    for k in range(norders):
        listed += frag["b%d" % k].astype("int64") * (1 << k)
    out["listed_pages"] = listed
    out["consistent"] = listed == frag["free_pages"]
    return out


def kmalloc_churn(km, buddy):
    """Per kmalloc size: pair cycles beside a batched alloc + free and the
    buddy order-0 pair; churn = the pair costs more than the batched pair
    plus half a buddy pair (a slab made and released on every pair; slab
    sizes only)."""
    cols = ["size", "pair_cycles", "batched_pair", "buddy0_pair", "churn"]
    if km.empty or buddy.empty or not (buddy["order"] == 0).any():
        return pd.DataFrame(columns=cols)
    b0 = float(buddy.loc[buddy["order"] == 0, "pair_cycles"].iloc[0])
    t = km[["size", "pair_cycles"]].copy()
    t["batched_pair"] = km["alloc_cycles"] + km["free_cycles"]
    t["buddy0_pair"] = b0
    t["churn"] = (t["pair_cycles"] > t["batched_pair"] + 0.5 * b0) & (t["size"] <= KM_MAXSMALL)
    return t[cols]


def exact_rates(df, hz=1e9):
    """Under the instruction clock the TSC rate is 1 GHz by definition:
    operations per second from the cycles, not from the guest's own
    calibration over timer ticks (which moves by 1 kHz between boots)."""
    if df.empty:
        return df
    df = df.copy()
    df["pairs_per_s"] = (hz / df["pair_cycles"].where(df["pair_cycles"] > 0)).round() \
        .fillna(0).astype("int64")
    df["allocs_per_s"] = (hz / df["alloc_cycles"].where(df["alloc_cycles"] > 0)).round() \
        .fillna(0).astype("int64")
    return df


def analyse(data):
    frag = data.table("allocbench.frag")
    if len(frag):
        chk = check_free_lists(frag)
        for r in chk[~chk["consistent"]].itertuples():
            data.problems.append(P.Problem("alloc/allocbench.%d.out" % r.boot, 0,
                                           "frag %s: free lists hold %d pages, free_pages says "
                                           "%d" % (r.phase, r.listed_pages, r.free_pages)))
    buddy, km = data.table("allocbench.buddy"), data.table("allocbench.kmalloc")
    if data.clock == "icount":
        buddy, km = exact_rates(buddy), exact_rates(km)
    b, k = alloc_by_order(buddy), kmalloc_by_size(km)
    return {"alloc_by_order": b, "kmalloc_by_size": k, "fragmentation": fragmentation(frag),
            "kmalloc_churn": kmalloc_churn(k, b), "_fragrun": data.table("allocbench.fragrun"),
            "_buddy": buddy, "_km": km, "_tsc": data.table("allocbench.tsc")}


def samples(tables):
    b, k = tables["_buddy"], tables["_km"]
    return pd.concat([S.samples_from(b.assign(k="buddy_pair_order"), ["k", "order"],
                                     "pair_cycles"),
                      S.samples_from(k.assign(k="kmalloc_pair_bytes"), ["k", "size"],
                                     "pair_cycles")], ignore_index=True)


def figures(tables, ctx):
    return [("alloc_cost_by_order.png", plot_cost(tables["alloc_by_order"],
                                                  tables["kmalloc_by_size"])),
            ("fragmentation.png", plot_frag(tables["fragmentation"]))]


def plot_cost(buddy, km):
    """Buddy cycles per operation by order (line: median, band: min..max);
    kmalloc by size beside it (bars: median, whiskers: min..max)."""
    if buddy.empty:
        return K.empty_figure("no allocbench data")
    ncols = 2 if not km.empty else 1
    fig, axes = K.plt.subplots(1, ncols, figsize=(6 * ncols, 4.2), squeeze=False)
    ax = axes[0][0]
    for col, label, color in (("pair_cycles", "alloc+free pair", "tab:purple"),
                              ("alloc_cycles", "alloc (in a batch)", "tab:blue"),
                              ("free_cycles", "free (in a batch)", "tab:green")):
        ax.plot(buddy["order"], buddy[col], marker="o", label=label, color=color)
        ax.fill_between(buddy["order"], buddy[col + "_min"], buddy[col + "_max"],
                        color=color, alpha=0.15)
    ax.set_xlabel("order (block = 2^order pages of 4 KiB)")
    ax.set_ylabel("cycles per operation")
    ax.set_xticks(range(0, NORDERS))
    ax.set_ylim(bottom=0)
    ax.set_title("Buddy allocator (line: median; band: min..max over boots)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if ncols == 2:
        ax = axes[0][1]
        long = pd.concat([km[["size", c, c + "_min", c + "_max"]].rename(
            columns={c: "cycles", c + "_min": "cycles_min", c + "_max": "cycles_max"}).assign(
            op=c.replace("_cycles", "")) for c in TIMED], ignore_index=True)
        K.grouped_bars(ax, long, "size", "op", "cycles", 1, errors=True,
                       order=["pair", "alloc", "free"])
        ax.set_xlabel("kmalloc size (bytes)")
        ax.set_ylabel("cycles per operation")
        ax.set_title("kmalloc by size (bars: median; whiskers: min..max)", fontsize=9)
    K.note(fig, "pair = alloc then free of one object; alloc/free measured in batches")
    fig.tight_layout()
    return fig


def plot_frag(frag):
    """Pages in free blocks of each order (log scale) before and during
    the workload; the unusable-free-space index as lines."""
    if frag.empty:
        return K.empty_figure("no fragmentation data")
    fig, ax = K.plt.subplots(figsize=(7, 4.2))
    phases = list(dict.fromkeys(frag["phase"]))
    w = 0.8 / len(phases)
    ax2 = ax.twinx()
    for i, ph in enumerate(phases):
        t = frag[frag["phase"] == ph]
        ax.bar(t["order"] + (i - (len(phases) - 1) / 2) * w, t["pages_in_blocks"], w,
               label="%s: free pages in blocks" % ph, alpha=0.8)
        ax2.plot(t["order"], t["unusable"], marker=".", linestyle="--",
                 label="%s: unusable index" % ph)
    ax.set_yscale("symlog", linthresh=10)
    ax.set_xlabel("order (block = 2^order pages)")
    ax.set_xticks(range(0, int(frag["order"].max()) + 1))
    ax.set_ylabel("free pages held in blocks of this order (symlog)")
    ax2.set_ylabel("share of free pages unusable for this order")
    ax2.set_ylim(0, 1)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left")
    ax.set_title("Buddy free lists before and during a random workload", fontsize=10)
    K.note(fig, "bars: exact page counts of the first boot; no whiskers")
    fig.tight_layout()
    return fig


def section(tables, ctx):
    buddy, km = tables["alloc_by_order"], tables["kmalloc_by_size"]
    frag, fragrun = tables["fragmentation"], tables["_fragrun"]
    if buddy.empty:
        return ["No allocbench data.", ""]
    t = buddy[["order", "pages", "batch", "pair_cycles", "alloc_cycles", "free_cycles",
               "allocs_per_s", "alloc_cycles_per_page"]].copy()
    t.insert(4, "pair_us", [ctx.us(c) for c in buddy["pair_cycles"]])
    t["range"] = ["%.0f..%.0f" % (a, b) for a, b in zip(buddy["pair_cycles_min"],
                                                       buddy["pair_cycles_max"])]
    s = ["Cycles per operation by order (median over boots; `range` = pair min..max; "
         "alloc/free measured in batches).", "",
         md_table(t, {"alloc_cycles_per_page": "{:.1f}", "allocs_per_s": "{:.0f}",
                      "pair_us": "{:.3f}"}, {"range": "pair range", "pair_us": "pair µs"}), ""]
    if not km.empty:
        s += ["kmalloc by size:", "",
              md_table(km[["size", "pair_cycles", "alloc_cycles", "free_cycles",
                           "allocs_per_s"]], {"allocs_per_s": "{:.0f}"}), ""]
        s += explain_churn(tables["kmalloc_churn"])
    if not frag.empty:
        s += explain_frag(frag)
        w = frag.pivot_table(index="phase", columns="order", values="unusable",
                             aggfunc="first", sort=False)
        w.columns = ["o%d" % c for c in w.columns]
        s += ["Unusable-free-space index per order (share of free pages in blocks too small "
              "for a request of that order):", "",
              md_table(w.reset_index(), {c: "{:.3f}" for c in w.columns}), ""]
    if not fragrun.empty:
        r = fragrun.iloc[0]
        s += ["Workload: seed %d, %d allocations (%d failed), %d blocks = %d pages held at the "
              "end; free lists restored exactly afterwards: %s." % (
                  r["seed"], r["allocs"], r["failed"], r["held_blocks"], r["held_pages"],
                  "yes" if r["restored"] else "NO"), ""]
    s += ["![alloc](alloc/alloc_cost_by_order.png)", "",
          "![fragmentation](alloc/fragmentation.png)", ""]
    return s


def explain_churn(churn):
    """Why a small kmalloc pair can cost several times a larger one."""
    c = churn[churn["churn"]] if not churn.empty else churn
    if c.empty:
        return []
    sizes = ", ".join("%d B (%.0f cycles against %.0f batched: %.0f extra)" % (
        r.size, r.pair_cycles, r.batched_pair, r.pair_cycles - r.batched_pair)
        for r in c.itertuples())
    return ["The alloc+free pair costs far more than a batched alloc + free for: %s. The "
            "extra is of the order of a buddy order-0 alloc+free pair (%.0f cycles) or more: "
            "kmalloc returns a slab to the buddy allocator as soon as its last object is "
            "freed (kernel/mm/kmalloc.c), so when no other object of that size class is "
            "live, every pair takes a page from the buddy allocator, cuts it into slots and "
            "gives it back. Sizes whose class always has live kernel objects keep a partial "
            "slab and pay only the list operations. The batched figures, which keep one "
            "slab busy, are the per-object cost." % (sizes, c["buddy0_pair"].iloc[0]), ""]


def explain_frag(frag):
    ph = frag.drop_duplicates("phase")
    top = int(frag["order"].max())
    rows = []
    for p in ph.itertuples():
        f = frag[(frag["phase"] == p.phase) & (frag["order"] == top)]
        rows.append({"phase": p.phase, "free_pages": p.free_pages,
                     "in_order_%d_blocks" % top: int(f["pages_in_blocks"].iloc[0]),
                     "unusable_for_order_%d" % top: float(f["unusable"].iloc[0]),
                     "boots_agree": p.boots_agree})
    t = pd.DataFrame(rows)
    return ["Fragmentation (first boot). The figure to quote is the unusable-free-space "
            "index: the share of free pages that cannot serve a request of a given order. "
            "`1 - largest/free` is not shown as a key figure: the largest block is capped "
            "at order %d (%d pages), so it is close to 1 whenever more than %d pages are "
            "free, fragmented or not." % (top, 1 << top, 1 << top), "",
            md_table(t, {c: "{:.3f}" for c in t.columns if c.startswith("unusable")}), ""]


def key_figures(tables, ctx):
    out = []
    b = tables["alloc_by_order"]
    if not b.empty:
        lo, hi = b["pair_cycles"].min(), b["pair_cycles"].max()
        shape = "within %.0f%% of each other: the cost does not depend on the order" % (
            100 * (hi / lo - 1)) if hi < 1.25 * lo else "order %d costs most" % (
            b.loc[b["pair_cycles"].idxmax(), "order"])
        out.append("Buddy allocator: alloc+free pair %.0f..%.0f cycles (%.2f..%.2f µs) across "
                   "orders 0..%d (%s)." % (lo, hi, ctx.us(lo), ctx.us(hi), b["order"].max(),
                                           shape))
    f = tables["fragmentation"]
    if not f.empty and (f["phase"] == "held").any():
        h = f[f["phase"] == "held"]
        out.append("While the random workload holds memory, %.1f%% of free pages are unusable "
                   "for an order-%d request." % (100 * h["unusable"].iloc[-1],
                                                 h["order"].iloc[-1]))
    return out


def tsc_khz(tables):
    """The guest's TSC calibration (median over boots), or None."""
    t = tables["_tsc"]
    return float(t["tsc_khz"].median()) if len(t) else None
