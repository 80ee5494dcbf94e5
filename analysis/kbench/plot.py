"""Plot stage: one function per figure; each takes transform.py's tables
and returns a matplotlib Figure (Agg backend: no display needed). The CLI
saves them; nothing here writes files.

    >>> fig = lazy_vs_eager_cycles(table)      # table = transform.lazy_vs_eager(runs)
    >>> fig.savefig("results/latest/lazy_vs_eager_cycles.png")
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .transform import MODE_ORDER  # noqa: E402

COLORS = {"lazy": "tab:blue", "populate": "tab:orange", "vm.lazy=0": "tab:red",
          "eager": "tab:red", "cow": "tab:green", "dirty": "tab:green", "full": "tab:red"}
NOTE = "qemu TCG (software emulation): host TSC cycles; compare within one run"


def _note(fig, text=NOTE):
    fig.text(0.99, 0.005, text, ha="right", va="bottom", fontsize=7, color="0.4")


def _modes(table):
    return [m for m in MODE_ORDER if m in set(table["mode"])] + \
        sorted(set(table["mode"]) - set(MODE_ORDER))


def _grouped_bars(ax, table, value, scale, errors):
    modes = _modes(table)
    pcts = sorted(table["pct"].unique())
    x = np.arange(len(pcts))
    width = 0.8 / max(1, len(modes))
    for i, m in enumerate(modes):
        t = table[table["mode"] == m].set_index("pct").reindex(pcts)
        y = t[value].to_numpy(dtype=float) / scale
        kw = {}
        if errors:
            lo = y - t[value + "_min"].to_numpy(dtype=float) / scale
            hi = t[value + "_max"].to_numpy(dtype=float) / scale - y
            kw = {"yerr": [lo, hi], "capsize": 3, "error_kw": {"elinewidth": 0.8}}
        ax.bar(x + (i - (len(modes) - 1) / 2) * width, y, width, label=m,
               color=COLORS.get(m), **kw)
    ax.set_xticks(x)
    ax.set_xticklabels(["%d%%" % p for p in pcts])
    ax.set_xlabel("share of the region's pages touched")
    ax.legend(title="allocation")
    ax.grid(axis="y", alpha=0.3)


def lazy_vs_eager_cycles(table):
    """Grouped bars: mmap + touch time per mode at each touched share
    (median over boots; whiskers min..max)."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    if table.empty:
        ax.text(0.5, 0.5, "no vmbench data", ha="center", transform=ax.transAxes)
        return fig
    mib = int(table["region_kib"].iloc[0]) // 1024
    _grouped_bars(ax, table, "cycles", 1e6, errors=True)
    ax.set_ylabel("Mcycles (mmap + touches)")
    ax.set_title("Lazy vs eager allocation: time to map a %d MiB region and touch part of it"
                 % mib, fontsize=10)
    _note(fig)
    fig.tight_layout()
    return fig


def lazy_vs_eager_pages(table):
    """Grouped bars: pages allocated per mode at each touched share (exact)."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    if table.empty:
        ax.text(0.5, 0.5, "no vmbench data", ha="center", transform=ax.transAxes)
        return fig
    mib = int(table["region_kib"].iloc[0]) // 1024
    _grouped_bars(ax, table, "pages", 1, errors=False)
    ax.set_ylabel("pages allocated (free-page delta)")
    ax.set_title("Lazy vs eager allocation: memory used for a %d MiB region" % mib, fontsize=10)
    fig.tight_layout()
    return fig


def alloc_cost_by_order(buddy, km=None):
    """Buddy allocator cycles per operation by order (pair, alloc, free;
    median, band = min..max over boots); kmalloc by size beside it."""
    ncols = 2 if km is not None and not km.empty else 1
    fig, axes = plt.subplots(1, ncols, figsize=(6 * ncols, 4.2), squeeze=False)
    ax = axes[0][0]
    for col, label, color in (("pair_cycles", "alloc+free pair", "tab:purple"),
                              ("alloc_cycles", "alloc (in a batch)", "tab:blue"),
                              ("free_cycles", "free (in a batch)", "tab:green")):
        if buddy.empty:
            break
        ax.plot(buddy["order"], buddy[col], marker="o", label=label, color=color)
        ax.fill_between(buddy["order"], buddy[col + "_min"], buddy[col + "_max"],
                        color=color, alpha=0.15)
    ax.set_xlabel("order (block = 2^order pages)")
    ax.set_ylabel("cycles per operation")
    ax.set_xticks(range(0, 11))
    ax.set_ylim(bottom=0)
    ax.set_title("Buddy allocator cost by order", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if ncols == 2:
        ax = axes[0][1]
        x = np.arange(len(km))
        w = 0.27
        for i, (col, label, color) in enumerate((("pair_cycles", "pair", "tab:purple"),
                                                 ("alloc_cycles", "alloc", "tab:blue"),
                                                 ("free_cycles", "free", "tab:green"))):
            ax.bar(x + (i - 1) * w, km[col], w, label=label, color=color)
        ax.set_xticks(x)
        ax.set_xticklabels([str(s) for s in km["size"]], fontsize=8)
        ax.set_xlabel("kmalloc size (bytes)")
        ax.set_ylabel("cycles per operation (median)")
        ax.set_title("kmalloc cost by size", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    _note(fig)
    fig.tight_layout()
    return fig


def fragmentation(frag):
    """Free blocks per order (as pages in blocks) before and while the
    random workload holds memory; the unusable-free-space index as a line."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    if frag.empty:
        ax.text(0.5, 0.5, "no fragmentation data", ha="center", transform=ax.transAxes)
        return fig
    phases = list(dict.fromkeys(frag["phase"]))
    w = 0.8 / len(phases)
    ax2 = ax.twinx()
    for i, ph in enumerate(phases):
        t = frag[frag["phase"] == ph]
        ax.bar(t["order"] + (i - (len(phases) - 1) / 2) * w, t["pages_in_blocks"], w,
               label="%s: free pages in blocks (ext. frag %.3f)" % (ph, t["ext_frag"].iloc[0]),
               alpha=0.8)
        ax2.plot(t["order"], t["unusable"], marker=".", linestyle="--",
                 label="%s: unusable index" % ph)
    ax.set_yscale("symlog", linthresh=10)
    ax.set_xlabel("order")
    ax.set_xticks(range(0, int(frag["order"].max()) + 1))
    ax.set_ylabel("free pages held in blocks of this order")
    ax2.set_ylabel("share of free pages unusable for this order")
    ax2.set_ylim(0, 1)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left")
    ax.set_title("Buddy free lists before and during a random workload", fontsize=10)
    fig.tight_layout()
    return fig


def fork_cost(fork):
    """Left: fork + child exit + wait time vs pages the parent touched, per
    policy (eager copy, copy-on-write) and child behaviour (exit at once /
    write every page first). Right: pages allocated per fork, same lines.
    Says so in the title when there is no copy-on-write policy yet."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    if fork.empty:
        ax.text(0.5, 0.5, "no forkbench data", ha="center", transform=ax.transAxes)
        return fig
    styles = {"exit": "-", "write": ":"}
    markers = {"exit": "o", "write": "s"}
    for (policy, child), t in fork.groupby(["policy", "child"], sort=True):
        t = t.sort_values("npages")
        label = "%s fork, child %s" % (policy, child)
        kw = {"marker": markers.get(child, "o"), "linestyle": styles.get(child, "-"),
              "color": COLORS.get(policy), "label": label}
        ax.errorbar(t["npages"], t["total_cycles"] / 1e6,
                    yerr=[(t["total_cycles"] - t["total_cycles_min"]) / 1e6,
                          (t["total_cycles_max"] - t["total_cycles"]) / 1e6],
                    capsize=3, **kw)
        ax2.plot(t["npages"], t["pgalloc"], **kw)
    ax.set_xlabel("pages the parent touched before fork")
    ax.set_ylabel("Mcycles: fork + child exit + wait")
    ax.set_title("Time (median over boots; whiskers min..max)", fontsize=10)
    ax2.set_xlabel("pages the parent touched before fork")
    ax2.set_ylabel("pages allocated per fork round trip")
    ax2.set_title("Memory (exact: vmstat pgalloc)", fontsize=10)
    for a in (ax, ax2):
        a.set_ylim(bottom=0)
        a.grid(alpha=0.3)
        a.legend(fontsize=8, loc="upper left")
    title = "Fork cost vs parent size"
    if not (fork["policy"] == "cow").any():
        title += " (eager copy only: copy-on-write not measured)"
    else:
        title += ": eager copy vs copy-on-write"
    fig.suptitle(title, fontsize=11)
    _note(fig)
    fig.tight_layout()
    return fig


def msync_compare(table):
    """msync(MS_SYNC) of a shared file mapping by the share of pages written
    before it, dirty-bit write-back vs full (vm.msync_all=1). Left: cycles
    (median over boots, whiskers min..max, log scale); right: pages written
    back (exact, vmstat msync counter)."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.6))
    if table.empty:
        ax.text(0.5, 0.5, "no msyncbench data", ha="center", transform=ax.transAxes)
        return fig
    modes = [m for m in ("dirty", "full") if m in set(table["mode"])] + \
        sorted(set(table["mode"]) - {"dirty", "full"})
    pcts = sorted(table["pct"].unique())
    x = np.arange(len(pcts))
    width = 0.8 / max(1, len(modes))
    labels = {"dirty": "dirty bit (vm.msync_all=0)", "full": "all present pages (vm.msync_all=1)"}
    for i, m in enumerate(modes):
        t = table[table["mode"] == m].set_index("pct").reindex(pcts)
        off = x + (i - (len(modes) - 1) / 2) * width
        y = t["cycles"].to_numpy(dtype=float) / 1e6
        lo = y - t["cycles_min"].to_numpy(dtype=float) / 1e6
        hi = t["cycles_max"].to_numpy(dtype=float) / 1e6 - y
        ax.bar(off, y, width, label=labels.get(m, m), color=COLORS.get(m),
               yerr=[lo, hi], capsize=3, error_kw={"elinewidth": 0.8})
        pw = t["pages_written"].to_numpy(dtype=float)
        ax2.bar(off, pw, width, label=labels.get(m, m), color=COLORS.get(m))
        for xx, v in zip(off, pw):
            if not np.isnan(v):
                ax2.text(xx, v, "%d" % v, ha="center", va="bottom", fontsize=7)
    first = table.drop_duplicates("pct").set_index("pct").reindex(pcts)
    ticks = ["%d%%\n(%d pages)" % (p, d) for p, d in zip(pcts, first["dirtied"])]
    npages = int(table["file_pages"].iloc[0])
    for a in (ax, ax2):
        a.set_xticks(x)
        a.set_xticklabels(ticks, fontsize=8)
        a.set_xlabel("share of the file's pages written before msync")
        a.grid(axis="y", alpha=0.3)
    h, lab = ax2.get_legend_handles_labels()
    fig.legend(h, lab, loc="upper center", ncol=len(modes), fontsize=8,
               bbox_to_anchor=(0.5, 0.93), frameon=False)
    ax.set_yscale("log")
    ax.set_ylabel("Mcycles per msync(MS_SYNC) (log)")
    ax.set_title("Time (median over boots of the fastest run)", fontsize=10)
    ax2.set_ylabel("pages written back (vmstat msync_pages)")
    ax2.set_ylim(0, npages * 1.15)
    ax2.set_title("Pages written back (exact)", fontsize=10)
    fig.suptitle("Dirty-bit vs full msync of a %d-page (%d KiB) MAP_SHARED file mapping"
                 % (npages, npages * 4), fontsize=11)
    _note(fig)
    fig.tight_layout(rect=(0, 0.02, 1, 0.9))
    return fig


def fault_timeline(timeline, ph, allocs=None, scale=1e6, unit="Mcycles"):
    """The traced lazy-vs-eager run over time: cumulative page faults (top)
    and, if allocs is given (event_timeline of page_alloc), cumulative pages
    allocated (bottom); one shaded span per phase, labelled MODE PCT%.
    The timelines' t must use the same scale (tsc cycles per unit)."""
    panels = 2 if allocs is not None and len(allocs) else 1
    fig, axes = plt.subplots(panels, 1, figsize=(10, 3.2 + 2.4 * panels), sharex=True,
                             squeeze=False)
    axes = [a[0] for a in axes]
    done = ph[ph["complete"]] if not ph.empty else ph
    if done.empty:
        axes[0].text(0.5, 0.5, "no phases in the trace", ha="center",
                     transform=axes[0].transAxes)
        return fig
    t0 = float(done["tsc_begin"].min())
    series = [(timeline, "page faults so far")]
    if panels == 2:
        series.append((allocs, "pages allocated so far"))
    for k, (ax, (tl, ylabel)) in enumerate(zip(axes, series)):
        top = max(1, int(tl["total"].max()) if len(tl) else 1)
        for i, (_, p) in enumerate(done.iterrows()):
            a = (float(p["tsc_begin"]) - t0) / scale
            b = (float(p["tsc_end"]) - t0) / scale
            ax.axvspan(a, b, color=COLORS.get(p["mode"], "0.5"), alpha=0.12, linewidth=0)
            if k == 0:
                ax.text((a + b) / 2, top * (1.02 + 0.07 * (i % 3)), "%s\n%d%%" % (
                    {"vm.lazy=0": "eager"}.get(p["mode"], p["mode"][:4]), p["pct"]),
                    ha="center", va="bottom", fontsize=6)
        for mode in _modes(tl) if len(tl) else []:
            t = tl[tl["mode"] == mode]
            what = "faults" if k == 0 else "pages"
            ax.plot(t["t"], t["total"], ".", markersize=1.5, color=COLORS.get(mode),
                    label="%s: %d %s" % (mode, int(t["weight"].sum()), what))
        ax.set_ylim(0, top * (1.3 if k == 0 else 1.05))
        ax.set_ylabel(ylabel)
        if len(tl):
            ax.legend(fontsize=8, loc="center left" if k == 0 else "upper left",
                      markerscale=6)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time since the first phase began (%s)" % unit)
    axes[0].set_title("Traced lazy vs eager run over time (shaded = phase: blue lazy, "
                      "orange MAP_POPULATE, red vm.lazy=0)", fontsize=9)
    _note(fig)
    fig.tight_layout()
    return fig
