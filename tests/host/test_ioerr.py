"""Disk I/O errors: a transfer the disk fails is an error, never zeros.

Each case boots a small image whose file-system disk goes through qemu's
blkdebug driver, with one rule that fails every read or every write of one
block (errno 5: the IDE controller reports ERR). Then:
  - a read error inside a file, a directory or an indirect block makes
    read() fail with EIO, again on a retry, with the kernel's "fs: inode
    N: disk error at block B" line, while other files read correctly; a
    process reading the bad block through a mapping is killed with a
    message;
  - a write error in the log area means the transaction never commits:
    the call that committed it fails with EIO, later changes fail with
    EIO (the file system is read-only), reads still work, and the image
    on the host is unchanged and passes fsck;
  - a write error at a block's home location after the commit point
    keeps the transaction in the log: the next boot (without errors)
    redoes it, and the image passes fsck;
  - a read error in a program's code makes exec fail with EIO;
  - a read error in the superblock or the root inode, or a write error in
    the log header, at mount stops the boot with "file system damaged:
    ...; run fsck".
No case may panic or hang. The guests run two at a time.
"""
import os
import re
import shutil
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, HERE)
import qemu_run  # noqa: E402
from test_damage import NDIRECT, Image, run_cases  # noqa: E402

PROGRAMS = ["init", "sh", "cat", "ls", "echo", "wc", "rm", "ln", "mkdir", "robusttest"]
DISK_BLOCKS = 2048
BOOT_TIMEOUT = 60
SECTORS_PER_BLOCK = 2
EIO_RE = r"input/output error"

# A first boot without errors makes /console (init) and makes the case's
# script, /check, the /runcmd of later boots.
SETUP = """mkdir /d
echo hello > /d/f
rm /runcmd
ln /check /runcmd
echo setup done
"""
READ_SCRIPT = """echo begin
wc /data
wc /data
wc /other
ls /d
wc /big
robusttest -mapcat /data
echo alive
"""
EXEC_SCRIPT = """echo begin
wc /other
cat /other
echo alive
"""
WRITE_SCRIPT = """echo begin
echo one > /new
echo two > /new2
wc /other
echo alive
"""


def data_block(im):
    """The third data block of /data."""
    return im.inode(im.lookup("/data")[0])[3][2]


def dir_block(im):
    """The first block of directory /d."""
    return im.inode(im.lookup("/d")[0])[3][0]


def indirect_block(im):
    """/big's singly-indirect block."""
    return im.inode(im.lookup("/big")[0])[3][NDIRECT]


def program_block(im):
    """The sixth block of /wc: inside its code (which starts at file offset
    4096)."""
    return im.inode(im.lookup("/wc")[0])[3][5]


def root_block(im):
    """The root directory's first block (a new entry goes there)."""
    return im.inode(1)[3][0]


# (name, script, "read"/"write", block(im)). The rule fails every transfer
# of that kind that touches the block.
CASES = [
    ("read_file_data", READ_SCRIPT, "read", data_block),
    ("read_dir_block", READ_SCRIPT, "read", dir_block),
    ("read_indirect_block", READ_SCRIPT, "read", indirect_block),
    ("read_program_block", EXEC_SCRIPT, "read", program_block),
    ("write_log_data", WRITE_SCRIPT, "write", lambda im: im.logstart + 1),
    ("write_home_block", WRITE_SCRIPT, "write", root_block),
    ("read_superblock", READ_SCRIPT, "read", lambda im: 1),
    ("read_root_inode", READ_SCRIPT, "read", lambda im: im.inodestart),
    ("write_log_header", READ_SCRIPT, "write", lambda im: im.logstart),
]


def blkdebug_conf(path, kind, block):
    """A blkdebug rule file failing each `kind` request covering block."""
    with open(path, "w") as f:
        f.write('[inject-error]\nevent = "%s_aio"\niotype = "%s"\nerrno = "5"\nsector = "%d"\n'
                'once = "off"\n' % (kind, kind, block * SECTORS_PER_BLOCK))


def boot(image, conf=None):
    if conf:
        image = "blkdebug:%s:%s" % (os.path.abspath(conf), os.path.abspath(image))
    return qemu_run.run(image=image, cpus=1, timeout=BOOT_TIMEOUT)


def run_case(workdir, files, case):
    name, script, kind, block = case
    img = os.path.join(workdir, name + ".img")
    check = os.path.join(workdir, name, "check")
    os.makedirs(os.path.dirname(check))
    with open(check, "w") as f:
        f.write(script)
    qemu_run.make_image(img, SETUP, disk_blocks=DISK_BLOCKS, extra=files + [check],
                        programs=[os.path.join(qemu_run.USER_DIR, "_" + p) for p in PROGRAMS])
    res = boot(img)
    assert res.kind == "ok" and "setup done" in res.output, res.lines[-10:]
    with open(img, "rb") as f:
        before = f.read()
    im = Image(img)
    bno = block(im)
    conf = os.path.join(workdir, name + ".conf")
    blkdebug_conf(conf, kind, bno)
    out = {"block": bno, "inum": im.lookup("/data")[0], "res": boot(img, conf)}
    with open(img, "rb") as f:
        out["same"] = f.read() == before
    out["fsck"] = qemu_run.fsck(img)
    if name == "write_home_block":     # the same script again, no errors
        out["res2"] = boot(img)
        out["fsck2"] = qemu_run.fsck(img)
        out["new_inum"] = Image(img).lookup("/new")[0]
    return out


@pytest.fixture(scope="module")
def results():
    for p in (qemu_run.KERNEL_IMG, qemu_run.MKFS, qemu_run.FSCK):
        assert os.path.exists(p), "not built (run make): " + p
    os.makedirs(qemu_run.TMP_DIR, exist_ok=True)
    workdir = os.path.join(qemu_run.TMP_DIR, "ioerr-%d-%d" % (os.getpid(), time.time_ns()))
    os.makedirs(workdir)
    files = [os.path.join(workdir, n) for n in ("data", "other", "big")]
    with open(files[0], "w") as f:
        f.write("word\n" * 1000)               # 5 blocks
    with open(files[1], "w") as f:
        f.write("other\n" * 100)
    with open(files[2], "w") as f:             # 20 blocks: past the direct ones
        f.write("big\n" * 5120)
    yield run_cases(CASES, lambda c: run_case(workdir, files, c))
    shutil.rmtree(workdir, ignore_errors=True)


def get(results, name):
    r = results[name]
    if "error" in r:
        raise r["error"]
    res = r["res"]
    tail = "\n".join(res.lines[-20:])
    assert res.kind != "panic", "kernel panic:\n" + tail
    assert res.kind != "timeout", "guest hung:\n" + tail
    return r, res, "\n".join(res.lines), tail


OTHER_OK = r"^\s*100 100 600 /other"
BIG_OK = r"^\s*5120 5120 20480 /big"
LS_OK = r"^f\b"
MAP_OK = r"mapcat: 5000 bytes"


def test_read_error_in_a_file_is_eio(results):
    r, res, text, tail = get(results, "read_file_data")
    assert res.kind == "ok" and "alive" in res.output, tail
    assert len(re.findall(r"wc: /data: " + EIO_RE, text)) == 2, tail
    assert "fs: inode %d: disk error at block %d" % (r["inum"], r["block"]) in text, tail
    for ok in (OTHER_OK, BIG_OK, LS_OK):       # the rest still reads
        assert re.search(ok, text, re.M), (ok, tail)
    # Through a mapping: the process is killed, naming the cause.
    assert re.search(r"\(robusttest\): killed: bus error: disk error reading the mapped "
                     r"file at 0x", text), tail
    assert not re.search(MAP_OK, text), tail


def test_read_error_in_a_directory_is_eio(results):
    r, res, text, tail = get(results, "read_dir_block")
    assert res.kind == "ok" and "alive" in res.output, tail
    assert re.search(r"ls: /d: " + EIO_RE, text), tail
    for ok in (OTHER_OK, BIG_OK, MAP_OK):
        assert re.search(ok, text, re.M), (ok, tail)


def test_read_error_in_an_indirect_block_is_eio(results):
    r, res, text, tail = get(results, "read_indirect_block")
    assert res.kind == "ok" and "alive" in res.output, tail
    assert re.search(r"wc: /big: " + EIO_RE, text), tail
    assert not re.search(BIG_OK, text, re.M), tail
    for ok in (OTHER_OK, LS_OK, MAP_OK):
        assert re.search(ok, text, re.M), (ok, tail)


def test_read_error_in_a_program_fails_exec(results):
    r, res, text, tail = get(results, "read_program_block")
    assert res.kind == "ok" and "alive" in res.output, tail
    assert re.search(r"wc: " + EIO_RE, text), tail        # not "exec format error"
    assert not re.search(OTHER_OK, text, re.M), tail
    assert res.output.count("other") == 100, tail           # cat still runs


def test_log_write_error_does_not_commit(results):
    r, res, text, tail = get(results, "write_log_data")
    assert res.kind == "ok" and "alive" in res.output, tail
    assert "log: disk write failed" in text and "read-only" in text, tail
    assert re.search(r"/new: " + EIO_RE, text), tail       # the committing call
    assert re.search(r"/new2: " + EIO_RE, text), tail      # read-only after
    assert re.search(OTHER_OK, text, re.M), tail
    assert r["same"], "the image changed although nothing committed"
    st, out = r["fsck"]
    assert st == 0, out


def test_install_error_is_redone_at_next_boot(results):
    r, res, text, tail = get(results, "write_home_block")
    assert res.kind == "ok" and "alive" in res.output, tail
    assert "kept in the log for the next boot" in text, tail
    res2 = r["res2"]
    tail2 = "\n".join(res2.lines[-20:])
    assert res2.kind == "ok" and "alive" in res2.output, tail2
    assert "log: recovered" in "\n".join(res2.lines), tail2
    assert r["new_inum"] > 1
    st, out = r["fsck2"]
    assert st == 0, out


@pytest.mark.parametrize("name,why", [
    ("read_superblock", "disk read error in the superblock"),
    ("read_root_inode", "disk read error in the root inode"),
    ("write_log_header", "disk write error in the log header"),
])
def test_mount_error_stops_the_boot(results, name, why):
    r, res, text, tail = get(results, name)
    assert "file system damaged: %s; run fsck" % why in text, tail
    assert qemu_run.BEGIN_MARK not in text, "the system booted:\n" + tail
