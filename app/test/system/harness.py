# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Process harness of the system tests.

Starts stock dpdk-testpmd processes (our plugin loaded with -d on one side,
net_vhost on the other), drives their interactive prompt through a pipe,
and guarantees that every process it started is ended, by PID, and that
the sockets, runtime folders and hugepage files it made are removed, even
when a test fails or the run is interrupted.
"""

import atexit
import glob
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
import zlib

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD = os.environ.get("VIREO_BUILD", os.path.join(TOP, "build"))
BUILT_PLUGIN = os.path.join(BUILD, "drivers", "net", "virtio",
                            "librte_net_vireo.so")


def _world_writable_above(path):
    """True if path or a folder above it is world-writable, which makes
    EAL refuse to load a plugin from there (a clone under /tmp or
    /var/tmp, for instance)."""
    d = os.path.dirname(os.path.abspath(path))
    while True:
        try:
            if os.stat(d).st_mode & 0o002:
                return True
        except OSError:
            return False
        if d == "/":
            return False
        d = os.path.dirname(d)


def loadable_plugin(path):
    """A path EAL accepts for the plugin built at path: itself, or, where
    its folders are world-writable, a copy in a folder only root may
    write (/run/vireo-plugins), replaced atomically so that processes
    still running keep the copy they loaded."""
    if not os.path.exists(path) or not _world_writable_above(path):
        return path
    safe = os.path.join("/run", "vireo-plugins",
                        "%08x" % zlib.crc32(os.path.abspath(path).encode()))
    os.makedirs(safe, mode=0o755, exist_ok=True)
    os.chmod(os.path.dirname(safe), 0o755)
    os.chmod(safe, 0o755)
    dest = os.path.join(safe, os.path.basename(path))
    fd, tmp = tempfile.mkstemp(dir=safe)
    os.close(fd)
    shutil.copyfile(path, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, dest)
    return dest


PLUGIN = loadable_plugin(BUILT_PLUGIN)
TESTPMD = os.environ.get("VIREO_TESTPMD", "dpdk-testpmd")
PROMPT = "testpmd> "
# testpmd's command line library writes its prompt one character at a
# time, so a line another thread prints meanwhile (an ethdev event, a
# vhost log, one of our own "vireo: ..." logs) can land inside it:
# "t\nPort 0: link state change event\nestpmd> ".  Such lines are
# written whole (one write each), so the prompt pattern lets a few whole
# lines, of any kind, in between its characters.
_ASYNC_LINES = r"(?:[^\n]{0,400}\n){0,16}?"
PROMPT_RE = _ASYNC_LINES.join(re.escape(c) for c in PROMPT)
_PROMPT = re.compile(PROMPT_RE)


def prompt_start(text, start, end):
    """Where the prompt matched in text[start:end] begins.  The search
    finds the right end but, with lines let in, may begin at an earlier
    "t" (a command's echo split by a log line, then the prompt split
    too).  The shortest match ending there never takes in the command's
    output; at worst it leaves a line let into the prompt in it."""
    pos = end - len(PROMPT)
    while pos > start:
        if text[pos] == "t" and _PROMPT.fullmatch(text, pos, end):
            return pos
        pos -= 1
    return start


def memory_mode():
    mode = os.environ.get("VIREO_MEMMODE")
    if mode:
        return mode
    try:
        with open(os.path.join(TOP, "build-sdk", "memmode")) as f:
            return f.read().strip()
    except OSError:
        return "nohuge"


def eal_memory_args(mem_mb=256):
    if memory_mode() == "hugepages":
        # virtio-user shares memory by fd: one file per segment list
        # keeps the region count within vhost-user's limit of 8.
        return ["-m", str(mem_mb), "--single-file-segments"]
    return ["--no-huge", "-m", str(mem_mb)]


def sanitizer_env(preload=True):
    """The environment of a process that may load our code built with
    -Dsanitize=true, when VIREO_SANITIZE=1 (devtools/test-asan.sh):
    stock testpmd and the other DPDK programs are not ASan programs, so
    libasan must be the first library loaded (LD_PRELOAD); every DPDK
    program gets it, since an installed plugin is autoloaded by all of
    them.  Leaks are not reported (EAL keeps its memory to the end), any
    other report aborts the process and is written under
    $VIREO_BUILD/asan/.  None (inherit) otherwise."""
    if os.environ.get("VIREO_SANITIZE", "0") in ("", "0"):
        return None
    logs = os.path.join(BUILD, "asan")
    os.makedirs(logs, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1:"
                   "halt_on_error=1:log_path=" + os.path.join(logs, "asan"))
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:"
                   "log_path=" + os.path.join(logs, "ubsan"))
    if preload:
        lib = subprocess.run(["gcc", "-print-file-name=libasan.so"],
                             capture_output=True, text=True).stdout.strip()
        env["LD_PRELOAD"] = os.path.realpath(lib)
    return env


class Workspace:
    """Per-run scratch state: a private socket folder and the list of
    everything to clean up."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vireo-sys-", dir="/var/tmp")
        os.chmod(self.dir, 0o700)
        self.procs = []
        self.prefixes = []
        self.serial = 0

    def socket(self, name):
        return os.path.join(self.dir, name + ".sock")

    def prefix(self, name):
        self.serial += 1
        prefix = "vireo-%d-%d-%s" % (os.getpid(), self.serial, name)
        self.prefixes.append(prefix)
        return prefix

    def cleanup(self):
        for proc in self.procs:
            proc.kill()
        self.procs = []
        for prefix in self.prefixes:
            shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)
            for f in glob.glob("/dev/hugepages/%smap_*" % prefix):
                try:
                    os.unlink(f)
                except OSError:
                    pass
        self.prefixes = []
        shutil.rmtree(self.dir, ignore_errors=True)


_workspace = None


def workspace():
    global _workspace
    if _workspace is None:
        _workspace = Workspace()
    return _workspace


def _cleanup_all(*_args):
    global _workspace
    if _workspace is not None:
        _workspace.cleanup()
        _workspace = None


def install_cleanup_handlers():
    atexit.register(_cleanup_all)

    def on_signal(signum, _frame):
        _cleanup_all()
        os._exit(128 + signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)


class TestpmdError(Exception):
    pass


class Testpmd:
    """One dpdk-testpmd in interactive mode, its stdin and stdout piped."""

    def __init__(self, name, cpu, vdevs=(), plugin=True, eal_args=(),
                 app_args=(), mem_mb=256, nb_mbufs=16384, wait_prompt=True,
                 timeout=30, lcores=None, mem_args=None, wrapper=()):
        ws = workspace()
        self.name = name
        self.prefix = ws.prefix(name)
        lcores = lcores or "0@%d,1@%d" % (cpu, cpu)
        # Line-buffered stdout: testpmd printf()s, and a pipe would hold
        # its replies in the stdio buffer behind the prompt.
        # @wrapper: a program testpmd runs under (valgrind, for one)
        cmd = (["stdbuf", "-oL"] + list(wrapper) +
               [TESTPMD, "--lcores", lcores, "--file-prefix", self.prefix,
                "--no-pci"] + (list(mem_args) if mem_args is not None
                               else eal_memory_args(mem_mb)))
        if plugin:
            cmd += ["-d", PLUGIN]
        for vdev in vdevs:
            cmd += ["--vdev", vdev]
        cmd += list(eal_args)
        cmd += ["--", "-i", "--total-num-mbufs=%d" % nb_mbufs] + list(app_args)
        self.cmdline = cmd
        self.output = ""
        self._seen = 0
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True,
                                     env=sanitizer_env())
        ws.procs.append(self)
        os.set_blocking(self.proc.stdout.fileno(), False)
        if wait_prompt:
            self.expect(PROMPT, timeout)

    def _read(self, timeout):
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return False
        if not data:
            return None
        self.output += data.decode(errors="replace")
        return True

    def expect(self, pattern, timeout=30):
        """Wait until @pattern (a regex) appears in output not yet
        consumed; return the consumed text up to and including it."""
        regex = re.compile(pattern if not pattern == PROMPT else PROMPT_RE)
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.output, self._seen)
            if m:
                text = self.output[self._seen:m.end()]
                self._seen = m.end()
                self._match_start = m.start()
                return text
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestpmdError("%s: timeout waiting for %r; last output:\n%s"
                                   % (self.name, pattern, self.output[-3000:]))
            if self._read(min(left, 0.5)) is None:
                # EOF: drain and fail unless it matched in the last bytes
                m = regex.search(self.output, self._seen)
                if m:
                    continue
                raise TestpmdError("%s: exited (rc=%s) before %r; output:\n%s"
                                   % (self.name, self.proc.poll(), pattern,
                                      self.output[-3000:]))

    def wait_output(self, pattern, timeout=30, since=0):
        """Wait until @pattern (a regex) appears in the output from offset
        @since on, without consuming anything (log lines come at any
        time, between prompts); return the match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.output, since)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0 or self._read(min(left, 0.5)) is None:
                raise TestpmdError("%s: no %r in output after %ss; last output:\n%s"
                                   % (self.name, pattern, timeout,
                                      self.output[-3000:]))

    def poll_output(self):
        """Read what the process printed so far without waiting: keeps
        the pipe from filling while another process is being driven
        (a blocked printf stalls the vhost message thread too)."""
        while self._read(0):
            pass

    def skip_output(self):
        """Mark everything printed so far as consumed: the next expect()
        looks only at what comes after."""
        self.poll_output()
        self._seen = len(self.output)

    def cmd(self, line, timeout=30):
        """Run one testpmd command; return what it printed."""
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        text = self.expect(PROMPT, timeout)
        start = prompt_start(self.output, self._match_start, self._seen)
        return text[:len(text) - (self._seen - start)]

    def quit(self, timeout=20):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.drain()
        return self.proc.returncode

    def drain(self):
        while self.proc.stdout and self._read(0.05):
            pass

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def wait_exit(self, timeout=30):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestpmdError("%s: still running after %ss" % (self.name, timeout))
        self.drain()
        return self.proc.returncode


class Program(Testpmd):
    """Any DPDK program (a secondary, a test application) run like a
    Testpmd: output piped and read with expect()/wait_output(), ended
    by PID at cleanup; it has no prompt, so no cmd()."""

    def __init__(self, name, argv, stdin=False):
        ws = workspace()
        self.name = name
        self.prefix = None
        self.cmdline = list(argv)
        self.output = ""
        self._seen = 0
        env = sanitizer_env()
        if env is not None:
            # an `env LD_PRELOAD=...` prefix would replace ours: libasan
            # goes first in it
            self.cmdline = [a.replace("LD_PRELOAD=", "LD_PRELOAD=%s "
                                      % env["LD_PRELOAD"], 1)
                            if a.startswith("LD_PRELOAD=") else a
                            for a in self.cmdline]
        self.proc = subprocess.Popen(self.cmdline,
                                     stdin=subprocess.PIPE if stdin else
                                     subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True,
                                     env=env)
        ws.procs.append(self)
        os.set_blocking(self.proc.stdout.fileno(), False)

    def cmd(self, line, timeout=30):
        raise TestpmdError("%s: not an interactive testpmd" % self.name)

    def quit(self, timeout=20):
        """SIGINT, as a user's Ctrl-C, then wait; SIGKILL if it hangs."""
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGINT)
                self.proc.wait(timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill()
        self.drain()
        return self.proc.returncode


def eal_args(name, cpu, mem_args=None, plugin=True, prefix=None):
    """EAL options of a DPDK program on CPU @cpu, cleaned up like a
    Testpmd's: its own --file-prefix (or @prefix, to join a primary as
    a secondary) and our plugin."""
    ws = workspace()
    prefix = prefix or ws.prefix(name)
    args = ["--lcores", "0@%d" % cpu, "--file-prefix", prefix, "--no-pci"]
    args += list(mem_args) if mem_args is not None else eal_memory_args()
    if plugin:
        args += ["-d", PLUGIN]
    return args


def run_testpmd_once(name, cpu, vdevs, commands=("quit",), timeout=30, **kw):
    """Start testpmd, feed @commands, wait for it to exit, return
    (returncode, output).  For probes expected to fail."""
    pmd = Testpmd(name, cpu, vdevs=vdevs, wait_prompt=False, **kw)
    try:
        pmd.proc.stdin.write(("\n".join(commands) + "\n").encode())
        pmd.proc.stdin.flush()
        pmd.proc.stdin.close()
    except BrokenPipeError:
        pass
    deadline = time.monotonic() + timeout
    while pmd.proc.poll() is None and time.monotonic() < deadline:
        pmd._read(0.2)
    pmd.kill()
    pmd.drain()
    return pmd.proc.returncode, pmd.output


def check(cond, message):
    if not cond:
        raise AssertionError(message)
