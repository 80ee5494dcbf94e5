"""Host tests of the trace decoder's fidelity: losses while recording was
paused and the counter cross-check, the clock, losses in every output,
several dumps in one file, and hostile input (crafted frames with valid
CRCs, and a fast fuzz run).

    /usr/bin/python3 -m pytest tests/host/test_trace_fidelity.py
"""
import csv
import json
import os
import random
import struct
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "trace"))
sys.path.insert(0, HERE)

from ktrace import parse_dump  # noqa: E402
from ktrace.checks import cross_check, loss_table  # noqa: E402
from ktrace.transform import to_frame  # noqa: E402
from ktrace.export import write_csv, write_chrome_json, NoClock  # noqa: E402
from ktrace.writer import SimWriter, frame  # noqa: E402
from ktrace.wire import CPU, END, LOSS, NTYPES, FR_HEADER, FR_CPU, FR_RECORDS, FR_END, \
    FR_LOSS  # noqa: E402
from ktrace.cli import main as cli_main  # noqa: E402


def kinds(d):
    return sorted(p.kind for p in d.problems)


def busy_writer(pause_at=None, **kw):
    """Two CPUs: 300 faults and page allocations of pid 5 on cpu 1, markers
    on cpu 0; recording paused for faults pause_at .. pause_at+40."""
    w = SimWriter(ncpu=2, cap=4096, **kw)
    for i in range(300):
        if pause_at is not None and i == pause_at:
            w.pause()
        if pause_at is not None and i == pause_at + 40:
            w.resume()
        w.emit(1, "fault", pid=5, va=0x40000000 + 4096 * i, eip=0x1000, err=6, how="zero",
               cycles=900)
        w.emit(1, "page_alloc", pid=5, pa=0x200000 + 4096 * i, order=0, site=0x80101000)
        if i % 50 == 0:
            w.emit(0, "marker", pid=5, label="tick", arg=i)
    return w


# ---- 1. no silent gaps: paused events are counted, counters always checked ------

def test_paused_events_are_reported_per_cpu_and_type():
    d = parse_dump(busy_writer(pause_at=100).dump())
    assert cross_check(d) == [] and d.problems == []
    assert d.summary()["paused_lost"] == 81
    paused = {(p.cpu, d.table.events[p.type].name): p.n for p in d.pauses}
    assert paused == {(1, "fault"): 40, (1, "page_alloc"): 40, (0, "marker"): 1}
    assert all(p.t1 > p.t0 for p in d.pauses)
    assert d.end[2] == 81


def test_a_silent_gap_is_a_counter_mismatch(capsys):
    """What the kernel did before: events dropped while paused without a
    count. The counters say 300 faults, the trace has 260: exit 1, naming
    the counter and the numbers."""
    w = busy_writer(pause_at=100)
    w.pauses = []                                    # the loss report is missing
    data = w.dump()
    d = parse_dump(data)
    probs = cross_check(d)
    assert probs and all(p.kind == "counter_mismatch" for p in probs)
    text = " ".join(str(p) for p in probs)
    assert "counter faults is 300" in text and "260" in text
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".bin") as fh:
        fh.write(data)
        fh.flush()
        assert cli_main(["check", fh.name]) == 1
    assert "counters agree with the trace: NO" in capsys.readouterr().out


def test_counters_checked_even_with_losses():
    """Ring losses no longer switch the check off: 300 faults through a
    64-record ring agree (passed = kept + overflow), and a wrong counter
    is still caught."""
    w = busy_writer(mode="flight")
    w.cap = 64
    w2 = SimWriter(ncpu=1, cap=64, mode="flight")
    for i in range(300):
        w2.emit(0, "fault", pid=5, va=4096 * i, how="zero" if i % 3 else "cow_copy", cycles=5)
    d = parse_dump(w2.dump())
    assert d.summary()["kernel_lost"] == 236 and cross_check(d) == []
    w2.counters["faults"] += 1
    d = parse_dump(w2.dump())
    assert [p.kind for p in cross_check(d)] == ["counter_mismatch"]


def test_pid_filter_is_cross_checked_per_type():
    """With a pid filter the VM counters cannot be compared, but the
    kernel's per-type counts of filtered events are: a record missing
    without a count is caught."""
    w = SimWriter(ncpu=1, cap=64, pid=5, follow=1)
    for i in range(30):
        w.emit(0, "fault", pid=5 if i % 2 else 6, va=4096 * i, how="zero")
    for i in range(3):
        w.emit(0, "marker", pid=5, label="m")
    d = parse_dump(w.dump())
    assert cross_check(d) == [] and len(d.records) == 18
    w.ntype[0][1] += 2                               # the kernel passed 17 faults
    w.ntype[0][10] -= 2                              # and 1 marker, but 3 are here
    d = parse_dump(w.dump())
    probs = cross_check(d)
    assert [p.kind for p in probs] == ["counter_mismatch"]
    assert "marker: 3 records decoded, the kernel passed 1" in str(probs[0])


# ---- 2. the clock: measured, never guessed -------------------------------------------

def test_times_in_microseconds_from_the_measured_rate(tmp_path):
    w = SimWriter(ncpu=1, cap=16, tsc_khz=2600000)
    w.emit(0, "marker", label="a")
    w.tsc += 2600000 - 137                           # 1 ms later at 2.6 GHz
    w.emit(0, "marker", label="b")
    d = parse_dump(w.dump())
    df = to_frame(d)
    assert list(df.t_us) == [0.0, 1000.0]
    write_chrome_json(df, d, tmp_path / "t.json")
    doc = json.load(open(tmp_path / "t.json"))
    ts = sorted(e["ts"] for e in doc["traceEvents"] if e["ph"] == "i")
    assert ts == [0.0, 1000.0]


def test_no_rate_no_times(tmp_path, capsys):
    """A dump without tsc_khz: the decoder refuses to guess (no 1 GHz)."""
    w = SimWriter(ncpu=1, cap=16, tsc_khz=None)
    w.emit(0, "marker", label="a")
    path = tmp_path / "d.bin"
    path.write_bytes(w.dump())
    d = parse_dump(path.read_bytes())
    assert "bad_header" in kinds(d)                  # v2 header must carry the rate
    with pytest.raises(NoClock):
        write_chrome_json(to_frame(d), d, tmp_path / "t.json")
    assert cli_main(["decode", str(path), "--json", str(tmp_path / "t.json")]) == 1
    assert not (tmp_path / "t.json").exists()


# ---- 3. losses in every output --------------------------------------------------------

def test_losses_in_csv_json_and_report(tmp_path, capsys):
    w = busy_writer(pause_at=100)
    w2 = SimWriter(ncpu=2, cap=32, mode="flight")
    for i in range(50):
        w2.emit(0, "fault", pid=5, va=0x40000000 + 4096 * i, eip=0x1000, how="zero",
                cycles=5000)
    w2.pause()
    w2.emit(1, "marker", pid=5, label="m")
    w2.resume()
    path = tmp_path / "d.bin"
    path.write_bytes(w2.dump())
    assert cli_main(["decode", str(path), "--csv", str(tmp_path / "e.csv"),
                     "--json", str(tmp_path / "t.json")]) == 0
    out = capsys.readouterr().out
    assert "losses (per cpu and event type)" in out
    assert "lost while paused: cpu 1, 1 marker events" in out
    rows = list(csv.DictReader(open(tmp_path / "e.csv")))
    lost = [r for r in rows if r["type"] == "lost"]
    assert sorted((r["cpu"], r["lost"], r["lost_type"]) for r in lost) == \
        [("0", "18", "fault"), ("1", "1", "marker")]
    doc = json.load(open(tmp_path / "t.json"))
    evs = doc["traceEvents"]
    gaps = [e for e in evs if e.get("cat") == "lost"]
    assert sorted(e["name"] for e in gaps) == ["1 events lost", "18 events lost"]
    assert doc["otherData"]["lost_overflow"] == 18 and doc["otherData"]["lost_paused"] == 1
    assert doc["otherData"]["lost_by_type"] == {"fault": 18, "marker": 1}
    assert all(e["ts"] >= 0 for e in evs if "ts" in e)          # faults start before tsc
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in evs
               if e["ph"] == "M" and e["name"] == "thread_name"}
    assert threads[(5, 0)] == "cpu 0"
    procs = {e["pid"] for e in evs if e["ph"] == "M" and e["name"] == "process_name"}
    assert {0, 5} <= procs
    f = next(e for e in evs if e["ph"] == "X")
    assert f["args"]["va"].startswith("0x") and f["args"]["eip"] == "0x1000"
    assert w is not None


# ---- 4. several dumps in one file -----------------------------------------------------

def test_several_dumps_decode_separately(tmp_path, capsys):
    a = SimWriter(ncpu=1, cap=16)
    a.emit(0, "marker", label="first")
    first = a.dump()
    a.emit(0, "marker", label="second")
    data = first + a.dump()
    d = parse_dump(data)
    assert d.problems == [] and d.ndumps == 2 and d.index == 1
    assert [to_frame(d).label.tolist()] == [["first", "second"]]
    d0 = parse_dump(data, 0)
    assert d0.problems == [] and to_frame(d0).label.tolist() == ["first"]
    path = tmp_path / "two.bin"
    path.write_bytes(data)
    assert cli_main(["check", str(path), "--dump", "0"]) == 0
    assert "dump 0 of dumps 0..1" in capsys.readouterr().out
    assert cli_main(["check", str(path), "--dump", "5"]) == 2
    # damage in the first dump stays in the first
    b = bytearray(data)
    b[len(first) // 2] ^= 0xFF
    assert parse_dump(bytes(b)).problems == []
    assert parse_dump(bytes(b), 0).problems


# ---- 7. hostile input -----------------------------------------------------------------

def header_with(**over):
    w = SimWriter(ncpu=1, cap=16)
    text = w.header_text().decode()
    lines = []
    for line in text.splitlines():
        k = line.split()[0]
        if k in over:
            if over[k] is None:
                continue
            line = "%s %s" % (k, over.pop(k))
        lines.append(line)
    lines += ["%s %s" % kv for kv in over.items()]
    return ("\n".join(lines) + "\n").encode()


def stream(header, cpu_payload=None, records=(), end=None, loss=b""):
    out = [frame(FR_HEADER, 0, header)]
    cp = cpu_payload if cpu_payload is not None else \
        CPU.pack(0, len(records), 0, len(records), 0) + struct.pack("<%dI" % NTYPES, *(
            [0] * 10 + [len(records)] + [0] * (NTYPES - 11)))
    out.append(frame(FR_CPU, 1, cp))
    if records:
        body = struct.pack("<II", 0, len(records)) + b"".join(records)
        out.append(frame(FR_RECORDS, len(out), body))
    if loss:
        out.append(frame(FR_LOSS, len(out), loss))
    e = end if end is not None else END.pack(len(out), len(records), 0)
    out.append(frame(FR_END, len(out), e))
    return b"".join(out)


@pytest.mark.parametrize("over", [
    {"recsize": "abc"}, {"mask": "zz"}, {"ncpu": -2}, {"ncpu": 0}, {"cap": "x"},
    {"tsc_khz": "fast"}, {"ntypes": 100000}, {"mode": "sideways"}, {"ktrace": 9},
    {"recsize": None}, {"pid": -1},
])
def test_bad_header_values_are_problems(over):
    d = parse_dump(stream(header_with(**over)))
    assert "bad_header" in kinds(d) or "bad_version" in kinds(d)
    to_frame(d)
    cross_check(d)


@pytest.mark.parametrize("name", ["seq", "type", "tsc", "pid", "cpu", "t"])
def test_field_names_clashing_with_columns(name):
    h = header_with().replace(b"event 10 marker label:s24 arg:d",
                              b"event 10 marker label:s24 %s:d" % name.encode())
    d = parse_dump(stream(h))
    assert "bad_header" in kinds(d)


def test_huge_held_does_not_hang():
    cp = CPU.pack(0, 0xFFFFFFFF, 0, 0xFFFFFFFF, 0) + b"\0" * (4 * NTYPES)
    d = parse_dump(stream(header_with(cap=1 << 24), cpu_payload=cp))
    assert "bad_cpu_info" in kinds(d)


def test_wrong_end_totals_fail(tmp_path):
    d = parse_dump(stream(header_with(), end=END.pack(2, 5, 7)))
    assert "end_mismatch" in kinds(d)
    p = tmp_path / "d.bin"
    p.write_bytes(stream(header_with(), end=END.pack(2, 5, 7)))
    assert cli_main(["check", str(p)]) == 1


def test_bad_loss_frames():
    bad = LOSS.pack(7, 1, 5, 0, 10, 20) + LOSS.pack(0, 99, 5, 0, 10, 20) + \
        LOSS.pack(0, 1, 5, 3, 10, 20) + LOSS.pack(0, 1, 5, 0, 20, 10)
    d = parse_dump(stream(header_with(), loss=bad, end=END.pack(3, 0, 0)))
    assert kinds(d).count("bad_loss") == 4
    d = parse_dump(stream(header_with(), loss=b"\1\2\3", end=END.pack(3, 0, 0)))
    assert "bad_length" in kinds(d)


def _rand_frame(rng, seq):
    kind = rng.choice([FR_HEADER, FR_CPU, FR_RECORDS, FR_END, FR_LOSS, 9])
    if kind == FR_HEADER:
        keys = ["ktrace", "recsize", "nwords", "ncpu", "mode", "cap", "mask", "pid",
                "tsc_khz", "ntypes", "enabled", "reason", "event", "enum", "counter"]
        lines = []
        for _ in range(rng.randrange(12)):
            k = rng.choice(keys)
            v = rng.choice(["2", "48", "7", "1", "-1", "0x10", "flight", "abc", "4294967295",
                            "99999999999", "1 fault va:x", "fault 0 zero", "faults 3", ""])
            lines.append("%s %s" % (k, v))
        payload = "\n".join(lines).encode()
    elif kind == FR_RECORDS:
        n = rng.randrange(4)
        payload = struct.pack("<II", rng.randrange(3), rng.choice([n, n + 1, 2 ** 32 - 1])) + \
            bytes(rng.randrange(256) for _ in range(48 * n))
    else:
        payload = bytes(rng.randrange(256) for _ in range(rng.choice([0, 12, 20, 148, 24, 48])))
        if kind == FR_CPU and len(payload) >= 20 and rng.random() < 0.5:
            payload = struct.pack("<5I", 0, 2 ** 32 - 1, 0, 2 ** 32 - 1, 0) + payload[20:]
    return frame(kind, seq if rng.random() < 0.9 else rng.randrange(2 ** 32), payload,
                 version=rng.choice([1, 2, 2, 2, 3]))


def test_fuzz_crafted_frames_fast(tmp_path):
    """Random streams of well-checksummed frames (and a real dump with
    random frames spliced in): never a traceback, always finite."""
    rng = random.Random(1234)
    w = SimWriter(ncpu=2, cap=16)
    for i in range(40):
        if i == 10:
            w.pause()
        if i == 15:
            w.resume()
        w.emit(i % 2, "fault", pid=5, va=4096 * i, how="zero", cycles=100)
    base = w.frames()
    for i in range(250):
        if i % 2:
            frames = [_rand_frame(rng, k) for k in range(rng.randrange(1, 8))]
        else:
            frames = list(base)
            for _ in range(rng.randrange(1, 4)):
                frames.insert(rng.randrange(len(frames)), _rand_frame(rng, rng.randrange(5)))
        data = b"".join(frames)
        d = parse_dump(data)
        cross_check(d)
        loss_table(d)
        if i % 10 == 1 or i == 0:
            df = to_frame(d)
            write_csv(df, tmp_path / "e.csv", d)
            try:
                write_chrome_json(df, d, tmp_path / "t.json")
            except NoClock:
                pass
