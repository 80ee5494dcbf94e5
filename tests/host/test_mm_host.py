"""Host unit tests of the kernel's memory code: the buddy allocator and
kmalloc (buddy_host.c) and the mapping list / sbrk logic (vma_host.c).

The kernel files are compiled for 32-bit Linux with the kernel's own flags;
buddy_shim.c stands in for locks and panic and maps a fake physical memory
arena at KERNBASE. Each program prints PASS/FAIL lines.
Run: python3 -m pytest tests/host/test_mm_host.py   (or run this file directly)
"""
import os
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(ROOT, "out", "host")
KFLAGS = ["-m32", "-fno-pic", "-O2", "-Wall", "-Werror", "-ffreestanding",
          "-fno-builtin", "-fno-stack-protector", "-nostdinc",
          "-I" + ROOT, "-I" + os.path.join(ROOT, "kernel"),
          "-DKTRACE_HOST"]          # trace.h: out-of-line record calls (stubbed)
PROGRAMS = {
    "buddy_host": ["mm/buddy", "mm/kmalloc"],
    "vma_host": ["mm/buddy", "mm/kmalloc", "mm/vma"],
}


def build(prog):
    os.makedirs(OUT, exist_ok=True)
    objs = []
    for name in PROGRAMS[prog]:
        obj = os.path.join(OUT, os.path.basename(name) + ".o")
        subprocess.run(["gcc"] + KFLAGS + ["-c", os.path.join(ROOT, "kernel", name + ".c"),
                                           "-o", obj], check=True)
        objs.append(obj)
    exe = os.path.join(OUT, prog)
    subprocess.run(["gcc", "-m32", "-no-pie", "-fno-pic", "-O1", "-Wall",
                    "-I" + ROOT, "-I" + os.path.join(ROOT, "kernel"),
                    os.path.join(HERE, prog + ".c"), os.path.join(HERE, "buddy_shim.c")]
                   + objs + ["-o", exe], check=True)
    return exe


def run(prog):
    exe = build(prog)
    proc = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    print(proc.stdout, proc.stderr)
    lines = proc.stdout.splitlines()
    assert any(l.startswith("PASS ") for l in lines), proc.stdout + proc.stderr
    fails = [l for l in lines if l.startswith("FAIL ")]
    assert not fails, "\n".join(fails + [proc.stdout])
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_buddy_kmalloc():
    run("buddy_host")


def test_vma():
    run("vma_host")


if __name__ == "__main__":
    rc = 0
    for prog in PROGRAMS:
        rc |= subprocess.run([build(prog)]).returncode
    raise SystemExit(rc)
