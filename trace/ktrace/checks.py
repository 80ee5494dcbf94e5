"""Cross-checks of a decoded dump against the kernel's own counts: the
per-CPU, per-type counts of events that passed the filters (CPU frames),
the pause windows (LOSS frames) and, without a pid filter, the always-on
VM counters (header). Every disagreement becomes a Problem
("counter_mismatch") naming the event type and the numbers, so `ktrace
check` exits 1.

    >>> d = parse_dump(data); problems = cross_check(d); table = loss_table(d)
"""
from collections import Counter

from .events import decode_payload
from .wire import Problem

# VM counters that count events one for one: counter -> event type.
EVENT_COUNTERS = {"faults": "fault", "forks": "fork", "execs": "exec", "exits": "exit",
                  "mmaps": "mmap", "munmaps": "munmap", "markers": "marker",
                  "msync_pages": "msync_write", "pcache_hits": "pcache_hit",
                  "pcache_misses": "pcache_miss", "pcache_freed": "pcache_free",
                  "tlb_shootdowns": "tlb_shootdown", "sched_migrations": "sched_migrate"}
# Counters that count the events of a type with one value of an enum field,
# one counter per value: event type -> (field, its enum, counter prefix).
SPLIT = {"fault": ("how", "fault", "fault_"), "msync_write": ("why", "why", "writeback_")}
# Counters that count the events of a type that satisfy a test:
# counter -> (type, test).
SUBSET = {"sched_ipis": ("sched_wakeup", lambda v: int(v.get("ipi", 0) or 0) != 0)}
# Counters that sum a field of an event type: counter -> (type, how to weigh)
WEIGHED = {"pgalloc": ("page_alloc", lambda v: 1 << min(int(v.get("order", 0)), 31)),
           "pgfree": ("page_free", lambda v: 1 << min(int(v.get("order", 0)), 31)),
           "msync_bytes": ("msync_write", lambda v: int(v.get("bytes", 0)))}
MAX_ORDER_PAGES = 1 << 10           # the buddy allocator's largest block, in pages


def type_codes(dump):
    return {et.name: code for code, et in dump.table.events.items()}


def loss_table(dump):
    """Rows (cpu, type name, passed, kept, overflow, paused): per CPU and
    event type, events that passed the filters, records decoded, the ones
    the ring overwrote or dropped, and the ones that arrived while paused."""
    names = {code: et.name for code, et in dump.table.events.items()}
    kept = Counter((r.cpu, r.type) for r in dump.records)
    paused = Counter()
    for p in dump.pauses:
        paused[(p.cpu, p.type)] += p.n
    passed = Counter()
    for c, info in dump.cpus.items():
        for t, n in enumerate(info.ntype):
            if n:
                passed[(c, t)] = n
    rows = []
    for key in sorted(set(kept) | set(paused) | set(passed)):
        c, t = key
        over = passed[key] - kept[key] if dump.cpus.get(c) and dump.cpus[c].ntype else 0
        rows.append((c, names.get(t, "?%d" % t), passed[key], kept[key], over, paused[key]))
    return rows


def _problem(out, detail, count=1):
    out.append(Problem("counter_mismatch", -1, detail, count))


def cross_check(dump):
    """Compare the trace with the kernel's counts; append and return the
    problems found. Skipped (with nothing appended) only where the dump
    cannot say: no header, or a v1 dump without per-type counts."""
    out = []
    if not dump.header_ok:
        return out
    damaged = any(p.kind in ("bad_frame", "frame_gap", "truncated", "missing_records",
                             "seq_gap", "missing_cpu_info", "bad_cpu_info")
                  for p in dump.problems)
    rows = loss_table(dump)
    have_types = any(i.ntype for i in dump.cpus.values())
    if have_types and not damaged:
        for c, name, passed, kept, over, _ in rows:
            if over < 0:
                _problem(out, "cpu %d %s: %d records decoded, the kernel passed %d"
                         % (c, name, kept, passed))
        for c, info in dump.cpus.items():
            over = sum(r[4] for r in rows if r[0] == c)
            if over != info.lost:
                _problem(out, "cpu %d: %d events not kept by type, the kernel lost %d"
                         % (c, over, info.lost))
    cfg = dump.config
    if cfg.get("pid", 0) or not dump.counters or not have_types:
        dump.problems.extend(out)
        return out
    _vm_check(dump, rows, out)
    dump.problems.extend(out)
    return out


def _vm_check(dump, rows, out):
    """Without a pid filter every event counted by a VM counter while
    tracing was on passed the filters: counter == passed + paused."""
    cfg, codes, c = dump.config, type_codes(dump), dump.counters
    mask, changed = cfg.get("mask", 0), cfg.get("mask_changed", 0)
    # The kernel reads the counters with every CPU held out of its event
    # step (trace.c), so they agree exactly even while tracing runs; only a
    # panic dump (which cannot hold the other CPUs) may have one event in
    # flight per CPU.
    slack = len(dump.cpus) if cfg.get("reason") == "panic" else 0
    total = Counter()
    for _, name, passed, _, _, paused in rows:
        total[name] += passed + paused
    kept_vals = {}
    needed = (set(SPLIT) | {name for name, _ in WEIGHED.values()}
              | {name for name, _ in SUBSET.values()})
    for r in dump.records:
        et = dump.table.events.get(r.type)
        if et and et.name in needed:
            kept_vals.setdefault(et.name, []).append(decode_payload(et, r.words,
                                                                    dump.table.enums))

    def checked(name):
        code = codes.get(name)
        return code is not None and (mask >> code) & 1 and not (changed >> code) & 1

    def compare(counter, want, got, exact=True):
        ok = abs(want - got) <= slack if exact else got <= want
        if not ok:
            _problem(out, "counter %s is %d, the trace accounts for %s%d %s events"
                     % (counter, want, "" if exact else "at least ", got, counter))

    for counter, name in EVENT_COUNTERS.items():
        if counter in c and checked(name):
            compare(counter, c[counter], total[name])
    for name, (fld, enum, prefix) in SPLIT.items():
        if not checked(name):
            continue
        kept = kept_vals.get(name, [])
        exact = total[name] == len(kept)
        vals = Counter(v.get(fld) for v in kept)
        for val in dump.table.enums.get(enum, {}).values():
            key = prefix + val
            if key in c:
                compare(key, c[key], vals[val], exact=exact)
    for counter, (name, test) in SUBSET.items():
        if counter not in c or not checked(name):
            continue
        kept = kept_vals.get(name, [])
        got, missing = sum(1 for v in kept if test(v)), total[name] - len(kept)
        if missing == 0:
            compare(counter, c[counter], got)
        elif not got - slack <= c[counter] <= got + missing + slack:
            _problem(out, "counter %s is %d, the trace accounts for %d..%d (%d %s "
                     "events not kept)" % (counter, c[counter], got, got + missing, missing,
                                           name))
    for counter, (name, weigh) in WEIGHED.items():
        if counter not in c or not checked(name):
            continue
        vals = kept_vals.get(name, [])
        got = sum(weigh(v) for v in vals)
        missing = total[name] - len(vals)
        if missing == 0:
            compare(counter, c[counter], got)
        elif counter != "msync_bytes":
            lo, hi = got + missing, got + missing * MAX_ORDER_PAGES
            if not lo - slack <= c[counter] <= hi + slack:
                _problem(out, "counter %s is %d, the trace accounts for %d..%d (%d %s "
                         "events not kept)" % (counter, c[counter], lo, hi, missing, name))
        else:
            compare(counter, c[counter], got, exact=False)


def unchecked_types(dump):
    """Event types whose counters cannot be compared, and why."""
    cfg, codes = dump.config, type_codes(dump)
    why = {}
    changed = cfg.get("mask_changed", 0)
    for name, code in codes.items():
        if (changed >> code) & 1:
            why[name] = "mask changed while tracing"
    return why
