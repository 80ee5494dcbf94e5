"""Crash safety of the file system, and the checker that judges it.

test_crash_recovery: a guest runs `crashwriter N ROUNDS LINES`, which keeps
overwriting N files in place, each with one write() (one log transaction)
of LINES lines that all name the same generation. The host SIGKILLs qemu at
a random moment, then
  - runs out/fsck on the image as the crash left it (fsck replays a
    committed log transaction in memory): it must be consistent, and each
    file must hold exactly one generation, all of it, no older than the
    last one the guest reported written (a finished write() is durable);
  - boots the same image again: the kernel recovers the log, and
    crashwriter, before writing anything, reads every file back and reports
    its generation, which must be the one fsck saw.
This repeats ROUNDS times; a last boot only recovers, checks and powers off,
and the image must then pass fsck with the same contents.

The fsck tests make sure the checker passes a fresh image and catches
deliberately damaged ones (so a pass above means something).
CRASH_SEED replays a sequence of kill moments; CRASH_ROUNDS and CRASH_LINES
change the number of crashes and the file size.
"""
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu_run  # noqa: E402

BSIZE = 1024
NFILES = 6
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "16"))   # boots killed mid-write
# Lines of 13 bytes per file: 320 = 4160 bytes, 5 blocks (one write of up to
# MAXOPBLOCKS-1 = 9 blocks in place is one log transaction).
NLINES = int(os.environ.get("CRASH_LINES", "320"))
LINELEN = 13
GEN_RE = re.compile(r"^cw gen (\d+) (\d+)$")


def need(*paths):
    missing = [p for p in paths if not os.path.exists(p)]
    assert not missing, "not built (run make): " + ", ".join(missing)


@pytest.fixture
def workdir():
    os.makedirs(qemu_run.TMP_DIR, exist_ok=True)
    d = os.path.join(qemu_run.TMP_DIR, "crash-%d-%d" % (os.getpid(), time.time_ns()))
    os.makedirs(d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def guest_trouble(lines):
    """Lines that mean the guest itself went wrong."""
    return [l for l in lines
            if qemu_run.PANIC_MARK in l or l.startswith(("cw error", "cw bad"))
            or "killed:" in l]


def guest_checks(lines):
    """{file index: generation or None} from crashwriter's "cw check" lines."""
    found = {}
    for l in lines:
        m = re.match(r"^cw check (\d+) (none|\d+)$", l)
        if m:
            found[int(m.group(1))] = None if m.group(2) == "none" else int(m.group(2))
    return found


def check_file(name, data, last_gen, boots):
    """data must be NLINES identical 'gen=%08d' lines of one generation that
    is not older than last_gen and was written in boot 1..boots. Returns
    the generation."""
    size = NLINES * LINELEN
    assert len(data) == size, "%s: %d bytes, expected %d (partially written?)" % (
        name, len(data), size)
    lines = data.split(b"\n")[:-1]
    gens = sorted(set(lines))
    assert len(gens) == 1, "%s mixes generations %s" % (
        name, b", ".join(gens[:4]).decode("ascii", "replace"))
    m = re.match(rb"^gen=(\d{8})$", gens[0])
    assert m, "%s: garbled line %r" % (name, gens[0][:40])
    g = int(m.group(1))
    assert g >= last_gen, "%s holds generation %d but the guest had finished %d" % (
        name, g, last_gen)
    assert 1 <= g // 1000000 <= boots, "%s: generation %d from no boot" % (name, g)
    return g


def check_disk(img, last, boots, when):
    """fsck the image and check every file; returns {index: generation}."""
    st, out = qemu_run.fsck(img)
    assert st == 0, "fsck %s:\n%s" % (when, out)
    gens = {}
    for i in range(NFILES):
        st, data = dump(img, "/cw/f%d" % i)
        assert st == 0, "fsck --dump /cw/f%d failed %s" % (i, when)
        gens[i] = check_file("/cw/f%d (%s)" % (i, when), data, last.get(i, 0), boots)
    return gens


def test_crash_recovery(workdir):
    need(qemu_run.KERNEL_IMG, qemu_run.MKFS, qemu_run.FSCK,
         os.path.join(qemu_run.USER_DIR, "_crashwriter"))
    seed = int(os.environ.get("CRASH_SEED", str(time.time_ns() % 1000000)))
    rng = random.Random(seed)
    print("CRASH_SEED=%d" % seed)
    img = os.path.join(workdir, "fs.img")
    qemu_run.make_image(img, "crashwriter %d %d %d" % (NFILES, ROUNDS, NLINES))
    last = {}                     # file index -> last generation reported written
    disk = {i: None for i in range(NFILES)}   # what fsck found after the last crash

    for r in range(1, ROUNDS + 1):
        with qemu_run.boot(img, cpus=2) as g:
            m = g.wait_for(r"cw (boot|done|error).*", 90)
            assert m, "boot %d: crashwriter did not start: %s" % (r, g.lines[-10:])
            assert not guest_trouble(g.lines), "boot %d: %s" % (r, guest_trouble(g.lines))
            assert m.group(0) == "cw boot %d" % r, "boot %d: got %r (boot counter lost?)" % (
                r, m.group(0))
            seen = guest_checks(g.lines)
            assert seen == disk, ("boot %d: after recovery the guest reads %s, "
                                  "fsck saw %s" % (r, seen, disk))
            if r == 1:
                # Let every file get written once before the first kill.
                assert g.wait_for(r"^cw gen %d " % (NFILES - 1), 90), g.lines[-10:]
            delay = rng.uniform(0.0, 1.5)
            end = time.monotonic() + delay
            while time.monotonic() < end:
                try:
                    g.next_line(max(0.0, end - time.monotonic()))
                except EOFError:
                    break
            g.kill()
            # Lines qemu printed before it died were for completed writes.
            try:
                while g.next_line(1) is not None:
                    pass
            except EOFError:
                pass
            lines = g.lines
        bad = guest_trouble(lines)
        assert not bad, "boot %d: %s" % (r, bad)
        n = 0
        for line in lines:
            mm = GEN_RE.match(line)
            if mm:
                last[int(mm.group(1))] = int(mm.group(2))
                n += 1
        disk = check_disk(img, last, r, "after crash %d" % r)
        print("boot %d: killed after %.2f s more, %d writes reported" % (r, delay, n))

    # Last boot: recovery, check, "cw done", power off.
    res = qemu_run.run(image=img, timeout=90)
    assert res.kind == "ok", "recovery boot: %s %s" % (res.message, res.lines[-10:])
    assert not guest_trouble(res.lines), res.lines
    assert "cw done %d" % (ROUNDS + 1) in res.output, res.output
    seen = guest_checks(res.output)
    assert seen == disk, "last boot: the guest reads %s, fsck saw %s" % (seen, disk)
    final = check_disk(img, last, ROUNDS, "after the last boot")
    assert final == disk, "the last boot changed the files: %s -> %s" % (disk, final)


def dump(img, path):
    """(status, bytes) of out/fsck IMG --dump PATH."""
    p = subprocess.run([qemu_run.FSCK, img, "--dump", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return p.returncode, p.stdout


# ---- the checker itself ------------------------------------------------------

def fresh_image(workdir, name="fs.img"):
    need(qemu_run.MKFS, qemu_run.FSCK)
    img = os.path.join(workdir, name)
    # Two host files besides /runcmd: enough regular files to damage.
    qemu_run.make_image(img, "echo hi", programs=[],
                        extra=[os.path.join(HERE, "fake_qemu.py"), __file__])
    return img


class Image:
    """Just enough of the on-disk format (kernel/fs.h) to damage it."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = bytearray(f.read())
        (self.magic, self.size, self.nblocks, self.ninodes, self.nlog,
         self.logstart, self.inodestart, self.bmapstart) = struct.unpack_from(
             "<8I", self.data, BSIZE)

    def save(self):
        with open(self.path, "wb") as f:
            f.write(self.data)

    def inode_off(self, inum):
        return (self.inodestart + inum // (BSIZE // 64)) * BSIZE + (inum % (BSIZE // 64)) * 64

    def inode(self, inum):
        off = self.inode_off(inum)
        typ, major, minor, nlink, size = struct.unpack_from("<4hI", self.data, off)
        addrs = struct.unpack_from("<13I", self.data, off + 12)
        return typ, nlink, size, addrs

    def root_entries(self):
        """(offset of the dirent, inum, name) of the root's first block."""
        typ, nlink, size, addrs = self.inode(1)
        base = addrs[0] * BSIZE
        out = []
        for off in range(base, base + min(size, BSIZE), 16):
            inum, = struct.unpack_from("<H", self.data, off)
            name = bytes(self.data[off + 2:off + 16]).split(b"\0")[0].decode()
            if inum and name not in (".", ".."):
                out.append((off, inum, name))
        return out

    def file_entry(self):
        """A regular file in the root directory with at least one block."""
        for off, inum, name in self.root_entries():
            typ, nlink, size, addrs = self.inode(inum)
            if typ == 2 and size > 0 and addrs[0]:
                return off, inum, name
        raise AssertionError("no file in the root directory")


def test_fsck_passes_fresh_image(workdir):
    img = fresh_image(workdir)
    st, out = qemu_run.fsck(img)
    assert st == 0 and "fsck: ok" in out, out
    st, data = dump(img, "/runcmd")
    assert st == 0 and data.strip() == b"echo hi", data


def corrupt_magic(im):
    struct.pack_into("<I", im.data, BSIZE, im.magic ^ 0x5a5a5a5a)


def corrupt_bitmap(im):
    # Every block marked free, though the image's own blocks are in use.
    for b in range(im.bmapstart, im.bmapstart + (im.size + 8 * BSIZE - 1) // (8 * BSIZE)):
        im.data[b * BSIZE:(b + 1) * BSIZE] = bytes(BSIZE)


def corrupt_dirent_to_free_inode(im):
    off, inum, name = im.file_entry()
    for free in range(im.ninodes - 1, 1, -1):
        if im.inode(free)[0] == 0:
            struct.pack_into("<H", im.data, off, free)
            return
    raise AssertionError("no free inode")


def corrupt_block_pointer(im):
    off, inum, name = im.file_entry()
    struct.pack_into("<I", im.data, im.inode_off(inum) + 12, im.size + 100)


def corrupt_shared_block(im):
    # Two files claiming the same data block.
    files = [e for e in im.root_entries() if im.inode(e[1])[0] == 2 and im.inode(e[1])[3][0]]
    assert len(files) >= 2
    a, b = files[0][1], files[1][1]
    struct.pack_into("<I", im.data, im.inode_off(b) + 12, im.inode(a)[3][0])


def corrupt_nlink(im):
    off, inum, name = im.file_entry()
    struct.pack_into("<h", im.data, im.inode_off(inum) + 6, 5)


@pytest.mark.parametrize("damage", [corrupt_magic, corrupt_bitmap, corrupt_dirent_to_free_inode,
                                    corrupt_block_pointer, corrupt_shared_block, corrupt_nlink],
                         ids=lambda f: f.__name__[len("corrupt_"):])
def test_fsck_detects_damage(workdir, damage):
    img = fresh_image(workdir)
    im = Image(img)
    damage(im)
    im.save()
    st, out = qemu_run.fsck(img)
    assert st != 0, "fsck missed the damage (%s):\n%s" % (damage.__name__, out)
