"""Tests of the trace decoder (trace/ktrace) on synthetic dumps, golden
fixtures (clean, with losses, flipped byte, truncated) and, when present,
a real dump made by the kernel (fixtures/trace_kernel.bin).

    /usr/bin/python3 -m pytest tests/host/test_trace_decoder.py
"""
import io
import json
import os
import re
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "trace"))
sys.path.insert(0, HERE)

from ktrace import parse_dump, load_source_table  # noqa: E402
from ktrace.events import parse_fields, NWORDS  # noqa: E402
from ktrace.transform import to_frame, counter_agreement  # noqa: E402
from ktrace.export import write_csv, write_chrome_json  # noqa: E402
from ktrace.writer import SimWriter  # noqa: E402
from ktrace.cli import main as cli_main  # noqa: E402
import make_trace_fixtures as mk  # noqa: E402

FIX = os.path.join(HERE, "fixtures")


def fixture(name):
    with open(os.path.join(FIX, name), "rb") as fh:
        return fh.read()


def kinds(dump):
    return sorted(p.kind for p in dump.problems)


# ---- the event list -------------------------------------------------------------

def test_source_table_is_consistent():
    t = load_source_table()
    assert len(t.events) >= 10
    for code, et in t.events.items():
        assert 1 <= code < 32
        assert sum(f.nbytes for f in et.fields) <= NWORDS * 4
    names = [et.name for et in t.events.values()]
    assert len(set(names)) == len(names)
    # the first counters are the fault counters, in fault-kind order, up to
    # "faults"; fault kinds added later (swap) have their counter appended
    faults = [t.enums["fault"][i] for i in sorted(t.enums["fault"])]
    first = t.counters.index("faults")
    assert t.counters[:first] == ["fault_" + f for f in faults[:first]]
    assert all("fault_" + f in t.counters[first:] for f in faults[first:])
    assert sorted(t.enums["fault"]) == list(range(len(faults)))


def test_tracectl_header_matches_record_layout():
    text = open(os.path.join(ROOT, "kernel", "tracectl.h")).read()
    assert re.search(r"#define TRACE_NWORDS\s+%d\b" % NWORDS, text)


@pytest.mark.parametrize("spec", ["a", "a:q", "a:s3", "a:s0", "a:x b:x c:x d:x e:x f:x g:x h:x"])
def test_bad_field_specs_rejected(spec):
    with pytest.raises(ValueError):
        parse_fields(spec)


# ---- clean dumps -----------------------------------------------------------------

def test_clean_fixture_roundtrip():
    d = parse_dump(fixture("trace_clean.bin"))
    assert d.problems == []
    s = d.summary()
    assert s["records"] == 208 and s["kernel_lost"] == 0 and s["bad_frames"] == 0
    df = to_frame(d)
    faults = df[df.type == "fault"]
    assert len(faults) == 100
    assert set(faults.how) == {"zero"}
    assert sorted(faults.va.astype(int)) == [0x40000000 + 4096 * i for i in range(100)]
    assert (faults.err_write == 1).all() and (faults.err_user == 1).all()
    assert df[df.type == "marker"].iloc[0].label == "phase two"
    assert df[df.type == "exit"].iloc[0]["name"] == "touch"
    assert df[df.type == "msync_write"].iloc[0].why == "msync"
    agree = counter_agreement(d, df)
    assert len(agree) > 10 and agree.agree.all()


def test_matches_writer_exactly():
    w = SimWriter(ncpu=1, cap=8, mode="flight")
    w.emit(0, "marker", pid=7, label="x" * 40, arg=-1)       # label cut to 23 bytes
    w.emit(0, "fork", pid=7, child=8, name="abcdefghijklmnopq")
    df = to_frame(parse_dump(w.dump()))
    assert df.iloc[0].label == "x" * 23 and df.iloc[0].arg == -1
    assert df.iloc[1]["name"] == "abcdefghijklmno" and df.iloc[1].child == 8


def test_csv_and_chrome_json(tmp_path):
    d = parse_dump(fixture("trace_clean.bin"))
    df = to_frame(d)
    csv, js = tmp_path / "e.csv", tmp_path / "t.json"
    write_csv(df, csv)
    write_chrome_json(df, d, js)
    lines = open(csv).read().splitlines()
    assert len(lines) == 1 + 208
    assert lines[0].startswith("seq,cpu,pid,tsc,t,t_us,type,va,eip,err,how,cycles")
    doc = json.load(open(js))
    evs = [e for e in doc["traceEvents"] if e["ph"] != "M"]
    assert len(evs) == 208
    f = [e for e in evs if e["ph"] == "X"]
    assert len(f) == 100 and all(e["dur"] > 0 for e in f)
    assert any(e["ph"] == "M" and e["args"]["name"].startswith("touch") for e in doc["traceEvents"])


def test_cli(tmp_path, capsys):
    out = tmp_path / "r"
    rc = cli_main(["decode", os.path.join(FIX, "trace_clean.bin"),
                   "--csv", str(out / "e.csv"), "--json", str(out / "t.json")])
    assert rc == 0 and (out / "e.csv").exists() and (out / "t.json").exists()
    assert cli_main(["check", os.path.join(FIX, "trace_flipped.bin")]) == 1
    assert "bad_frame" in capsys.readouterr().out
    assert cli_main(["check", str(tmp_path / "nonexistent")]) == 2


# ---- losses in the kernel ---------------------------------------------------------

@pytest.mark.parametrize("mode", ["flight", "stop"])
def test_lost_fixtures(mode):
    d = parse_dump(fixture("trace_lost_%s.bin" % mode))
    assert d.problems == []                     # kernel losses are not damage
    s = d.summary()
    assert s["kernel_lost"] == 80
    assert s["per_cpu"][0] == {"recorded": 130, "lost": 80, "held": 50, "decoded": 50}
    assert s["per_cpu"][1] == {"recorded": 10, "lost": 0, "held": 10, "decoded": 10}
    df = to_frame(d)
    labels = list(df[df.cpu == 0].label)
    if mode == "flight":                        # the newest 50 survive
        assert labels == ["m%d" % i for i in range(80, 130)]
    else:                                       # the first 50 survive
        assert labels == ["m%d" % i for i in range(50)]


@pytest.mark.parametrize("mode", ["flight", "stop"])
@pytest.mark.parametrize("n", [0, 1, 49, 50, 51, 200, 1000])
def test_lost_counts_exact(mode, n):
    w = SimWriter(ncpu=1, cap=50, mode=mode)
    for i in range(n):
        w.emit(0, "marker", label="e", arg=i)
    d = parse_dump(w.dump())
    assert d.problems == []
    assert d.summary()["kernel_lost"] == max(0, n - 50)
    assert len(d.records) == min(n, 50)


# ---- damaged streams ------------------------------------------------------------------

def test_flipped_fixture():
    d = parse_dump(fixture("trace_flipped.bin"))
    s = d.summary()
    assert s["bad_frames"] == 1 and s["missing_frames"] == 1
    assert s["missing_records"] == 39 and s["seq_gaps"] == 39      # that frame held 64..102
    assert kinds(d) == ["bad_frame", "frame_gap", "missing_records", "seq_gap"]
    assert "records 64..102 missing" in str(d.problems_of("seq_gap")[0])


def test_truncated_fixture():
    d = parse_dump(fixture("trace_truncated.bin"))
    s = d.summary()
    assert s["truncated"] == 1 and s["bad_frames"] == 0
    assert kinds(d) == ["missing_end", "missing_records", "seq_gap", "truncated"]
    assert s["missing_records"] == 41


def test_every_single_byte_flip_in_a_records_frame_is_reported_exactly():
    frames = mk.clean_writer().frames()
    i = [k for k, f in enumerate(frames) if f[4] == 3][1]
    nrec = int.from_bytes(frames[i][16 + 4:16 + 8], "little")
    for off in range(len(frames[i])):
        f = bytearray(frames[i])
        f[off] ^= 0x01
        d = parse_dump(b"".join(frames[:i]) + bytes(f) + b"".join(frames[i + 1:]))
        s = d.summary()
        assert s["bad_frames"] == 1, off
        assert s["missing_frames"] == 1, off
        assert s["missing_records"] == nrec, off
        assert s["records"] == 208 - nrec, off


def test_any_damage_never_crashes_and_is_noticed():
    data = fixture("trace_clean.bin")
    for off in range(0, len(data), 7):
        for bit in (0x01, 0x80):
            b = bytearray(data)
            b[off] ^= bit
            d = parse_dump(bytes(b))
            assert d.problems, off
            if off % 91 == 0:
                to_frame(d)                  # (slow: only some)
    for cut in range(0, len(data), 13):
        d = parse_dump(data[:cut])
        assert d.problems, cut
        if cut % 91 == 0:
            to_frame(d)


def test_lost_frame_and_garbage():
    frames = mk.clean_writer().frames()
    d = parse_dump(b"".join(frames[:2] + frames[3:]))       # frame 2 dropped in transit
    assert d.summary()["missing_frames"] == 1 and d.summary()["bad_frames"] == 0
    d = parse_dump(b"noise" + b"".join(frames) + b"tail")
    assert kinds(d) == ["bad_frame", "bad_frame"]
    assert len(d.records) == 208


def test_header_lost_falls_back_to_source():
    frames = mk.clean_writer().frames()
    d = parse_dump(b"".join(frames[1:]))
    assert "missing_header" in kinds(d)
    df = to_frame(d)
    assert (df[df.type == "fault"].how == "zero").all()


def test_empty_and_garbage_input():
    for data in (b"", b"\0" * 100, b"KTRF", b"KTRF" + b"\xff" * 12, os.urandom(3000)):
        d = parse_dump(data)
        assert d.problems
        to_frame(d)


# ---- a real dump made by the kernel -----------------------------------------------------

KDUMP = os.path.join(FIX, "trace_kernel.bin")


@pytest.mark.skipif(not os.path.exists(KDUMP), reason="no kernel-made dump yet")
def test_kernel_dump():
    d = parse_dump(fixture("trace_kernel.bin"))
    assert d.problems == []
    assert d.header_ok
    src = load_source_table()
    assert {c: e.spec for c, e in d.table.events.items()} == \
        {c: e.spec for c, e in src.events.items()}
    assert d.table.enums == src.enums and d.table.counters == src.counters
    df = to_frame(d)
    assert len(df) == len(d.records) > 0
    assert {"fault", "page_alloc", "page_free", "fork", "exec", "exit", "marker"} <= set(df.type)
    # `trace run sh -c "ls / | grep e | wc; trace mark phase 7"`: every exec'd
    # program was forked, and exited with status 0.
    forks, execs, exits = (df[df.type == t] for t in ("fork", "exec", "exit"))
    assert {"sh", "ls", "grep", "wc", "trace"} <= set(execs.name)
    for row in execs.itertuples():
        assert row.pid in set(forks.child)
        assert list(exits[exits.pid == row.pid].status) == [0]
    assert list(df[df.type == "marker"].label) == ["phase"]
    assert d.summary()["kernel_lost"] == 0 and not d.config.get("pid")
    agree = counter_agreement(d, df)
    assert len(agree) and agree.agree.all()
    buf = io.StringIO()
    write_csv(df, buf)
