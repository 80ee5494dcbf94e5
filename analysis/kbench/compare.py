"""Compare two runs (`make compare A=... B=...`): for every timing both
runs measured, the two medians over boots, the ratio B/A with a bootstrap
confidence interval, the p-value of a rank-sum test, and a verdict:
"faster" (B takes less time: the whole interval below 1 and p < ALPHA),
"slower" (above 1 and p < ALPHA) or "within noise" (otherwise). Both must
agree because the bootstrap interval of a median over a handful of boots
is too narrow on its own. Fewer than MIN_BOOTS boots on a side give "too
few boots".

    >>> t = compare_samples(a, b)      # samples: experiment, metric, boot, cycles
    >>> t[["experiment", "metric", "ratio", "lo", "hi", "verdict"]]

Writes COMPARE.md, compare.csv and compare.png into the output folder.
"""
import os
import sys

import numpy as np
import pandas as pd

from . import experiments as X, parse, report, stats
from .plot import note, plt

MIN_BOOTS = 3
ALPHA = 0.05
COLS = ["experiment", "metric", "boots_a", "median_a", "boots_b", "median_b", "ratio", "lo",
        "hi", "p", "verdict"]


def verdict(ratio, lo, hi, p, na, nb):
    if min(na, nb) < MIN_BOOTS:
        return "too few boots"
    if np.isnan(ratio):
        return "no data"
    if hi < 1 and p < ALPHA:
        return "faster"
    if lo > 1 and p < ALPHA:
        return "slower"
    return "within noise"


def compare_samples(a, b, level=0.95):
    """Samples of run A and run B -> one row per (experiment, metric) in
    both (COLS), in A's order."""
    rows = []
    gb = {k: g for k, g in b.groupby(["experiment", "metric"], sort=False)}
    for key, ga in a.groupby(["experiment", "metric"], sort=False):
        if key not in gb:
            continue
        va, vb = ga["cycles"].astype(float).dropna(), gb[key]["cycles"].astype(float).dropna()
        r, lo, hi = stats.bootstrap_ratio(va, vb, level=level)
        p = stats.rank_test(va, vb)
        rows.append({"experiment": key[0], "metric": key[1], "boots_a": len(va),
                     "median_a": float(va.median()) if len(va) else np.nan,
                     "boots_b": len(vb), "median_b": float(vb.median()) if len(vb) else np.nan,
                     "ratio": r, "lo": lo, "hi": hi, "p": p,
                     "verdict": verdict(r, lo, hi, p, len(va), len(vb))})
    return pd.DataFrame(rows, columns=COLS)


def plot_compare(t, label_a, label_b):
    """Ratio B/A per timing (point) with its bootstrap 95 % interval
    (whiskers), log axis, a line at 1."""
    n = max(1, len(t))
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.22 * n))
    if t.empty:
        ax.text(0.5, 0.5, "no timing measured in both runs", ha="center",
                transform=ax.transAxes)
        return fig
    y = np.arange(n)[::-1]
    colors = {"faster": "tab:green", "slower": "tab:red"}
    for yy, r in zip(y, t.itertuples()):
        c = colors.get(r.verdict, "0.5")
        ax.errorbar([r.ratio], [yy], xerr=[[max(0, r.ratio - r.lo)], [max(0, r.hi - r.ratio)]],
                    fmt="o", color=c, capsize=2, markersize=3)
    ax.axvline(1, color="0.3", linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(["%s %s" % (r.experiment, r.metric) for r in t.itertuples()], fontsize=6)
    ax.set_xscale("log")
    ax.set_xlabel("time ratio %s / %s (log scale; below 1: B faster)" % (label_b, label_a))
    ax.set_title("Per timing: ratio of medians over boots (point) and its bootstrap 95% "
                 "interval (whiskers);\ngreen faster, red slower, grey within noise "
                 "(interval and rank-sum test)", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    note(fig, "ratio of medians of per-boot cycles")
    fig.tight_layout()
    return fig


def _samples(run_dir, exps):
    from .cli import analyse_run
    run = parse.load_run(run_dir, exps)
    _, s = analyse_run(run, exps)
    return run, s


def render(t, ma, mb, label_a, label_b):
    n = t["verdict"].value_counts()
    s = ["# Comparison: %s vs %s" % (label_b, label_a), "",
         "A = `%s` (kernel %s, clock %s, %s boots), B = `%s` (kernel %s, clock %s, %s boots)."
         % (label_a, ma.get("git", "?"), ma.get("clock", "tsc"), ma.get("boots", "?"),
            label_b, mb.get("git", "?"), mb.get("clock", "tsc"), mb.get("boots", "?")), "",
         "Per timing: the median over boots in each run, the ratio B/A and its 95%% bootstrap "
         "confidence interval (%d resamples of each run's boots), and `p`, the two-sided "
         "p-value of a Wilcoxon rank-sum test (exact) that both runs' boots come from the "
         "same distribution. Verdict: **faster** (B takes less time: the whole interval is "
         "below 1 and p < %.2f), **slower** (above 1 and p < %.2f), **within noise** "
         "(otherwise: this difference cannot be told from the boot-to-boot spread), or too "
         "few boots (fewer than %d on a side). With 3 boots a side p cannot go below 0.1: "
         "use BOOTS=5 or more to detect anything under the host clock." % (
             stats.BOOTSTRAP_N, ALPHA, ALPHA, MIN_BOOTS), "",
         "Summary: %d timings; %d faster, %d slower, %d within noise, %d too few boots." % (
             len(t), n.get("faster", 0), n.get("slower", 0), n.get("within noise", 0),
             n.get("too few boots", 0)), ""]
    for w in (ma, mb):
        warn = report.load_warning(w)
        if warn:
            s += [warn.replace("the host was", "during run %s the host was" % w.get("run", "?")),
                  ""]
    d = t.copy()
    d["interval"] = ["%.3f..%.3f" % (a, b) for a, b in zip(t["lo"], t["hi"])]
    d = d[["experiment", "metric", "median_a", "median_b", "ratio", "interval", "p", "verdict",
           "boots_a", "boots_b"]]
    s += [report.md_table(d, {"median_a": "{:.0f}", "median_b": "{:.0f}", "ratio": "{:.3f}",
                              "p": "{:.3f}"},
                          {"median_a": "A cycles", "median_b": "B cycles", "ratio": "B/A"}), "",
          "![comparison](compare.png)", ""]
    return "\n".join(s)


def main(args):
    exps = X.discover(args.bench)
    ra, sa = _samples(args.a, exps)
    rb, sb = _samples(args.b, exps)
    la = os.path.basename(os.path.normpath(os.path.realpath(args.a)))
    lb = os.path.basename(os.path.normpath(os.path.realpath(args.b)))
    ma, mb = ra.manifest or {}, rb.manifest or {}
    if ma.get("clock", "tsc") != mb.get("clock", "tsc"):
        sys.stderr.write("kbench compare: %s used clock %s, %s clock %s: their cycles are not "
                         "the same unit; compare runs made with the same CLOCK\n" % (
                             la, ma.get("clock", "tsc"), lb, mb.get("clock", "tsc")))
        return 2
    t = compare_samples(sa, sb)
    out = args.out or os.path.join(os.path.dirname(os.path.normpath(os.path.realpath(args.a))),
                                   "compare-%s-vs-%s" % (la, lb))
    os.makedirs(out, exist_ok=True)
    t.to_csv(os.path.join(out, "compare.csv"), index=False)
    fig = plot_compare(t, "A", "B")
    fig.savefig(os.path.join(out, "compare.png"), dpi=args.dpi)
    plt.close(fig)
    with open(os.path.join(out, "COMPARE.md"), "w") as f:
        f.write(render(t, ma, mb, la, lb))
    n = t["verdict"].value_counts()
    print("kbench: %d timings compared: %d faster, %d slower, %d within noise -> %s" % (
        len(t), n.get("faster", 0), n.get("slower", 0), n.get("within noise", 0),
        os.path.join(out, "COMPARE.md")))
    return 0 if len(t) else 1
