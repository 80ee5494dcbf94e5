"""Parse stage: the only code that knows the benchmark programs' output
formats and the run folder's layout (bench/run_bench.py writes it).

Every parser takes an iterable of text lines and returns DataFrames plus a
list of Problem: a line that looks like machine-readable output ("csv..."
anywhere in it) but cannot be read is reported with its line number and
skipped, never fatal. Human-readable lines are ignored.

    >>> t = parse_vmbench(["csvstat,lazy_fault,47261", "csv,8192,1,lazy,375756,23,21",
    ...                    "csv,8192,1,lazy,oops"], source="vmbench.1.out")
    >>> t["stats"].to_dict("records")
    [{'name': 'lazy_fault', 'cycles': 47261}]
    >>> print(t.problems[0])
    vmbench.1.out:3: expected 6 fields (region_kib,pct,mode,cycles,pages,faults), got 4: 'csv,8192,1,lazy,oops'

Formats (one line each; integers are decimal):
  vmbench, vmphases  csvstat,NAME,CYCLES
                     csv,region_kib,pct,mode,cycles,pages,faults
  allocbench         csv,tsc_khz,KHZ
                     csv,buddy,order,pages,batch,pair_cycles,alloc_cycles,free_cycles,pairs_per_s,allocs_per_s
                     csv,kmalloc,size,pair_cycles,alloc_cycles,free_cycles,pairs_per_s,allocs_per_s
                     csv,frag,phase,free_pages,largest_pages,ext_frag_permille,b0,...,b10
                     csv,fragrun,seed,allocs,failed,held_blocks,held_pages,restored
                     (the lines whose second field is a column name are headers:
                     checked against these schemas)
  tracebench         csvstat,NAME,VALUE  and  "touch N pages: ..." (N, the workload)
  forkbench          csv,policy,npages,child,fork_cycles,total_cycles,pgalloc,pgfree,faults,cow_faults
  msyncbench         csv,file_pages,pct,dirtied,mode,cycles,pages_written,bytes_written
                     (header line first; mode "dirty" = vm.msync_all=0, only
                     pages with the PTE dirty bit written back; "full" =
                     vm.msync_all=1, every present page; pct = share of the
                     file's pages written before the msync, dirtied = how
                     many pages that is; cycles = the fastest msync(MS_SYNC);
                     pages/bytes_written = vmstat msync counter deltas)
  COM2 dumps         trace/FORMAT.md, decoded by ktrace (trace/ktrace)
"""
import glob
import json
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import pandas as pd

NORDERS = 11                     # buddy orders 0..10 (kernel/memstat.h)

VM_RUN = [("region_kib", int), ("pct", int), ("mode", str), ("cycles", int),
          ("pages", int), ("faults", int)]
BUDDY = [("order", int), ("pages", int), ("batch", int), ("pair_cycles", int),
         ("alloc_cycles", int), ("free_cycles", int), ("pairs_per_s", int),
         ("allocs_per_s", int)]
KMALLOC = [("size", int), ("pair_cycles", int), ("alloc_cycles", int), ("free_cycles", int),
           ("pairs_per_s", int), ("allocs_per_s", int)]
FRAG = ([("phase", str), ("free_pages", int), ("largest_pages", int),
         ("ext_frag_permille", int)] + [("b%d" % k, int) for k in range(NORDERS)])
FRAGRUN = [("seed", int), ("allocs", int), ("failed", int), ("held_blocks", int),
           ("held_pages", int), ("restored", int)]
FORK = [("policy", str), ("npages", int), ("child", str), ("fork_cycles", int),
        ("total_cycles", int), ("pgalloc", int), ("pgfree", int), ("faults", int),
        ("cow_faults", int)]
MSYNC = [("file_pages", int), ("pct", int), ("dirtied", int), ("mode", str), ("cycles", int),
         ("pages_written", int), ("bytes_written", int)]
ALLOC_TABLES = {"buddy": BUDDY, "kmalloc": KMALLOC, "frag": FRAG, "fragrun": FRAGRUN}

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.=]*$")
INT_RE = re.compile(r"^-?[0-9]+$")
TOUCH_RE = re.compile(r"^touch (\d+) pages:")


@dataclass
class Problem:
    """A line that could not be read (or a file/run that is missing)."""
    source: str
    line: int              # 1-based; 0 when not about one line
    reason: str
    text: str = ""

    def __str__(self):
        where = "%s:%d" % (self.source, self.line) if self.line else self.source
        return "%s: %s%s" % (where, self.reason, ": %r" % self.text if self.text else "")


class Tables(dict):
    """name -> DataFrame, plus .problems (a list of Problem)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.problems = []


def _convert(values, schema):
    """Typed dict from string fields; ValueError(reason) if they do not fit."""
    if len(values) != len(schema):
        raise ValueError("expected %d fields (%s), got %d" % (
            len(schema), ",".join(n for n, _ in schema), len(values)))
    row = {}
    for v, (name, kind) in zip(values, schema):
        if kind is int:
            if not INT_RE.match(v):
                raise ValueError("field %s: %r is not an integer" % (name, v))
            row[name] = int(v)
        else:
            if v == "":
                raise ValueError("field %s is empty" % name)
            row[name] = v
    return row


def _frame(rows, schema):
    return pd.DataFrame(rows, columns=[n for n, _ in schema])


def _csv_lines(lines, source, problems):
    """(line number, stripped line) for the machine-readable lines; a line
    with "csv" text after other text (interleaved output) is a problem."""
    for i, raw in enumerate(lines, 1):
        line = raw.strip().rstrip("\r")
        if line.startswith("csv"):
            yield i, line
        elif "csv," in line or "csvstat," in line:
            problems.append(Problem(source, i, "machine-readable text in the middle of a "
                                    "line (interleaved output?)", line))


def _is_header(values, schema):
    return len(values) >= 1 and values[0] == schema[0][0]


def _check_header(values, schema, source, i, line, problems):
    if values != [n for n, _ in schema]:
        problems.append(Problem(source, i, "header differs from the expected %s"
                                % ",".join(n for n, _ in schema), line))


def _stat(values, source, i, line, problems, col):
    """csvstat,NAME,INT -> {"name":..., col: int} or None (problem noted)."""
    if len(values) != 2 or not NAME_RE.match(values[0]) or not INT_RE.match(values[1]):
        problems.append(Problem(source, i, "expected csvstat,NAME,INTEGER", line))
        return None
    return {"name": values[0], col: int(values[1])}


def parse_vmbench(lines, source="vmbench"):
    """vmbench (and vmphases) output -> Tables: stats (name, cycles) and runs
    (region_kib, pct, mode, cycles, pages, faults)."""
    t = Tables()
    stats, runs = [], []
    for i, line in _csv_lines(lines, source, t.problems):
        kind, _, rest = line.partition(",")
        values = rest.split(",") if rest else []
        if kind == "csvstat":
            s = _stat(values, source, i, line, t.problems, "cycles")
            if s:
                stats.append(s)
        elif kind == "csv":
            if _is_header(values, VM_RUN):
                _check_header(values, VM_RUN, source, i, line, t.problems)
                continue
            try:
                runs.append(_convert(values, VM_RUN))
            except ValueError as e:
                t.problems.append(Problem(source, i, str(e), line))
        else:
            t.problems.append(Problem(source, i, "unknown line kind %r" % kind, line))
    t["stats"] = pd.DataFrame(stats, columns=["name", "cycles"])
    t["runs"] = _frame(runs, VM_RUN)
    return t


def parse_allocbench(lines, source="allocbench"):
    """allocbench output -> Tables: buddy, kmalloc, frag, fragrun (schemas
    above) and tsc (one row: tsc_khz)."""
    t = Tables()
    rows = {k: [] for k in ALLOC_TABLES}
    tsc = []
    for i, line in _csv_lines(lines, source, t.problems):
        values = line.split(",")
        if values[0] != "csv" or len(values) < 2:
            t.problems.append(Problem(source, i, "not a csv,TABLE,... line", line))
            continue
        table, values = values[1], values[2:]
        if table == "tsc_khz":
            if len(values) == 1 and INT_RE.match(values[0]):
                tsc.append({"tsc_khz": int(values[0])})
            else:
                t.problems.append(Problem(source, i, "expected csv,tsc_khz,INTEGER", line))
            continue
        schema = ALLOC_TABLES.get(table)
        if schema is None:
            t.problems.append(Problem(source, i, "unknown table %r" % table, line))
            continue
        if _is_header(values, schema):
            _check_header(values, schema, source, i, line, t.problems)
            continue
        try:
            rows[table].append(_convert(values, schema))
        except ValueError as e:
            t.problems.append(Problem(source, i, "%s: %s" % (table, e), line))
    for k, schema in ALLOC_TABLES.items():
        t[k] = _frame(rows[k], schema)
    t["tsc"] = pd.DataFrame(tsc, columns=["tsc_khz"])
    return t


def parse_tracebench(lines, source="tracebench"):
    """tracebench output -> Tables: stats (name, value), including
    touch_pages from the human line "touch N pages: ..."."""
    t = Tables()
    stats = []
    lines = list(lines)
    for i, raw in enumerate(lines, 1):
        m = TOUCH_RE.match(raw.strip())
        if m:
            stats.append({"name": "touch_pages", "value": int(m.group(1))})
    for i, line in _csv_lines(lines, source, t.problems):
        kind, _, rest = line.partition(",")
        if kind != "csvstat":
            t.problems.append(Problem(source, i, "unknown line kind %r" % kind, line))
            continue
        s = _stat(rest.split(","), source, i, line, t.problems, "value")
        if s:
            stats.append(s)
    t["stats"] = pd.DataFrame(stats, columns=["name", "value"])
    return t


def parse_forkbench(lines, source="forkbench"):
    """forkbench output -> Tables: runs (the FORK schema)."""
    t = Tables()
    runs = []
    for i, line in _csv_lines(lines, source, t.problems):
        kind, _, rest = line.partition(",")
        values = rest.split(",") if rest else []
        if kind != "csv":
            t.problems.append(Problem(source, i, "unknown line kind %r" % kind, line))
            continue
        if _is_header(values, FORK):
            _check_header(values, FORK, source, i, line, t.problems)
            continue
        try:
            runs.append(_convert(values, FORK))
        except ValueError as e:
            t.problems.append(Problem(source, i, str(e), line))
    t["runs"] = _frame(runs, FORK)
    return t


def parse_msyncbench(lines, source="msyncbench"):
    """msyncbench output -> Tables: runs (the MSYNC schema)."""
    t = Tables()
    runs = []
    for i, line in _csv_lines(lines, source, t.problems):
        kind, _, rest = line.partition(",")
        values = rest.split(",") if rest else []
        if kind != "csv":
            t.problems.append(Problem(source, i, "unknown line kind %r" % kind, line))
            continue
        if _is_header(values, MSYNC):
            _check_header(values, MSYNC, source, i, line, t.problems)
            continue
        try:
            runs.append(_convert(values, MSYNC))
        except ValueError as e:
            t.problems.append(Problem(source, i, str(e), line))
    t["runs"] = _frame(runs, MSYNC)
    return t


PARSERS = {"vmbench": parse_vmbench, "vmphases": parse_vmbench,
           "allocbench": parse_allocbench, "tracebench": parse_tracebench,
           "forkbench": parse_forkbench, "msyncbench": parse_msyncbench}


def load_trace(path):
    """Decode a COM2 dump with ktrace -> (events DataFrame, summary dict,
    [Problem]). The dump's own damage reports become Problems."""
    from ktrace import parse_dump
    from ktrace.transform import to_frame
    source = os.path.basename(path)
    with open(path, "rb") as fh:
        data = fh.read()
    dump = parse_dump(data)
    df = to_frame(dump)
    problems = [Problem(source, 0, "trace: %s" % p) for p in dump.problems]
    summary = dump.summary()
    summary["tsc_per_tick"] = dump.config.get("tsc_per_tick")
    if not data:
        problems.append(Problem(source, 0, "trace dump is empty"))
    return df, summary, problems


@dataclass
class Run:
    """Everything parsed from one results/<run>/ folder."""
    path: str
    manifest: Optional[dict] = None
    tables: Dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: List[Problem] = field(default_factory=list)
    failed: List[dict] = field(default_factory=list)      # manifest entries not ok
    skipped: List[dict] = field(default_factory=list)     # benchmarks not run, and why
    traces: Dict[str, tuple] = field(default_factory=dict)  # bench -> (df, summary)


OUT_RE = re.compile(r"^(?P<bench>[a-z0-9_]+)\.(?P<boot>\d+)\.out$")


def load_run(path):
    """Parse every raw/<bench>.<boot>.out (and .com2.bin) of a run folder.
    Tables are keyed "<bench>.<table>" with a "boot" column added; runs the
    manifest marks as failed are listed in .failed and not parsed."""
    run = Run(path)
    raw = os.path.join(path, "raw")
    mpath = os.path.join(raw, "manifest.json")
    if os.path.exists(mpath):
        try:
            with open(mpath) as f:
                run.manifest = json.load(f)
        except (OSError, ValueError) as e:
            run.problems.append(Problem("manifest.json", 0, "unreadable: %s" % e))
    if not os.path.isdir(raw):
        run.problems.append(Problem(raw, 0, "no raw/ folder (run bench/run_bench.py first)"))
        return run
    bad = set()
    if run.manifest:
        run.skipped = list(run.manifest.get("skipped", []))
        for e in run.manifest.get("runs", []):
            if not e.get("ok"):
                run.failed.append(e)
                bad.add(e.get("out"))
    collected = {}
    for fpath in sorted(glob.glob(os.path.join(raw, "*.out"))):
        name = os.path.basename(fpath)
        m = OUT_RE.match(name)
        if not m:
            run.problems.append(Problem(name, 0, "unexpected file name (want BENCH.BOOT.out)"))
            continue
        bench, boot = m.group("bench"), int(m.group("boot"))
        parser = PARSERS.get(bench)
        if parser is None:
            run.problems.append(Problem(name, 0, "no parser for benchmark %r" % bench))
            continue
        if name in bad:
            continue
        with open(fpath, errors="replace") as f:
            t = parser(f.read().splitlines(), source=name)
        run.problems.extend(t.problems)
        for k, df in t.items():
            df = df.copy()
            df.insert(0, "boot", boot)
            collected.setdefault("%s.%s" % (bench, k), []).append(df)
        com2 = os.path.join(raw, "%s.%d.com2.bin" % (bench, boot))
        if os.path.exists(com2) and bench not in run.traces:
            df, summary, probs = load_trace(com2)
            run.traces[bench] = (df, summary)
            run.problems.extend(probs)
    for k, dfs in collected.items():
        run.tables[k] = pd.concat(dfs, ignore_index=True)
    return run
