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

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD = os.environ.get("VIREO_BUILD", os.path.join(TOP, "build"))
PLUGIN = os.path.join(BUILD, "drivers", "net", "virtio", "librte_net_vireo.so")
TESTPMD = os.environ.get("VIREO_TESTPMD", "dpdk-testpmd")
PROMPT = "testpmd> "


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
                 timeout=30, lcores=None):
        ws = workspace()
        self.name = name
        self.prefix = ws.prefix(name)
        lcores = lcores or "0@%d,1@%d" % (cpu, cpu)
        # Line-buffered stdout: testpmd printf()s, and a pipe would hold
        # its replies in the stdio buffer behind the prompt.
        cmd = ["stdbuf", "-oL", TESTPMD, "--lcores", lcores, "--file-prefix", self.prefix,
               "--no-pci"] + eal_memory_args(mem_mb)
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
                                     start_new_session=True)
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
        regex = re.compile(pattern if not pattern == PROMPT else re.escape(PROMPT))
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.output, self._seen)
            if m:
                text = self.output[self._seen:m.end()]
                self._seen = m.end()
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

    def cmd(self, line, timeout=30):
        """Run one testpmd command; return what it printed."""
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()
        text = self.expect(PROMPT, timeout)
        return text[:-len(PROMPT)]

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
