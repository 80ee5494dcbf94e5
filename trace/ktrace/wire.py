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
VERSION = 2
VERSIONS = (1, 2)                         # versions this decoder reads
FRAME_HDR = struct.Struct("<4sHHII")      # magic kind version seq len
FRAME_HDR_SIZE = FRAME_HDR.size          # 16
CRC_SIZE = 4
MAX_PAYLOAD = 1 << 20                     # anything bigger is a damaged length

FR_HEADER, FR_CPU, FR_RECORDS, FR_END, FR_LOSS = 1, 2, 3, 4, 5
FRAME_NAMES = {FR_HEADER: "header", FR_CPU: "cpu", FR_RECORDS: "records", FR_END: "end",
               FR_LOSS: "loss"}

REC = struct.Struct("<QIHBBi7I")          # tsc seq type cpu flags pid w[7]
CPU = struct.Struct("<5I")                # cpu recorded lost held first_seq (+ ntypes u32)
END = struct.Struct("<3I")                # frames-before total lost
LOSS = struct.Struct("<4IQQ")             # cpu type n flags t0 t1
NTYPES = 32                               # per-type counts in a v2 CPU frame
MAX_CPUS = 64
BASE_FIELDS = ("seq", "cpu", "pid", "tsc", "t", "type", "t_us")


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
    ntype: tuple = ()        # events that passed the filters, per type code (v2)


@dataclass
class Pause:
    """n events of type on cpu arrived while recording was paused between
    tsc t0 and t1; open: the pause was going on when the dump was written."""
    cpu: int
    type: int
    n: int
    t0: int
    t1: int
    open: bool


@dataclass
class Dump:
    config: Dict[str, object] = field(default_factory=dict)
    table: Optional[ev.EventTable] = None          # from the header, else the source
    header_ok: bool = False
    counters: Dict[str, int] = field(default_factory=dict)
    cpus: Dict[int, CpuInfo] = field(default_factory=dict)
    records: List[Record] = field(default_factory=list)
    end: Optional[tuple] = None                     # (frames before, total, lost)
    pauses: List[Pause] = field(default_factory=list)
    version: int = 0
    index: int = 0                                  # which dump of the file (0-based)
    ndumps: int = 1
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
            "paused_lost": sum(p.n for p in self.pauses),
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
        self.ntypes = NTYPES

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
        if ver not in VERSIONS:
            self.problem("bad_version", pos, "frame version %d, decoder knows %s"
                         % (ver, VERSIONS))
        elif not self.d.version:
            self.d.version = ver
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
                   FR_RECORDS: self.on_records, FR_END: self.on_end,
                   FR_LOSS: self.on_loss}.get(kind)
        if handler is None:
            self.problem("unknown_frame", pos, "frame kind %d" % kind)
        else:
            handler(pos, fseq, payload)
        return end

    def resync(self, pos):
        nxt = self.data.find(MAGIC, pos + 1)
        return len(self.data) if nxt < 0 else nxt

    def on_header(self, pos, fseq, payload):
        if self.d.header_ok:
            self.problem("duplicate", pos, "a second header frame in one dump")
            return
        try:
            cfg, table, counters = ev.parse_header_text(payload.decode("ascii"))
            validate_header(cfg, table)
        except (UnicodeDecodeError, ValueError) as e:
            self.problem("bad_header", pos, str(e))
            return
        if cfg.get("ktrace") not in VERSIONS:
            self.problem("bad_version", pos, "header says version %r" % cfg.get("ktrace"))
        self.d.config, self.d.table, self.d.counters = cfg, table, counters
        self.d.header_ok = True
        self.ntypes = cfg.get("ntypes", NTYPES if cfg.get("ktrace") == 2 else 0)

    def on_cpu(self, pos, fseq, payload):
        want = CPU.size + 4 * self.ntypes
        if len(payload) != want:
            self.problem("bad_length", pos, "cpu frame of %d bytes (expected %d)"
                         % (len(payload), want))
            return
        c = CpuInfo(*CPU.unpack_from(payload))
        c.ntype = struct.unpack_from("<%dI" % self.ntypes, payload, CPU.size)
        if c.cpu >= MAX_CPUS or c.cpu >= self.d.config.get("ncpu", MAX_CPUS):
            self.problem("bad_cpu_info", pos, "cpu frame for cpu %d" % c.cpu)
            return
        if c.cpu in self.d.cpus:
            self.problem("duplicate", pos, "a second cpu frame for cpu %d" % c.cpu)
            return
        # held records take 48 bytes each in this dump: more is impossible
        if c.held > self.d.size // REC.size or c.held > self.d.config.get("cap", c.held):
            self.problem("bad_cpu_info", pos, "cpu %d: recorded %d, lost %d, held %d "
                         "(in a dump of %d bytes, cap %s)" % (c.cpu, c.recorded, c.lost, c.held,
                                                             self.d.size,
                                                             self.d.config.get("cap")))
            c.held = min(c.held, self.d.size // REC.size)
        if c.ntype and sum(c.ntype) % (1 << 32) != c.recorded:
            self.problem("bad_cpu_info", pos, "cpu %d: per-type counts add up to %d, not %d"
                         % (c.cpu, sum(c.ntype), c.recorded))
        self.d.cpus[c.cpu] = c

    def on_loss(self, pos, fseq, payload):
        if len(payload) % LOSS.size:
            self.problem("bad_length", pos, "loss frame of %d bytes" % len(payload))
            return
        for i in range(0, len(payload), LOSS.size):
            cpu, typ, n, flags, t0, t1 = LOSS.unpack_from(payload, i)
            if cpu >= self.d.config.get("ncpu", MAX_CPUS) or typ >= max(self.ntypes, 1) \
                    or flags > 1 or (t1 < t0 and not flags):
                self.problem("bad_loss", pos, "pause window cpu %d type %d n %d flags %d"
                             % (cpu, typ, n, flags))
                continue
            self.d.pauses.append(Pause(cpu, typ, n, t0, t1, bool(flags)))

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
        if self.d.end is not None:
            self.problem("duplicate", pos, "a second end frame in one dump")
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
        unknown = {}
        for r in d.records:
            if r.type not in d.table.events:
                unknown[r.type] = unknown.get(r.type, 0) + 1
        for t, n in sorted(unknown.items()):
            self.problem("unknown_type", -1, "%d records of type %d" % (n, t), count=n)
        self.check_sequences()
        self.check_totals()

    def check_totals(self):
        """The END frame's totals and the header's ncpu against what was decoded."""
        d = self.d
        ncpu = d.config.get("ncpu")
        if d.header_ok and ncpu is not None and len(d.cpus) != ncpu and d.end is not None:
            missing = sorted(set(range(ncpu)) - set(d.cpus))
            self.problem("missing_cpu_info", -1, "header says %d cpus, cpu frames for %d "
                         "(missing %s)" % (ncpu, len(d.cpus), missing))
        if d.end is None:
            return
        _, total, lost = d.end
        held = sum(c.held for c in d.cpus.values())
        klost = sum(c.lost for c in d.cpus.values()) + sum(p.n for p in d.pauses)
        if self.damaged():
            return
        if total != held or total < len(d.records):
            self.problem("end_mismatch", -1, "end frame says %d records, cpu frames say %d held, "
                         "%d decoded" % (total, held, len(d.records)))
        if lost != klost:
            self.problem("end_mismatch", -1, "end frame says %d lost, cpu and loss frames say %d"
                         % (lost, klost))

    def damaged(self):
        return any(p.kind in ("bad_frame", "frame_gap", "truncated") for p in self.d.problems)

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
            inside = sorted(s for s in present if lo <= s < hi)
            gaps, prev = [], lo
            for s in inside:
                if s > prev:
                    gaps.append((prev, s))
                prev = s + 1
            if prev < hi:
                gaps.append((prev, hi))
            for a, b in gaps:
                self.problem("seq_gap", -1, "cpu %d: records %d..%d missing" % (cpu, a, b - 1),
                             count=b - a, cpu=cpu)
            outside = [s for s in present if s < lo or s >= hi]
            if info is not None and outside:
                self.problem("bad_record", -1, "cpu %d: %d records outside %d..%d"
                             % (cpu, len(outside), lo, hi - 1), count=len(outside), cpu=cpu)
            if info is not None and len(inside) < info.held:
                self.problem("missing_records", -1, "cpu %d: %d of %d kept records not decoded"
                             % (cpu, info.held - len(inside), info.held),
                             count=info.held - len(inside), cpu=cpu)


def validate_header(cfg, table):
    """Every header value in its range and every field name free to use;
    ValueError naming the first that is not."""
    def need(key, ok, what):
        if key in cfg and not (isinstance(cfg[key], int) and ok(cfg[key])):
            raise ValueError("header %s %r: %s" % (key, cfg[key], what))
    need("ktrace", lambda v: v in VERSIONS, "unknown version")
    need("recsize", lambda v: v == REC.size, "records are %d bytes" % REC.size)
    need("nwords", lambda v: v == ev.NWORDS, "records have %d words" % ev.NWORDS)
    need("ncpu", lambda v: 1 <= v <= MAX_CPUS, "1..%d" % MAX_CPUS)
    need("cap", lambda v: 1 <= v <= 1 << 24, "1..2^24")
    need("mask", lambda v: 0 <= v < 1 << 32, "32 bits")
    need("mask_changed", lambda v: 0 <= v < 1 << 32, "32 bits")
    need("pid", lambda v: v >= 0, "not negative")
    need("tsc_khz", lambda v: 1000 <= v <= 100000000, "1 MHz .. 100 GHz")
    need("tsc_per_tick", lambda v: v > 0, "positive")
    need("ntypes", lambda v: 1 <= v <= 64, "1..64")
    for key in ("follow", "enabled"):
        need(key, lambda v: v in (0, 1), "0 or 1")
    for key in ("mode", "reason"):
        if key in cfg and not isinstance(cfg[key], str):
            raise ValueError("header %s %r: a word" % (key, cfg[key]))
    if cfg.get("mode", "flight") not in ("flight", "stop"):
        raise ValueError("header mode %r" % cfg["mode"])
    for key in ("ktrace", "recsize", "ncpu", "mode", "cap", "mask"):
        if key not in cfg:
            raise ValueError("header lacks %s" % key)
    if cfg["ktrace"] >= 2 and "tsc_khz" not in cfg:
        raise ValueError("header lacks tsc_khz")
    for code, et in table.events.items():
        if not 1 <= code < 64:
            raise ValueError("event code %d out of range" % code)
        for f in et.fields:
            if f.name in BASE_FIELDS or f.name.endswith("_sym") or f.name.startswith("err_"):
                raise ValueError("event %s: field name %r is taken" % (et.name, f.name))
            if f.kind == "e" and f.enum not in table.enums:
                raise ValueError("event %s: no enum %r" % (et.name, f.enum))


def dump_starts(data):
    """Offsets of the dumps in data: each valid HEADER frame numbered 0
    begins one (the first dump also owns any bytes before it)."""
    starts, pos = [], 0
    while True:
        at = data.find(MAGIC, pos)
        if at < 0 or len(data) - at < FRAME_HDR_SIZE:
            break
        _, kind, ver, fseq, length = FRAME_HDR.unpack_from(data, at)
        end = at + FRAME_HDR_SIZE + length + CRC_SIZE
        if kind == FR_HEADER and fseq == 0 and length <= MAX_PAYLOAD and end <= len(data):
            crc, = struct.unpack_from("<I", data, end - CRC_SIZE)
            if zlib.crc32(data[at:end - CRC_SIZE]) == crc:
                starts.append(at)
                pos = end
                continue
        pos = at + 1
    if not starts:
        return [0]
    if starts[0] > 0:
        # Before the first header: a dump whose header was damaged (it has
        # good frames: a dump of its own), or mere noise (the first dump's).
        if _has_good_frame(data[:starts[0]]):
            starts.insert(0, 0)
        else:
            starts[0] = 0
    return starts


def _has_good_frame(data):
    pos = 0
    while True:
        at = data.find(MAGIC, pos)
        if at < 0 or len(data) - at < FRAME_HDR_SIZE:
            return False
        length = FRAME_HDR.unpack_from(data, at)[4]
        end = at + FRAME_HDR_SIZE + length + CRC_SIZE
        if length <= MAX_PAYLOAD and end <= len(data) and \
                zlib.crc32(data[at:end - CRC_SIZE]) == struct.unpack_from("<I", data, end - 4)[0]:
            return True
        pos = at + 1


def count_dumps(data):
    return len(dump_starts(bytes(data)))


def parse_dump(data, index=-1):
    """bytes -> the Dump at index (default the last) of the dumps in data.
    Never raises on damaged input; IndexError if there is no such dump."""
    data = bytes(data)
    starts = dump_starts(data)
    k = index if index >= 0 else len(starts) + index
    if not 0 <= k < len(starts):
        raise IndexError("dump %d: the file holds %d" % (index, len(starts)))
    end = starts[k + 1] if k + 1 < len(starts) else len(data)
    d = _Parser(data[starts[k]:end]).run()
    d.index, d.ndumps = k, len(starts)
    return d
