#!/usr/bin/python3
"""Run every test: what `make test` does.

  run_all.py [-k PATTERN] [--list] [--timeout S] [--budget S] [-j N]

In-guest suites: every built user program whose name ends in "test"
(out/user/_systest -> suite "systest") runs in its own fresh guest
(tools/qemu_run.py), N guests at a time (default 2: one per core). A suite
prints "PASS <name>" / "FAIL <name>: why" lines and exits 0 only if all
passed; a suite that panics, hangs, or fails without saying what failed
adds "FAIL <suite>: ..." itself.
Host tests: tests/host with pytest (Debian's /usr/bin/python3), run as one
more job beside the guests.

Prints one line per test, "PASS name" or "FAIL name: reason", as each job
finishes (a failed suite's last output lines follow it, indented with '|'),
then exactly one line "N passed, M failed". Exits 1 if anything failed or
nothing ran. Full logs: out/test-logs/.

--timeout limits each suite (default 300 s); --budget the whole run
(default 840 s: suites that cannot start in time fail as "not run").
-k PATTERN keeps the suites and host tests whose name contains PATTERN
(or matches it as a glob when it has * ? or [): e.g. -k systest,
-k 'host.test_crash*', -k host.
"""
import argparse
import concurrent.futures
import fnmatch
import json
import os
import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu_run  # noqa: E402

PY = "/usr/bin/python3"
HOST_DIR = os.path.join(HERE, "host")
LOG_DIR = os.path.join(ROOT, "out", "test-logs")
TIMES = os.path.join(LOG_DIR, "durations.json")

DEFAULT_TIMEOUT = 300     # seconds per in-guest suite
HOST_TIMEOUT = 600        # seconds for the whole pytest run
BUDGET = 840              # seconds for everything: make test stays under 15 min
# Suites that need more time than DEFAULT_TIMEOUT: name -> seconds.
SUITE_TIMEOUTS = {"filepagetest": 600, "swaptest": 600}
# Suites that fill the disk run on a smaller one (blocks; default FSSIZE):
# running out of space takes the same paths, in an eighth of the writes.
SUITE_DISK_BLOCKS = {"disktest": 16384, "filepagetest": 40960}
# Guest memory (MiB) per suite, default 128; and swap (MiB), default none:
# the other suites test running out of memory, which swap would only make
# slower. swaptest runs a working set twice its guest's memory; pressuretest
# keeps memory full while it allocates; filepagetest maps files larger than
# its guest's memory, with no swap.
SUITE_MEM = {"swaptest": 32, "pressuretest": 32, "filepagetest": 32}
SUITE_SWAP_MB = {"swaptest": 64, "pressuretest": 64}

RESULT_RE = re.compile(r"^\s*(PASS|FAIL)\s+([^\s:]+)(?::\s*(.*?))?\s*$")
TAIL = 15                 # output lines shown under a failed suite


class Results:
    """PASS/FAIL lines, printed as they come; thread-safe."""

    def __init__(self):
        self.lock = threading.Lock()
        self.passed = 0
        self.failed = 0

    def report(self, lines, extra=()):
        """Print a job's (ok, name, reason) lines and then extra lines."""
        with self.lock:
            for ok, name, reason in lines:
                if ok:
                    self.passed += 1
                    print("PASS %s" % name)
                else:
                    self.failed += 1
                    print("FAIL %s: %s" % (name, reason or "failed"))
            for line in extra:
                print(line)
            sys.stdout.flush()


def matcher(pattern):
    if not pattern:
        return lambda name: True
    if any(c in pattern for c in "*?["):
        return lambda name: fnmatch.fnmatchcase(name, pattern)
    return lambda name: pattern in name


def build_missing():
    need = [qemu_run.KERNEL_IMG, qemu_run.MKFS, qemu_run.FSCK]
    missing = [os.path.relpath(p, ROOT) for p in need if not os.path.exists(p)]
    if not qemu_run.user_programs():
        missing.append("out/user/_*")
    return missing


def guest_suites():
    names = [os.path.basename(p)[1:] for p in qemu_run.user_programs()]
    return [n for n in names if n.endswith("test")]


# ---- in-guest suites ---------------------------------------------------------

def parse_suite(suite, res):
    """(ok, name, reason) lines for one suite's RunResult."""
    lines = []
    for text in res.output:
        m = RESULT_RE.match(text)
        if m:
            lines.append((m.group(1) == "PASS", m.group(2), m.group(3)))
    fails = [l for l in lines if not l[0]]
    if res.kind == "ok":
        if res.status != 0 and not fails:
            lines.append((False, suite, "exited with status %d without a FAIL line" % res.status))
        elif not lines:
            lines.append((False, suite, "printed no PASS/FAIL lines"))
    elif res.kind == "timeout":
        lines.append((False, suite, "timed out (%s)" % res.message))
    elif res.kind == "panic":
        lines.append((False, suite, "crashed: " + res.message))
    else:
        lines.append((False, suite, "crashed: " + (res.message or "qemu failed")))
    return lines


def run_suite(suite, timeout, results, deadline):
    timeout = min(timeout, deadline - time.monotonic())
    if timeout < 10:
        results.report([(False, suite, "not run: the %g s time budget is spent" % BUDGET)])
        return 0.0
    res = qemu_run.run(suite, timeout=timeout, cpus=2, mem=SUITE_MEM.get(suite, 128),
                       keep_image=True, disk_blocks=SUITE_DISK_BLOCKS.get(suite),
                       swap_mb=SUITE_SWAP_MB.get(suite, 0))
    with open(os.path.join(LOG_DIR, suite + ".log"), "w") as f:
        f.write("\n".join(res.lines) + "\n")
        f.write("# %r after %.1f s\n" % (res, res.elapsed))
    lines = parse_suite(suite, res)
    if res.image:
        # A guest that powered off normally must leave a consistent disk.
        if res.kind == "ok":
            st, out = qemu_run.fsck(res.image)
            why = first_line(out.strip().splitlines()[-1] if out.strip() else "")
            lines.append((st == 0, suite + ".fsck-after",
                          "fsck status %d: %s" % (st, why) if st else None))
            if st:
                with open(os.path.join(LOG_DIR, suite + ".fsck.log"), "w") as f:
                    f.write(out)
        qemu_run.remove_quietly(res.image)
    extra = []
    if any(not ok for ok, _, _ in lines):
        shown = res.lines if res.kind != "ok" else res.output
        extra = ["  | " + l for l in shown[-TAIL:]]
        extra.append("  | (%s, %.1f s; full log out/test-logs/%s.log)"
                     % (res.kind, res.elapsed, suite))
    results.report(lines, extra)
    return res.elapsed


# ---- host tests ------------------------------------------------------------------

def pytest_base():
    return [PY, "-m", "pytest", "-p", "no:cacheprovider", "-q"]


def host_collect():
    """Node ids of the host tests (empty if there are none)."""
    if not os.path.isdir(HOST_DIR):
        return [], ""
    p = subprocess.run(pytest_base() + ["--collect-only", HOST_DIR], cwd=ROOT,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    ids = [l.strip() for l in p.stdout.splitlines() if "::" in l and not l.startswith(" ")]
    if p.returncode not in (0, 5):
        return ids, p.stdout
    return ids, ""


def host_name(nodeid):
    """tests/host/test_x.py::test_y[z] -> host.test_x.test_y[z]"""
    path, _, rest = nodeid.partition("::")
    mod = os.path.splitext(os.path.basename(path))[0]
    return "host.%s.%s" % (mod, rest.replace("::", "."))


def run_host(nodeids, results, deadline):
    start = time.monotonic()
    limit = max(10.0, min(HOST_TIMEOUT, deadline - start))
    xml = os.path.join(LOG_DIR, "host.xml")
    log = os.path.join(LOG_DIR, "host.log")
    if os.path.exists(xml):
        os.unlink(xml)
    argv = pytest_base() + ["-rA", "--junitxml=" + xml] + nodeids
    with open(log, "w") as f:
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            status = proc.wait(limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            status = None
    lines = parse_junit(xml) if os.path.exists(xml) else []
    extra = []
    if status is None:
        lines.append((False, "host", "pytest timed out after %d s" % limit))
    elif status not in (0, 1, 5) or (status == 1 and all(ok for ok, _, _ in lines)):
        lines.append((False, "host", "pytest exited with status %d" % status))
    if any(not ok for ok, _, _ in lines):
        with open(log) as f:
            tail = f.read().splitlines()
        extra = ["  | " + l for l in tail[-TAIL:]]
        extra.append("  | (full log out/test-logs/host.log)")
    results.report(lines, extra)
    return time.monotonic() - start


def parse_junit(path):
    """(ok, name, reason) for each test case of a pytest junit xml file."""
    lines = []
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        return [(False, "host", "unreadable junit xml: %s" % e)]
    for case in root.iter("testcase"):
        cls = case.get("classname", "")
        if cls.startswith("tests."):
            cls = cls[len("tests."):]
        name = "%s.%s" % (cls, case.get("name", "?"))
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        skip = case.find("skipped")
        if bad is not None:
            lines.append((False, name, first_line(bad.get("message") or bad.text)))
        elif skip is not None:
            lines.append((False, name, "skipped: " + first_line(skip.get("message"))))
        else:
            lines.append((True, name, None))
    return lines


def first_line(text):
    text = (text or "").strip()
    line = text.splitlines()[0] if text else "failed"
    return line if len(line) <= 200 else line[:197] + "..."


# ---- main ---------------------------------------------------------------------------

def load_times():
    try:
        with open(TIMES) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def main():
    global BUDGET
    ap = argparse.ArgumentParser(prog="run_all.py", description="Run every test.")
    ap.add_argument("-k", dest="pattern", default=None,
                    help="only tests whose name contains (or globs) PATTERN")
    ap.add_argument("--list", action="store_true", help="list the tests, run nothing")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per in-guest suite (default %d)" % DEFAULT_TIMEOUT)
    ap.add_argument("--budget", type=float, default=BUDGET,
                    help="seconds for the whole run (default %d)" % BUDGET)
    ap.add_argument("-j", dest="jobs", type=int, default=2, help="jobs at a time (default 2)")
    args = ap.parse_args()
    BUDGET = args.budget
    match = matcher(args.pattern)

    missing = build_missing()
    if missing:
        print("FAIL build: missing %s (run make first)" % ", ".join(missing))
        print("0 passed, 1 failed")
        return 1
    os.makedirs(LOG_DIR, exist_ok=True)

    suites = [s for s in guest_suites() if match(s)]
    all_ids, collect_error = host_collect()
    host_ids = [i for i in all_ids if match(host_name(i))]
    if args.list:
        for s in suites:
            print(s)
        for i in host_ids:
            print(host_name(i))
        if collect_error:
            print(collect_error, file=sys.stderr)
        return 0

    results = Results()
    if collect_error:
        results.report([(False, "host", "pytest cannot collect the host tests")],
                       ["  | " + l for l in collect_error.splitlines()[-TAIL:]])
    if not suites and not host_ids and not collect_error:
        print("no tests%s" % (" match %r" % args.pattern if args.pattern else ""))
        print("0 passed, 0 failed")
        return 1

    # Longest jobs first (by last run's times) so the two slots end together.
    times = load_times()
    jobs = [("host", None)] if host_ids else []
    jobs += [(s, s) for s in suites]
    jobs.sort(key=lambda j: -times.get(j[0], 1e9 if j[0] == "host" else 60))
    start = time.monotonic()
    deadline = start + BUDGET
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = {}
        for name, suite in jobs:
            if suite is None:
                futs[pool.submit(run_host, host_ids, results, deadline)] = name
            else:
                t = args.timeout or SUITE_TIMEOUTS.get(suite, DEFAULT_TIMEOUT)
                futs[pool.submit(run_suite, suite, t, results, deadline)] = name
        for fut in concurrent.futures.as_completed(futs):
            name = futs[fut]
            try:
                times[name] = round(fut.result(), 1)
            except Exception as e:      # a harness bug: still report it
                results.report([(False, name, "harness error: %r" % e)])
    try:
        with open(TIMES, "w") as f:
            json.dump(times, f, indent=1, sort_keys=True)
    except OSError:
        pass
    print("# %d jobs in %.0f s" % (len(jobs), time.monotonic() - start))
    print("%d passed, %d failed" % (results.passed, results.failed))
    return 1 if results.failed or not results.passed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        qemu_run.kill_all()
        sys.exit(130)
