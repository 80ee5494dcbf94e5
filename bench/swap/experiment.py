"""Page replacement under memory pressure (user/bench/swapbench.c).

In a 32 MiB guest with 64 MiB of swap, a fresh process writes a working
set of 16..48 MiB and then reads it in order (a loop over the set), under
each policy (vm.policy = fifo, clock, random, lru): major faults, swap
traffic and time per pass against the working-set size, and the knee where
the set stops fitting. A second run reads a 40 MiB set back twice with and
without the dirty-bit saving (vm.swap_dirtybit). A third run holds a
process to 1..6 frames (setframes: local replacement) and replays two
reference strings under each policy: Belady's, and one found by search on
which FIFO shows the anomaly and clock does not. Every fault count there is
measured in the guest; a simulation of the kernel's own rules (below) is
put beside each deterministic policy and must agree exactly.

Output lines: csv,policy,dirtybit,ws_mib,pass,cycles,faults,major,swap_in,swap_out,writes,saved,scans
and belady,policy,frames,refs,faults,major,swap_out,pattern
"""
import pandas as pd

from kbench import parse as P, plot as K
from kbench.report import md_table

TITLE = "Page replacement: thrashing, policies, dirty bit (swapbench)"
ORDER = 60
SIZES = "16,24,32,40,48"
POLICIES = ["fifo", "clock", "random", "lru"]
# Belady's reference string (Silberschatz et al.): FIFO faults more with 4
# frames than with 3. The second string was found by searching with
# simulate(): FIFO shows the anomaly on it and clock (second chance) does
# not; on Belady's own string clock keeps every page's accessed bit set
# and behaves exactly as FIFO.
BELADY = "123412512345"
CLOCK_OK = "1304131512305"
FRAMES = "1,2,3,4,5,6"

RUNS = [{"name": "curve_" + p, "cmd": "swapbench curve %s %s 1" % (p, SIZES),
         "boots": 1, "mem": 32, "swap_mb": 64} for p in POLICIES] + \
       [{"name": "dirty", "cmd": "swapbench dirty 40 2", "boots": 1, "mem": 32, "swap_mb": 64}] + \
       [{"name": "belady_" + p, "cmd": "swapbench belady %s %s %s %s" % (p, FRAMES, BELADY, CLOCK_OK),
         "boots": 1, "mem": 32, "swap_mb": 8} for p in POLICIES]
DETERMINISTIC = False
WHY_NOT_DETERMINISTIC = ("every major fault waits for the swap disk, which qemu serves on host "
                         "threads, and the reclaim thread runs beside the program: times and "
                         "which pages are taken vary. Fault and write counts are exact "
                         "(vmstat) for the run they come from.")

ROW = [("policy", str), ("dirtybit", int), ("ws_mib", int), ("pass", int), ("cycles", int),
       ("faults", int), ("major", int), ("swap_in", int), ("swap_out", int),
       ("writes", int), ("saved", int), ("scans", int)]

BELADY_COLS = ["policy", "frames", "refs", "faults", "major", "swap_out", "pattern"]


def parse(run, lines, source):
    """csv lines -> table rows; belady lines -> table belady."""
    lines = list(lines)
    t = P.parse_rows([ln for ln in lines if ln.startswith("csv,")], ROW, source, "rows")
    rows = []
    for i, line in enumerate(lines, 1):
        if not line.startswith("belady,"):
            continue
        f = line.strip().split(",")
        try:
            if len(f) != 8 or f[1] not in POLICIES or len(f[7]) != len(f[3]):
                raise ValueError("want belady,policy,frames,refs,faults,major,swap_out,pattern")
            rows.append({"policy": f[1], "frames": int(f[2]), "refs": f[3], "faults": int(f[4]),
                         "major": int(f[5]), "swap_out": int(f[6]), "pattern": f[7]})
        except ValueError as e:
            t.problems.append(P.Problem(source, i, str(e), line.strip()))
    t["belady"] = pd.DataFrame(rows, columns=BELADY_COLS)
    return t


def curve(rows):
    """Read passes of the curve runs: per policy and working set, pages,
    major faults, fault rate (major faults per page read) and time."""
    cols = ["policy", "ws_mib", "pages", "major", "fault_rate", "swap_out", "writes",
            "saved", "scans", "cycles"]
    r = rows[(rows["pass"] > 0) & (rows["dirtybit"] == 1)] if not rows.empty else rows
    if r.empty:
        return pd.DataFrame(columns=cols)
    g = r.groupby(["policy", "ws_mib"], sort=True).agg(
        major=("major", "sum"), swap_out=("swap_out", "sum"), writes=("writes", "sum"),
        saved=("saved", "sum"), scans=("scans", "sum"), cycles=("cycles", "sum"),
        passes=("pass", "count")).reset_index()
    g["pages"] = g["ws_mib"] * 256 * g["passes"]
    g["fault_rate"] = g["major"] / g["pages"]
    g["_k"] = g["policy"].map(lambda p: POLICIES.index(p) if p in POLICIES else 9)
    return g.sort_values(["_k", "ws_mib"]).reset_index(drop=True)[cols]


def knee(c):
    """Per policy: the largest working set read with under 1 % major
    faults, and the smallest with over half."""
    rows = []
    for pol, t in c.groupby("policy", sort=False):
        fits = t[t["fault_rate"] < 0.01]["ws_mib"]
        thrash = t[t["fault_rate"] > 0.5]["ws_mib"]
        rows.append({"policy": pol, "fits_up_to_mib": fits.max() if len(fits) else None,
                     "thrashes_from_mib": thrash.min() if len(thrash) else None})
    return pd.DataFrame(rows, columns=["policy", "fits_up_to_mib", "thrashes_from_mib"])


def dirty(rows):
    """The dirty run: per dirtybit setting and pass, swap writes and saved."""
    cols = ["dirtybit", "pass", "major", "swap_out", "writes", "saved"]
    r = rows[rows["policy"].notna()] if not rows.empty else rows
    return r[cols].sort_values(["dirtybit", "pass"], ascending=[False, True]) \
        .reset_index(drop=True) if not r.empty else pd.DataFrame(columns=cols)


def simulate(policy, refs, frames):
    """Page faults of the kernel's local replacement (mm/reclaim_local.c)
    for policy fifo, clock or lru on the reference string refs (a string of
    page numbers, 0-9 a-f) with frames frames, following its rules: a
    fault admits the page into a free frame or the victim's; clock passes
    over (and clears) pages whose accessed bit is set, which every access,
    the faulting one included, sets; lru ages every page's 8-bit history
    at each fault and takes the lowest (ties: the earliest arrival).
    Random is not simulated (None)."""
    if policy not in ("fifo", "clock", "lru"):
        return None
    va, arrived, age, acc = [], [], [], {}
    hand = clock = faults = 0
    for x in refs:
        if x in va:
            acc[x] = 1
            continue
        faults += 1
        if policy == "lru":
            for i, v in enumerate(va):
                age[i] = (age[i] >> 1) | (0x80 if acc.get(v) else 0)
                acc[v] = 0
        if len(va) < frames:
            va.append(x)
            arrived.append(0)
            age.append(0)
            i = len(va) - 1
        else:
            n = len(va)
            if policy == "fifo":
                i = hand
            elif policy == "clock":
                i = None
                for _ in range(2 * n):
                    if not acc.get(va[hand]):
                        i = hand
                        break
                    acc[va[hand]] = 0
                    hand = (hand + 1) % n
                if i is None:
                    i = hand
            else:
                i = min(range(n), key=lambda j: (age[j], arrived[j]))
            acc[va[i]] = 0
            hand = (i + 1) % n
            va[i] = x
        arrived[i] = clock
        clock += 1
        age[i] = 0x80
        acc[x] = 1
    return faults


def belady(measured):
    """The measured fault counts per policy, string and frames, with the
    simulation beside them (agrees: yes, NO, or - for random)."""
    cols = BELADY_COLS + ["simulated", "agrees"]
    if measured.empty:
        return pd.DataFrame(columns=cols)
    b = measured.copy()
    sims = [simulate(r.policy, r.refs, r.frames) for r in b.itertuples()]
    b["simulated"] = pd.array(sims, dtype="Int64")
    b["agrees"] = ["-" if s is None else "yes" if s == f else "NO"
                   for s, f in zip(sims, b["faults"])]
    b["_k"] = b["policy"].map(POLICIES.index)
    return b.sort_values(["refs", "_k", "frames"]).reset_index(drop=True)[cols]


def anomalies(b):
    """Per string and policy: frame counts n where n+1 frames faulted more."""
    rows = []
    for (refs, pol), t in b.groupby(["refs", "policy"], sort=False):
        f = dict(zip(t["frames"], t["faults"]))
        bad = [n for n in sorted(f) if n + 1 in f and f[n + 1] > f[n]]
        rows.append({"refs": refs, "policy": pol,
                     "anomaly": ", ".join("%d -> %d frames: %d -> %d faults" % (n, n + 1, f[n], f[n + 1])
                                          for n in bad) or "none"})
    return pd.DataFrame(rows, columns=["refs", "policy", "anomaly"])


def analyse(data):
    rows = pd.concat([data.table("curve_%s.rows" % p) for p in POLICIES], ignore_index=True)
    c = curve(rows)
    d = dirty(data.table("dirty.rows"))
    b = belady(pd.concat([data.table("belady_%s.belady" % p) for p in POLICIES],
                         ignore_index=True))
    return {"swap_curve": c, "swap_knee": knee(c) if not c.empty else
            pd.DataFrame(columns=["policy"]), "swap_dirty": d, "swap_belady": b}


def figures(tables, ctx):
    return [("swap_curve.png", plot_curve(tables["swap_curve"])),
            ("swap_belady.png", plot_belady(tables["swap_belady"]))]


def plot_belady(b):
    """Faults against frames, per policy, one panel per reference string."""
    if b.empty:
        return K.empty_figure("no belady data")
    strings = list(dict.fromkeys(b["refs"]))
    fig, axes = K.plt.subplots(1, len(strings), figsize=(5.5 * len(strings), 4), squeeze=False)
    for ax, refs in zip(axes[0], strings):
        for pol, t in b[b["refs"] == refs].groupby("policy", sort=False):
            wide = pol == "fifo"               # (drawn wide: clock may lie on top of it)
            ax.plot(t["frames"], t["faults"], marker="s" if wide else "o", lw=5 if wide else 1.5,
                    alpha=0.45 if wide else 1, ms=9 if wide else 6, label=pol)
        ax.set_title("reference string %s" % refs, fontsize=10)
        ax.set_xlabel("frames")
        ax.set_ylabel("page faults")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Faults against frames (local replacement, measured)", fontsize=11)
    K.note(fig, "exact counts from the kernel; random varies between runs")
    fig.tight_layout()
    return fig


def plot_curve(c):
    """Major-fault rate and time per read pass against the working set."""
    if c.empty:
        return K.empty_figure("no swapbench data")
    fig, (ax, ax2) = K.plt.subplots(1, 2, figsize=(11, 4.2))
    for pol, t in c.groupby("policy", sort=False):
        ax.plot(t["ws_mib"], 100 * t["fault_rate"], marker="o", label=pol)
        ax2.plot(t["ws_mib"], t["cycles"] / 1e9, marker="o", label=pol)
    ax.set_xlabel("working set (MiB), guest memory 32 MiB")
    ax.set_ylabel("major faults per page read (%)")
    ax2.set_xlabel("working set (MiB), guest memory 32 MiB")
    ax2.set_ylabel("Gcycles per read pass")
    for a in (ax, ax2):
        a.set_ylim(bottom=0)
        a.grid(alpha=0.3)
        a.legend(fontsize=8, loc="upper left")
    fig.suptitle("Thrashing: a loop over the working set, per policy (one boot)", fontsize=11)
    K.note(fig, "exact counts from vmstat; times from one boot")
    fig.tight_layout()
    return fig


def key_figures(tables, ctx):
    out = []
    c = tables["swap_curve"]
    if not c.empty:
        big = c[c["ws_mib"] == c["ws_mib"].max()]
        out.append("loop over %d MiB in 32 MiB: major faults per page read %s" % (
            c["ws_mib"].max(), ", ".join("%s %.0f %%" % (r.policy, 100 * r.fault_rate)
                                         for r in big.itertuples())))
    d = tables["swap_dirty"]
    if not d.empty:
        w = d.groupby("dirtybit")["writes"].sum()
        if 0 in w and 1 in w:
            out.append("swap writes reading 40 MiB back twice: %d with the dirty bit, %d without"
                       % (w[1], w[0]))
    b = tables["swap_belady"]
    if not b.empty:
        t = b[(b["refs"] == BELADY) & b["frames"].isin([3, 4])]
        f = {(r.policy, r.frames): r.faults for r in t.itertuples()}
        if all((p, n) in f for p in ("fifo", "lru") for n in (3, 4)):
            out.append("Belady's string, measured (setframes): FIFO %d faults with 3 frames, %d "
                       "with 4; LRU %d and %d%s" % (
                           f["fifo", 3], f["fifo", 4], f["lru", 3], f["lru", 4],
                           "" if (b["agrees"] != "NO").all() else
                           " (**some counts disagree with the simulation**)"))
    return out


def section(tables, ctx):
    c, k, d, b = (tables["swap_curve"], tables["swap_knee"], tables["swap_dirty"],
                  tables["swap_belady"])
    s = ["A fresh process writes a working set, then reads it in order once (a loop); "
         "guest memory 32 MiB, swap 64 MiB. Counts of the read pass (exact, vmstat); time "
         "from one boot. `fault rate` = major faults per page read.", ""]
    if c.empty:
        s += ["No swapbench data (is there a swap disk?).", ""]
    else:
        t = c.copy()
        t["fault_rate"] = 100 * t["fault_rate"]
        t["cycles"] = t["cycles"] / 1e9
        s += [md_table(t, {"fault_rate": "{:.1f}", "cycles": "{:.2f}"},
                       {"ws_mib": "working set MiB", "fault_rate": "fault rate %",
                        "cycles": "Gcycles", "swap_out": "pages out", "saved": "writes saved"}),
              "", "The knee: the largest set read with under 1 % major faults and the "
              "smallest with over half.", "", md_table(k), "",
              "![thrashing](swap/swap_curve.png)", ""]
    if not d.empty:
        s += ["Reading 40 MiB back twice after writing it once: pages read back from swap "
              "and not stored to keep their swap copy and are not written again "
              "(`vm.swap_dirtybit=1`), against writing every evicted page (`=0`).", "",
              md_table(d), ""]
    s += ["Belady's anomaly, measured: a process held to 1..6 frames (`setframes`, local "
          "replacement under `vm.policy`) stores to its pages in the order of a reference "
          "string; faults counted by the kernel (`F` in the pattern: that reference "
          "faulted). `simulated` follows the kernel's rules for the deterministic policies "
          "and must agree exactly; random is measured only.", ""]
    if b.empty:
        s += ["No belady data.", ""]
    else:
        wrong = b[b["agrees"] == "NO"]
        if len(wrong):
            s += ["**The measurement disagrees with the simulation in %d rows**: the "
                  "kernel's replacement does not follow its stated rules there." % len(wrong), ""]
        s += [md_table(anomalies(b)), "",
              "String %s is Belady's: clock keeps every page's accessed bit set on it and "
              "makes the same choices as FIFO. String %s shows FIFO's anomaly and not "
              "clock's. LRU (here an 8-bit aging approximation) is a stack algorithm in its "
              "exact form and shows none on either." % (BELADY, CLOCK_OK), "",
              "![belady](swap/swap_belady.png)", "",
              md_table(b[b["frames"].isin([3, 4])]), ""]
    return s
