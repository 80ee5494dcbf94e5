"""Pipe hand-offs at 1 and 2 CPUs (user/bench/pipebench.c).

Ping-pong (1-byte round trips over two pipes) and 4 MiB throughput in
512-byte writes (child writes / parent writes), in a fresh process and
again after a burst of 20 fork+exec+wait, each in guests with 1 and with 2
CPUs. With wake-ups that wait for a clock tick, the 2-CPU cost per write
would be many times the 1-CPU cost; the scheduler sends an IPI to a halted
CPU instead. A traced run (sched_* events) gives the wake-up-to-run latency.

Output line (one per measurement, key=value):
  pipebench cpus=2 phase=fresh test=pingpong rounds=2000 reps=3 min=C med=C max=C
    unit=cycles_per_round ticks=T ipis=I ipi_late=L migrations=M
"""
import numpy as np
import pandas as pd

from kbench import parse as P, plot as K, stats as S
from kbench.report import md_table

TITLE = "Pipe hand-offs at 1 and 2 CPUs (pipebench)"
ORDER = 60
BOOTS = 3                 # each boot runs every measurement REPS times already
RUNS = [{"name": "cpu1", "cmd": "pipebench 3", "cpus": 1, "boots": BOOTS},
        {"name": "cpu2", "cmd": "pipebench 3", "cpus": 2, "boots": BOOTS},
        {"name": "sched", "cmd": "trace run -a -m stop -s 32768 "
         "-e sched_wakeup,sched_switch,sched_migrate pipebench 1",
         "cpus": 2, "boots": 1, "com2": True, "needs": ["trace", "pipebench"]}]
WHY_NOT_DETERMINISTIC = ("two processes hand data to each other across CPUs: which CPU "
                         "runs what depends on when each virtual CPU's host thread runs")
TARGET = 1.2              # 2-CPU cost at most 1.2x the 1-CPU cost in every phase

COLS = [("cpus", int), ("phase", str), ("test", str), ("min", int), ("med", int),
        ("max", int), ("unit", str), ("ticks", int), ("ipis", int), ("ipi_late", int),
        ("migrations", int)]
TESTS = ["pingpong", "throughput", "throughput_pw"]
PHASES = ["fresh", "burst"]


def parse(run, lines, source):
    """pipebench lines -> Tables rows (one per measurement)."""
    t = P.Tables()
    rows = []
    for i, line in enumerate(lines, 1):
        words = line.strip().split()
        if not words or words[0] != "pipebench":
            continue
        kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        try:
            rows.append({c: conv(kv[c]) for c, conv in COLS})
        except (KeyError, ValueError) as e:
            t.problems.append(P.Problem(source, i, "bad pipebench line (%s)" % e, line))
    t["rows"] = pd.DataFrame(rows, columns=[c for c, _ in COLS])
    return t


def pipe_cost(rows):
    """Per (test, phase, cpus): median over boots of each boot's median
    cost, with min/max over boots, and the median counters."""
    if rows.empty:
        return pd.DataFrame(columns=["test", "phase", "cpus", "med", "med_min", "med_max",
                                     "unit", "ipis", "ipi_late", "migrations", "boots"])
    t = S.over_boots(rows, ["test", "phase", "cpus"], ["med"],
                     ["ticks", "ipis", "ipi_late", "migrations"])
    units = rows.groupby("test")["unit"].first()
    t["unit"] = t["test"].map(units)
    return t


def cpu_ratio(cost):
    """Per (test, phase): 2-CPU cost / 1-CPU cost and whether it is within
    TARGET."""
    cols = ["test", "phase", "cpu1", "cpu2", "ratio", "within_target"]
    if cost.empty or not {1, 2} <= set(cost["cpus"]):
        return pd.DataFrame(columns=cols)
    w = cost.pivot_table(index=["test", "phase"], columns="cpus", values="med")
    out = pd.DataFrame({"cpu1": w[1], "cpu2": w[2]}).reset_index()
    out["ratio"] = out["cpu2"] / out["cpu1"]
    out["within_target"] = out["ratio"] <= TARGET
    return out[cols]


def wake_latency(trace, tsc_khz):
    """Wake-up-to-run latency (us) of every wake-up in the traced run that
    later ran; empty without a trace or a clock."""
    if trace is None or not tsc_khz:
        return pd.DataFrame(columns=["woken", "ipi", "latency_us"])
    from ktrace import sched
    df = trace[0]
    lat = sched.wake_latency(df, tsc_khz / 1000.0)
    lat = lat[lat["latency"].notna()]
    return pd.DataFrame({"woken": lat["woken"].astype(int), "ipi": lat["ipi"].astype(int),
                         "latency_us": lat["latency"].astype(float) / (tsc_khz / 1000.0)})


def analyse(data):
    rows = pd.concat([data.table("cpu1.rows"), data.table("cpu2.rows")], ignore_index=True)
    cost = pipe_cost(rows)
    tr = data.traces.get("sched")
    khz = tr[1].get("tsc_khz") if tr is not None else None
    return {"pipe_cost": cost, "pipe_cpu_ratio": cpu_ratio(cost),
            "wake_latency": wake_latency(tr, khz), "_rows": rows}


def samples(tables):
    return S.samples_from(tables["_rows"], ["test", "phase", "cpus"], "med")


def figures(tables, ctx):
    return [("pipe_cost.png", plot_cost(tables["pipe_cost"])),
            ("wake_latency.png", plot_latency(tables["wake_latency"]))]


def plot_cost(cost):
    """One panel per test: cycles per round trip / write, fresh and after
    the burst, bars per CPU count (median over boots; whiskers min..max)."""
    if cost.empty:
        return K.empty_figure("no pipebench data")
    tests = [t for t in TESTS if t in set(cost["test"])]
    fig, axes = K.plt.subplots(1, len(tests), figsize=(4 * len(tests), 3.8), squeeze=False)
    for ax, test in zip(axes[0], tests):
        t = cost[cost["test"] == test].copy()
        t["cpus"] = t["cpus"].map(lambda c: "%d CPU%s" % (c, "" if c == 1 else "s"))
        t["phase_k"] = t["phase"].map({p: i for i, p in enumerate(PHASES)})
        K.grouped_bars(ax, t, "phase_k", "cpus", "med", 1e3, True,
                       xfmt="%s", labels=None)
        ax.set_xticklabels([PHASES[i] for i in sorted(t["phase_k"].unique())])
        ax.set_xlabel("phase (burst: after 20 fork+exec+wait)")
        ax.set_ylabel("Kcycles per %s" % ("round trip" if test == "pingpong" else
                                         "512-byte write"))
        ax.set_title(test, fontsize=10)
    K.note(fig, "bars: median over boots of each boot's median; whiskers: min..max over boots")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def plot_latency(lat):
    """Histogram of wake-up-to-run latency (us), woken with and without an
    IPI, on a log axis."""
    if lat.empty:
        return K.empty_figure("no traced wake-ups (or no TSC rate in the dump)")
    fig, ax = K.plt.subplots(figsize=(7, 3.8))
    v = lat["latency_us"].clip(lower=0.1)
    bins = np.logspace(np.log10(max(0.1, v.min())), np.log10(max(1.0, v.max() * 1.01)), 40)
    for ipi, label in ((0, "no IPI (target CPU was running)"), (1, "IPI to a halted CPU")):
        s = v[lat["ipi"] == ipi]
        if len(s):
            ax.hist(s, bins=bins, alpha=0.6, label="%s, n=%d" % (label, len(s)))
    ax.set_xscale("log")
    ax.axvline(10000, color="0.5", ls="--", lw=0.8)
    ax.text(10000, ax.get_ylim()[1] * 0.9, " one tick (10 ms)", fontsize=7, color="0.4")
    ax.set_xlabel("wake-up to run (µs, log scale)")
    ax.set_ylabel("wake-ups")
    ax.legend(fontsize=8)
    K.note(fig, "one traced boot, pipebench 1 at 2 CPUs")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def section(tables, ctx):
    cost, ratio, lat = tables["pipe_cost"], tables["pipe_cpu_ratio"], tables["wake_latency"]
    if cost.empty:
        return ["No pipebench data.", ""]
    t = cost[["test", "phase", "cpus", "med", "med_min", "med_max", "unit", "ipis",
              "ipi_late", "migrations", "boots"]].copy()
    for c in ("med", "med_min", "med_max"):
        t[c] = ["%.0f" % x for x in cost[c]]
    s = ["Cycles per round trip (`pingpong`) or per 512-byte write (`throughput`: the child "
         "writes; `throughput_pw`: the parent writes), median over boots (min, max) of each "
         "boot's median of 3 repetitions. `ipis`: wake-ups sent to a halted CPU; "
         "`ipi_late`: of those, the ones that ran only after that CPU's next tick anyway; "
         "`migrations`: processes an idle CPU took from another CPU's queue (medians).", "",
         md_table(t), "", "![pipe cost](pipe/pipe_cost.png)", ""]
    if not ratio.empty:
        r = ratio.copy()
        r["cpu1"] = ["%.0f" % x for x in ratio["cpu1"]]
        r["cpu2"] = ["%.0f" % x for x in ratio["cpu2"]]
        r["ratio"] = ["%.2f" % x for x in ratio["ratio"]]
        bad = ratio[~ratio["within_target"]]
        s += ["2 CPUs against 1 (the design target: at most %.1fx in every phase; %s):"
              % (TARGET, "met" if bad.empty else "NOT met for " + ", ".join(
                  "%s/%s" % (a, b) for a, b in zip(bad["test"], bad["phase"]))), "",
              md_table(r), ""]
    if not lat.empty:
        q = lat["latency_us"].quantile([0.5, 0.9, 0.99]).to_numpy()
        s += ["Wake-up to run, one traced boot (%d wake-ups): median %.1f µs, p90 %.1f µs, "
              "p99 %.1f µs, max %.1f µs; %d over one tick (10 ms)." % (
                  len(lat), q[0], q[1], q[2], lat["latency_us"].max(),
                  int((lat["latency_us"] > 10000).sum())), "",
              "![wake-up latency](pipe/wake_latency.png)", ""]
    return s


def key_figures(tables, ctx):
    r = tables["pipe_cpu_ratio"]
    if r.empty:
        return []
    worst = r.loc[r["ratio"].idxmax()]
    return ["Pipes: the worst 2-CPU/1-CPU cost ratio is %.2fx (%s, %s)."
            % (worst["ratio"], worst["test"], worst["phase"])]
