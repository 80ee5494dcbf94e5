#!/usr/bin/python3
"""Run one command line in a fresh headless guest: what `make run` does.

  run.py [--cpus N] [--mem MiB] [--swap-mb MiB] [--timeout S] [--com2 FILE] [--image IMG]
         [--keep-image] [--raw] -- CMD

Builds a file-system image whose /runcmd is CMD (out/mkfs), boots it under
qemu-system-i386, prints what the command prints (the lines between the
guest's @@RUN-BEGIN@@ and @@RUN-END <status>@@ markers) as it arrives, and
exits with the command's status (0..255; a negative one gives 1).
  124  the guest did not finish within --timeout seconds (qemu is killed)
  125  the kernel panicked, or qemu stopped without the end marker
--image IMG boots IMG as it is (its /runcmd is the caller's business).
--raw prints every line qemu prints, boot messages and markers too.
"""
import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_run  # noqa: E402


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="run.py", description="Run CMD in a fresh guest and print its output.")
    ap.add_argument("--cpus", type=int, default=2, help="virtual CPUs (default 2)")
    ap.add_argument("--mem", type=int, default=128, help="guest memory in MiB (default 128)")
    ap.add_argument("--swap-mb", type=int, default=None,
                    help="swap disk in MiB (default twice --mem; 0: none)")
    ap.add_argument("--timeout", type=float, default=120,
                    help="seconds before the guest is killed (default 120)")
    ap.add_argument("--com2", default=None, help="file receiving COM2 (the trace dump)")
    ap.add_argument("--image", default=None, help="boot this fs image as it is")
    ap.add_argument("--keep-image", action="store_true",
                    help="keep the temporary image and print its name")
    ap.add_argument("--raw", action="store_true", help="print all guest output")
    ap.add_argument("cmd", nargs="*", help="command line run by the guest's sh")
    args = ap.parse_args(argv)
    args.cmd = " ".join(args.cmd)
    if args.cpus < 1 or args.mem < 1 or args.timeout <= 0:
        ap.error("--cpus, --mem and --timeout must be positive")
    if args.swap_mb is not None and args.swap_mb < 0:
        ap.error("--swap-mb must be 0 or more")
    return args


def _on_signal(signum, frame):
    qemu_run.kill_all()
    sys.exit(128 + signum)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    if args.image and not os.path.exists(args.image):
        sys.stderr.write("run.py: no image %s\n" % args.image)
        return 2
    if args.com2:
        com2 = args.com2
        d = os.path.dirname(os.path.abspath(com2))
        os.makedirs(d, exist_ok=True)
    else:
        com2 = None

    shown = []

    def show(text):
        shown.append(text)
        try:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            # The reader went away (| head): run on quietly.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)

    res = qemu_run.run(args.cmd, image=args.image, cpus=args.cpus, mem=args.mem,
                       timeout=args.timeout, com2=com2, keep_image=args.keep_image,
                       swap_mb=args.swap_mb,
                       raw=args.raw, on_output=show)
    if args.keep_image and res.image and not args.image:
        sys.stderr.write("run.py: image kept: %s\n" % res.image)
    if res.kind == "ok":
        return res.code
    if res.kind == "panic":
        # Show the panic and its call trace unless they were shown already.
        tail = shown[-len(res.panic):]
        if tail != res.panic:
            for line in res.panic:
                sys.stdout.write(line + "\n")
        sys.stdout.flush()
        sys.stderr.write("run.py: %s\n" % res.message)
        return res.code
    if res.kind == "timeout":
        sys.stderr.write("run.py: %s\n" % res.message)
        return res.code
    # qemu ended early or could not start: show the end of its output.
    if not args.raw and not res.output:
        for line in res.lines[-20:]:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    sys.stderr.write("run.py: %s\n" % res.message)
    return res.code


if __name__ == "__main__":
    sys.exit(main())
