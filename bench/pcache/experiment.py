"""The page cache seen from user space (user/bench/pcachebench.c).

read() vs mmap of a 4 MiB file, cold (every page from disk) and warm (every
page cached): pages read from disk are the pcache_misses counter's delta
(exact). Then two processes share a MAP_SHARED mapping, each dirtying part
of it; one msync must write exactly the union of the pages they dirtied.

Output lines (key=value):
  exp=read method=read|mmap state=cold|warm pages=N disk_pages=M hits=H cycles=C
  exp=union pages=N a_dirty=A b_dirty=B union=U written=W shootdowns=S cycles=C
"""
import pandas as pd

from kbench import parse as P, plot as K, stats as S
from kbench.report import md_table

TITLE = "Page cache: read() vs mmap, and one msync for two writers (pcachebench)"
ORDER = 25
RUNS = [{"name": "read", "cmd": "pcachebench read 1024"},
        {"name": "union", "cmd": "pcachebench union 256"}]
WHY_NOT_DETERMINISTIC = ("cold passes read the file from disk, which qemu completes on "
                         "host threads; page counts are exact in every mode")

READ = [("method", str), ("state", str), ("pages", int), ("disk_pages", int),
        ("hits", int), ("cycles", int)]
UNION = [("pages", int), ("a_dirty", int), ("b_dirty", int), ("union", int),
         ("written", int), ("shootdowns", int), ("cycles", int)]


def _kv_rows(lines, exp, schema, source, problems):
    rows = []
    for i, line in enumerate(lines, 1):
        words = line.strip().split()
        if not words or words[0] != "exp=" + exp:
            continue
        kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        try:
            rows.append({c: conv(kv[c]) for c, conv in schema})
        except (KeyError, ValueError) as e:
            problems.append(P.Problem(source, i, "bad pcachebench line (%s)" % e, line))
    return pd.DataFrame(rows, columns=[c for c, _ in schema])


def parse(run, lines, source):
    t = P.Tables()
    lines = list(lines)
    if run == "read":
        t["rows"] = _kv_rows(lines, "read", READ, source, t.problems)
    else:
        t["rows"] = _kv_rows(lines, "union", UNION, source, t.problems)
    return t


def analyse(data):
    rd = data.table("read.rows")
    un = data.table("union.rows")
    read = (S.over_boots(rd, ["method", "state"], ["cycles"], ["pages", "disk_pages", "hits"])
            if len(rd) else pd.DataFrame())
    union = un.copy()
    if len(union):
        union["exact"] = union["written"] == union["union"]
    for r in rd.itertuples():
        want = r.pages if r.state == "cold" else 0
        if r.disk_pages != want:
            data.problems.append(P.Problem("pcache/read", 0, "%s %s pass read %d pages "
                                           "from disk, expected %d" % (
                                               r.method, r.state, r.disk_pages, want)))
    for r in union.itertuples() if len(union) else []:
        if not r.exact:
            data.problems.append(P.Problem("pcache/union", 0, "msync wrote %d pages, the "
                                           "union of the dirtied pages is %d"
                                           % (r.written, r.union)))
    return {"pcache_read": read, "pcache_union": union, "_read": rd}


def samples(tables):
    return S.samples_from(tables["_read"], ["method", "state"], "cycles")


def figures(tables, ctx):
    return [("pcache_read.png", plot_read(tables["pcache_read"]))]


def plot_read(read):
    """Cycles to read a 4 MiB file with read() and with mmap, cold and warm
    (bars: median over boots; whiskers: min..max)."""
    if read.empty:
        return K.empty_figure("no pcachebench read data")
    fig, ax = K.plt.subplots(figsize=(7, 4))
    t = read.copy()
    t["state_k"] = t["state"].map({"cold": 0, "warm": 1})
    K.grouped_bars(ax, t, "state_k", "method", "cycles", 1e6, True)
    ax.set_xticklabels(["cold (from disk)", "warm (cached)"][:len(t["state_k"].unique())])
    ax.set_xlabel("state of the page cache")
    ax.set_ylabel("Mcycles to read 4 MiB")
    K.note(fig, K.BARS_MEDIAN)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def section(tables, ctx):
    read, union = tables["pcache_read"], tables["pcache_union"]
    s = []
    if not read.empty:
        t = read.copy()
        for c in ("cycles", "cycles_min", "cycles_max"):
            t[c] = ["%.0f" % x for x in read[c]]
        s += ["Reading a 4 MiB file once with `read()` (64 KiB calls) and once through a "
              "read-only `mmap` (one byte per page), cold (after `sysctl vm.drop_caches=1`) "
              "and warm. `disk_pages`: pages read from disk (the `pcache_misses` counter's "
              "delta, exact: a cold pass reads every page once, a warm one none); `hits`: "
              "pages found in the cache. Median over boots (min, max).", "",
              md_table(t), "", "![read vs mmap](pcache/pcache_read.png)", ""]
    if not union.empty:
        s += ["Two processes share a `MAP_SHARED` mapping of a 256-page file; one dirties "
              "every 2nd page of the first three quarters, the other every 3rd page of the "
              "last three quarters. One `msync` in the first must write exactly the union "
              "(`written` is the `msync_pages` counter's delta; `shootdowns`: TLB shootdown "
              "IPIs it sent): %s." % ("exact in every boot" if union["exact"].all() else
                                      "**NOT exact**"), "",
              md_table(union), ""]
    return s or ["No pcachebench data.", ""]


def key_figures(tables, ctx):
    read = tables["pcache_read"]
    if read.empty:
        return []
    r = read.set_index(["method", "state"])["cycles"]
    out = []
    for m in ("read", "mmap"):
        if (m, "cold") in r and (m, "warm") in r:
            out.append("Page cache: a warm %s of 4 MiB takes %.2fx the cold one."
                       % (m, r[(m, "warm")] / r[(m, "cold")]))
    return out
