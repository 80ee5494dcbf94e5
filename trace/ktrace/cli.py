"""Command line: decode or check a trace dump.

    $ PYTHONPATH=trace /usr/bin/python3 -m ktrace check out/com2.bin
    $ PYTHONPATH=trace /usr/bin/python3 -m ktrace decode out/com2.bin \\
          --csv results/t/events.csv --json results/t/trace.json --elf out/kernel.elf

A file may hold several dumps (`trace dump` during a run, then the final
one): --dump K picks one (0-based; negative counts from the end; default
the last), each is checked on its own.

Exit status: 0 if the stream is intact and agrees with the kernel's counts
(events the kernel lost are reported, with where and how many, but are not
damage); 1 if anything was damaged or missing, or the trace and the
kernel's counters disagree, or times were asked for and the dump has no
TSC rate; 2 if unreadable.
"""
import argparse
import os
import sys

from .wire import parse_dump
from .transform import to_frame, load_symbols
from .checks import cross_check, loss_table, unchecked_types
from .export import write_csv, write_chrome_json, tsc_per_us, NoClock
from . import sched


def _us(dump, cycles):
    try:
        return "%.1f us" % (cycles / tsc_per_us(dump))
    except NoClock:
        return "%d cycles" % cycles


def report(dump, df=None, out=None):
    """Print the summary, the per-CPU counts, the losses (per CPU and type,
    and every pause window), every problem and the counter check. Returns
    the number of problems."""
    out = out or sys.stdout
    s = dump.summary()
    cfg = dump.config
    if dump.ndumps > 1:
        print("dump %d of dumps 0..%d in the file (--dump K picks another)"
              % (dump.index, dump.ndumps - 1), file=out)
    print("frames %d (bad %d, missing %d), records %d, kernel lost %d, paused lost %d, gaps %d"
          % (s["frames"], s["bad_frames"], s["missing_frames"], s["records"],
             s["kernel_lost"], s["paused_lost"], s["seq_gaps"]), file=out)
    if cfg:
        who = "all" if not cfg.get("pid") else "%s%s" % (
            cfg.get("pid"), " and descendants" if cfg.get("follow") else " only")
        print("mode %s, cap %s per cpu, pid filter %s, mask 0x%x, reason %s, tsc %s"
              % (cfg.get("mode"), cfg.get("cap"), who, cfg.get("mask", 0),
                 cfg.get("reason", "call"),
                 "%s kHz" % cfg["tsc_khz"] if "tsc_khz" in cfg else "rate unknown"), file=out)
        if cfg.get("follow_full"):
            print("warning: %d forked processes not followed (the follow set was full)"
                  % cfg["follow_full"], file=out)
    if dump.records:
        span = max(r.tsc for r in dump.records) - min(r.tsc for r in dump.records)
        print("records span %s" % _us(dump, span), file=out)
    for c, v in s["per_cpu"].items():
        print("cpu %d: recorded %d lost %d held %d decoded %d"
              % (c, v["recorded"], v["lost"], v["held"], v["decoded"]), file=out)
    rows = [r for r in loss_table(dump) if r[4] or r[5]]
    if rows:
        print("losses (per cpu and event type):", file=out)
        print("  %-4s %-12s %10s %10s %10s %10s" % ("cpu", "type", "passed", "kept",
                                                  "overflow", "paused"), file=out)
        for c, name, passed, kept, over, paused in rows:
            print("  %-4d %-12s %10d %10d %10d %10d" % (c, name, passed, kept, over, paused),
                  file=out)
    if dump.pauses:
        t00 = min([r.tsc for r in dump.records] + [p.t0 for p in dump.pauses])
        names = {code: et.name for code, et in dump.table.events.items()}
        for p in dump.pauses:
            print("lost while paused: cpu %d, %d %s events, from %s to %s%s"
                  % (p.cpu, p.n, names.get(p.type, "?%d" % p.type), _us(dump, p.t0 - t00),
                     _us(dump, p.t1 - t00), " (pause still open at the dump)" if p.open else ""),
                  file=out)
    for name, why in sorted(unchecked_types(dump).items()):
        print("not compared with counters: %s (%s)" % (name, why), file=out)
    for p in dump.problems:
        print("problem: %s" % p, file=out)
    if dump.header_ok and dump.counters and not cfg.get("pid"):
        bad = [p for p in dump.problems if p.kind == "counter_mismatch"]
        print("counters agree with the trace: %s"
              % ("yes" if not bad else "NO (%d differ)" % len(bad)), file=out)
    elif cfg.get("pid"):
        bad = [p for p in dump.problems if p.kind == "counter_mismatch"]
        print("per-pid counts agree with the trace: %s" % ("yes" if not bad else "NO"),
              file=out)
    print("OK" if not dump.problems else "DAMAGED: %d problems" % len(dump.problems), file=out)
    return len(dump.problems)


def _read(path):
    with open(path, "rb") as fh:
        return fh.read()


def _load(args):
    try:
        dump = parse_dump(_read(args.dump), args.dump_index)
    except IndexError as e:
        print("ktrace: %s" % e, file=sys.stderr)
        return None
    cross_check(dump)
    return dump


def cmd_check(args):
    dump = _load(args)
    if dump is None:
        return 2
    return 1 if report(dump) else 0


def cmd_decode(args):
    dump = _load(args)
    if dump is None:
        return 2
    syms = load_symbols(args.elf) if args.elf and os.path.exists(args.elf) else None
    df = to_frame(dump, syms)
    for path in (args.csv, args.json):
        if path and os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
    if args.csv:
        write_csv(df, args.csv, dump)
    rc = 0
    if args.json:
        try:
            write_chrome_json(df, dump, args.json)
        except NoClock as e:
            print("ktrace: %s; no JSON written" % e, file=sys.stderr)
            rc = 1
    n = report(dump, df)
    return 1 if n else rc


def main(argv=None):
    ap = argparse.ArgumentParser(prog="ktrace", description="decode kernel trace dumps")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="report frames, losses, gaps and damage")
    c.add_argument("dump")
    c.add_argument("--dump", dest="dump_index", type=int, default=-1,
                   help="which dump of the file (0-based, default -1: the last)")
    c.set_defaults(func=cmd_check)
    d = sub.add_parser("decode", help="write CSV and/or Chrome trace JSON")
    d.add_argument("dump")
    d.add_argument("--dump", dest="dump_index", type=int, default=-1,
                   help="which dump of the file (0-based, default -1: the last)")
    d.add_argument("--csv")
    d.add_argument("--json")
    d.add_argument("--elf", help="kernel ELF to name call sites (out/kernel.elf)")
    d.set_defaults(func=cmd_decode)
    sched.add_command(sub)
    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except OSError as e:
        print("ktrace: %s" % e, file=sys.stderr)
        return 2
