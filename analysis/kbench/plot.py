"""Plot helpers the experiments share (matplotlib, Agg backend: no display
needed). Each experiment's figures are functions in its own folder that
return a Figure; the CLI saves them. Every figure says, in its footnote,
what its bars and whiskers are (note()).

    >>> fig, ax = plt.subplots()
    >>> grouped_bars(ax, table, "pct", "mode", "cycles", 1e6, errors=True)
    >>> note(fig, BARS_MEDIAN)
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402,F401
import numpy as np  # noqa: E402

COLORS = {"lazy": "tab:blue", "populate": "tab:orange", "vm.lazy=0": "tab:red",
          "eager": "tab:red", "cow": "tab:green", "dirty": "tab:green", "full": "tab:red",
          "zero": "tab:blue", "file": "tab:purple", "cow_copy": "tab:green",
          "cow_reuse": "tab:olive", "A": "tab:blue", "B": "tab:orange"}
BARS_MEDIAN = "bars: median over boots; whiskers: min..max over boots"
CLOCK_NOTE = {"tsc": "host TSC cycles under qemu TCG",
              "icount": "qemu -icount, 1 cycle = 1 guest instruction"}


def note(fig, what, clock=None):
    """Footnote at the bottom right: what the marks mean, and the clock."""
    text = what + ("; " + CLOCK_NOTE[clock] if clock in CLOCK_NOTE else "")
    fig.text(0.99, 0.005, text, ha="right", va="bottom", fontsize=7, color="0.4")


def clock_note(fig, clock):
    """Footnote at the bottom left: what a cycle is under this run's clock
    (the CLI adds it to every figure)."""
    if clock in CLOCK_NOTE:
        fig.text(0.01, 0.005, "clock: " + CLOCK_NOTE[clock], ha="left", va="bottom",
                 fontsize=6, color="0.4")


def series_order(values, order=()):
    """The known names in `order` first, the others after, by name."""
    vals = set(values)
    return [m for m in order if m in vals] + sorted(vals - set(order))


def grouped_bars(ax, table, xcol, scol, value, scale, errors, order=(), xfmt="%s",
                 labels=None):
    """One group of bars per xcol value, one bar per scol series; with
    errors, whiskers from <value>_min to <value>_max."""
    series = series_order(table[scol], order)
    xs = sorted(table[xcol].unique())
    x = np.arange(len(xs))
    width = 0.8 / max(1, len(series))
    for i, m in enumerate(series):
        t = table[table[scol] == m].set_index(xcol).reindex(xs)
        y = t[value].to_numpy(dtype=float) / scale
        kw = {}
        if errors:
            lo = y - t[value + "_min"].to_numpy(dtype=float) / scale
            hi = t[value + "_max"].to_numpy(dtype=float) / scale - y
            kw = {"yerr": [lo, hi], "capsize": 3, "error_kw": {"elinewidth": 0.8}}
        ax.bar(x + (i - (len(series) - 1) / 2) * width, y, width,
               label=(labels or {}).get(m, m), color=COLORS.get(m), **kw)
    ax.set_xticks(x)
    ax.set_xticklabels([xfmt % v for v in xs])
    ax.legend(title=scol, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return xs


def empty_figure(text, size=(7, 4.2)):
    fig, ax = plt.subplots(figsize=size)
    ax.text(0.5, 0.5, text, ha="center", transform=ax.transAxes)
    ax.set_axis_off()
    return fig
