"""Allocation failure at every point (user/test/faultinj.c), then fsck.

The in-guest program faultinj sweeps failnth(N) over a list of system
calls (each must succeed or fail with ENOMEM, or the process be killed,
with every free page back). This runs it in a guest, requires every test
to pass with no panic, and then requires the disk it leaves to pass fsck.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu_run  # noqa: E402


def test_faultinj_sweep_then_fsck():
    prog = os.path.join(qemu_run.USER_DIR, "_faultinj")
    assert os.path.exists(prog), "not built (run make): " + prog
    res = qemu_run.run("faultinj", timeout=400, keep_image=True, cpus=1,
                       disk_blocks=16384)
    try:
        out = "\n".join(res.lines)
        assert res.kind == "ok", "%s\n%s" % (res.message, "\n".join(res.lines[-20:]))
        fails = [l for l in res.output if l.startswith("FAIL")]
        passes = [l for l in res.output if l.startswith("PASS")]
        assert not fails and len(passes) == 2 and res.status == 0, out
        points = [l for l in res.output if l.startswith("faultinj: ")]
        assert len(points) >= 35, out          # every case reported its sweep
        st, fsck_out = qemu_run.fsck(res.image)
        assert st == 0, "fsck after the sweep:\n" + fsck_out
    finally:
        if res.image:
            qemu_run.remove_quietly(res.image)
