"""Damaged file-system images: the kernel treats the disk as untrusted input.

A small image is built once (mkfs --size) and a first boot gives it a
directory /d holding a file, a symlink and a subdirectory, beside a file
/big large enough to use a doubly-indirect block. Then, for each kind of
damage in CASES, a copy of that image is damaged on the host and:
  - out/fsck must reject it and name the problem (its own regex);
  - the kernel boots it under a timeout and must neither panic nor hang.
    Damage found at mount ("boot" cases) must stop the boot with "file
    system damaged: ... run fsck" and power off; damage met at run time
    ("run" cases) must make the touched system calls fail, with the
    kernel's one-line "fs: damaged: inode N: bad FIELD" report where
    the kernel can tell, while the script goes on to print "alive";
  - the boot block, the superblock and the log's home blocks are never
    written by the damaged run (a damaged log is never replayed).
The guests run two at a time; each case is a separate test result.
"""
import concurrent.futures
import os
import re
import shutil
import struct
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu_run  # noqa: E402

BSIZE = 1024
IPB = BSIZE // 64
NDIRECT = 11
DISK_BLOCKS = 2048
PROGRAMS = ["init", "sh", "cat", "ls", "rm", "ln", "mkdir", "echo", "wc"]
BOOT_TIMEOUT = 60
T_DIR, T_FILE, T_SYMLINK = 1, 2, 4

# The first boot builds the tree and makes /check the /runcmd of later boots.
SETUP = """mkdir /d
mkdir /d/sub
echo hello > /d/f
ln -s /d/f /d/sl
rm /runcmd
ln /check /runcmd
echo setup done
"""
# What each damaged boot runs: touch everything, change things, survive.
CHECK = """echo begin
wc /d/f
ls /d
wc /d/sl
wc /big
ls /d/sub
echo new > /d/g
wc /d/g
rm /d/f
rm /d/sl
rm /big
rm /d/sub
rm /d/g
echo alive
"""


class Image:
    """Just enough of the on-disk format (kernel/fs.h) to find things and
    damage them."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = bytearray(f.read())
        (self.magic, self.size, self.nblocks, self.ninodes, self.nlog,
         self.logstart, self.inodestart, self.bmapstart) = struct.unpack_from(
             "<8I", self.data, BSIZE)
        self.datastart = self.bmapstart + (self.size + 8 * BSIZE - 1) // (8 * BSIZE)

    def save(self):
        with open(self.path, "wb") as f:
            f.write(self.data)

    def put(self, fmt, off, *vals):
        struct.pack_into(fmt, self.data, off, *vals)

    def inode_off(self, inum):
        return (self.inodestart + inum // IPB) * BSIZE + (inum % IPB) * 64

    def inode(self, inum):
        off = self.inode_off(inum)
        typ, major, minor, nlink, size = struct.unpack_from("<4hI", self.data, off)
        addrs = struct.unpack_from("<13I", self.data, off + 12)
        return typ, nlink, size, addrs

    def set_field(self, inum, field, value):
        off = self.inode_off(inum)
        fmt, at = {"type": ("<h", 0), "nlink": ("<h", 6), "size": ("<I", 8)}[field]
        self.put(fmt, off + at, value)

    def set_addr(self, inum, i, value):
        self.put("<I", self.inode_off(inum) + 12 + 4 * i, value)

    def word(self, block, i):
        return struct.unpack_from("<I", self.data, block * BSIZE + 4 * i)[0]

    def set_word(self, block, i, value):
        self.put("<I", block * BSIZE + 4 * i, value)

    def entries(self, dinum):
        """[(byte offset of the dirent in the image, inum, name)] of a
        directory's first block."""
        typ, nlink, size, addrs = self.inode(dinum)
        base = addrs[0] * BSIZE
        out = []
        for off in range(base, base + min(size, BSIZE), 16):
            inum, = struct.unpack_from("<H", self.data, off)
            name = bytes(self.data[off + 2:off + 16]).split(b"\0")[0].decode()
            if inum:
                out.append((off, inum, name))
        return out

    def lookup(self, path):
        """(inode number, dirent offset) of an absolute path."""
        inum, doff = 1, None
        for comp in [c for c in path.split("/") if c]:
            hits = [(o, i) for o, i, n in self.entries(inum) if n == comp]
            assert hits, "no %s in the image" % path
            doff, inum = hits[0]
        return inum, doff

    def free_inode(self):
        for i in range(self.ninodes - 1, 1, -1):
            if self.inode(i)[0] == 0:
                return i
        raise AssertionError("no free inode")


# ---- the kinds of damage -----------------------------------------------------
# Each is (name, where, damage(im), fsck regex, kernel regex): where is
# "boot" (refused at mount) or "run" (found by the system calls); the
# kernel regex must match a line of the guest's output (None: the damage
# is invisible to the kernel, like a link count too high, and only fsck
# can see it).

def sb(field, value):
    names = ["magic", "size", "nblocks", "ninodes", "nlog", "logstart", "inodestart", "bmapstart"]

    def damage(im):
        im.put("<I", BSIZE + 4 * names.index(field), value(im))
    return damage


def loghead(n, blocks):
    def damage(im):
        im.put("<I", im.logstart * BSIZE, n)
        for i, b in enumerate(blocks(im)):
            im.put("<I", im.logstart * BSIZE + 4 + 4 * i, b)
            # The logged copy is junk that would wreck its target.
            im.data[(im.logstart + 1 + i) * BSIZE:(im.logstart + 2 + i) * BSIZE] = b"\xa5" * BSIZE
    return damage


def field(path, name, value):
    def damage(im):
        im.set_field(im.lookup(path)[0], name, value(im) if callable(value) else value)
    return damage


def addr(path, i, value):
    def damage(im):
        im.set_addr(im.lookup(path)[0], i, value(im))
    return damage


def index_entry(path, level, value):
    """Entry 0 of the file's singly- (level 1) or doubly-indirect (level 2)
    block, or (level 3) entry 0 of the doubly-indirect's first child."""
    def damage(im):
        addrs = im.inode(im.lookup(path)[0])[3]
        ind = addrs[NDIRECT] if level == 1 else addrs[NDIRECT + 1]
        if level == 3:
            ind = im.word(ind, 0)
        assert ind, "no index block to damage"
        im.set_word(ind, 0, value(im, ind))
    return damage


def dirent(path, value):
    def damage(im):
        inum, doff = im.lookup(path)
        im.put("<H", doff, value(im))
    return damage


def self_dirent(im):
    # /d/f's entry names /d itself.
    d, _ = im.lookup("/d")
    _, doff = im.lookup("/d/f")
    im.put("<H", doff, d)


def dir_loop(im):
    # /d/sub's entry in /d now names the root, making / a child of /d.
    _, doff = im.lookup("/d/sub")
    im.put("<H", doff, 1)


BAD = "fs: damaged: inode \\d+: bad "
CASES = [
    # superblock
    ("sb_magic", "boot", sb("magic", lambda im: 0x12345678), r"bad magic", r"bad magic"),
    ("sb_size_past_disk", "boot", sb("size", lambda im: im.size + 1000), r"superblock size",
     r"size is not the disk's"),
    ("sb_size_huge", "boot", sb("size", lambda im: 0xFFFFFFFF), r"superblock size",
     r"size is not the disk's"),
    ("sb_size_small", "boot", sb("size", lambda im: im.bmapstart), r"superblock",
     r"superblock"),
    ("sb_ninodes_zero", "boot", sb("ninodes", lambda im: 0), r"superblock", r"inode count"),
    ("sb_ninodes_huge", "boot", sb("ninodes", lambda im: 0x10000000), r"superblock",
     r"inode count"),
    ("sb_nlog_zero", "boot", sb("nlog", lambda im: 0), r"log region", r"log region"),
    ("sb_nlog_huge", "boot", sb("nlog", lambda im: 0x7FFFFFFF), r"log region", r"log region"),
    ("sb_logstart", "boot", sb("logstart", lambda im: 0), r"log region", r"log region"),
    ("sb_inodestart", "boot", sb("inodestart", lambda im: im.inodestart + 1), r"layout",
     r"regions"),
    ("sb_bmapstart", "boot", sb("bmapstart", lambda im: im.size + 5), r"layout",
     r"regions"),
    ("sb_nblocks", "boot", sb("nblocks", lambda im: im.nblocks + 7), r"nblocks",
     r"data block count"),
    # log header
    ("log_count_huge", "boot", loghead(0xFFFFFFFF, lambda im: []), r"log header claims",
     r"log header"),
    ("log_names_superblock", "boot", loghead(1, lambda im: [1]), r"the superblock",
     r"log entry"),
    ("log_names_bootblock", "boot", loghead(1, lambda im: [0]), r"boot block",
     r"log entry"),
    ("log_names_log", "boot", loghead(2, lambda im: [im.inodestart, im.logstart + 1]),
     r"log itself", r"log entry"),
    ("log_names_past_disk", "boot", loghead(1, lambda im: [im.size + 10]),
     r"past the end", r"log entry"),
    # root inode
    ("root_free", "boot", field("/", "type", 0), r"root inode", r"root inode"),
    ("root_size", "boot", field("/", "size", 1000), r"directory size", r"root inode"),
    # block numbers
    ("block_past_disk", "run", addr("/d/f", 0, lambda im: im.size + 100),
     r"outside the data area", BAD + "block number"),
    ("block_lba_wrap", "run", addr("/d/f", 0, lambda im: 0x08000001),
     r"outside the data area", BAD + "block number"),
    ("block_superblock", "run", addr("/d/f", 0, lambda im: 1),
     r"outside the data area", BAD + "block number"),
    ("block_in_inodes", "run", addr("/d/f", 0, lambda im: im.inodestart),
     r"outside the data area", BAD + "block number"),
    ("block_in_bitmap", "run", addr("/d/f", 0, lambda im: im.bmapstart),
     r"outside the data area", BAD + "block number"),
    ("block_in_log", "run", addr("/big", 3, lambda im: im.logstart + 5),
     r"outside the data area", BAD + "block number"),
    ("indirect_past_disk", "run", addr("/big", NDIRECT, lambda im: im.size + 1),
     r"outside the data area", BAD + "block number"),
    ("dindirect_superblock", "run", addr("/big", NDIRECT + 1, lambda im: 1),
     r"outside the data area", BAD + "block number"),
    ("indirect_entry_superblock", "run", index_entry("/big", 1, lambda im, ind: 1),
     r"outside the data area", BAD + "indirect block entry"),
    ("indirect_entry_self", "run", index_entry("/big", 1, lambda im, ind: ind),
     r"lists itself", BAD + "indirect block entry"),
    ("dindirect_entry_self", "run", index_entry("/big", 2, lambda im, ind: ind),
     r"lists itself", BAD + "indirect block entry"),
    ("dindirect_leaf_past_disk", "run", index_entry("/big", 3, lambda im, ind: im.size + 9),
     r"outside the data area", BAD + "indirect block entry"),
    # directory entries
    ("dirent_free_inode", "run", dirent("/d/f", lambda im: im.free_inode()),
     r"names free or bad inode", BAD + "type 0"),
    ("dirent_inum_huge", "run", dirent("/d/f", lambda im: 60000),
     r"names free or bad inode", BAD + "directory entry inode number"),
    ("dirent_own_dir", "run", self_dirent, r"names the directory itself",
     BAD + "directory entry naming its own directory"),
    ("dirent_loop", "run", dir_loop, r"more than one parent|cycle", None),
    # sizes
    ("file_size_huge", "run", field("/d/f", "size", 0xFFFFFFFF), r"larger than MAXFILESIZE",
     BAD + "size"),
    ("dir_size_odd", "run", field("/d", "size", 37), r"not a multiple",
     BAD + "directory size"),
    ("dir_size_max_holes", "run", field("/d", "size", (NDIRECT + 256 + 256 * 256) * BSIZE),
     r"hole at block", BAD + "directory hole at block"),
    ("dir_size_huge", "run", field("/d", "size", 0x7FFFFFF0), r"larger than MAXFILESIZE",
     BAD + "size"),
    ("symlink_size_huge", "run", field("/d/sl", "size", 0xFFFFFFFF), r"symlink target length|larger",
     BAD + "size"),
    ("symlink_size_zero", "run", field("/d/sl", "size", 0), r"symlink target length", None),
    ("symlink_size_long", "run", field("/d/sl", "size", 5000), r"symlink target length",
     BAD + "symlink size"),
    # link counts and types
    # (nlink 0 is an orphan left by a crash: freed at boot, the entry then dangles)
    ("nlink_zero", "run", field("/d/f", "nlink", 0), r"nlink 0 but 1", BAD + "type 0"),
    ("nlink_negative", "run", field("/d/f", "nlink", -1), r"negative link count",
     BAD + "link count"),
    ("nlink_high", "run", field("/d/f", "nlink", 5), r"nlink 5 but 1", None),
    ("parent_nlink_low", "run", field("/d", "nlink", 1), r"nlink 1 but 2", BAD + "link count"),
    ("dir_nlink_zero", "run", field("/d/sub", "nlink", 0), r"nlink 0 but", BAD + "type 0"),
    ("type_bogus", "run", field("/d/f", "type", 77), r"bad type 77", BAD + "type 77"),
]


# ---- running them --------------------------------------------------------------

def need(*paths):
    missing = [p for p in paths if not os.path.exists(p)]
    assert not missing, "not built (run make): " + ", ".join(missing)


def boot(img):
    return qemu_run.run(image=img, cpus=1, timeout=BOOT_TIMEOUT)


def protected(im):
    """The blocks no run may write: boot block, superblock, log home blocks
    are written only by a commit, so compare boot block and superblock."""
    return bytes(im.data[0:2 * BSIZE])


def run_case(base, workdir, case):
    name, where, damage, fsck_re, kernel_re = case
    img = os.path.join(workdir, name + ".img")
    shutil.copyfile(base, img)
    im = Image(img)
    damage(im)
    im.save()
    before = protected(Image(img))
    st, fsck_out = qemu_run.fsck(img)
    res = boot(img)
    after = protected(Image(img))
    return {"fsck": (st, fsck_out), "res": res, "same": before == after}


def run_cases(cases, run):
    """run(case) for each case (a tuple named by its first item), two
    guests at a time: {name: its result, or {"error": exception}} (an
    error is reported by that case's own test)."""
    out = {}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futs = {c[0]: pool.submit(run, c) for c in cases}
        for k, fut in futs.items():
            try:
                out[k] = fut.result()
            except Exception as e:
                out[k] = {"error": e}
    return out


@pytest.fixture(scope="module")
def results():
    need(qemu_run.KERNEL_IMG, qemu_run.MKFS, qemu_run.FSCK)
    os.makedirs(qemu_run.TMP_DIR, exist_ok=True)
    workdir = os.path.join(qemu_run.TMP_DIR, "damage-%d-%d" % (os.getpid(), time.time_ns()))
    os.makedirs(workdir)
    base = os.path.join(workdir, "base.img")
    check = os.path.join(workdir, "check")
    big = os.path.join(workdir, "big")
    with open(check, "w") as f:
        f.write(CHECK)
    with open(big, "wb") as f:             # 300 blocks: past the singly-indirect ones
        f.write(bytes(range(256)) * (300 * 4))
    qemu_run.make_image(base, SETUP, disk_blocks=DISK_BLOCKS, extra=[check, big],
                        programs=[os.path.join(qemu_run.USER_DIR, "_" + p) for p in PROGRAMS])
    res = boot(base)
    assert res.kind == "ok" and "setup done" in res.output, (res, res.lines[-10:])
    st, out = qemu_run.fsck(base)
    assert st == 0, out
    # Sanity: the fresh image passes the checking boot too.
    clean = os.path.join(workdir, "clean.img")
    shutil.copyfile(base, clean)
    out = {"clean": {"res": boot(clean)}}
    out.update(run_cases(CASES, lambda c: run_case(base, workdir, c)))
    yield out
    shutil.rmtree(workdir, ignore_errors=True)


def test_undamaged_image_runs_clean(results):
    res = results["clean"]["res"]
    assert res.kind == "ok", (res, res.lines[-15:])
    text = "\n".join(res.lines)
    assert "alive" in res.output and "damaged" not in text, res.lines


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_damaged_image(results, case):
    name, where, damage, fsck_re, kernel_re = case
    r = results[name]
    if "error" in r:
        raise r["error"]
    st, fsck_out = r["fsck"]
    res = r["res"]
    text = "\n".join(res.lines)
    assert st == 1 and re.search(fsck_re, fsck_out), "fsck (%s):\n%s" % (fsck_re, fsck_out)
    assert res.kind != "panic", "kernel panic:\n%s" % "\n".join(res.lines[-15:])
    assert res.kind != "timeout", "guest hung:\n%s" % "\n".join(res.lines[-15:])
    if where == "boot":
        m = re.search(r"file system damaged: (.*); run fsck", text)
        assert m, "no damage message at boot:\n%s" % "\n".join(res.lines[-15:])
        assert re.search(kernel_re, m.group(1)), "message %r lacks %r" % (m.group(0), kernel_re)
        assert not qemu_run.BEGIN_MARK in text, "the damaged system booted"
    else:
        assert res.kind == "ok" and "alive" in res.output, "\n".join(res.lines[-15:])
        if kernel_re:
            assert re.search(kernel_re, text), "no report %r:\n%s" % (kernel_re, text)
    assert r["same"], "the boot block or superblock was written"
