"""Experiment discovery: every folder bench/<name>/ holding an
experiment.py is one experiment (bench/README.md is the contract). No
central list: the driver and the analysis both call discover().

    >>> exps = discover()                      # {name: Experiment}, by ORDER then name
    >>> exps["fork"].runs[0].cmd
    'forkbench 5'
"""
import importlib.util
import os
import re
import sys
import zlib
from dataclasses import dataclass, field
from typing import List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH_DIR = os.path.join(ROOT, "bench")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class ExperimentError(Exception):
    """An experiment folder that does not keep the contract."""


@dataclass
class GuestRun:
    """One guest command line of an experiment. boots: None = as many
    fresh guests as the run asks (BOOTS), else at most this many. com2:
    keep the COM2 trace dump. needs: programs that must be built (default:
    the command's first word). cpus: boot the guest with this many CPUs
    instead of the run's (CPUS), for experiments that compare CPU counts.
    mem: guest memory in MiB instead of the run's (MEM); swap_mb: swap
    disk in MiB instead of the run's (SWAP_MB; 0: none)."""
    name: str
    cmd: str
    boots: Optional[int] = None
    com2: bool = False
    needs: List[str] = field(default_factory=list)
    cpus: Optional[int] = None
    mem: Optional[int] = None
    swap_mb: Optional[int] = None

    def programs(self):
        return self.needs or [self.cmd.split()[0]]


@dataclass
class Experiment:
    """A loaded bench/<name>/experiment.py and what it declares."""
    name: str
    path: str
    module: object
    title: str
    order: int
    runs: List[GuestRun]
    deterministic: bool

    def has(self, fn):
        return callable(getattr(self.module, fn, None))


REQUIRED = ("TITLE", "RUNS", "parse", "analyse", "section")


def _load_module(name, folder):
    """Import folder/experiment.py as a package named after the folder (so the
    experiment may import sibling files with `from . import x`)."""
    modname = "kbench_exp_%s_%08x" % (name, zlib.crc32(os.path.abspath(folder).encode()))
    if modname in sys.modules:
        return sys.modules[modname]
    path = os.path.join(folder, "experiment.py")
    spec = importlib.util.spec_from_file_location(modname, path,
                                                  submodule_search_locations=[folder])
    mod = importlib.util.module_from_spec(spec)
    sys.modules[modname] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception:
        del sys.modules[modname]
        raise
    return mod


def load(folder):
    """One experiment from its folder; raises ExperimentError naming what
    is missing or malformed."""
    name = os.path.basename(os.path.normpath(folder))
    if not NAME_RE.match(name):
        raise ExperimentError("%s: folder name must be lower-case letters, digits, _" % folder)
    mod = _load_module(name, folder)
    missing = [a for a in REQUIRED if not hasattr(mod, a)]
    if missing:
        raise ExperimentError("bench/%s/experiment.py does not define %s"
                              % (name, ", ".join(missing)))
    runs = []
    for r in mod.RUNS:
        r = r if isinstance(r, GuestRun) else GuestRun(**r)
        if not NAME_RE.match(r.name) or not r.cmd.strip() or (r.cpus is not None
                                                               and not 1 <= r.cpus <= 8) \
                or (r.mem is not None and not 16 <= r.mem <= 2048) \
                or (r.swap_mb is not None and not 0 <= r.swap_mb <= 2048):
            raise ExperimentError("bench/%s: bad run %r" % (name, r))
        runs.append(r)
    if not runs or len({r.name for r in runs}) != len(runs):
        raise ExperimentError("bench/%s: RUNS must be non-empty with distinct names" % name)
    return Experiment(name, folder, mod, mod.TITLE, int(getattr(mod, "ORDER", 50)), runs,
                      bool(getattr(mod, "DETERMINISTIC", False)))


def discover(bench_dir=None):
    """{name: Experiment} for every bench_dir/*/experiment.py, in report
    order (ORDER, then name)."""
    bench_dir = bench_dir or BENCH_DIR
    found = []
    for entry in sorted(os.listdir(bench_dir)):
        folder = os.path.join(bench_dir, entry)
        if os.path.isfile(os.path.join(folder, "experiment.py")):
            found.append(load(folder))
    found.sort(key=lambda e: (e.order, e.name))
    return {e.name: e for e in found}
