"""Statistics shared by every experiment: summaries over boots, the spread
of each timing (median, IQR, coefficient of variation), a bootstrap
confidence interval for the ratio of two medians, and linear crossing
points. Pure functions, no files.

    >>> s = pd.DataFrame({"metric": ["a"] * 4, "boot": [1, 2, 3, 4],
    ...                   "cycles": [100.0, 110.0, 90.0, 100.0]})
    >>> r = spread(s).iloc[0]
    >>> (r["median"], r["iqr"], round(r["cv"], 3))
    (100.0, 5.0, 0.082)
"""
import itertools
import math

import numpy as np
import pandas as pd

# A timing whose coefficient of variation over boots is above this is
# flagged noisy in the report (host clock); under icount, any spread at all.
NOISY_CV = {"tsc": 0.05, "icount": 0.0}
BOOTSTRAP_N = 2000
EXACT_LIMIT = 200000       # rank_test enumerates every split up to this many
SAMPLE_COLS = ["metric", "boot", "cycles"]


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


def samples_from(df, metric_cols, value, boot="boot"):
    """Long samples table (metric, boot, cycles) from df: the metric name
    joins the metric_cols values with ":" (e.g. "lazy:100")."""
    if df.empty:
        return pd.DataFrame(columns=SAMPLE_COLS)
    names = df[metric_cols].astype(str).agg(":".join, axis=1)
    return pd.DataFrame({"metric": names.to_numpy(), "boot": df[boot].to_numpy(),
                         "cycles": df[value].astype(float).to_numpy()})


def spread(samples, clock="tsc"):
    """Per metric, in first-seen order: n, median, q1, q3, iqr, cv (sample
    standard deviation / mean), min, max, noisy (cv above NOISY_CV[clock]
    with at least 2 boots)."""
    cols = ["metric", "n", "median", "q1", "q3", "iqr", "cv", "min", "max", "noisy"]
    if samples is None or samples.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    limit = NOISY_CV.get(clock, NOISY_CV["tsc"])
    for metric, g in samples.groupby("metric", sort=False):
        v = g["cycles"].astype(float).dropna().to_numpy()
        if not len(v):
            continue
        q1, med, q3 = np.percentile(v, [25, 50, 75])
        mean = v.mean()
        cv = float(v.std(ddof=1) / mean) if len(v) > 1 and mean else 0.0
        rows.append({"metric": metric, "n": len(v), "median": float(med), "q1": float(q1),
                     "q3": float(q3), "iqr": float(q3 - q1), "cv": cv, "min": float(v.min()),
                     "max": float(v.max()), "noisy": bool(len(v) > 1 and cv > limit)})
    return pd.DataFrame(rows, columns=cols)


def bootstrap_ratio(a, b, n=BOOTSTRAP_N, level=0.95, seed=1):
    """median(b) / median(a) and its percentile bootstrap confidence
    interval (resampling each side with replacement; seeded, so the same
    data give the same interval) -> (ratio, lo, hi). NaNs if a side is
    empty or a median is 0."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if not len(a) or not len(b) or np.median(a) == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    ma = np.median(rng.choice(a, size=(n, len(a)), replace=True), axis=1)
    mb = np.median(rng.choice(b, size=(n, len(b)), replace=True), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = mb / ma
    r = r[np.isfinite(r)]
    alpha = (1 - level) / 2
    lo, hi = np.percentile(r, [100 * alpha, 100 * (1 - alpha)]) if len(r) else (np.nan, np.nan)
    return float(np.median(b) / np.median(a)), float(lo), float(hi)


def crossings(x, y1, y2):
    """x values where the piecewise-linear curves y1(x) and y2(x) cross
    (linear interpolation between neighbouring points), with the sign
    change: [(x, "y1 below after")...]. x must be increasing."""
    x = np.asarray(x, dtype=float)
    d = np.asarray(y1, dtype=float) - np.asarray(y2, dtype=float)
    out = []
    for i in range(len(x) - 1):
        if np.isnan(d[i]) or np.isnan(d[i + 1]):
            continue
        if d[i] == 0:
            out.append((float(x[i]), d[i + 1] < 0))
        elif d[i] * d[i + 1] < 0:
            xc = x[i] + (x[i + 1] - x[i]) * d[i] / (d[i] - d[i + 1])
            out.append((float(xc), d[i + 1] < 0))
    if len(d) and d[-1] == 0:
        out.append((float(x[-1]), False))
    return out


def _ranks(v):
    """Ranks 1..n of v, ties getting the average of their ranks."""
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v), dtype=float)
    r[order] = np.arange(1, len(v) + 1)
    for x in np.unique(v):
        same = v == x
        if same.sum() > 1:
            r[same] = r[same].mean()
    return r


def rank_test(a, b):
    """Two-sided p-value of the Wilcoxon rank-sum (Mann-Whitney U) test
    that a and b come from the same distribution: exact (every split of
    the pooled ranks enumerated, ties included) when there are at most
    EXACT_LIMIT splits, else the normal approximation. 1.0 if a side is
    empty. With 3 boots a side the smallest possible p is 0.1, so no
    difference can be called significant: that is the point."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    na, nb = len(a), len(b)
    if not na or not nb:
        return 1.0
    r = _ranks(np.concatenate([a, b]))
    obs = r[:na].sum()
    mean = na * (na + nb + 1) / 2.0
    dev = abs(obs - mean) - 1e-9
    if math.comb(na + nb, na) <= EXACT_LIMIT:
        idx = np.array(list(itertools.combinations(range(na + nb), na)))
        sums = r[idx].sum(axis=1)
        return float(np.mean(np.abs(sums - mean) >= dev))
    var = na * nb / 12.0 * ((na + nb + 1) - ((np.unique(r, return_counts=True)[1] ** 3 -
                                               np.unique(r, return_counts=True)[1]).sum()
                                              / ((na + nb) * (na + nb - 1))))
    z = (abs(obs - mean) - 0.5) / math.sqrt(var) if var > 0 else 0.0
    return float(math.erfc(max(z, 0.0) / math.sqrt(2)))
