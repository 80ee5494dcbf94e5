"""Page replacement under memory pressure (user/bench/swapbench.c).

In a 32 MiB guest with 64 MiB of swap, a fresh process writes a working
set of 16..48 MiB and then reads it in order (a loop over the set), under
each policy (vm.policy = fifo, clock, random, lru): major faults, swap
traffic and time per pass against the working-set size, and the knee where
the set stops fitting. A second run reads a 40 MiB set back twice with and
without the dirty-bit saving (vm.swap_dirtybit). Belady's anomaly is shown
on the textbook reference string by simulating each policy on a fixed
number of frames here (a kernel cannot be held to exactly 3 or 4 frames:
that table is a simulation, labelled as such; every other number is
measured in the guest).

Output line: csv,policy,dirtybit,ws_mib,pass,cycles,faults,major,swap_in,swap_out,writes,saved,scans
"""
import pandas as pd

from kbench import parse as P, plot as K
from kbench.report import md_table

TITLE = "Page replacement: thrashing, policies, dirty bit (swapbench)"
ORDER = 60
SIZES = "16,24,32,40,48"
POLICIES = ["fifo", "clock", "random", "lru"]
RUNS = [{"name": "curve_" + p, "cmd": "swapbench curve %s %s 1" % (p, SIZES),
         "boots": 1, "mem": 32, "swap_mb": 64} for p in POLICIES] + \
       [{"name": "dirty", "cmd": "swapbench dirty 40 2", "boots": 1, "mem": 32, "swap_mb": 64}]
DETERMINISTIC = False
WHY_NOT_DETERMINISTIC = ("every major fault waits for the swap disk, which qemu serves on host "
                         "threads, and the reclaim thread runs beside the program: times and "
                         "which pages are taken vary. Fault and write counts are exact "
                         "(vmstat) for the run they come from.")

ROW = [("policy", str), ("dirtybit", int), ("ws_mib", int), ("pass", int), ("cycles", int),
       ("faults", int), ("major", int), ("swap_in", int), ("swap_out", int),
       ("writes", int), ("saved", int), ("scans", int)]

# Belady's reference string (Silberschatz et al.): FIFO faults more with 4
# frames than with 3.
BELADY = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]


def parse(run, lines, source):
    return P.parse_rows([ln for ln in lines if ln.startswith("csv,")], ROW, source, "rows")


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


def simulate(policy, refs, frames, seed=1):
    """Page faults of policy (fifo, clock, lru, random) on the reference
    string refs with a fixed number of frames (a plain simulation)."""
    import random
    rnd = random.Random(seed)
    mem, used, faults, hand, order = [], {}, 0, 0, []
    for t, p in enumerate(refs):
        if p in mem:
            used[p] = 1
            order.remove(p)
            order.append(p)
            continue
        faults += 1
        if len(mem) < frames:
            mem.append(p)
        else:
            if policy == "fifo":
                i = 0
            elif policy == "lru":
                i = mem.index(order[0])
            elif policy == "random":
                i = rnd.randrange(frames)
            else:                                  # clock (second chance)
                while used.get(mem[hand]):
                    used[mem[hand]] = 0
                    hand = (hand + 1) % frames
                i = hand
                hand = (hand + 1) % frames
            victim = mem[i]
            order.remove(victim)
            used.pop(victim, None)
            if policy == "fifo":
                mem.pop(0)
                mem.append(p)
            else:
                mem[i] = p
        used[p] = 1 if policy != "clock" else 0
        order.append(p)
    return faults


def belady():
    rows = []
    for pol in POLICIES:
        for f in (3, 4):
            rows.append({"policy": pol, "frames": f, "faults": simulate(pol, BELADY, f)})
    return pd.DataFrame(rows)


def analyse(data):
    rows = pd.concat([data.table("curve_%s.rows" % p) for p in POLICIES], ignore_index=True)
    c = curve(rows)
    d = dirty(data.table("dirty.rows"))
    return {"swap_curve": c, "swap_knee": knee(c) if not c.empty else
            pd.DataFrame(columns=["policy"]), "swap_dirty": d, "swap_belady_sim": belady()}


def figures(tables, ctx):
    return [("swap_curve.png", plot_curve(tables["swap_curve"]))]


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
    return out


def section(tables, ctx):
    c, k, d, b = (tables["swap_curve"], tables["swap_knee"], tables["swap_dirty"],
                  tables["swap_belady_sim"])
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
    s += ["Belady's anomaly on the reference string %s: **simulated** here with 3 and 4 "
          "frames (not measured in the guest). FIFO faults more with more frames; the "
          "others do not on this string." % " ".join(map(str, BELADY)), "", md_table(b), ""]
    return s
