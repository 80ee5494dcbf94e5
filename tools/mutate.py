#!/usr/bin/python3
"""Mutation check: put small deliberate bugs into the kernel one at a time
and see whether the test suites notice.

  tools/mutate.py [-k NAME] [--list] [--data FILE] [--timeout S] [--no-baseline]

Each mutation in tools/mutations.txt (format described at its top) changes
one source line. For each: apply it, build (make -j2), run the suites named
in its "catch" field with tests/run_all.py -k, restore the line. The
mutation is caught if a suite fails (a failed test, a panic, a hang past
--timeout). The tree is never left mutated: the original is restored on
success, error, Ctrl-C or SIGTERM, and a copy is kept in out/mutate/pending/
until then, so a run killed outright is undone by the next one. At the end
the unmutated tree is built again. Before mutating, the named suites run
once on the unmutated tree; if they fail, nothing is judged.

Example:
  $ tools/mutate.py -k kmalloc_big_order
  baseline: host.test_mm_host passes
  caught  kmalloc_big_order_off_by_one     kernel/mm/kmalloc.c:142  (kmalloc of ...)
          FAIL host.test_mm_host.test_buddy_kmalloc: AssertionError: FAIL
          host.buddy.kmalloc_big_sizes: kmalloc(4096) took 2 pages (kmalloc_pages 2), want 1
  1 caught, 0 missed, 0 errors
Exits 0 if every mutation was caught, 1 if any was missed or could not be
run. Full outputs: out/mutate/NAME.log. Not part of `make test`: each
mutation costs a build and a suite run.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"
DATA = os.path.join(HERE, "mutations.txt")
WORK = os.path.join(ROOT, "out", "mutate")
PENDING = os.path.join(WORK, "pending")     # originals of files now mutated
KEYS = ("name", "file", "after", "from", "to", "catch", "what")
SHOWN = 6                                   # failure lines shown per mutation


class Stop(BaseException):
    """Raised by the SIGTERM/SIGHUP handler, like KeyboardInterrupt for SIGINT."""


def parse(path):
    """The mutations of a data file: a list of dicts with KEYS."""
    muts, cur = [], {}
    with open(path) as f:
        lines = f.read().splitlines() + [""]
    for n, line in enumerate(lines, 1):
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                muts.append(cur)
            cur = {}
            continue
        key, sep, value = line.partition(":")
        if not sep or key.strip() not in KEYS:
            raise SystemExit("%s:%d: expected 'key: value' with key one of %s"
                             % (path, n, ", ".join(KEYS)))
        cur[key.strip()] = value.strip()
    for m in muts:
        for key in ("name", "file", "from", "catch"):
            if not m.get(key):
                raise SystemExit("%s: mutation %s has no %s" % (path, m.get("name", "?"), key))
        m.setdefault("to", "")
        m.setdefault("after", "")
        m.setdefault("what", "")
        m["suites"] = m["catch"].split()
    return muts


def locate(m, text):
    """Index of the line m changes in text (a list of lines), or raise ValueError."""
    start = 0
    if m["after"]:
        start = next((i for i, l in enumerate(text) if m["after"] in l), None)
        if start is None:
            raise ValueError("'after' text not found: %s" % m["after"])
    for i in range(start, len(text)):
        if text[i].strip() == m["from"]:
            return i
    raise ValueError("line not found: %s" % m["from"])


def mutated(m, original):
    """(new file text, line number) for mutation m of the file text original."""
    text = original.split("\n")
    i = locate(m, text)
    indent = text[i][:len(text[i]) - len(text[i].lstrip())]
    text[i] = indent + m["to"] if m["to"] else ""
    return "\n".join(text), i + 1


def restore_pending():
    """Put back every original still saved in PENDING (a run that was killed)."""
    for dirpath, _, files in os.walk(PENDING):
        for name in files:
            saved = os.path.join(dirpath, name)
            rel = os.path.relpath(saved, PENDING)
            shutil.copyfile(saved, os.path.join(ROOT, rel))
            os.remove(saved)
            print("restored %s (left mutated by an earlier run)" % rel)
    for dirpath, dirs, files in os.walk(PENDING, topdown=False):
        if dirpath != PENDING and not os.listdir(dirpath):
            os.rmdir(dirpath)


class Applied:
    """Context manager: file mutated on entry, restored on any exit."""

    def __init__(self, rel, original, new):
        self.path = os.path.join(ROOT, rel)
        self.saved = os.path.join(PENDING, rel)
        self.original, self.new = original, new

    def __enter__(self):
        os.makedirs(os.path.dirname(self.saved), exist_ok=True)
        with open(self.saved, "w") as f:
            f.write(self.original)
        with open(self.path, "w") as f:
            f.write(self.new)

    def __exit__(self, *exc):
        old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            with open(self.path, "w") as f:
                f.write(self.original)
            with open(self.path) as f:
                if f.read() != self.original:
                    raise SystemExit("mutate.py: could not restore %s; original in %s"
                                     % (self.path, self.saved))
            os.remove(self.saved)
            restore_pending()                  # only removes the empty folders now
        finally:
            for s, h in old.items():
                signal.signal(s, h)
        return False


def run(cmd, log, timeout=None):
    """Run cmd in ROOT in its own process group, appending its output to log.
    Returns (exit status, output). On any exception the group is killed."""
    p = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except BaseException:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        raise
    with open(log, "a") as f:
        f.write("$ %s\n%s\n" % (" ".join(cmd), out))
    return p.returncode, out


def build(log):
    """make -j2; True if it worked."""
    return run(["make", "-j2"], log)[0] == 0


def run_suites(suites, timeout, log):
    """Run each suite pattern with run_all.py; returns the failure lines
    (empty if all passed)."""
    fails = []
    for pat in suites:
        rc, out = run([PY, os.path.join(ROOT, "tests", "run_all.py"), "-k", pat,
                       "--timeout", str(timeout)], log)
        lines = [l for l in out.splitlines() if l.startswith("FAIL ")]
        if rc != 0:
            fails += lines or ["%s: run_all.py exited %d" % (pat, rc)]
    return fails


def check(m, timeout):
    """Apply, build, test, restore one mutation: ("caught"|"missed"|"error", line, details)."""
    path = os.path.join(ROOT, m["file"])
    log = os.path.join(WORK, m["name"] + ".log")
    open(log, "w").close()
    with open(path) as f:
        original = f.read()
    try:
        new, lineno = mutated(m, original)
    except ValueError as e:
        return "error", 0, [str(e)]
    with Applied(m["file"], original, new):
        if not build(log):
            return "error", lineno, ["build failed (see %s)" % os.path.relpath(log, ROOT)]
        fails = run_suites(m["suites"], timeout, log)
    return ("caught" if fails else "missed"), lineno, fails


def on_signal(signum, frame):
    raise Stop()


def main():
    ap = argparse.ArgumentParser(prog="mutate.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", dest="pattern", help="only mutations whose name contains this")
    ap.add_argument("--list", action="store_true", help="list the mutations, change nothing")
    ap.add_argument("--data", default=DATA, help="mutation file (default tools/mutations.txt)")
    ap.add_argument("--timeout", type=float, default=120, help="per-suite limit in seconds (default 120)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the run on the unmutated tree")
    args = ap.parse_args()

    muts = [m for m in parse(args.data) if not args.pattern or args.pattern in m["name"]]
    if args.list:
        for m in muts:
            print("%-32s %-22s catch: %-28s %s" % (m["name"], m["file"], m["catch"], m["what"]))
        return 0
    if not muts:
        print("no mutation matches")
        return 1
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    os.makedirs(WORK, exist_ok=True)
    restore_pending()
    counts = {"caught": 0, "missed": 0, "error": 0}
    try:
        suites = sorted({s for m in muts for s in m["suites"]})
        if not args.no_baseline:
            log = os.path.join(WORK, "baseline.log")
            open(log, "w").close()
            fails = ["build failed"] if not build(log) else run_suites(suites, args.timeout, log)
            if fails:
                print("baseline: the unmutated tree fails, nothing judged:")
                for l in fails[:SHOWN]:
                    print("        " + l)
                return 1
            print("baseline: %s pass%s" % (" ".join(suites), "" if len(suites) > 1 else "es"))
        for m in muts:
            verdict, line, details = check(m, args.timeout)
            counts[verdict] += 1
            print("%-7s %-32s %s:%d  (%s)" % (verdict, m["name"], m["file"], line, m["what"]))
            for l in details[:SHOWN]:
                print("        " + l)
            sys.stdout.flush()
    except (KeyboardInterrupt, Stop):
        print("interrupted; the tree is restored")
        return 130
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        build(os.path.join(WORK, "rebuild.log"))         # out/ matches the tree again
    print("%d caught, %d missed, %d errors" % (counts["caught"], counts["missed"], counts["error"]))
    return 0 if counts["missed"] == counts["error"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
