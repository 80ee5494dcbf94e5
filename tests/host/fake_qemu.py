#!/usr/bin/python3
"""A stand-in for qemu-system-i386 used by test_harness.py: prints what the
scenario named by $FAKE_QEMU_SCENARIO says, so run.py's marker parsing,
timeout and clean-up logic can be tested without a kernel.
It writes its pid and argv to $FAKE_QEMU_INFO (if set) first."""
import os
import sys
import time


def out(s):
    sys.stdout.write(s)
    sys.stdout.flush()


def hang():
    while True:
        time.sleep(60)


def main():
    info = os.environ.get("FAKE_QEMU_INFO")
    if info:
        with open(info + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
            f.write("\n".join(sys.argv[1:]) + "\n")
        os.rename(info + ".tmp", info)
    sc = os.environ.get("FAKE_QEMU_SCENARIO", "ok")
    out("SeaBIOS (version fake)\r\nbooting\r\ncpu1: starting\r\n")
    if sc == "nobegin":
        sys.stderr.write("fake-qemu: cannot open disk\n")
        return 1
    out("init: starting sh\r\n@@RUN-BEGIN@@\r\n")
    if sc == "ok":
        out("hello world\r\nsecond line\r\n@@RUN-END 3@@\r\n")
        return 0
    if sc == "zero":
        out("@@RUN-END 0@@\r\n")
        return 0
    if sc == "negative":
        out("pid 3 (x): killed\r\n@@RUN-END -1@@\r\n")
        return 0
    if sc == "big":
        out("@@RUN-END 300@@\r\n")
        return 0
    if sc == "partial":
        out("no newline here@@RUN-END 7@@\r\n")
        return 0
    if sc == "noexit":
        # End marker, but the guest never powers off.
        out("done\r\n@@RUN-END 0@@\r\n")
        hang()
    if sc == "panic":
        out("working\r\npanic: kalloc: out of memory\r\n  cpu 1, stack: 80101234 80105678\r\n")
        hang()
    if sc == "midpanic":
        # A panic from another CPU in the middle of a line of output.
        out("partial outppanic: trap 14\r\n  cpu 0, stack: 80100000\r\n")
        hang()
    if sc == "falsepanic":
        out("echo says panic: not really\r\n@@RUN-END 0@@\r\n")
        return 0
    if sc == "hang":
        out("still going\r\n")
        hang()
    if sc == "noend":
        out("some output\r\n")
        return 1
    if sc == "slow":
        for i in range(3):
            out("tick %d\r\n" % i)
            time.sleep(0.3)
        out("@@RUN-END 0@@\r\n")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
