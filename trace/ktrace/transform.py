"""Pure transformations: a parsed Dump -> pandas DataFrames.

    >>> df = to_frame(parse_dump(data))
    >>> df[df.type == "fault"].groupby("how").size()
"""
import subprocess
import bisect

import pandas as pd

from .events import decode_payload

BASE_COLUMNS = ["seq", "cpu", "pid", "tsc", "t", "type"]
PF_PRESENT, PF_WRITE, PF_USER = 1, 2, 4


def to_frame(dump, symbols=None):
    """One row per record (sorted by time), one column per field. Fields an
    event type lacks are empty. Fault rows get err_present/err_write/err_user;
    'p' fields get a <name>_sym column when symbols (from load_symbols) are given."""
    table = dump.table
    cols = table.columns()
    rows = []
    for r in dump.records:
        et = table.events.get(r.type)
        row = {"seq": r.seq, "cpu": r.cpu, "pid": r.pid, "tsc": r.tsc,
               "type": et.name if et else "?%d" % r.type}
        if et:
            row.update(decode_payload(et, r.words, table.enums))
        rows.append(row)
    df = pd.DataFrame(rows, columns=BASE_COLUMNS + cols)
    if len(df):
        df["t"] = df["tsc"] - df["tsc"].min()
    khz = dump.config.get("tsc_khz")
    if isinstance(khz, int) and khz > 0:
        df.insert(BASE_COLUMNS.index("t") + 1, "t_us", df["t"] * 1000.0 / khz)
    df = df.sort_values(["tsc", "cpu", "seq"], kind="stable").reset_index(drop=True)
    if "err" in df.columns:
        isf = df["type"] == "fault"
        for name, bit in (("err_present", PF_PRESENT), ("err_write", PF_WRITE),
                          ("err_user", PF_USER)):
            df[name] = pd.Series(pd.NA, index=df.index, dtype="Int64")
            df.loc[isf, name] = (df.loc[isf, "err"].astype("int64") & bit != 0).astype("int64")
    for c in cols:
        if df[c].dtype == float and df[c].dropna().apply(float.is_integer).all():
            df[c] = df[c].astype("Int64")
    if symbols:
        pfields = {f.name for et in table.events.values() for f in et.fields if f.kind == "p"}
        for c in sorted(pfields):
            df[c + "_sym"] = df[c].map(lambda v: symbolize(symbols, v) if pd.notna(v) else None)
    return df


def load_symbols(elf):
    """Sorted [(address, name)] of the text symbols in an ELF file (via nm)."""
    out = subprocess.run(["nm", "-n", elf], capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), parts[2]))
    return syms


def symbolize(syms, addr):
    """'func+0xoff' for a code address, or hex if unknown."""
    i = bisect.bisect_right(syms, (int(addr), "\xff")) - 1
    if i < 0:
        return "0x%x" % int(addr)
    base, name = syms[i]
    return "%s+0x%x" % (name, int(addr) - base)


def counts_by_type(df):
    return df.groupby("type").size().rename("events")


def counter_agreement(dump, df):
    """Compare the header's counter increments (while tracing was on) with
    what the trace holds. Rows: counter, counter_value, traced, agree.
    Meaningful when nothing was lost and no pid filter was set."""
    c = dump.counters
    if not c:
        return pd.DataFrame(columns=["counter", "counter_value", "traced", "agree"])
    t = df["type"]
    faults = df[t == "fault"]
    expect = {}
    for how in dump.table.enums.get("fault", {}).values():
        expect["fault_" + how] = int((faults["how"] == how).sum())
    expect["faults"] = len(faults)
    for kind, name in (("page_alloc", "pgalloc"), ("page_free", "pgfree")):
        rows = df[t == kind]
        expect[name] = int((2 ** rows["order"].astype("int64")).sum()) if len(rows) else 0
    ms = df[t == "msync_write"]
    expect["msync_pages"] = len(ms)
    expect["msync_bytes"] = int(ms["bytes"].astype("int64").sum()) if len(ms) else 0
    for kind, name in (("fork", "forks"), ("exec", "execs"), ("exit", "exits"),
                       ("mmap", "mmaps"), ("munmap", "munmaps"), ("marker", "markers")):
        expect[name] = int((t == kind).sum())
    mask = dump.config.get("mask", 0xFFFFFFFE)
    codes = {et.name: code for code, et in dump.table.events.items()}
    needs = {"fault": "fault", "pgalloc": "page_alloc", "pgfree": "page_free",
             "msync": "msync_write", "forks": "fork", "execs": "exec", "exits": "exit",
             "mmaps": "mmap", "munmaps": "munmap", "markers": "marker"}
    rows = []
    for name, traced in expect.items():
        if name not in c:
            continue
        kind = next((v for k, v in needs.items() if name.startswith(k)), None)
        if kind and not (mask >> codes.get(kind, 0)) & 1:
            continue
        rows.append({"counter": name, "counter_value": c[name], "traced": traced,
                     "agree": c[name] == traced})
    return pd.DataFrame(rows, columns=["counter", "counter_value", "traced", "agree"])
