"""Command line: decode or check a trace dump.

    $ PYTHONPATH=trace /usr/bin/python3 -m ktrace check out/com2.bin
    $ PYTHONPATH=trace /usr/bin/python3 -m ktrace decode out/com2.bin \\
          --csv results/t/events.csv --json results/t/trace.json --elf out/kernel.elf

`check` exits 0 if the stream is intact (kernel-side losses are reported but
are not damage), 1 if anything was damaged or missing, 2 if unreadable.
"""
import argparse
import os
import sys

from .wire import parse_dump
from .transform import to_frame, load_symbols, counter_agreement
from .export import write_csv, write_chrome_json
from . import sched


def report(dump, df=None, out=None):
    """Print the summary, the per-CPU counts, every problem and the counter
    check. Returns the number of problems."""
    out = out or sys.stdout
    s = dump.summary()
    print("frames %d (bad %d, missing %d), records %d, kernel lost %d, gaps %d"
          % (s["frames"], s["bad_frames"], s["missing_frames"], s["records"],
             s["kernel_lost"], s["seq_gaps"]), file=out)
    cfg = dump.config
    if cfg:
        print("mode %s, cap %s per cpu, pid filter %s, mask 0x%x"
              % (cfg.get("mode"), cfg.get("cap"), cfg.get("pid"), int(cfg.get("mask", 0))), file=out)
    for c, v in s["per_cpu"].items():
        print("cpu %d: recorded %d lost %d held %d decoded %d"
              % (c, v["recorded"], v["lost"], v["held"], v["decoded"]), file=out)
    for p in dump.problems:
        print("problem: %s" % p, file=out)
    if df is not None and s["kernel_lost"] == 0 and not dump.problems and not cfg.get("pid"):
        agree = counter_agreement(dump, df)
        bad = agree[~agree["agree"].astype(bool)] if len(agree) else agree
        for row in bad.itertuples(index=False):
            print("counter %s: %d, trace has %d" % (row.counter, row.counter_value, row.traced),
                  file=out)
        if len(agree):
            print("counters agree with the trace: %s"
                  % ("yes" if len(bad) == 0 else "NO (%d differ)" % len(bad)), file=out)
    print("OK" if not dump.problems else "DAMAGED: %d problems" % len(dump.problems), file=out)
    return len(dump.problems)


def _read(path):
    with open(path, "rb") as fh:
        return fh.read()


def cmd_check(args):
    dump = parse_dump(_read(args.dump))
    df = to_frame(dump)
    return 1 if report(dump, df) else 0


def cmd_decode(args):
    dump = parse_dump(_read(args.dump))
    syms = load_symbols(args.elf) if args.elf and os.path.exists(args.elf) else None
    df = to_frame(dump, syms)
    for path in (args.csv, args.json):
        if path and os.path.dirname(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
    if args.csv:
        write_csv(df, args.csv)
    if args.json:
        write_chrome_json(df, dump, args.json)
    n = report(dump, df)
    return 1 if n else 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="ktrace", description="decode kernel trace dumps")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="report frames, losses, gaps and damage")
    c.add_argument("dump")
    c.set_defaults(func=cmd_check)
    d = sub.add_parser("decode", help="write CSV and/or Chrome trace JSON")
    d.add_argument("dump")
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
