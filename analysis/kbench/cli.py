"""Command line: turn a run folder's raw logs into tables, plots and a report.

    $ PYTHONPATH=analysis:trace /usr/bin/python3 -m kbench report results/latest
    kbench: results/latest: 16 runs parsed, 0 failed, 1 skipped, 0 problems
    kbench: wrote 11 tables, 7 plots, results/latest/REPORT.md
    $ PYTHONPATH=analysis:trace /usr/bin/python3 -m kbench check results/latest
    kbench: results/latest: 16 runs parsed, 0 failed, 1 skipped, 0 problems

`check` only parses (exit 1 if a line could not be read or a run failed);
`report` also writes, into the run folder and nowhere else:
  lazy_vs_eager.csv fault_cost.csv alloc_by_order.csv kmalloc_by_size.csv
  fragmentation.csv trace_overhead.csv fork_cost.csv fork_compare.csv
  msync_compare.csv trace_phases.csv fault_timeline.csv, the PNGs lazy_vs_eager_cycles,
  lazy_vs_eager_pages, alloc_cost_by_order, fragmentation, fork_cost, msync_compare,
  fault_timeline, and REPORT.md.
`report` exits 0 unless there was nothing to report.
"""
import argparse
import os
import sys

import pandas as pd

from . import parse, transform, plot, report

EMPTY = pd.DataFrame()


def _t(run, name):
    return run.tables.get(name, EMPTY)


def _status_line(run):
    n = len(run.manifest.get("runs", [])) if run.manifest else len(
        {df["boot"].iloc[0] for df in run.tables.values() if len(df)})
    return "kbench: %s: %d runs parsed, %d failed, %d skipped, %d problems" % (
        run.path, n - len(run.failed), len(run.failed), len(run.skipped), len(run.problems))


def build_tables(run):
    """Every table of the report from a parsed Run (pure transforms)."""
    vm_runs, vm_stats = _t(run, "vmbench.runs"), _t(run, "vmbench.stats")
    tables = {
        "lazy_vs_eager": transform.lazy_vs_eager(vm_runs) if len(vm_runs) else
        transform.lazy_vs_eager(pd.DataFrame()),
        "fault_cost": transform.fault_cost(vm_stats) if len(vm_stats) else
        transform.fault_cost(pd.DataFrame()),
        "alloc_by_order": transform.alloc_by_order(_t(run, "allocbench.buddy")),
        "kmalloc_by_size": transform.kmalloc_by_size(_t(run, "allocbench.kmalloc")),
        "fragmentation": transform.fragmentation(_t(run, "allocbench.frag")),
        "fragrun": _t(run, "allocbench.fragrun"),
        "trace_overhead": transform.trace_overhead(_t(run, "tracebench.stats")),
        "fork_cost": transform.fork_cost(_t(run, "forkbench.runs")),
        "msync_compare": transform.msync_compare(_t(run, "msyncbench.runs")),
    }
    tables["fork_compare"] = transform.fork_compare(tables["fork_cost"])
    tables["msync_wide"] = transform.msync_wide(tables["msync_compare"])
    frag = _t(run, "allocbench.frag")
    if len(frag):
        chk = transform.check_free_lists(frag)
        for r in chk[~chk["consistent"]].itertuples():
            run.problems.append(parse.Problem("allocbench.%d.out" % r.boot, 0,
                                              "frag %s: free lists hold %d pages, free_pages says %d"
                                              % (r.phase, r.listed_pages, r.free_pages)))
    tr = run.traces.get("vmphases")
    facts = {}
    if tr is not None:
        events, summary = tr
        ph = transform.phases(events)
        counts = transform.phase_counts(events, ph)
        tables["trace_phases"] = transform.compare_counts(counts, _t(run, "vmphases.runs"))
        for p in ph[~ph["complete"]].itertuples():
            run.problems.append(parse.Problem("vmphases trace", 0,
                                              "phase %s has only one marker" % p.phase))
        tables["fault_timeline"] = transform.fault_timeline(events, ph)
        facts["alloc_timeline"] = transform.event_timeline(events, ph, "page_alloc")
        facts["phases"] = ph
        facts["trace_summary"] = summary
    else:
        tables["trace_phases"] = pd.DataFrame()
        tables["fault_timeline"] = pd.DataFrame()
    return tables, facts


def runs_table(run):
    """Per benchmark: boots ok / failed, seconds (from the manifest)."""
    if not run.manifest:
        return pd.DataFrame()
    rows = {}
    for e in run.manifest.get("runs", []):
        r = rows.setdefault(e["bench"], {"benchmark": e["bench"], "command": e["cmd"],
                                         "ok": 0, "failed": 0, "seconds": 0.0})
        r["ok" if e.get("ok") else "failed"] += 1
        r["seconds"] += e.get("seconds") or 0
    return pd.DataFrame(list(rows.values()))


FIGURES = [
    ("lazy_vs_eager_cycles.png", lambda t, f: plot.lazy_vs_eager_cycles(t["lazy_vs_eager"])),
    ("lazy_vs_eager_pages.png", lambda t, f: plot.lazy_vs_eager_pages(t["lazy_vs_eager"])),
    ("alloc_cost_by_order.png", lambda t, f: plot.alloc_cost_by_order(t["alloc_by_order"],
                                                                      t["kmalloc_by_size"])),
    ("fragmentation.png", lambda t, f: plot.fragmentation(t["fragmentation"])),
    ("fork_cost.png", lambda t, f: plot.fork_cost(t["fork_cost"])),
    ("msync_compare.png", lambda t, f: plot.msync_compare(t["msync_compare"])),
    ("fault_timeline.png", lambda t, f: plot.fault_timeline(
        t["fault_timeline"], f.get("phases", pd.DataFrame(columns=["complete"])),
        f.get("alloc_timeline"))),
]
CSVS = ["lazy_vs_eager", "fault_cost", "alloc_by_order", "kmalloc_by_size", "fragmentation",
        "trace_overhead", "fork_cost", "fork_compare", "msync_compare", "trace_phases",
        "fault_timeline"]


def cmd_check(args):
    run = parse.load_run(args.run_dir)
    print(_status_line(run))
    for p in run.problems:
        print("problem: %s" % p)
    for e in run.failed:
        print("failed: %s (%s): %s %s" % (e.get("out"), e.get("cmd"), e.get("kind"),
                                         e.get("message", "")))
    return 1 if run.problems or run.failed else 0


def cmd_report(args):
    import matplotlib.pyplot as plt
    run = parse.load_run(args.run_dir)
    tables, facts = build_tables(run)
    print(_status_line(run))
    for p in run.problems:
        print("problem: %s" % p, file=sys.stderr)
    if not run.tables and not run.traces:
        print("kbench: nothing to report in %s" % args.run_dir, file=sys.stderr)
        return 1
    for name in CSVS:
        tables[name].to_csv(os.path.join(args.run_dir, name + ".csv"), index=False)
    for fname, make in FIGURES:
        fig = make(tables, facts)
        fig.savefig(os.path.join(args.run_dir, fname), dpi=args.dpi)
        plt.close(fig)
    m = run.manifest or {}
    facts.update({"run": os.path.basename(os.path.normpath(args.run_dir)),
                  "git": m.get("git", "?"), "cpus": m.get("cpus", "?"),
                  "mem": m.get("mem_mib", "?"), "boots": m.get("boots", "?"),
                  "runs": runs_table(run), "skipped": run.skipped,
                  "host_load": m.get("host_load"), "host_cpus": m.get("host_cpus")})
    problems = [str(p) for p in run.problems] + [
        "run failed: %s (%s): %s" % (e.get("out"), e.get("cmd"), e.get("message") or e.get("kind"))
        for e in run.failed]
    text = report.render(facts, tables, problems)
    path = os.path.join(args.run_dir, "REPORT.md")
    with open(path, "w") as f:
        f.write(text)
    print("kbench: wrote %d tables, %d plots, %s" % (len(CSVS), len(FIGURES), path))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="kbench", description="benchmark logs -> tables, "
                                 "plots and REPORT.md (see results/README.md)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("report", help="parse, write CSV tables, PNG plots and REPORT.md")
    p.add_argument("run_dir", help="results/<run> (holding raw/)")
    p.add_argument("--dpi", type=int, default=110)
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("check", help="parse only; list unreadable lines and failed runs")
    p.add_argument("run_dir")
    p.set_defaults(func=cmd_check)
    args = ap.parse_args(argv)
    return args.func(args)
