"""Regenerate the synthetic trace-dump fixtures (golden files) under
tests/host/fixtures/:

    PYTHONPATH=trace /usr/bin/python3 tests/host/make_trace_fixtures.py

trace_clean.bin      2 CPUs, every event type, nothing lost
trace_lost_flight.bin  flight mode, cap 50: 130 events on cpu 0 -> 80 lost
trace_lost_stop.bin    stop mode, cap 50: 130 events on cpu 0 -> 80 lost
trace_flipped.bin    trace_clean.bin with one byte flipped in its 2nd records frame
trace_truncated.bin  trace_clean.bin cut in the middle of its last records frame
trace_kernel.bin is a real dump made by the kernel (2 CPUs), not by this script:
    /usr/bin/python3 tools/run.py --com2 tests/host/fixtures/trace_kernel.bin -- \
        'trace run -a sh -c "ls / | grep e | wc; trace mark phase 7"'
(regenerate it when kernel/trace_events.h changes; test_trace_decoder.py
checks it against the event list).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "trace"))

from ktrace.writer import SimWriter  # noqa: E402

FIX = os.path.join(HERE, "fixtures")


def clean_writer():
    w = SimWriter(ncpu=2, cap=256, mode="flight", tsc_khz=1000000)
    w.emit(0, "fork", pid=1, child=5, name="sh")
    w.emit(1, "exec", pid=5, name="touch")
    w.emit(1, "mmap", pid=5, addr=0x40000000, len=0x10000, prot=3, flags=0x22, ino=0, off=0)
    for i in range(100):
        w.emit(i % 2, "fault", pid=5, va=0x40000000 + 4096 * i, eip=0x1234, err=6,
               how="zero", cycles=1500 + i)
        w.emit(i % 2, "page_alloc", pid=5, pa=0x300000 + 4096 * i, order=0, site=0x80102030)
    w.emit(0, "msync_write", pid=5, va=0x40000000, ino=12, off=0, bytes=4096, why="msync")
    w.emit(1, "marker", pid=5, label="phase two", arg=2)
    w.emit(1, "munmap", pid=5, addr=0x40000000, len=0x10000)
    w.emit(0, "page_free", pid=5, pa=0x300000, order=0, site=0x80102040)
    w.emit(1, "exit", pid=5, status=0, name="touch")
    return w


def lost_writer(mode):
    w = SimWriter(ncpu=2, cap=50, mode=mode)
    for i in range(130):
        w.emit(0, "marker", pid=2, label="m%d" % i, arg=i)
    for i in range(10):
        w.emit(1, "marker", pid=2, label="n%d" % i, arg=i)
    return w


def flipped(frames):
    rec = [i for i, f in enumerate(frames) if f[4] == 3]
    i = rec[1]
    f = bytearray(frames[i])
    f[16 + 8 + 48 * 3 + 20] ^= 0x40          # inside the 4th record's payload
    return b"".join(frames[:i]) + bytes(f) + b"".join(frames[i + 1:])


def truncated(frames):
    rec = [i for i, f in enumerate(frames) if f[4] == 3]
    i = rec[-1]
    return b"".join(frames[:i]) + frames[i][:len(frames[i]) // 2]


def main():
    os.makedirs(FIX, exist_ok=True)
    frames = clean_writer().frames()
    out = {
        "trace_clean.bin": b"".join(frames),
        "trace_lost_flight.bin": lost_writer("flight").dump(),
        "trace_lost_stop.bin": lost_writer("stop").dump(),
        "trace_flipped.bin": flipped(frames),
        "trace_truncated.bin": truncated(frames),
    }
    for name, data in out.items():
        with open(os.path.join(FIX, name), "wb") as fh:
            fh.write(data)
        print("wrote %s (%d bytes)" % (name, len(data)))


if __name__ == "__main__":
    main()
