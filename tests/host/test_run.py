"""make-run semantics on the real kernel (tools/run.py): output capture,
exit status propagation, timeouts, the COM2 file."""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import qemu_run  # noqa: E402

RUN = os.path.join(ROOT, "tools", "run.py")


def run_py(*args, timeout=120):
    for p in (qemu_run.KERNEL_IMG, qemu_run.MKFS):
        assert os.path.exists(p), "not built (run make): " + p
    return subprocess.run(["/usr/bin/python3", RUN] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout)


def test_output_is_captured():
    p = run_py("--timeout", "60", "--", "echo hello world; echo second")
    assert (p.returncode, p.stdout) == (0, "hello world\nsecond\n"), p.stderr


def test_exit_status_of_sh_exit():
    p = run_py("--timeout", "60", "--", "exit 3")
    assert p.returncode == 3, (p.stdout, p.stderr)


def test_failing_command_status():
    p = run_py("--timeout", "60", "--", "cat /no/such/file")
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert p.returncode not in (124, 125), (p.stdout, p.stderr)


def test_status_is_the_last_commands():
    p = run_py("--timeout", "60", "--", "cat /no/such/file; echo after")
    assert p.returncode == 0 and p.stdout.endswith("after\n"), (p.stdout, p.stderr)


def test_timeout():
    t = time.time()
    p = run_py("--timeout", "8", "--", "sleep 100000")
    assert p.returncode == 124, (p.stdout, p.stderr)
    assert "run.py: guest timed out after 8 s" in p.stderr
    assert time.time() - t < 30


def test_com2_file_and_cpus(tmp_path):
    com2 = tmp_path / "sub" / "com2.bin"
    p = run_py("--cpus", "1", "--mem", "64", "--com2", str(com2), "--timeout", "60",
               "--", "echo one cpu")
    assert (p.returncode, p.stdout) == (0, "one cpu\n"), p.stderr
    assert com2.exists()


def test_given_image_and_keep(tmp_path):
    img = str(tmp_path / "fs.img")
    qemu_run.make_image(img, "echo from image")
    p = run_py("--image", img, "--timeout", "60")
    assert (p.returncode, p.stdout) == (0, "from image\n"), p.stderr
    st, out = qemu_run.fsck(img)
    assert st == 0, out


def test_small_disk_image(tmp_path):
    # A 4 MiB disk: the kernel takes the size from the superblock (disktest
    # runs out of space on a small one).
    img = str(tmp_path / "small.img")
    qemu_run.make_image(img, "sh -c 'cat /ls /ls /ls /ls /ls /ls /ls /ls > big'; echo done",
                        disk_blocks=4096)
    assert os.path.getsize(img) == 4096 * 1024
    st, out = qemu_run.fsck(img)
    assert st == 0, out
    res = qemu_run.run(image=img, timeout=60)
    assert res.kind == "ok", res
    assert res.output[-1] == "done", res.output
    st, out = qemu_run.fsck(img)
    assert st == 0, out


def test_disk_size_errors(tmp_path):
    img = str(tmp_path / "bad.img")
    for blocks in (0, 100, 1 << 28):
        try:
            qemu_run.make_image(img, "echo", disk_blocks=blocks)
        except qemu_run.ImageError as e:
            assert "--size" in str(e)
        else:
            raise AssertionError("mkfs accepted %d blocks" % blocks)
