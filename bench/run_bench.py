#!/usr/bin/python3
"""Run the benchmark suite: each benchmark program in fresh guests, raw
logs under results/<run>/raw/. `make bench` runs this, then the analysis
(analysis/kbench: `python3 -m kbench report results/<run>`).

  run_bench.py [--run NAME] [--boots N] [--only NAME,...] [--cpus N] [--mem MiB]
               [--timeout S] [--results DIR]

Example:
    $ /usr/bin/python3 bench/run_bench.py --run demo --boots 1 --only forkbench,msyncbench
    bench: run 'demo' -> results/demo/raw (1 boot per benchmark, 2 cpus, 128 MiB)
    bench: forkbench.1: ok in 0.5 s (forkbench 5)
    bench: msyncbench.1: ok in 9.3 s (msyncbench 256 3)
    bench: done: 2 ok, 0 failed, 0 skipped; manifest results/demo/raw/manifest.json

Files (deterministic names; the run folder's raw/ is emptied first):
    raw/<bench>.<boot>.out        the command's output (what run.py shows)
    raw/<bench>.<boot>.com2.bin   the COM2 trace dump (traced benchmarks only)
    raw/manifest.json             per run: command, outcome, guest status,
                                  seconds; skipped benchmarks and why; the
                                  settings, the git revision and the
                                  host's load average before and after
Exit status: 0 if every benchmark that ran ended with status 0, else 1.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu_run  # noqa: E402

# The trace settings of the traced lazy-vs-eager run: only its process, stop
# mode (nothing overwritten: counts are exact unless the dump reports loss),
# room for every event of an 8 MiB region's phases.
TRACE_OPTS = "-p -m stop -s 65536 -e fault,page_alloc,page_free,marker,mmap,munmap"

# (name, program it needs, command line, traced?, boots: "all" = --boots
# guests, 1 = one guest). The traced run counts events, which are exact:
# one boot is enough.
BENCHES = [
    ("vmbench", "vmbench", "vmbench 32 3", False, "all"),
    ("allocbench", "allocbench", "allocbench", False, "all"),
    ("tracebench", "tracebench", "tracebench 512 5", False, "all"),
    ("forkbench", "forkbench", "forkbench 5", False, "all"),
    # 256-page (1 MiB) shared file, fastest of 3 msyncs per (share, mode).
    ("msyncbench", "msyncbench", "msyncbench 256 3", False, "all"),
    ("vmphases", "vmphases", "trace run %s vmphases 8" % TRACE_OPTS, True, 1),
]

# Benchmarks waiting for kernel features: (name, program that would run it,
# why it is skipped while that program does not exist). msyncbench was one;
# it is in BENCHES now (round-robin with the others).
PENDING = []


def parse_args(argv):
    ap = argparse.ArgumentParser(description="run the benchmark suite in fresh guests")
    ap.add_argument("--run", default="latest", help="run name: results/RUN (default latest)")
    ap.add_argument("--results", default=os.path.join(ROOT, "results"),
                    help="results folder (default results/)")
    ap.add_argument("--boots", type=int, default=5,
                    help="fresh guests per timing benchmark (default 5)")
    ap.add_argument("--only", default="", help="comma-separated benchmark names")
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--mem", type=int, default=128)
    ap.add_argument("--timeout", type=float, default=300, help="seconds per guest")
    args = ap.parse_args(argv)
    if args.boots < 1 or args.cpus < 1 or args.mem < 1:
        ap.error("--boots, --cpus and --mem must be positive")
    if "/" in args.run or args.run in ("", ".", ".."):
        ap.error("--run must be a plain name")
    return args


def git_revision():
    """`git describe`-like text for the manifest, or "unknown"."""
    try:
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "-uno"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def rel(path):
    return os.path.relpath(path, ROOT)


def run_one(name, boot, cmd, traced, rawdir, args):
    """Boot one guest running cmd; write its output (and COM2 dump); return
    the manifest entry."""
    base = "%s.%d" % (name, boot)
    out_path = os.path.join(rawdir, base + ".out")
    com2 = os.path.join(rawdir, base + ".com2.bin") if traced else None
    res = qemu_run.run(cmd, cpus=args.cpus, mem=args.mem, timeout=args.timeout, com2=com2)
    with open(out_path, "w") as f:
        for line in res.output:
            f.write(line + "\n")
        if res.kind == "panic":
            for line in res.panic:
                f.write(line + "\n")
    entry = {"bench": name, "boot": boot, "cmd": cmd, "kind": res.kind,
             "status": res.status, "code": res.code, "seconds": round(res.elapsed, 2),
             "message": res.message, "out": os.path.basename(out_path),
             "com2": os.path.basename(com2) if com2 else None}
    ok = res.kind == "ok" and res.status == 0
    what = "ok" if ok else "FAILED (%s%s)" % (
        res.kind, ", status %s" % res.status if res.status is not None else "")
    print("bench: %s: %s in %.1f s (%s)%s" % (base, what, res.elapsed, cmd,
                                             "" if ok else ": " + res.message), flush=True)
    entry["ok"] = ok
    return entry


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    only = {n for n in args.only.split(",") if n}
    known = {b[0] for b in BENCHES} | {p[0] for p in PENDING}
    if only - known:
        sys.stderr.write("run_bench.py: unknown benchmark(s): %s (known: %s)\n"
                         % (", ".join(sorted(only - known)), ", ".join(sorted(known))))
        return 2
    rundir = os.path.join(args.results, args.run)
    rawdir = os.path.join(rundir, "raw")
    if os.path.isdir(rawdir):
        shutil.rmtree(rawdir)
    os.makedirs(rawdir)
    print("bench: run '%s' -> %s (%d boot%s per benchmark, %d cpus, %d MiB)"
          % (args.run, rel(rawdir), args.boots, "" if args.boots == 1 else "s",
             args.cpus, args.mem), flush=True)
    entries, skipped = [], []
    load_before = os.getloadavg()
    todo = []
    for name, progname, cmd, traced, boots in BENCHES:
        if only and name not in only:
            continue
        prog = os.path.join(qemu_run.USER_DIR, "_" + progname)
        if not os.path.exists(prog):
            why = "%s is not built" % rel(prog)
            print("bench: %s: skipped: %s" % (name, why), flush=True)
            skipped.append({"bench": name, "why": why})
            continue
        todo.append((name, cmd, traced, args.boots if boots == "all" else boots))
    # Boots round-robin (every benchmark's boot 1, then boot 2, ...): a burst
    # of host load then spoils one boot of several benchmarks, which the
    # median over boots absorbs, rather than every boot of one.
    for boot in range(1, args.boots + 1):
        for name, cmd, traced, n in todo:
            if boot <= n:
                entries.append(run_one(name, boot, cmd, traced, rawdir, args))
    for name, prog, why in PENDING:
        if only and name not in only:
            continue
        if os.path.exists(os.path.join(qemu_run.USER_DIR, "_" + prog)):
            # The program exists now: run it like the others.
            for boot in range(1, args.boots + 1):
                entries.append(run_one(name, boot, prog, False, rawdir, args))
            continue
        print("bench: %s: skipped: %s" % (name, why), flush=True)
        skipped.append({"bench": name, "why": why})
    manifest = {"run": args.run, "boots": args.boots, "cpus": args.cpus, "mem_mib": args.mem,
                "git": git_revision(), "runs": entries, "skipped": skipped,
                "host_load": {"before": [round(x, 2) for x in load_before],
                              "after": [round(x, 2) for x in os.getloadavg()]},
                "host_cpus": os.cpu_count()}
    mpath = os.path.join(rawdir, "manifest.json")
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    nok = sum(e["ok"] for e in entries)
    nfail = len(entries) - nok
    print("bench: done: %d ok, %d failed, %d skipped; manifest %s"
          % (nok, nfail, len(skipped), rel(mpath)), flush=True)
    return 0 if nfail == 0 and entries else 1


if __name__ == "__main__":
    sys.exit(main())
