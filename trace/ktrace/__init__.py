"""ktrace: decode the kernel's trace dumps (see trace/FORMAT.md).

Stages: wire (the only code that knows the byte format) -> frame/records
-> transform (pandas DataFrames) -> export (CSV, Chrome trace JSON).

Example:
    $ PYTHONPATH=trace /usr/bin/python3 -m ktrace check out/com2.bin
    frames 14 (bad 0, missing 0), records 612, kernel lost 0, gaps 0
    cpu 0: recorded 540 lost 0 held 540 decoded 540
    cpu 1: recorded 72 lost 0 held 72 decoded 72
    OK
"""
from .wire import parse_dump, Dump, Problem  # noqa: F401
from .events import load_source_table, EventTable  # noqa: F401
