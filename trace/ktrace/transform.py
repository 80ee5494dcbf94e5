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
    what the trace holds, for every counter that has events (the relations
    in checks.py). Rows: counter, counter_value, traced, agree. Meaningful
    when nothing was lost and no pid filter was set."""
    from .checks import EVENT_COUNTERS, SPLIT, SUBSET, WEIGHED
    cols = ["counter", "counter_value", "traced", "agree"]
    c = dump.counters
    if not c:
        return pd.DataFrame(columns=cols)
    t = df["type"]
    expect, kind_of = {}, {}
    for name, kind in EVENT_COUNTERS.items():
        expect[name], kind_of[name] = int((t == kind).sum()), kind
    for kind, (fld, enum, prefix) in SPLIT.items():
        rows = df[t == kind]
        for val in dump.table.enums.get(enum, {}).values():
            n = int((rows[fld] == val).sum()) if len(rows) else 0
            expect[prefix + val], kind_of[prefix + val] = n, kind
    for name, (kind, test) in SUBSET.items():
        rows = df[t == kind].to_dict("records")
        expect[name], kind_of[name] = sum(1 for r in rows if test(r)), kind
    for name, (kind, weigh) in WEIGHED.items():
        rows = df[t == kind].to_dict("records")
        expect[name], kind_of[name] = sum(weigh(r) for r in rows), kind
    mask = dump.config.get("mask", 0xFFFFFFFE)
    codes = {et.name: code for code, et in dump.table.events.items()}
    out = []
    for name, traced in expect.items():
        code = codes.get(kind_of[name])
        if name not in c or code is None or not (mask >> code) & 1:
            continue
        out.append({"counter": name, "counter_value": c[name], "traced": traced,
                    "agree": c[name] == traced})
    return pd.DataFrame(out, columns=cols)
