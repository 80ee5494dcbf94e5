"""A reference writer of the dump format, for tests and fixtures. It mirrors
what kernel/trace/trace.c does (the per-CPU ring in flight or stop mode, the
header text, the frames), from a list of events.

    >>> w = SimWriter(ncpu=2, cap=4, mode="stop")
    >>> w.emit(0, "fault", pid=3, va=0x5000, eip=0x1010, err=6, how=0, cycles=900)
    >>> data = w.dump()
"""
import struct
import zlib

from . import events as ev
from .wire import (FRAME_HDR, REC, CPU, END, LOSS, NTYPES, FR_HEADER, FR_CPU, FR_RECORDS,
                   FR_END, FR_LOSS, VERSION)

RECS_PER_FRAME = 64


def frame(kind, seq, payload, version=VERSION):
    head = FRAME_HDR.pack(b"KTRF", kind, version, seq, len(payload))
    return head + payload + struct.pack("<I", zlib.crc32(head + payload))


def encode_payload(et, enums, values):
    raw = b""
    for f in et.fields:
        v = values.get(f.name, 0)
        if f.kind == "s":
            b = v.encode("latin-1")[:f.nbytes - 1]
            raw += b + b"\0" * (f.nbytes - len(b))
        else:
            if f.kind == "e" and isinstance(v, str):
                v = {n: k for k, n in enums[f.enum].items()}[v]
            raw += struct.pack("<I", v & 0xFFFFFFFF)
    raw += b"\0" * (ev.NWORDS * 4 - len(raw))
    return struct.unpack("<7I", raw)


class SimWriter:
    def __init__(self, ncpu=2, cap=64, mode="flight", mask=0xFFFFFFFE, pid=0, table=None,
                 tsc_khz=2000000, follow=0, enabled=0, reason="call"):
        self.table = table or ev.load_source_table()
        self.ncpu, self.cap, self.mode, self.mask, self.pid = ncpu, cap, mode, mask, pid
        self.tsc_khz, self.follow, self.enabled, self.reason = tsc_khz, follow, enabled, reason
        self.ntype = [[0] * NTYPES for _ in range(ncpu)]
        self.paused = None                  # tsc when the current pause began
        self.pauses = []                    # (cpu, type, n, flags, t0, t1)
        self.pending = {}
        self.rings = [[] for _ in range(ncpu)]
        self.recorded = [0] * ncpu
        self.lost = [0] * ncpu
        self.counters = {n: 0 for n in self.table.counters}
        self.tsc = 1000
        self.codes = {et.name: c for c, et in self.table.events.items()}

    def emit(self, cpu, type_name, pid=1, **values):
        """Record one event on cpu, as trace_record() would."""
        code = self.codes[type_name]
        self.tsc += 137
        self.count(type_name, values)
        if not (self.mask >> code) & 1 or (self.pid and pid != self.pid):
            return
        if self.paused is not None:
            self.pending[(cpu, code)] = self.pending.get((cpu, code), 0) + 1
            return
        self.ntype[cpu][code] += 1
        ring = self.rings[cpu]
        if len(ring) == self.cap:
            self.lost[cpu] += 1
            if self.mode == "stop":
                self.recorded[cpu] += 1
                return
            ring.pop(0)
        words = encode_payload(self.table.events[code], self.table.enums, values)
        ring.append((self.tsc, self.recorded[cpu], code, cpu, 0, pid) + words)
        self.recorded[cpu] += 1

    def pause(self):
        """Recording paused (a control command or a dump): events are counted."""
        self.tsc += 50
        self.paused = self.tsc

    def resume(self):
        self.tsc += 50
        for (cpu, code), n in sorted(self.pending.items()):
            self.pauses.append((cpu, code, n, 0, self.paused, self.tsc))
        self.pending, self.paused = {}, None

    def count(self, type_name, values):
        """Bump the VM counters the way the kernel's trace helpers do."""
        c = self.counters
        if type_name == "fault":
            how = values.get("how", 0)
            if not isinstance(how, str):
                how = self.table.enums["fault"][how]
            c["fault_" + how] += 1
            c["faults"] += 1
        elif type_name in ("page_alloc", "page_free"):
            c["pgalloc" if type_name == "page_alloc" else "pgfree"] += 1 << values.get("order", 0)
        elif type_name == "msync_write":
            why = values.get("why", 0)
            if not isinstance(why, str):
                why = self.table.enums["why"][why]
            c["msync_pages"] += 1
            c["msync_bytes"] += values.get("bytes", 0)
            c["writeback_" + why] += 1
        elif type_name == "sched_wakeup":
            c["sched_ipis"] += 1 if values.get("ipi", 0) else 0
        elif type_name in ("sched_switch", "sys_enter", "sys_exit"):
            pass
        else:
            c[{"fork": "forks", "exec": "execs", "exit": "exits", "mmap": "mmaps",
               "munmap": "munmaps", "marker": "markers", "pcache_hit": "pcache_hits",
               "pcache_miss": "pcache_misses", "pcache_free": "pcache_freed",
               "tlb_shootdown": "tlb_shootdowns",
               "sched_migrate": "sched_migrations"}[type_name]] += 1

    def header_text(self):
        lines = ["ktrace %d" % VERSION, "recsize %d" % REC.size, "nwords %d" % ev.NWORDS,
                 "ncpu %d" % self.ncpu, "mode %s" % self.mode, "mask 0x%x" % self.mask,
                 "pid %d" % self.pid, "cap %d" % self.cap]
        if self.tsc_khz:
            lines.append("tsc_khz %d" % self.tsc_khz)
        lines += ["ntypes %d" % NTYPES, "follow %d" % self.follow, "follow_full 0",
                  "enabled %d" % self.enabled, "mask_changed 0x0", "reason %s" % self.reason]
        for code in sorted(self.table.events):
            et = self.table.events[code]
            lines.append("event %d %s %s" % (code, et.name, et.spec))
        for lst in ("fault", "why"):
            for k, n in sorted(self.table.enums[lst].items()):
                lines.append("enum %s %d %s" % (lst, k, n))
        for n in self.table.counters:
            lines.append("counter %s %d" % (n, self.counters.get(n, 0)))
        return ("\n".join(lines) + "\n").encode("ascii")

    def frames(self):
        """The dump as a list of frame byte strings."""
        out = [frame(FR_HEADER, 0, self.header_text())]
        total = lost = 0
        for c in range(self.ncpu):
            ring = self.rings[c]
            first = ring[0][1] if ring else self.recorded[c]
            out.append(frame(FR_CPU, len(out),
                             CPU.pack(c, self.recorded[c], self.lost[c], len(ring), first)
                             + struct.pack("<%dI" % NTYPES, *self.ntype[c])))
            for i in range(0, len(ring), RECS_PER_FRAME):
                chunk = ring[i:i + RECS_PER_FRAME]
                body = struct.pack("<II", c, len(chunk)) + b"".join(REC.pack(*r) for r in chunk)
                out.append(frame(FR_RECORDS, len(out), body))
            total += len(ring)
            lost += self.lost[c]
        wins = list(self.pauses) + [(cpu, code, n, 1, self.paused, self.tsc)
                                    for (cpu, code), n in sorted(self.pending.items())]
        for i in range(0, len(wins), 170):
            out.append(frame(FR_LOSS, len(out), b"".join(LOSS.pack(*w) for w in wins[i:i + 170])))
        lost += sum(w[2] for w in wins)
        out.append(frame(FR_END, len(out), END.pack(len(out), total, lost)))
        return out

    def dump(self):
        return b"".join(self.frames())
