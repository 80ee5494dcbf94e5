"""The event table: what each record type's payload words mean.

Two sources, same shape: the dump's HEADER frame (what the kernel that made
the dump used), and kernel/trace_events.h (the X-macro list the kernel is
compiled from), used when a dump's header is missing or damaged.

    >>> t = load_source_table()
    >>> t.events[1].name, [f.name for f in t.events[1].fields]
    ('fault', ['va', 'eip', 'err', 'how', 'cycles'])
"""
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

NWORDS = 7
RECSIZE = 48

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "..", "..", "kernel", "trace_events.h")

_EVENT_RE = re.compile(r'^TRACE_EVENT\((\w+),\s*(\d+),\s*"(\w+)",\s*"([^"]*)"\)')
_ENUM_RES = {
    "fault": re.compile(r'^TRACE_FAULT\((\w+),\s*(\d+),\s*"(\w+)"\)'),
    "why": re.compile(r'^TRACE_WHY\((\w+),\s*(\d+),\s*"(\w+)"\)'),
}
_COUNTER_RE = re.compile(r'^VMSTAT_COUNTER\((\w+),\s*(\d+),\s*"(\w+)"\)')


@dataclass
class Field:
    name: str
    kind: str            # 'x' 'u' 'd' 'p' 'e' 's'
    enum: Optional[str]  # list name for kind 'e'
    nbytes: int          # 4, or the string length for 's'


@dataclass
class EventType:
    code: int
    name: str
    fields: List[Field]
    spec: str


@dataclass
class EventTable:
    events: Dict[int, EventType] = field(default_factory=dict)
    enums: Dict[str, Dict[int, str]] = field(default_factory=dict)
    counters: List[str] = field(default_factory=list)

    def columns(self):
        """Every field name, in order of first appearance (the CSV columns)."""
        seen = []
        for code in sorted(self.events):
            for f in self.events[code].fields:
                if f.name not in seen:
                    seen.append(f.name)
        return seen


def parse_fields(spec):
    """'va:x name:s16 how:e.fault' -> [Field]; ValueError if malformed or
    longer than NWORDS words."""
    out = []
    words = 0
    for item in spec.split():
        name, _, kind = item.partition(":")
        if not name or not kind:
            raise ValueError("bad field %r" % item)
        if kind in ("x", "u", "d", "p"):
            f = Field(name, kind, None, 4)
        elif kind.startswith("e."):
            f = Field(name, "e", kind[2:], 4)
        elif kind.startswith("s") and kind[1:].isdigit():
            n = int(kind[1:])
            if n == 0 or n % 4:
                raise ValueError("bad string size in %r" % item)
            f = Field(name, "s", None, n)
        else:
            raise ValueError("bad field kind in %r" % item)
        words += f.nbytes // 4
        out.append(f)
    if words > NWORDS:
        raise ValueError("fields %r need %d words (> %d)" % (spec, words, NWORDS))
    return out


def load_source_table(path=SOURCE):
    """Parse kernel/trace_events.h into an EventTable."""
    t = EventTable()
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            m = _EVENT_RE.match(line)
            if m:
                code = int(m.group(2))
                t.events[code] = EventType(code, m.group(3), parse_fields(m.group(4)), m.group(4))
                continue
            for lst, rx in _ENUM_RES.items():
                m = rx.match(line)
                if m:
                    t.enums.setdefault(lst, {})[int(m.group(2))] = m.group(3)
            m = _COUNTER_RE.match(line)
            if m:
                t.counters.append(m.group(3))
    return t


def parse_header_text(text):
    """The HEADER frame's text -> (config dict, EventTable, counters dict)."""
    cfg, t, counters = {}, EventTable(), {}
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "event" and len(parts) >= 3:
            code = int(parts[1])
            spec = " ".join(parts[3:])
            t.events[code] = EventType(code, parts[2], parse_fields(spec), spec)
        elif parts[0] == "enum" and len(parts) == 4:
            t.enums.setdefault(parts[1], {})[int(parts[2])] = parts[3]
        elif parts[0] == "counter" and len(parts) == 3:
            t.counters.append(parts[1])
            counters[parts[1]] = int(parts[2])
        elif len(parts) == 2:
            v = parts[1]
            try:
                v = int(v, 0)
            except ValueError:
                pass
            cfg[parts[0]] = v
    return cfg, t, counters


def decode_payload(et, words, enums):
    """An event's payload words -> {field: value} (strings decoded, enums
    named, 'd' fields signed)."""
    raw = b"".join(w.to_bytes(4, "little") for w in words)
    out = {}
    pos = 0
    for f in et.fields:
        if f.kind == "s":
            b = raw[pos:pos + f.nbytes]
            out[f.name] = b.split(b"\0", 1)[0].decode("latin-1")
        else:
            v = int.from_bytes(raw[pos:pos + 4], "little")
            if f.kind == "d" and v >= 1 << 31:
                v -= 1 << 32
            if f.kind == "e":
                v = enums.get(f.enum, {}).get(v, "?%d" % v)
            out[f.name] = v
        pos += f.nbytes
    return out
