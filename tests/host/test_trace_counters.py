"""The decoder compares every VM counter that has trace events with the
events: page cache, TLB shootdowns, write-backs per reason and the
scheduler's IPIs and migrations as well as faults and pages. A counter one
off from its events is a counter_mismatch naming it; an honest dump passes.

    /usr/bin/python3 -m pytest tests/host/test_trace_counters.py
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "trace"))

from ktrace import parse_dump  # noqa: E402
from ktrace.checks import cross_check  # noqa: E402
from ktrace.transform import to_frame, counter_agreement  # noqa: E402
from ktrace.writer import SimWriter  # noqa: E402


def busy(cap=256, mask=None):
    """Every counted event type but faults and pages, on 2 CPUs."""
    w = SimWriter(ncpu=2, cap=cap, mode="flight")
    if mask is not None:
        w.mask = mask
    for i in range(6):
        c = i % 2
        w.emit(c, "pcache_hit", pid=3, ino=7, pgno=i)
        w.emit(c, "pcache_miss", pid=3, ino=7, pgno=100 + i)
        w.emit(c, "pcache_free", pid=3, ino=7, pgno=i)
        w.emit(c, "tlb_shootdown", pid=3, cpus=1 << (1 - c), cycles=900)
        w.emit(c, "msync_write", pid=3, va=0x40000000, ino=7, off=4096 * i, bytes=4096,
               why=("msync", "munmap", "exit", "fsync", "evict")[i % 5])
        w.emit(c, "sched_wakeup", pid=3, woken=4, target=1 - c, ipi=i % 3 == 0)
        w.emit(c, "sched_migrate", pid=0, moved=4, from_cpu=c, to_cpu=1 - c)
    return w


def test_honest_dump_agrees():
    w = busy()
    d = parse_dump(w.dump())
    assert cross_check(d) == []
    c = d.counters
    assert (c["pcache_hits"], c["pcache_misses"], c["pcache_freed"]) == (6, 6, 6)
    assert (c["tlb_shootdowns"], c["sched_migrations"], c["sched_ipis"]) == (6, 6, 2)
    assert (c["writeback_msync"], c["writeback_munmap"], c["writeback_evict"]) == (2, 1, 1)
    agree = counter_agreement(d, to_frame(d))
    names = set(agree.counter)
    assert {"pcache_hits", "tlb_shootdowns", "sched_ipis", "writeback_exit"} <= names
    assert agree.agree.all(), agree


@pytest.mark.parametrize("counter", ["pcache_hits", "pcache_misses", "pcache_freed",
                                     "tlb_shootdowns", "sched_migrations", "sched_ipis",
                                     "writeback_msync", "writeback_fsync"])
def test_one_off_counter_is_a_mismatch(counter):
    w = busy()
    w.counters[counter] += 1
    d = parse_dump(w.dump())
    bad = [p for p in cross_check(d) if p.kind == "counter_mismatch"]
    assert len(bad) == 1 and counter in str(bad[0]), bad
    agree = counter_agreement(d, to_frame(d))
    assert list(agree[~agree.agree].counter) == [counter]


def test_bounds_when_the_ring_overflowed():
    """With wake-ups lost to the ring, sched_ipis is only bounded: kept IPIs
    <= counter <= kept IPIs + lost wake-ups."""
    w = busy(cap=8)
    d = parse_dump(w.dump())
    assert d.summary()["kernel_lost"] > 0 and cross_check(d) == []
    w.counters["sched_ipis"] += 40
    d = parse_dump(w.dump())
    assert any("sched_ipis" in str(p) for p in cross_check(d))


def test_untraced_types_are_not_compared():
    w = busy()
    codes = {et.name: code for code, et in w.table.events.items()}
    w.mask &= ~(1 << codes["pcache_hit"])
    w.counters["pcache_hits"] += 5          # (the kernel counts them all the same)
    d = parse_dump(w.dump())
    assert cross_check(d) == []
