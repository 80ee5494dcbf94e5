"""Boot the kernel under qemu from Python: the host side of the scripted-run
protocol (see README.md, "Scripted runs").

Used by tools/run.py (make run), tests/run_all.py (make test) and the host
tests. The pieces, from low to high level:

  make_image(path, runcmd, ...)   build a file-system image with out/mkfs
  temp_image(runcmd)              the same, in a fresh temporary file
  Guest(image, ...)               a running qemu whose COM1 output is read
                                  line by line (next_line, wait_for, kill)
  OutputParser                    finds the @@RUN-BEGIN@@ / @@RUN-END n@@
                                  markers and kernel panics in those lines
  run(cmd, ...)                   all of the above: fresh image, boot, stream
                                  the output, wait for the end marker or a
                                  panic or the timeout; returns a RunResult

Every qemu started here dies with us: it is killed when its Guest is closed,
at interpreter exit, and (through setpriv --pdeathsig) if this process is
itself killed.
"""
import atexit
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "out")
MKFS = os.path.join(OUT, "mkfs")
FSCK = os.path.join(OUT, "fsck")
KERNEL_IMG = os.path.join(OUT, "kernel.img")
USER_DIR = os.path.join(OUT, "user")
TMP_DIR = os.path.join(OUT, "tmp")

BEGIN_MARK = "@@RUN-BEGIN@@"
END_RE = re.compile(r"@@RUN-END (-?\d+)@@")
PANIC_MARK = "panic: "
# The kernel's flight recorder: it prints the first line when it begins
# writing the trace buffers to COM2 (on a panic, or on the console's dump
# key, Ctrl-T, which a timed-out run sends when COM2 goes to a file) and
# the second when the dump is complete.
TRACE_DUMP_BEGIN = "trace: dumping the trace buffers"
TRACE_DUMP_END = ("trace: dump done", "trace: no trace buffers")
TRACE_DUMP_KEY = b"\x14"
TRACE_DUMP_GRACE = 120.0
# run.py's exit codes besides the guest's own status.
EXIT_TIMEOUT = 124
EXIT_CRASH = 125

# How long to keep reading after a panic line (the call trace follows it),
# and how long a guest may take to power off after the end marker.
PANIC_GRACE = 1.0
POWEROFF_GRACE = 10.0


class ImageError(Exception):
    """out/mkfs is missing or failed."""


def user_programs():
    """Paths of the built user programs, out/user/_NAME, sorted."""
    if not os.path.isdir(USER_DIR):
        return []
    names = sorted(n for n in os.listdir(USER_DIR)
                   if n.startswith("_") and "." not in n)
    return [os.path.join(USER_DIR, n) for n in names]


def make_image(path, runcmd=None, programs=None, extra=(), disk_blocks=None):
    """Write a fresh file-system image at path holding the user programs
    (default: every out/user/_NAME) and extra host files; runcmd, if not
    None, becomes /runcmd; disk_blocks, if given, is the image's size in
    blocks (default: the kernel's FSSIZE). Raises ImageError if mkfs fails."""
    if not os.access(MKFS, os.X_OK):
        raise ImageError("%s is missing: run make first" % MKFS)
    if programs is None:
        programs = user_programs()
    argv = [MKFS, path]
    if disk_blocks is not None:
        argv += ["--size", str(disk_blocks)]
    if runcmd is not None:
        argv += ["--runcmd", runcmd]
    argv += list(programs) + list(extra)
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if proc.returncode != 0:
        raise ImageError("mkfs failed (status %d): %s"
                         % (proc.returncode, proc.stdout.strip()))
    return path


def temp_image(runcmd=None, programs=None, extra=(), disk_blocks=None):
    """make_image() into a new file under out/tmp/; returns its path.
    The caller removes it."""
    os.makedirs(TMP_DIR, exist_ok=True)
    fd, path = tempfile.mkstemp(prefix="fs-", suffix=".img", dir=TMP_DIR)
    os.close(fd)
    try:
        make_image(path, runcmd, programs, extra, disk_blocks)
    except BaseException:
        remove_quietly(path)
        raise
    return path


def remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def qemu_binary():
    """The qemu to run: $QEMU if set (the tests use a stand-in), else
    qemu-system-i386."""
    return os.environ.get("QEMU") or "qemu-system-i386"


# Options appended to every guest's qemu command line; empty by default.
# The benchmark driver puts its clock here (CLOCK=icount: ICOUNT_ARGS).
EXTRA_ARGS = []

# Deterministic clock: one guest instruction = 2^0 ns of virtual time, so
# the TSC counts instructions (1 GHz); sleep=off makes idle time jump to the
# next timer deadline instead of following the host's clock.
ICOUNT_ARGS = ["-icount", "shift=0,sleep=off"]


# Swap disk size when a caller does not say: this many times guest memory.
SWAP_FACTOR = 2


def swap_size(mem, swap_mb=None):
    """MiB of swap for a guest of mem MiB: swap_mb, or SWAP_FACTOR * mem."""
    return SWAP_FACTOR * mem if swap_mb is None else swap_mb


def swap_image(mb):
    """A swap disk of mb MiB (all zeros, sparse) under out/tmp/, made once
    and shared: guests attach it with snapshot=on, so their writes go to a
    throw-away overlay and the file itself never changes."""
    os.makedirs(TMP_DIR, exist_ok=True)
    path = os.path.join(TMP_DIR, "swap-%dM.img" % mb)
    if os.path.exists(path) and os.path.getsize(path) == mb << 20:
        return path
    fd, tmp = tempfile.mkstemp(prefix="swap-", suffix=".tmp", dir=TMP_DIR)
    try:
        os.ftruncate(fd, mb << 20)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


def qemu_argv(image, cpus=2, mem=128, com2=None, kernel=None, qemu=None, swap_mb=None):
    """The qemu command line: headless, COM1 on stdout, COM2 to the file
    com2 (or nowhere), the kernel disk first and the fs image second, the
    swap disk (swap_size MiB; none for 0) third, then EXTRA_ARGS."""
    kernel = kernel or KERNEL_IMG
    com2dev = "file:" + com2 if com2 else "null"
    swap = []
    if swap_size(mem, swap_mb) > 0:
        swap = ["-drive", "file=%s,index=2,media=disk,format=raw,snapshot=on"
                % swap_image(swap_size(mem, swap_mb))]
    return [qemu or qemu_binary(),
            "-display", "none", "-monitor", "none", "-net", "none",
            "-serial", "stdio", "-serial", com2dev, "-no-reboot",
            # snapshot=on: guests running at once may share the kernel disk
            # (qemu would refuse to open one image twice for writing).
            "-drive", "file=%s,index=0,media=disk,format=raw,snapshot=on" % kernel,
            "-drive", "file=%s,index=1,media=disk,format=raw" % image] + swap + [
            "-smp", str(cpus), "-m", str(mem)] + list(EXTRA_ARGS)


# Guests still running, killed at exit whatever happens.
_live = set()
_live_lock = threading.Lock()


def kill_all():
    """Kill every qemu this process started that is still running."""
    with _live_lock:
        guests = list(_live)
    for g in guests:
        g.kill()


atexit.register(kill_all)


def _pdeathsig_prefix():
    # setpriv sets "kill me when my parent dies", then execs qemu.
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, "--pdeathsig", "KILL", "--"]
    return []


class Guest:
    """One running qemu. COM1 output is read by a thread and handed out a
    line at a time (without the line end; '\\r' removed).

    Use as a context manager, or call close(). next_line(timeout) returns
    the next line, None if none came in time, and raises EOFError once
    qemu has closed its output and every line has been read."""

    def __init__(self, image, cpus=2, mem=128, com2=None, kernel=None, qemu=None,
                 swap_mb=None):
        self.argv = qemu_argv(image, cpus, mem, com2, kernel, qemu, swap_mb)
        self.com2 = com2
        if com2:
            d = os.path.dirname(os.path.abspath(com2))
            os.makedirs(d, exist_ok=True)
        self.lines = []              # every line read so far
        self._q = queue.Queue()
        self._stderr = []
        self._eof = False
        self.started = time.monotonic()
        self.proc = subprocess.Popen(_pdeathsig_prefix() + self.argv,
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        with _live_lock:
            _live.add(self)
        self._out_thread = threading.Thread(target=self._read_out, daemon=True)
        self._err_thread = threading.Thread(target=self._read_err, daemon=True)
        self._out_thread.start()
        self._err_thread.start()

    def send(self, data):
        """Type data on the guest's console (COM1); False if qemu is gone."""
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            return True
        except (OSError, ValueError):
            return False

    def _read_out(self):
        fd = self.proc.stdout.fileno()
        pending = b""
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            pending += data
            parts = pending.split(b"\n")
            pending = parts.pop()
            for p in parts:
                self._q.put(_decode(p))
        if pending:
            self._q.put(_decode(pending))
        self._q.put(None)

    def _read_err(self):
        for raw in self.proc.stderr:
            self._stderr.append(_decode(raw.rstrip(b"\n")))

    def elapsed(self):
        return time.monotonic() - self.started

    def next_line(self, timeout=None):
        """The next output line; None after timeout seconds without one
        (timeout None: wait for ever). EOFError at the end of output."""
        if self._eof:
            raise EOFError
        try:
            line = self._q.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is None:
            self._eof = True
            raise EOFError
        self.lines.append(line)
        return line

    def wait_for(self, pattern, timeout):
        """Read lines until one matches the regex pattern; returns its match
        object, or None on timeout or end of output."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.next_line(left)
            except EOFError:
                return None
            if line is not None:
                m = rx.search(line)
                if m:
                    return m

    def running(self):
        return self.proc.poll() is None

    def wait_exit(self, timeout):
        """Wait up to timeout seconds for qemu to exit; its status or None."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self):
        """SIGKILL qemu now (the guest gets no chance to finish anything)
        and reap it. Safe to call more than once."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        with _live_lock:
            _live.discard(self)

    def stderr_text(self):
        """What qemu itself printed on stderr (after it has exited)."""
        self._err_thread.join(2)
        return "\n".join(self._stderr)

    def close(self):
        self.kill()
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except Exception:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _decode(raw):
    return raw.decode("utf-8", "replace").replace("\r", "")


def boot(image, **kw):
    """Start qemu on the fs image; returns a Guest (see Guest for kw)."""
    return Guest(image, **kw)


class OutputParser:
    """Follows the guest's output lines through the run protocol.

    feed(line) returns the part of the line that belongs to the command's
    output (text between the markers; None if nothing does) and updates:
      begun   -- "@@RUN-BEGIN@@" seen
      status  -- the int of "@@RUN-END <n>@@" once seen (else None)
      panic   -- the lines from the first "panic: " line on
    A marker may share a line with other text (output lacking a final
    newline); the text beside it is kept. With raw=True every line is
    output, the markers included."""

    def __init__(self, raw=False):
        self.raw = raw
        self.begun = False
        self.status = None
        self.panic = []
        self.output = []

    def ended(self):
        return self.status is not None

    def feed(self, line):
        shown = None
        if self.raw:
            shown = line
        if self.panic or PANIC_MARK in line:
            self.panic.append(line)
        if not self.begun:
            i = line.find(BEGIN_MARK)
            if i < 0:
                return shown
            self.begun = True
            line = line[i + len(BEGIN_MARK):]
            if not line:
                return shown
        if self.status is not None:
            return shown
        m = END_RE.search(line)
        if m:
            self.status = int(m.group(1))
            line = line[:m.start()]
            if not line:
                return shown
        self.output.append(line)
        return shown if self.raw else line


def exit_code(status):
    """run.py's exit code for the guest's status: 0..255 as is, else 1."""
    if 0 <= status <= 255:
        return status
    return 1


class RunResult:
    """What run() found.
    kind:   "ok" (end marker seen), "panic", "timeout", "noend" (qemu quit
            without the end marker) or "error" (no image / qemu failed)
    code:   run.py's exit code (guest status, 124, 125)
    status: the guest's status from the end marker, or None
    output: command output lines; lines: every line qemu printed
    panic:  the panic line and what followed it
    message: a one-line explanation when kind != "ok"."""

    def __init__(self):
        self.kind = "error"
        self.code = EXIT_CRASH
        self.status = None
        self.output = []
        self.lines = []
        self.panic = []
        self.message = ""
        self.elapsed = 0.0
        self.image = None

    def __repr__(self):
        return "RunResult(kind=%r, code=%r, status=%r, message=%r)" % (
            self.kind, self.code, self.status, self.message)


def run(cmd=None, image=None, cpus=2, mem=128, timeout=120, com2=None,
        keep_image=False, raw=False, on_output=None, kernel=None, qemu=None,
        programs=None, disk_blocks=None, swap_mb=None):
    """Run one command line in a fresh guest and return a RunResult.

    Without image, a temporary image of disk_blocks blocks (default FSSIZE)
    is made with /runcmd = cmd (removed afterwards unless keep_image;
    result.image names it). With image, that image is booted as it is (its
    /runcmd is the caller's business). swap_mb: MiB of swap disk (default
    SWAP_FACTOR * mem; 0: none).
    on_output(text), if given, is called with each output line as it
    arrives (every line if raw). Never raises for guest trouble: a
    timeout, panic or early qemu exit is reported in the result."""
    res = RunResult()
    start = time.monotonic()
    tmp = None
    if image is None:
        try:
            tmp = temp_image(cmd or "", programs, disk_blocks=disk_blocks)
        except ImageError as e:
            res.message = str(e)
            return res
        image = tmp
    res.image = image
    try:
        guest = Guest(image, cpus=cpus, mem=mem, com2=com2, kernel=kernel, qemu=qemu,
                      swap_mb=swap_mb)
    except OSError as e:
        res.message = "cannot start qemu: %s" % e
        if tmp and not keep_image:
            remove_quietly(tmp)
        return res
    try:
        _follow(guest, res, timeout, raw, on_output)
    finally:
        guest.close()
        res.lines = guest.lines
        res.elapsed = time.monotonic() - start
        if tmp and not keep_image:
            remove_quietly(tmp)
    return res


# A test suite's watchdog reports a hung test with this; the runner then
# types Ctrl-P, and the kernel lists every process with its state and wait
# channel (console.c, procdump), so the log says what was stuck.
TEST_TIMEOUT_RE = re.compile(r"^FAIL \S+: timed out after \d+ ticks")
CTRL_P = b"\x10"


def _follow(guest, res, timeout, raw, on_output):
    """Read the guest's output until the end marker, a panic, the timeout
    or the end of output; fill in res."""
    parser = OutputParser(raw)
    deadline = guest.started + timeout
    panic_deadline = None
    dumping = None               # while the kernel writes a trace dump: its deadline
    eof = False
    while True:
        now = time.monotonic()
        limit = deadline
        if panic_deadline is not None:
            limit = min(limit, panic_deadline)
        if dumping is not None:
            limit = max(limit, dumping)
        if now >= limit:
            break
        try:
            line = guest.next_line(limit - now)
        except EOFError:
            eof = True
            break
        if line is None:
            continue
        text = parser.feed(line)
        if text is not None and on_output:
            on_output(text)
        if TEST_TIMEOUT_RE.search(line):
            guest.send(CTRL_P)   # a test hung: the kernel lists every process
        if TRACE_DUMP_BEGIN in line:
            dumping = time.monotonic() + TRACE_DUMP_GRACE
        if dumping is not None and any(m in line for m in TRACE_DUMP_END):
            dumping = None
            if panic_deadline is not None:
                panic_deadline = time.monotonic() + PANIC_GRACE
        if parser.panic and panic_deadline is None:
            panic_deadline = time.monotonic() + PANIC_GRACE
        if parser.ended():
            break
    res.output = parser.output
    res.panic = parser.panic
    if parser.ended():
        res.kind = "ok"
        res.status = parser.status
        res.code = exit_code(parser.status)
        # The guest powers itself off; keep reading until it has.
        end = time.monotonic() + POWEROFF_GRACE
        while guest.running() and time.monotonic() < end:
            try:
                line = guest.next_line(0.2)
            except EOFError:
                guest.wait_exit(max(0.0, end - time.monotonic()))
                break
            if line is not None and raw and on_output:
                on_output(line)
        return
    if parser.panic:
        res.kind = "panic"
        res.code = EXIT_CRASH
        res.message = "kernel panic: " + parser.panic[0].strip()
        return
    # (qemu may close its output a moment before it exits.)
    if not eof and guest.running():
        res.kind = "timeout"
        res.code = EXIT_TIMEOUT
        res.message = "guest timed out after %s s" % _fmt_secs(timeout)
        if guest.com2:
            res.message += _dump_on_timeout(guest, raw, on_output)
        return
    qstatus = guest.wait_exit(5)
    res.kind = "noend"
    res.code = EXIT_CRASH
    err = guest.stderr_text().strip()
    if not parser.begun:
        what = "before the guest began the command"
    else:
        what = "without the end marker"
    res.message = "qemu exited (status %s) %s" % (qstatus, what)
    if err:
        res.message += ": " + err.splitlines()[-1]


def _dump_on_timeout(guest, raw, on_output):
    """Ask a guest that timed out for a trace dump (the console's dump key)
    and wait until it has written it. Returns words for the message."""
    if not guest.send(TRACE_DUMP_KEY):
        return ""
    end = time.monotonic() + TRACE_DUMP_GRACE
    while time.monotonic() < end:
        try:
            line = guest.next_line(min(5.0, end - time.monotonic()))
        except EOFError:
            break
        if line is None:
            continue
        if raw and on_output:
            on_output(line)
        if TRACE_DUMP_END[0] in line:
            return "; trace buffers dumped to COM2"
        if TRACE_DUMP_END[1] in line:
            return "; no trace buffers to dump"
    return "; asked for a trace dump, none came"


def _fmt_secs(s):
    return ("%d" % s) if float(s).is_integer() else ("%g" % s)


def fsck(image, *args):
    """Run out/fsck on image with extra args; returns (status, output)."""
    proc = subprocess.run([FSCK, image] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


if __name__ == "__main__":
    sys.stderr.write("use tools/run.py\n")
    sys.exit(2)
