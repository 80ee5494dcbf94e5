"""Parse stage: reading helpers the experiments' parsers share, the COM2
trace loader, and the run folder's layout (bench/run_bench.py writes it).
Each experiment's own output format is known only to its parser
(bench/<experiment>/experiment.py: parse()).

A parser takes text lines and returns Tables (name -> DataFrame, plus
.problems): a line that looks machine-readable ("csv..." anywhere in it)
but cannot be read is a Problem with its line number, never fatal.

    >>> t = parse_rows(["csv,a,b", "csv,1,2", "csv,1,x"], [("a", int), ("b", int)], "x.out")
    >>> t["rows"].to_dict("records")
    [{'a': 1, 'b': 2}]
    >>> print(t.problems[0])
    x.out:3: field b: 'x' is not an integer: 'csv,1,x'

Run folder:
    raw/manifest.json                       what ran (bench/run_bench.py)
    raw/<experiment>/<run>.<boot>.out       one guest's output
    raw/<experiment>/<run>.<boot>.com2.bin  its COM2 trace dump (traced runs)
"""
import glob
import json
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import pandas as pd

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.=]*$")
INT_RE = re.compile(r"^-?[0-9]+$")
OUT_RE = re.compile(r"^(?P<run>[a-z0-9_]+)\.(?P<boot>\d+)\.out$")


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


def convert(values, schema):
    """Typed dict from string fields; ValueError(reason) if they do not fit.
    schema: [(name, int or str)]."""
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


def frame(rows, schema):
    return pd.DataFrame(rows, columns=[n for n, _ in schema])


def csv_lines(lines, source, problems):
    """(line number, stripped line) for the machine-readable lines; a line
    with "csv" text after other text (interleaved output) is a problem."""
    for i, raw in enumerate(lines, 1):
        line = raw.strip().rstrip("\r")
        if line.startswith("csv"):
            yield i, line
        elif "csv," in line or "csvstat," in line:
            problems.append(Problem(source, i, "machine-readable text in the middle of a "
                                    "line (interleaved output?)", line))


def is_header(values, schema):
    return len(values) >= 1 and values[0] == schema[0][0]


def check_header(values, schema, source, i, line, problems):
    if values != [n for n, _ in schema]:
        problems.append(Problem(source, i, "header differs from the expected %s"
                                % ",".join(n for n, _ in schema), line))


def stat(values, source, i, line, problems, col):
    """csvstat,NAME,INT fields -> {"name":..., col: int} or None (problem noted)."""
    if len(values) != 2 or not NAME_RE.match(values[0]) or not INT_RE.match(values[1]):
        problems.append(Problem(source, i, "expected csvstat,NAME,INTEGER", line))
        return None
    return {"name": values[0], col: int(values[1])}


def parse_rows(lines, schema, source, table="rows"):
    """The common format "csv,<fields of schema>" (a header line naming the
    fields is checked and skipped) -> Tables with one table."""
    t = Tables()
    rows = []
    for i, line in csv_lines(lines, source, t.problems):
        kind, _, rest = line.partition(",")
        values = rest.split(",") if rest else []
        if kind != "csv":
            t.problems.append(Problem(source, i, "unknown line kind %r" % kind, line))
            continue
        if is_header(values, schema):
            check_header(values, schema, source, i, line, t.problems)
            continue
        try:
            rows.append(convert(values, schema))
        except ValueError as e:
            t.problems.append(Problem(source, i, str(e), line))
    t[table] = frame(rows, schema)
    return t


def load_trace(path):
    """Decode a COM2 dump with ktrace -> (events DataFrame, summary dict,
    [Problem]). The dump's own damage reports become Problems."""
    from ktrace import parse_dump
    from ktrace.checks import cross_check
    from ktrace.transform import to_frame
    source = os.path.basename(path)
    with open(path, "rb") as fh:
        data = fh.read()
    dump = parse_dump(data)          # the last dump in the file
    cross_check(dump)                # trace vs the kernel's counters
    df = to_frame(dump)
    problems = [Problem(source, 0, "trace: %s" % p) for p in dump.problems]
    summary = dump.summary()
    summary["tsc_khz"] = dump.config.get("tsc_khz")     # measured at boot
    if not data:
        problems.append(Problem(source, 0, "trace dump is empty"))
    return df, summary, problems


@dataclass
class ExpData:
    """One experiment's parsed raw output in a run folder: tables keyed
    "<run>.<table>" (a "boot" column added), traces {run: (events,
    summary)} of the first boot with a dump, and the clock of the run."""
    name: str
    tables: Dict[str, pd.DataFrame] = field(default_factory=dict)
    traces: Dict[str, tuple] = field(default_factory=dict)
    problems: List[Problem] = field(default_factory=list)
    clock: str = "tsc"

    def table(self, key):
        """The table, or an empty DataFrame when no boot produced it."""
        return self.tables.get(key, pd.DataFrame())


@dataclass
class Run:
    """Everything parsed from one results/<run>/ folder."""
    path: str
    manifest: Optional[dict] = None
    data: Dict[str, ExpData] = field(default_factory=dict)     # experiment -> data
    problems: List[Problem] = field(default_factory=list)
    failed: List[dict] = field(default_factory=list)      # manifest entries not ok
    skipped: List[dict] = field(default_factory=list)     # experiments not run, and why

    @property
    def clock(self):
        return (self.manifest or {}).get("clock", "tsc")


def _parse_file(exp, data, fpath, run, boot):
    with open(fpath, errors="replace") as f:
        name = "%s/%s" % (exp.name, os.path.basename(fpath))
        t = exp.module.parse(run, f.read().splitlines(), source=name)
    data.problems.extend(t.problems)
    out = {}
    for k, df in t.items():
        df = df.copy()
        df.insert(0, "boot", boot)
        out["%s.%s" % (run, k)] = df
    return out


def load_run(path, experiments):
    """Parse every raw/<experiment>/<run>.<boot>.out (and .com2.bin) of a
    run folder with the experiments' parsers ({name: Experiment}). Guest
    runs the manifest marks as failed are listed in .failed, not parsed."""
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
                bad.add("%s/%s" % (e.get("experiment"), e.get("out")))
    for sub in sorted(d for d in os.listdir(raw) if os.path.isdir(os.path.join(raw, d))):
        exp = experiments.get(sub)
        if exp is None:
            run.problems.append(Problem("raw/" + sub, 0, "no experiment bench/%s/ to read it"
                                        % sub))
            continue
        data = ExpData(sub, clock=run.clock)
        runs = {r.name for r in exp.runs}
        collected = {}
        for fpath in sorted(glob.glob(os.path.join(raw, sub, "*.out"))):
            fname = os.path.basename(fpath)
            m = OUT_RE.match(fname)
            if not m or m.group("run") not in runs:
                data.problems.append(Problem("%s/%s" % (sub, fname), 0,
                                             "unexpected file (want RUN.BOOT.out, RUN one of %s)"
                                             % ", ".join(sorted(runs))))
                continue
            if "%s/%s" % (sub, fname) in bad:
                continue
            r, boot = m.group("run"), int(m.group("boot"))
            for k, df in _parse_file(exp, data, fpath, r, boot).items():
                collected.setdefault(k, []).append(df)
            com2 = os.path.join(raw, sub, "%s.%d.com2.bin" % (r, boot))
            if os.path.exists(com2) and r not in data.traces:
                df, summary, probs = load_trace(com2)
                data.traces[r] = (df, summary)
                data.problems.extend(probs)
        for k, dfs in collected.items():
            data.tables[k] = pd.concat(dfs, ignore_index=True)
        run.data[sub] = data
    for d in run.data.values():
        run.problems.extend(d.problems)
        d.problems = run.problems      # analyse() adds to the run's list
    return run
