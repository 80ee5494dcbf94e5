"""Report stage: REPORT.md text from the experiments' sections plus the
parts every report has (method and machine, key figures, runs, the spread
of every timing, problems). Pure: returns strings; the CLI writes files.

    >>> print(md_table(pd.DataFrame({"order": [0, 1], "cycles": [2267.0, 3394.5]}),
    ...                {"cycles": "{:.0f}"}))
    | order | cycles |
    |------:|-------:|
    | 0 | 2267 |
    | 1 | 3394 |
"""
import math

import pandas as pd

from .stats import NOISY_CV


def _fmt(v, f):
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if f:
        return f.format(v)
    if isinstance(v, float):
        return "{:.0f}".format(v) if abs(v) >= 100 else "{:.3g}".format(v)
    return str(v)


def md_table(df, formats=None, headers=None):
    """A Markdown table of df's columns (numbers right-aligned); formats maps
    a column to a format string, headers a column to its title."""
    formats = formats or {}
    headers = headers or {}
    cols = list(df.columns)
    titles = [headers.get(c, str(c)) for c in cols]
    num = [pd.api.types.is_numeric_dtype(df[c]) for c in cols]
    out = ["| " + " | ".join(titles) + " |",
           "|" + "|".join(("-" * (len(t) + 1) + ":") if n else ("-" * (len(t) + 2))
                          for t, n in zip(titles, num)) + "|"]
    for row in df.itertuples(index=False):
        out.append("| " + " | ".join(_fmt(v, formats.get(c)) for v, c in zip(row, cols)) + " |")
    return "\n".join(out)


def ratio(x):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else "%.2fx" % x


class Context:
    """What a section may use besides its own tables: the clock ("tsc" or
    "icount"), the TSC rate (kHz, None if unknown), us(cycles) -> µs, the
    unit name, and other(name) -> another experiment's tables."""

    def __init__(self, clock="tsc", tsc_khz=None, all_tables=None):
        self.clock = clock
        self.tsc_khz = tsc_khz
        self.unit = "cycles"
        self._all = all_tables or {}

    def us(self, cycles):
        if not self.tsc_khz or cycles is None or (isinstance(cycles, float) and
                                                   math.isnan(cycles)):
            return float("nan")
        return float(cycles) / self.tsc_khz * 1000.0

    def other(self, name):
        return self._all.get(name, {})


CLOCK_TEXT = {
    "tsc": ("Clock: **host TSC** (the default). Under qemu's software emulation (TCG) the guest "
            "reads the host's time-stamp counter, so a cycle is a host cycle spent emulating: "
            "the figures move with the host's speed and load (see the spread tables). Compare "
            "ratios within one run; counts (pages, faults, events) are exact."),
    "icount": ("Clock: **instruction count** (`CLOCK=icount`: qemu `-icount shift=0,sleep=off`). "
               "Each guest instruction advances virtual time by 1 ns and the guest's TSC reads "
               "that time, so a \"cycle\" below is one guest instruction (TSC rate 1 GHz, "
               "1000 cycles = 1 µs of virtual time). This is not cycle accurate: a `rep` "
               "string instruction counts one per iteration, a trap or an interrupt a few, "
               "a cache miss nothing. It is independent of the host: CPU-bound benchmarks "
               "repeat exactly. Idle time jumps to the next timer deadline (sleep=off); disk "
               "requests still complete on host threads, so benchmarks that wait for the disk "
               "keep some spread."),
}


def method_section(facts):
    """Method and machine: who ran what, on which host, with which clock."""
    m = facts.get("manifest") or {}
    host = m.get("host", {})
    load = m.get("host_load") or {}
    cpus = m.get("host_cpus") or host.get("cpus")
    tsc = facts.get("tsc_khz")
    tsc_src = facts.get("tsc_source", "")
    rows = [("kernel revision", m.get("git", "?")),
            ("run", "%s (started %s)" % (facts.get("run", "?"), m.get("started", "?"))),
            ("host CPU", "%s, %s logical CPUs" % (host.get("cpu_model", "?"), cpus or "?")),
            ("host OS", host.get("os", "?")),
            ("emulator", "%s; accelerator %s" % (host.get("qemu", "?"), m.get("accel", "tcg"))),
            ("clock", m.get("clock", "tsc")),
            ("TSC rate", ("%.0f kHz (%s)" % (tsc, tsc_src)) if tsc else "unknown"),
            ("guest", "%s virtual CPUs, %s MiB" % (m.get("cpus", "?"), m.get("mem_mib", "?"))),
            ("boots", "%s fresh guest(s) per timing run" % m.get("boots", "?")),
            ("host load (1/5/15 min)", "%s before, %s after" % (
                "/".join("%.2f" % x for x in load.get("before", [])) or "?",
                "/".join("%.2f" % x for x in load.get("after", [])) or "?"))]
    s = ["## Method and machine", "",
         md_table(pd.DataFrame(rows, columns=["what", "value"])), "",
         CLOCK_TEXT.get(m.get("clock", "tsc"), ""), "",
         "Every timing is measured in fresh guests (boots run round-robin over the "
         "experiments, so a burst of host load spoils one boot of several rather than every "
         "boot of one); each table gives the median over boots. The spread table under each "
         "section gives, per timing: median, interquartile range (IQR = 75th - 25th "
         "percentile), coefficient of variation (CV = standard deviation / mean over boots) "
         "and min..max. A row whose CV is above %.0f%% (any spread at all under icount) is "
         "marked **NOISY**: do not read differences smaller than its spread." % (
             100 * NOISY_CV["tsc"]), ""]
    warn = load_warning(m)
    if warn:
        s += [warn, ""]
    return s


def load_warning(manifest):
    """A warning line if the host's load average exceeded its CPU count
    before, during or after the runs (None otherwise)."""
    load = manifest.get("host_load") or {}
    cpus = manifest.get("host_cpus")
    peak = [x[0] for x in [load.get("before"), load.get("after")] if x]
    peak += list(load.get("max_1min", []) if isinstance(load.get("max_1min"), list)
                 else [load["max_1min"]] if "max_1min" in load else [])
    if not cpus or not peak or max(peak) <= cpus:
        return None
    return ("> **WARNING: the host was overloaded**: 1-minute load average up to %.1f on %d "
            "CPUs. Guests shared the CPUs with other work, so host-clock timings are slower "
            "and noisier than on an idle machine%s." % (
                max(peak), cpus, "" if manifest.get("clock") == "icount" else
                " (CLOCK=icount is immune to this)"))


def spread_section(sp, ctx):
    """The spread table of one experiment's timings (stats.spread output)."""
    if sp is None or sp.empty:
        return []
    t = pd.DataFrame({
        "timing": sp["metric"], "boots": sp["n"], "median cycles": sp["median"],
        "median µs": [ctx.us(v) for v in sp["median"]],
        "IQR cycles": sp["iqr"], "CV": sp["cv"],
        "min..max": ["%.0f..%.0f" % (a, b) for a, b in zip(sp["min"], sp["max"])],
        "": ["**NOISY**" if n else "" for n in sp["noisy"]]})
    noisy = int(sp["noisy"].sum())
    head = "Spread over boots of every timing: %d of %d rows noisy." % (noisy, len(sp))
    return [head, "", md_table(t, {"median cycles": "{:.0f}", "median µs": "{:.3f}",
                                   "IQR cycles": "{:.0f}", "CV": "{:.2%}"}), ""]


def runs_table(manifest):
    """Per experiment and guest run: boots ok / failed, seconds."""
    rows = {}
    for e in (manifest or {}).get("runs", []):
        key = (e.get("experiment"), e.get("run"))
        r = rows.setdefault(key, {"experiment": key[0], "run": key[1], "command": e["cmd"],
                                  "ok": 0, "failed": 0, "seconds": 0.0})
        r["ok" if e.get("ok") else "failed"] += 1
        r["seconds"] += e.get("seconds") or 0
    return pd.DataFrame(list(rows.values()))


def render(facts, sections, key_figures, problems):
    """The whole REPORT.md. sections: [(experiment, title, lines)];
    key_figures: lines; problems: strings."""
    s = ["# Benchmark report: %s" % facts.get("run", "?"), ""]
    s += method_section(facts)
    if key_figures:
        s += ["## Key figures", ""] + ["- " + k for k in key_figures] + [""]
    runs = runs_table(facts.get("manifest"))
    if not runs.empty:
        s += ["## Runs", "", md_table(runs, {"seconds": "{:.1f}"}), ""]
    for sk in facts.get("skipped", []):
        s += ["- %s: skipped: %s" % (sk.get("experiment", sk.get("bench")), sk.get("why"))]
    s += [""]
    for name, title, lines in sections:
        s += ["## %s" % title, "", "Experiment `bench/%s/`; tables and plots in `%s/`." % (
            name, name), ""] + lines
    s += ["## Problems", ""]
    s += ["- " + p for p in problems] if problems else ["None: every line parsed."]
    s += [""]
    return "\n".join(s)
