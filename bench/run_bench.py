#!/usr/bin/python3
"""Run the experiments (every bench/<name>/experiment.py: see
bench/README.md) in fresh guests; raw logs under results/<run>/raw/.
`make bench` runs this, then the analysis (`python3 -m kbench report`).

  run_bench.py [--run NAME] [--boots N] [--only NAME,...] [--clock tsc|icount]
               [--cpus N] [--mem MiB] [--timeout S] [--heartbeat S] [--results DIR]
               [--bench DIR]

Example:
    $ /usr/bin/python3 bench/run_bench.py --boots 1 --only fork
    bench: run 20261130-1042-87c246e -> results/20261130-1042-87c246e (1 boot, clock tsc, 2 cpus, 128 MiB)
    bench: [1/1] fork forkbench boot 1/1 ... ok in 2.1 s, about 0 s left
    bench: done: 1 ok, 0 failed, 0 skipped; results/latest -> 20261130-1042-87c246e

Each run gets its own folder, named by UTC time and git revision unless
--run names it; an existing folder is never reused. results/latest is a
symbolic link to the newest run. Files (deterministic names):
    raw/<experiment>/<run>.<boot>.out        the command's output
    raw/<experiment>/<run>.<boot>.com2.bin   the COM2 trace dump (traced runs)
    raw/manifest.json                        per guest: command, outcome,
                                             status, seconds; skipped
                                             experiments; settings, clock,
                                             host (CPU, qemu, load), revision
While guests run, a progress line per guest, and one every few seconds
during a long guest (with the guest's latest output line). Exit status: 0 if every guest ended with status 0.
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "analysis"))
import qemu_run  # noqa: E402
from kbench import experiments as X  # noqa: E402

CLOCKS = {"tsc": [], "icount": qemu_run.ICOUNT_ARGS}
HEARTBEAT = 5.0            # default seconds between "still running" lines


def parse_args(argv):
    ap = argparse.ArgumentParser(description="run the experiments in fresh guests")
    ap.add_argument("--run", default="", help="run folder name (default: UTC time-revision)")
    ap.add_argument("--results", default=os.path.join(ROOT, "results"),
                    help="results folder (default results/)")
    ap.add_argument("--bench", default=X.BENCH_DIR, help="experiments folder (default bench/)")
    ap.add_argument("--boots", type=int, default=5,
                    help="fresh guests per timing run (default 5)")
    ap.add_argument("--only", default="", help="comma-separated experiment names")
    ap.add_argument("--clock", default="tsc", choices=sorted(CLOCKS),
                    help="tsc: the host's TSC (default); icount: count guest instructions")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--mem", type=int, default=128)
    ap.add_argument("--swap-mb", type=int, default=None,
                    help="swap disk per guest in MiB (default twice --mem; 0: none)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per guest")
    ap.add_argument("--heartbeat", type=float, default=HEARTBEAT,
                    help="seconds between progress lines during a guest (default 5)")
    args = ap.parse_args(argv)
    if args.boots < 1 or args.cpus < 1 or args.mem < 1 or args.heartbeat <= 0:
        ap.error("--boots, --cpus, --mem and --heartbeat must be positive")
    if "/" in args.run or args.run in (".", "..", "latest"):
        ap.error("--run must be a plain name other than 'latest'")
    return args


def git_revision():
    """Short revision, "+dirty" if the tree has changes; "unknown" outside git."""
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "-uno"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def host_info():
    """The machine for the report's method section."""
    info = {"cpus": os.cpu_count(), "os": "%s %s" % (platform.system(), platform.release()),
            "cpu_model": "?", "cpu_mhz": None, "qemu": "?"}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k.strip() == "model name" and info["cpu_model"] == "?":
                    info["cpu_model"] = v.strip()
                elif k.strip() == "cpu MHz" and info["cpu_mhz"] is None:
                    info["cpu_mhz"] = float(v)
    except (OSError, ValueError):
        pass
    try:
        out = subprocess.run([qemu_run.qemu_binary(), "--version"], capture_output=True,
                             text=True, timeout=10).stdout
        info["qemu"] = out.splitlines()[0].strip() if out else "?"
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def new_run_dir(results, name):
    """Create results/<name> (default: UTC time and revision); never an
    existing folder: a suffix -2, -3, ... is added to a default name, a
    name given explicitly that exists is an error (None)."""
    os.makedirs(results, exist_ok=True)
    if name:
        path = os.path.join(results, name)
        try:
            os.mkdir(path)
        except FileExistsError:
            return None
        return path
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    base = "%s-%s" % (stamp, git_revision())
    for i in range(1, 100):
        path = os.path.join(results, base if i == 1 else "%s-%d" % (base, i))
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
    return None


def point_latest(results, run_dir):
    """results/latest -> run_dir (relative symbolic link, replaced atomically)."""
    link = os.path.join(results, "latest")
    tmp = link + ".tmp%d" % os.getpid()
    os.symlink(os.path.basename(run_dir), tmp)
    if os.path.isdir(link) and not os.path.islink(link):
        os.rename(link, link + ".old-%d" % int(time.time()))    # a pre-symlink folder
    os.replace(tmp, link)


def rel(path):
    return os.path.relpath(path, ROOT)


class Progress:
    """Progress lines: "[k/N] experiment run boot b/B ..." and an estimate
    of the time left from the guests finished so far."""

    def __init__(self, total):
        self.total = total
        self.done = 0
        self.spent = {}            # (experiment, run) -> [seconds]

    def estimate(self, todo):
        """Seconds left for the (experiment, run) keys still to run."""
        allsecs = [s for v in self.spent.values() for s in v]
        avg = sum(allsecs) / len(allsecs) if allsecs else None
        left = 0.0
        for key in todo:
            v = self.spent.get(key)
            if v:
                left += sum(v) / len(v)
            elif avg is not None:
                left += avg
            else:
                return None
        return left

    def record(self, key, secs):
        self.done += 1
        self.spent.setdefault(key, []).append(secs)


def run_guest(exp, grun, boot, nboots, rawdir, args, progress, todo):
    """Boot one guest for grun; write its output (and COM2 dump); print
    progress; return the manifest entry."""
    base = "%s.%d" % (grun.name, boot)
    d = os.path.join(rawdir, exp.name)
    os.makedirs(d, exist_ok=True)
    out_path = os.path.join(d, base + ".out")
    com2 = os.path.join(d, base + ".com2.bin") if grun.com2 else None
    k = progress.done + 1
    label = "[%d/%d] %s %s boot %d/%d" % (k, progress.total, exp.name, grun.name, boot, nboots)
    print("bench: %s ..." % label, flush=True)
    result, last = {}, [""]

    def seen(line):
        if line.strip():
            last[0] = line.strip()

    th = threading.Thread(target=lambda: result.setdefault("r", qemu_run.run(
        grun.cmd, cpus=grun.cpus or args.cpus, mem=grun.mem or args.mem, timeout=args.timeout,
        com2=com2, on_output=seen,
        swap_mb=grun.swap_mb if grun.swap_mb is not None else args.swap_mb)))
    start = time.monotonic()
    th.start()
    while True:
        th.join(args.heartbeat)
        if not th.is_alive():
            break
        print("bench: %s ... running %.0f s%s" % (
            label, time.monotonic() - start, ": " + last[0][:60] if last[0] else ""),
            flush=True)
    res = result["r"]
    with open(out_path, "w") as f:
        for line in res.output:
            f.write(line + "\n")
        if res.kind == "panic":
            for line in res.panic:
                f.write(line + "\n")
    ok = res.kind == "ok" and res.status == 0
    progress.record((exp.name, grun.name), res.elapsed)
    left = progress.estimate(todo)
    what = "ok" if ok else "FAILED (%s%s): %s" % (
        res.kind, ", status %s" % res.status if res.status is not None else "", res.message)
    print("bench: %s %s in %.1f s%s" % (label, what, res.elapsed,
                                        ", about %.0f s left" % left if left is not None else ""),
          flush=True)
    return {"experiment": exp.name, "run": grun.name, "boot": boot, "cmd": grun.cmd,
            "mem_mib": grun.mem or args.mem, "kind": res.kind, "status": res.status, "code": res.code,
            "seconds": round(res.elapsed, 2), "message": res.message,
            "out": os.path.basename(out_path), "com2": os.path.basename(com2) if com2 else None,
            "ok": ok}


def plan(exps, args):
    """(todo, skipped): todo = [(experiment, guest run, boot, boots of that
    run)] in round-robin order: every run's boot 1, then boot 2, ... so a
    burst of host load spoils one boot of several runs, not all of one."""
    runs, skipped = [], []
    for exp in exps.values():
        missing = sorted({p for r in exp.runs for p in r.programs()
                          if not os.path.exists(os.path.join(qemu_run.USER_DIR, "_" + p))})
        if missing:
            why = "not built: %s" % ", ".join("out/user/_" + p for p in missing)
            print("bench: %s: skipped: %s" % (exp.name, why), flush=True)
            skipped.append({"experiment": exp.name, "why": why})
            continue
        for r in exp.runs:
            runs.append((exp, r, min(args.boots, r.boots or args.boots)))
    todo = [(exp, r, b, n) for b in range(1, args.boots + 1) for exp, r, n in runs if b <= n]
    return todo, skipped


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        exps = X.discover(args.bench)
    except X.ExperimentError as e:
        sys.stderr.write("run_bench.py: %s\n" % e)
        return 2
    only = [n for n in args.only.split(",") if n]
    unknown = [n for n in only if n not in exps]
    if unknown:
        sys.stderr.write("run_bench.py: unknown experiment(s): %s (known: %s)\n"
                         % (", ".join(unknown), ", ".join(exps)))
        return 2
    if only:
        exps = {n: e for n, e in exps.items() if n in only}
    rundir = new_run_dir(args.results, args.run)
    if rundir is None:
        sys.stderr.write("run_bench.py: %s exists: runs are never overwritten; choose "
                         "another --run\n" % os.path.join(args.results, args.run or "?"))
        return 2
    rawdir = os.path.join(rundir, "raw")
    os.makedirs(rawdir)
    print("bench: run %s -> %s (%d boot%s, clock %s, %d cpus, %d MiB)" % (
        os.path.basename(rundir), rel(rundir), args.boots, "" if args.boots == 1 else "s",
        args.clock, args.cpus, args.mem), flush=True)
    qemu_run.EXTRA_ARGS[:] = CLOCKS[args.clock]
    manifest = {"run": os.path.basename(rundir), "boots": args.boots, "cpus": args.cpus,
                "mem_mib": args.mem, "clock": args.clock, "accel": "tcg",
                "qemu_args": CLOCKS[args.clock], "git": git_revision(),
                "started": datetime.datetime.now(datetime.timezone.utc).isoformat(
                    timespec="seconds"), "host": host_info(), "host_cpus": os.cpu_count(),
                "experiments": list(exps)}
    load_before = os.getloadavg()
    todo, skipped = plan(exps, args)
    progress = Progress(len(todo))
    entries, peak = [], load_before[0]
    for i, (exp, r, boot, n) in enumerate(todo):
        rest = [(e.name, g.name) for e, g, _, _ in todo[i + 1:]]
        entries.append(run_guest(exp, r, boot, n, rawdir, args, progress, rest))
        peak = max(peak, os.getloadavg()[0])
    manifest.update({"runs": entries, "skipped": skipped,
                     "host_load": {"before": [round(x, 2) for x in load_before],
                                   "after": [round(x, 2) for x in os.getloadavg()],
                                   "max_1min": round(peak, 2)}})
    with open(os.path.join(rawdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    point_latest(args.results, rundir)
    nok = sum(e["ok"] for e in entries)
    print("bench: done: %d ok, %d failed, %d skipped; %s -> %s" % (
        nok, len(entries) - nok, len(skipped), rel(os.path.join(args.results, "latest")),
        os.path.basename(rundir)), flush=True)
    return 0 if entries and nok == len(entries) else 1


if __name__ == "__main__":
    sys.exit(main())
