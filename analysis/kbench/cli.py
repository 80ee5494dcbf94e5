"""Command line: a run folder's raw logs -> tables, plots and REPORT.md;
two run folders -> a comparison.

    $ PYTHONPATH=analysis:trace /usr/bin/python3 -m kbench report results/latest
    kbench: results/latest: 17 guest runs, 0 failed, 0 skipped, 0 problems
    kbench: wrote 6 experiments (21 tables, 9 plots), results/latest/REPORT.md
    $ PYTHONPATH=analysis:trace /usr/bin/python3 -m kbench compare results/A results/B
    kbench: 41 timings compared: 3 faster, 1 slower, 37 within noise -> results/compare-A-vs-B/COMPARE.md

`check` only parses (exit 1 if a line could not be read or a run failed).
`report` writes into the run folder: REPORT.md, samples.csv (every timing
per boot), spread.csv (median, IQR, CV per timing) and, per experiment,
<experiment>/<table>.csv and <experiment>/<figure>.png.
`compare A B [--out DIR]` writes COMPARE.md, compare.csv and compare.png
(default DIR: results/compare-<A>-vs-<B>/).
"""
import argparse
import os
import sys

import pandas as pd

from . import experiments as X, parse, plot, report, stats


def _status_line(run):
    n = len((run.manifest or {}).get("runs", []))
    return "kbench: %s: %d guest runs, %d failed, %d skipped, %d problems" % (
        run.path, n, len(run.failed), len(run.skipped), len(run.problems))


def analyse_run(run, exps):
    """{experiment: tables} for every experiment with data in the run,
    plus the run's samples (experiment, metric, boot, cycles)."""
    out, samples = {}, []
    for name in [n for n in exps if n in run.data]:          # report order
        data, exp = run.data[name], exps[name]
        tables = exp.module.analyse(data)
        out[name] = tables
        if exp.has("samples"):
            s = exp.module.samples(tables)
            if s is not None and len(s):
                s = s.copy()
                s.insert(0, "experiment", name)
                samples.append(s)
    cols = ["experiment"] + stats.SAMPLE_COLS
    return out, (pd.concat(samples, ignore_index=True) if samples else pd.DataFrame(columns=cols))


def find_tsc_khz(run, exps, all_tables):
    """(kHz, text saying where it came from and what else was seen): 1 GHz
    by definition under icount; else the median of the rates the
    experiments measured in the guest; else the host's nominal rate."""
    mhz = ((run.manifest or {}).get("host") or {}).get("cpu_mhz")
    nominal = "host's nominal %.0f MHz (/proc/cpuinfo)" % mhz if mhz else ""
    if run.clock == "icount":
        return 1e6, "icount shift=0: one instruction per ns"
    seen = []
    for name, tables in all_tables.items():
        if exps[name].has("tsc_khz"):
            v = exps[name].module.tsc_khz(tables)
            if v:
                seen.append((float(v), name))
    if seen:
        vals = sorted(v for v, _ in seen)
        med = vals[len(vals) // 2] if len(vals) % 2 else sum(vals[len(vals) // 2 - 1:
                                                                   len(vals) // 2 + 1]) / 2
        return med, "median of the guest's measurements: %s%s" % (
            ", ".join("%.0f by %s" % (v, n) for v, n in seen),
            "; " + nominal if nominal else "")
    if mhz:
        return float(mhz) * 1000, nominal + ": approximate"
    return None, ""


def determinism_note(exp, clock):
    """Under the instruction clock: whether this experiment repeats exactly."""
    if clock != "icount":
        return []
    if exp.deterministic:
        return ["Under the instruction clock this experiment's output repeats exactly from "
                "one run to the next.", ""]
    why = getattr(exp.module, "WHY_NOT_DETERMINISTIC", "no reason given")
    return ["**Under the instruction clock this experiment does not repeat exactly**: %s. "
            "Its spread table below measures how much it moves." % why, ""]


def noise_note(sp, clock):
    """A caution line when some of the section's timings are noisy."""
    if sp is None or sp.empty or not sp["noisy"].any():
        return []
    return ["**Caution: %d of %d timings below are noisy** (coefficient of variation over "
            "boots above %.0f%%%s; see the spread table at the end of the section): ratios, "
            "crossovers and break-even points computed from them are only as good as that "
            "spread." % (int(sp["noisy"].sum()), len(sp), 100 * stats.NOISY_CV.get(clock, 0.05),
                         "" if clock != "icount" else ", i.e. any spread under icount"), ""]


def write_report(run_dir, exps, dpi=110):
    """Parse, analyse, write every file; returns (run, counts)."""
    import matplotlib.pyplot as plt
    run = parse.load_run(run_dir, exps)
    all_tables, samples = analyse_run(run, exps)
    tsc, src = find_tsc_khz(run, exps, all_tables)
    ctx = report.Context(run.clock, tsc, all_tables)
    spread = pd.concat([stats.spread(g, run.clock).assign(experiment=e)
                        for e, g in samples.groupby("experiment", sort=False)],
                       ignore_index=True) if len(samples) else stats.spread(None)
    ntab = nfig = 0
    sections, keys = [], []
    for name, tables in all_tables.items():
        exp = exps[name]
        d = os.path.join(run_dir, name)
        os.makedirs(d, exist_ok=True)
        for tname, df in tables.items():
            if not tname.startswith("_") and isinstance(df, pd.DataFrame):
                df.to_csv(os.path.join(d, tname + ".csv"), index=False)
                ntab += 1
        if exp.has("figures"):
            for fname, fig in exp.module.figures(tables, ctx):
                plot.clock_note(fig, run.clock)
                fig.savefig(os.path.join(d, fname), dpi=dpi)
                plt.close(fig)
                nfig += 1
        sp = spread[spread["experiment"] == name] if len(spread) else spread
        lines = determinism_note(exp, run.clock) + noise_note(sp, run.clock) + \
            list(exp.module.section(tables, ctx))
        lines += report.spread_section(sp, ctx)
        sections.append((name, exp.title, lines))
        if exp.has("key_figures"):
            tag = "(does not repeat under icount: see its section) " if \
                run.clock == "icount" and not exp.deterministic else ""
            keys += [tag + k for k in exp.module.key_figures(tables, ctx)]
    samples.to_csv(os.path.join(run_dir, "samples.csv"), index=False)
    spread.to_csv(os.path.join(run_dir, "spread.csv"), index=False)
    problems = [str(p) for p in run.problems] + [
        "run failed: %s/%s (%s): %s" % (e.get("experiment"), e.get("out"), e.get("cmd"),
                                        e.get("message") or e.get("kind")) for e in run.failed]
    facts = {"run": os.path.basename(os.path.realpath(run_dir)), "manifest": run.manifest,
             "skipped": run.skipped, "tsc_khz": tsc, "tsc_source": src}
    with open(os.path.join(run_dir, "REPORT.md"), "w") as f:
        f.write(report.render(facts, sections, keys, problems))
    return run, (len(all_tables), ntab, nfig)


def cmd_check(args):
    run = parse.load_run(args.run_dir, X.discover(args.bench))
    print(_status_line(run))
    for p in run.problems:
        print("problem: %s" % p)
    for e in run.failed:
        print("failed: %s/%s (%s): %s %s" % (e.get("experiment"), e.get("out"), e.get("cmd"),
                                            e.get("kind"), e.get("message", "")))
    return 1 if run.problems or run.failed else 0


def cmd_report(args):
    exps = X.discover(args.bench)
    run, (nexp, ntab, nfig) = write_report(args.run_dir, exps, args.dpi)
    print(_status_line(run))
    for p in run.problems:
        print("problem: %s" % p, file=sys.stderr)
    if not run.data:
        print("kbench: nothing to report in %s" % args.run_dir, file=sys.stderr)
        return 1
    print("kbench: wrote %d experiments (%d tables, %d plots), %s" % (
        nexp, ntab, nfig, os.path.join(args.run_dir, "REPORT.md")))
    return 0


def cmd_compare(args):
    from . import compare
    return compare.main(args)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="kbench", description="benchmark logs -> tables, "
                                 "plots and REPORT.md (see results/README.md)")
    ap.add_argument("--bench", default=X.BENCH_DIR, help="experiments folder (default bench/)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("report", help="parse, write CSV tables, PNG plots and REPORT.md")
    p.add_argument("run_dir", help="results/<run> (holding raw/)")
    p.add_argument("--dpi", type=int, default=110)
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("check", help="parse only; list unreadable lines and failed runs")
    p.add_argument("run_dir")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("compare", help="compare two runs: per timing medians, ratio with a "
                       "bootstrap confidence interval, verdict")
    p.add_argument("a", help="baseline run folder (A)")
    p.add_argument("b", help="run folder compared with it (B)")
    p.add_argument("--out", help="output folder (default results/compare-A-vs-B)")
    p.add_argument("--dpi", type=int, default=110)
    p.set_defaults(func=cmd_compare)
    args = ap.parse_args(argv)
    return args.func(args)
