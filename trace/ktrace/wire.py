"""Parse a trace dump (the bytes the kernel wrote to COM2) into frames and
records, noting every problem found. This is the only module that knows the
byte format (trace/FORMAT.md). It never raises on bad input.

    >>> d = parse_dump(open("out/com2.bin", "rb").read())
    >>> len(d.records), [p.kind for p in d.problems]
    (612, [])
"""
import struct
import zlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from . import events as ev

MAGIC = b"KTRF"
VERSION = 1
FRAME_HDR = struct.Struct("<4sHHII")      # magic kind version seq len
FRAME_HDR_SIZE = FRAME_HDR.size          # 16
CRC_SIZE = 4
MAX_PAYLOAD = 1 << 20                     # anything bigger is a damaged length

FR_HEADER, FR_CPU, FR_RECORDS, FR_END = 1, 2, 3, 4
FRAME_NAMES = {FR_HEADER: "header", FR_CPU: "cpu", FR_RECORDS: "records", FR_END: "end"}

REC = struct.Struct("<QIHBBi7I")          # tsc seq type cpu flags pid w[7]
CPU = struct.Struct("<5I")                # cpu recorded lost held first_seq
END = struct.Struct("<3I")                # frames-before total lost


@dataclass
class Problem:
    kind: str          # see FORMAT.md "What the decoder reports"
    offset: int        # byte offset in the dump (-1: not tied to a place)
    detail: str
    count: int = 1     # how many frames / records the problem covers
    cpu: Optional[int] = None

    def __str__(self):
        where = " at offset %d" % self.offset if self.offset >= 0 else ""
        return "%s%s: %s" % (self.kind, where, self.detail)


@dataclass
class Record:
    cpu: int
    seq: int
    tsc: int
    type: int
    flags: int
    pid: int
    words: tuple


@dataclass
class CpuInfo:
    cpu: int
    recorded: int
    lost: int
    held: int
    first_seq: int


@dataclass
class Dump:
    config: Dict[str, object] = field(default_factory=dict)
    table: Optional[ev.EventTable] = None          # from the header, else the source
    header_ok: bool = False
    counters: Dict[str, int] = field(default_factory=dict)
    cpus: Dict[int, CpuInfo] = field(default_factory=dict)
    records: List[Record] = field(default_factory=list)
    end: Optional[tuple] = None                     # (frames before, total, lost)
    frames_ok: int = 0
    problems: List[Problem] = field(default_factory=list)
    size: int = 0

    def problems_of(self, kind):
        return [p for p in self.problems if p.kind == kind]

    def summary(self):
        """Counts a caller can assert on (see FORMAT.md)."""
        decoded = {}
        for r in self.records:
            decoded[r.cpu] = decoded.get(r.cpu, 0) + 1
        return {
            "frames": self.frames_ok,
            "bad_frames": sum(p.count for p in self.problems_of("bad_frame")),
            "missing_frames": sum(p.count for p in self.problems_of("frame_gap")),
            "truncated": len(self.problems_of("truncated")),
            "records": len(self.records),
            "kernel_lost": sum(c.lost for c in self.cpus.values()),
            "missing_records": sum(p.count for p in self.problems_of("missing_records")),
            "seq_gaps": sum(p.count for p in self.problems_of("seq_gap")),
            "per_cpu": {c: {"recorded": i.recorded, "lost": i.lost, "held": i.held,
                            "decoded": decoded.get(c, 0)}
                        for c, i in sorted(self.cpus.items())},
        }


class _Parser:
    def __init__(self, data):
        self.data = data
        self.d = Dump(size=len(data))
        self.next_fseq = 0
        self.recsize = ev.RECSIZE

    def problem(self, kind, offset, detail, count=1, cpu=None):
        self.d.problems.append(Problem(kind, offset, detail, count, cpu))

    def run(self):
        data, pos = self.data, 0
        while pos < len(data):
            at = data.find(MAGIC, pos)
            if at < 0:
                self.problem("bad_frame", pos, "%d bytes with no frame start" % (len(data) - pos))
                break
            if at > pos:
                self.problem("bad_frame", pos, "%d bytes with no frame start" % (at - pos))
            pos = self.frame_at(at)
        self.finish()
        return self.d

    def frame_at(self, pos):
        """Handle the frame starting at pos; return where to look next."""
        data = self.data
        if len(data) - pos < FRAME_HDR_SIZE:
            self.problem("truncated", pos, "frame header cut short (%d of %d bytes)"
                         % (len(data) - pos, FRAME_HDR_SIZE))
            return len(data)
        _, kind, ver, fseq, length = FRAME_HDR.unpack_from(data, pos)
        end = pos + FRAME_HDR_SIZE + length + CRC_SIZE
        if length > MAX_PAYLOAD or end > len(data):
            if length <= MAX_PAYLOAD and data.find(MAGIC, pos + 4) < 0:
                self.problem("truncated", pos, "frame %d (%s) needs %d bytes, %d left"
                             % (fseq, FRAME_NAMES.get(kind, kind), end - pos, len(data) - pos))
                return len(data)
            self.problem("bad_frame", pos, "impossible length %d" % length)
            return self.resync(pos)
        crc, = struct.unpack_from("<I", data, end - CRC_SIZE)
        if zlib.crc32(data[pos:end - CRC_SIZE]) != crc:
            self.problem("bad_frame", pos, "checksum mismatch (frame claims seq %d, %d bytes)"
                         % (fseq, length))
            return self.resync(pos)
        if ver != VERSION:
            self.problem("bad_version", pos, "frame version %d, decoder knows %d" % (ver, VERSION))
        if fseq != self.next_fseq:
            if fseq > self.next_fseq:
                self.problem("frame_gap", pos, "frames %d..%d missing"
                             % (self.next_fseq, fseq - 1), count=fseq - self.next_fseq)
            else:
                self.problem("frame_order", pos, "frame %d after %d" % (fseq, self.next_fseq - 1))
        self.next_fseq = fseq + 1
        self.d.frames_ok += 1
        payload = data[pos + FRAME_HDR_SIZE:pos + FRAME_HDR_SIZE + length]
        handler = {FR_HEADER: self.on_header, FR_CPU: self.on_cpu,
                   FR_RECORDS: self.on_records, FR_END: self.on_end}.get(kind)
        if handler is None:
            self.problem("unknown_frame", pos, "frame kind %d" % kind)
        else:
            handler(pos, fseq, payload)
        return end

    def resync(self, pos):
        nxt = self.data.find(MAGIC, pos + 1)
        return len(self.data) if nxt < 0 else nxt

    def on_header(self, pos, fseq, payload):
        try:
            cfg, table, counters = ev.parse_header_text(payload.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as e:
            self.problem("bad_header", pos, str(e))
            return
        if cfg.get("ktrace") != VERSION:
            self.problem("bad_version", pos, "header says version %r" % cfg.get("ktrace"))
        self.d.config, self.d.table, self.d.counters = cfg, table, counters
        self.d.header_ok = True
        self.recsize = int(cfg.get("recsize", ev.RECSIZE))
        if self.recsize != REC.size:
            self.problem("bad_header", pos, "record size %d, decoder knows %d"
                         % (self.recsize, REC.size))

    def on_cpu(self, pos, fseq, payload):
        if len(payload) != CPU.size:
            self.problem("bad_length", pos, "cpu frame of %d bytes" % len(payload))
            return
        c = CpuInfo(*CPU.unpack(payload))
        self.d.cpus[c.cpu] = c

    def on_records(self, pos, fseq, payload):
        if len(payload) < 8:
            self.problem("bad_length", pos, "records frame of %d bytes" % len(payload))
            return
        cpu, n = struct.unpack_from("<II", payload)
        if len(payload) != 8 + n * REC.size:
            self.problem("bad_length", pos, "records frame: %d records in %d bytes"
                         % (n, len(payload)))
            return
        for i in range(n):
            t = REC.unpack_from(payload, 8 + i * REC.size)
            r = Record(cpu=t[3], seq=t[1], tsc=t[0], type=t[2], flags=t[4], pid=t[5],
                       words=t[6:])
            if r.cpu != cpu:
                self.problem("bad_record", pos, "record of cpu %d in a frame of cpu %d"
                             % (r.cpu, cpu), cpu=cpu)
            self.d.records.append(r)

    def on_end(self, pos, fseq, payload):
        if len(payload) != END.size:
            self.problem("bad_length", pos, "end frame of %d bytes" % len(payload))
            return
        self.d.end = END.unpack(payload)
        if self.d.end[0] != fseq:
            self.problem("end_mismatch", pos, "end frame says %d frames before it, it is frame %d"
                         % (self.d.end[0], fseq))

    def finish(self):
        d = self.d
        if not d.header_ok:
            self.problem("missing_header", -1, "no valid header frame: using kernel/trace_events.h")
            try:
                d.table = ev.load_source_table()
            except OSError as e:
                self.problem("missing_header", -1, "cannot read the event source: %s" % e)
                d.table = ev.EventTable()
        if d.end is None:
            self.problem("missing_end", -1, "no valid end frame: the dump is incomplete")
        for r in d.records:
            if r.type not in d.table.events:
                self.problem("unknown_type", -1, "record cpu %d seq %d has type %d"
                             % (r.cpu, r.seq, r.type), cpu=r.cpu)
        self.check_sequences()

    def check_sequences(self):
        """Per CPU: the kept records must be the consecutive sequence numbers
        first_seq .. first_seq+held-1 (FORMAT.md). Anything else missing was
        lost between the kernel and here."""
        d = self.d
        bycpu = {}
        for r in d.records:
            bycpu.setdefault(r.cpu, []).append(r.seq)
        for cpu in sorted(set(bycpu) | set(d.cpus)):
            seqs = sorted(bycpu.get(cpu, []))
            info = d.cpus.get(cpu)
            if len(set(seqs)) != len(seqs):
                self.problem("duplicate", -1, "cpu %d: %d repeated sequence numbers"
                             % (cpu, len(seqs) - len(set(seqs))), cpu=cpu)
            if info is None:
                self.problem("missing_cpu_info", -1, "cpu %d: no cpu frame" % cpu, cpu=cpu)
                lo, hi = (seqs[0], seqs[-1] + 1) if seqs else (0, 0)
            else:
                if info.recorded != info.held + info.lost:
                    self.problem("bad_cpu_info", -1, "cpu %d: recorded %d != held %d + lost %d"
                                 % (cpu, info.recorded, info.held, info.lost), cpu=cpu)
                lo, hi = info.first_seq, info.first_seq + info.held
            present = set(seqs)
            gaps, start = [], None
            for s in range(lo, hi):
                if s not in present:
                    if start is None:
                        start = s
                elif start is not None:
                    gaps.append((start, s))
                    start = None
            if start is not None:
                gaps.append((start, hi))
            for a, b in gaps:
                self.problem("seq_gap", -1, "cpu %d: records %d..%d missing" % (cpu, a, b - 1),
                             count=b - a, cpu=cpu)
            outside = [s for s in present if s < lo or s >= hi]
            if info is not None and outside:
                self.problem("bad_record", -1, "cpu %d: %d records outside %d..%d"
                             % (cpu, len(outside), lo, hi - 1), count=len(outside), cpu=cpu)
            if info is not None and len(present) < info.held:
                self.problem("missing_records", -1, "cpu %d: %d of %d kept records not decoded"
                             % (cpu, info.held - len(present & set(range(lo, hi))), info.held),
                             count=info.held - len(present & set(range(lo, hi))), cpu=cpu)


def parse_dump(data):
    """bytes -> Dump. Never raises on damaged input."""
    return _Parser(bytes(data)).run()
