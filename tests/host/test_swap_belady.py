"""Host tests of the swap experiment's Belady part (bench/swap/experiment.py):
the belady lines of `swapbench belady` are parsed, malformed ones become
problems, the simulation of the kernel's local replacement reproduces the
textbook counts, and the analysis finds FIFO's anomaly and flags a
measurement that disagrees with the simulation.

    $ /usr/bin/python3 -m pytest -q tests/host/test_swap_belady.py
"""
import os
import sys

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "analysis"))
sys.path.insert(0, os.path.join(ROOT, "trace"))

from kbench import experiments  # noqa: E402

swap = experiments.discover()["swap"].module

# What the guest printed (swapbench belady POLICY 3,4 123412512345).
GUEST = [
    "belady,fifo,3,123412512345,9,4,6,FFFFFFF..FF.",
    "belady,fifo,4,123412512345,10,5,6,FFFF..FFFFFF",
    "belady,clock,3,123412512345,9,4,6,FFFFFFF..FF.",
    "belady,clock,4,123412512345,10,5,6,FFFF..FFFFFF",
    "belady,lru,3,123412512345,10,5,7,FFFFFFF..FFF",
    "belady,lru,4,123412512345,8,3,4,FFFF..F..FFF",
    "belady,random,3,123412512345,9,4,6,FFFF.FF..FFF",
    "belady,random,4,123412512345,6,1,2,FFFF..F..F..",
]


def parsed(lines):
    return swap.parse({"name": "belady"}, lines, "x.log")


def test_textbook_counts():
    # Silberschatz et al.: FIFO 9 faults with 3 frames, 10 with 4; LRU 10 and 8.
    assert swap.simulate("fifo", swap.BELADY, 3) == 9
    assert swap.simulate("fifo", swap.BELADY, 4) == 10
    assert swap.simulate("lru", swap.BELADY, 3) == 10
    assert swap.simulate("lru", swap.BELADY, 4) == 8
    assert swap.simulate("random", swap.BELADY, 3) is None


def test_second_string_separates_fifo_from_clock():
    s = swap.CLOCK_OK
    assert swap.simulate("fifo", s, 4) > swap.simulate("fifo", s, 3)
    assert swap.simulate("clock", s, 4) < swap.simulate("clock", s, 3)


def test_parse_and_agree():
    t = parsed(GUEST + ["csv,fifo,1,16,0,100,1,0,0,0,0,0,0"])
    assert not t.problems
    assert len(t["belady"]) == 8 and len(t["rows"]) == 1
    b = swap.belady(t["belady"])
    assert (b[b["policy"] != "random"]["agrees"] == "yes").all()
    assert (b[b["policy"] == "random"]["agrees"] == "-").all()
    a = swap.anomalies(b).set_index("policy")["anomaly"]
    assert a["fifo"] == "3 -> 4 frames: 9 -> 10 faults"
    assert a["lru"] == "none"


def test_malformed_lines_are_problems():
    t = parsed(["belady,fifo,3,1234,x,0,0,FFFF", "belady,nosuch,3,12,2,0,0,FF",
                "belady,fifo,3,1234,4,0,0,FF", "belady,fifo,3"])
    assert len(t.problems) == 4
    assert t["belady"].empty


def test_disagreement_is_reported():
    bad = [GUEST[0].replace(",9,4,", ",8,4,")] + GUEST[1:]
    b = swap.belady(parsed(bad)["belady"])
    assert list(b[b["agrees"] == "NO"]["faults"]) == [8]
    text = "\n".join(swap.section({"swap_curve": pd.DataFrame(), "swap_knee": pd.DataFrame(),
                                   "swap_dirty": pd.DataFrame(), "swap_belady": b}, {}))
    assert "disagrees with the simulation in 1 rows" in text
