# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""A QEMU guest running stock dpdk-testpmd with our plugin on a virtio-net
PCI function (net_vireo), driven over its serial console.

The guest is a busybox initramfs (devtools/guest/mkinitramfs.sh) booted
with software emulation (TCG: nested KVM does not work on these machines).
Its /init binds the virtio-net function to uio_pci_generic and runs a
small agent on the console: the host sends one shell command a line and
reads "vireo-guest: rc=N" at its end.  testpmd started from there takes
the console over (interactive mode) until it quits.

The device's backend is either QEMU's own virtio-net model looping frames
back through a UDP socket to itself ("loop"), or a vhost-user socket
served by stock dpdk-testpmd with net_vhost on the host ("vhost").
"""

import base64
import os
import re
import select
import signal
import socket
import subprocess
import time

import harness
import integrity
from harness import TOP, BUILD, PROMPT_RE, TestpmdError, workspace

GUEST_DIR = os.path.join(TOP, "devtools", "guest")
IMAGE_DIR = os.path.join(BUILD, "guest")
QEMU = os.environ.get("VIREO_QEMU", "qemu-system-x86_64")
PCI_ADDR = "0000:00:04.0"
GUEST_MAC = "52:54:00:12:34:56"

# Traffic carried through the guest: every size class, a few frames each,
# small enough to come back over the serial console quickly.
FRAME_SIZES = (64, 128, 256, 511, 1024, 1514)
FRAME_COUNT = 60
FRAME_STREAMS = 2
GUEST_SEED = 11
HOST_SEED = 12

# Generous: TCG is slow and other engineers' tests share the 2 CPUs.
BOOT_TIMEOUT = float(os.environ.get("VIREO_GUEST_BOOT_TIMEOUT", "300"))
CMD_TIMEOUT = float(os.environ.get("VIREO_GUEST_CMD_TIMEOUT", "120"))

_setup_done = False
_image = None


def setup():
    """Install the guest's packages once per run (root, Debian)."""
    global _setup_done
    if _setup_done:
        return
    subprocess.run(["bash", os.path.join(GUEST_DIR, "setup.sh")], check=True)
    _setup_done = True


def kernel():
    # the guest's kernel is one of the packages setup installs
    setup()
    kver = os.environ.get("VIREO_GUEST_KVER")
    if not kver:
        vers = sorted(os.listdir("/lib/modules"),
                      key=lambda v: [int(x) if x.isdigit() else x
                                     for x in re.split(r"[.-]", v)])
        if not vers:
            raise TestpmdError("no kernel in /lib/modules: run devtools/guest/setup.sh")
        kver = vers[-1]
    path = "/boot/vmlinuz-" + kver
    if not os.path.exists(path):
        raise TestpmdError("kernel %s missing" % path)
    return path


def guest_frames():
    """The frames the guest sends (its /data/gen.pcap): same every run."""
    import random
    rng = random.Random(GUEST_SEED)
    frames = []
    for i in range(FRAME_COUNT):
        frames.append(integrity.make_frame(
            i % FRAME_STREAMS, i // FRAME_STREAMS,
            FRAME_SIZES[i % len(FRAME_SIZES)], rng))
    return frames


def host_frames():
    import random
    rng = random.Random(HOST_SEED)
    frames = []
    for i in range(FRAME_COUNT):
        frames.append(integrity.make_frame(
            8 + i % FRAME_STREAMS, i // FRAME_STREAMS,
            FRAME_SIZES[i % len(FRAME_SIZES)], rng))
    return frames


def image():
    """Build the initramfs once per process (a few seconds): it holds the
    plugin just built, so it is never stale."""
    global _image
    if _image is not None:
        return _image
    setup()
    data = os.path.join(IMAGE_DIR, "data")
    os.makedirs(data, exist_ok=True)
    integrity.write_pcap(os.path.join(data, "gen.pcap"), guest_frames())
    out = os.path.join(IMAGE_DIR, "initramfs.cpio")
    subprocess.run(["bash", os.path.join(GUEST_DIR, "mkinitramfs.sh"), out,
                    harness.PLUGIN, data], check=True)
    _image = out
    return out


def sanitizer_prefix():
    """With VIREO_SANITIZE=1 (devtools/test-asan.sh) the plugin is built
    with ASan/UBSan: stock testpmd in the guest needs libasan loaded first
    (the image holds it: ldd of the plugin), and any report aborts it
    (check_sanitizers() then fails the test)."""
    if os.environ.get("VIREO_SANITIZE", "0") in ("", "0"):
        return []
    out = subprocess.run(["ldd", harness.PLUGIN], capture_output=True,
                         text=True).stdout
    m = re.search(r"^\s*(libasan\.so[.0-9]*)\s", out, re.M)
    if not m:
        return []
    return ["LD_PRELOAD=/lib/%s" % m.group(1),
            "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1",
            "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"]


def check_sanitizers(g):
    for word in ("ERROR: AddressSanitizer", "runtime error:"):
        if word in g.output:
            i = g.output.index(word)
            raise AssertionError("%s: sanitizer report in the guest:\n%s"
                                 % (g.name, g.output[max(0, i - 200):i + 3000]))


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Config:
    """One cell of the matrix.  Beside its four axes, each cell checks
    one more device property, tied to an axis so the whole matrix (and
    the two CI cells) covers every one:
      loop:         host_mtu=4000 (the MTU config field is read);
      transitional: queue_size=128 devarg (smaller rings than the
                    device's 256: the device takes the size we write);
      vhost+modern: mq=on with 2 queue pairs (max_virtqueue_pairs read,
                    the cvq's MQ command sets one pair; the control
                    queue index follows the pairs);
      loop+modern:  vectorized=1 (a vector data path, as wide as the
                    guest CPU allows: TCG's -cpu max has AVX2).
    legacy=True is a legacy-only device (disable-modern=on: no virtio
    1.x capabilities, registers in I/O BAR 0), split layout only; its
    queues keep the device's size (a legacy queue size is fixed)."""

    def __init__(self, backend, packed, mrg, modern, driver="uio_pci_generic",
                 legacy=False):
        if legacy and (packed or modern):
            raise ValueError("a legacy device is split only and not modern")
        self.backend = backend          # "loop" or "vhost"
        self.packed = packed
        self.mrg = mrg
        self.modern = modern            # False: transitional (or legacy)
        self.legacy = legacy            # True: legacy-only device
        # vfio-pci: a q35 guest with a virtual IOMMU (intel-iommu); the
        # device then translates through it (iommu_platform=on).
        self.driver = driver
        self.host_mtu = 4000 if backend == "loop" else None
        self.queue_size = 0 if (modern or legacy) else 128
        self.queue_pairs = 2 if (backend == "vhost" and modern) else 1
        self.vectorized = backend == "loop" and modern

    @property
    def name(self):
        name = "%s-%s-%s-%s" % (self.backend,
                                "packed" if self.packed else "split",
                                "mrg" if self.mrg else "nomrg",
                                "legacy" if self.legacy else
                                "modern" if self.modern else "transitional")
        return name + ("-vfio" if self.vfio else "")

    @property
    def vfio(self):
        return self.driver == "vfio-pci"

    def machine(self):
        """QEMU machine arguments (before any device) and kernel ones."""
        if not self.vfio:
            return [], ""
        return (["-machine", "q35", "-device", "intel-iommu,intremap=off,aw-bits=48"],
                " intel_iommu=on vireo.driver=vfio-pci")

    def device(self):
        onoff = lambda b: "on" if b else "off"  # noqa: E731
        dev = ("virtio-net-pci,id=nic0,netdev=n0,addr=0x4,mac=%s,packed=%s,"
               "mrg_rxbuf=%s,disable-legacy=%s,disable-modern=%s"
               % (GUEST_MAC, onoff(self.packed), onoff(self.mrg),
                  onoff(self.modern), onoff(self.legacy)))
        if self.host_mtu:
            dev += ",host_mtu=%d" % self.host_mtu
        if self.queue_pairs > 1:
            dev += ",mq=on,vectors=%d" % (2 * self.queue_pairs + 2)
        if self.vfio:
            dev += ",iommu_platform=on"
        return dev

    def devargs(self):
        """net_vireo devargs for the guest's -a."""
        args = ",queue_size=%d" % self.queue_size if self.queue_size else ""
        return args + (",vectorized=1" if self.vectorized else "")

    def __repr__(self):
        return self.name


class Guest:
    """One QEMU process; its console on our pipes, its monitor on a
    UNIX socket.  Registered with the harness workspace, so it is killed
    (by PID) whatever happens to the test."""

    def __init__(self, name, config, netdev_args, extra_args=(), mem_mb=512,
                 hugepages=64, devices=None):
        ws = workspace()
        self.name = name
        self.config = config
        self.monitor_path = os.path.join(ws.dir, name + "-mon.sock")
        # Kept after the run (the workspace is removed): what to read
        # when a guest test fails.
        os.makedirs(os.path.join(IMAGE_DIR, "logs"), exist_ok=True)
        self.log_path = os.path.join(IMAGE_DIR, "logs", name + ".log")
        machine, kargs = config.machine()
        append = ("console=ttyS0 quiet panic=-1 vireo.hugepages=%d"
                  % hugepages) + kargs
        cmd = [QEMU] + machine + ["-accel", "tcg", "-cpu", "max", "-smp", "1",
               "-m", "%d" % mem_mb, "-nodefaults", "-no-user-config",
               "-display", "none", "-no-reboot",
               "-kernel", kernel(), "-initrd", image(), "-append", append,
               "-chardev", "stdio,id=con0,signal=off",
               "-serial", "chardev:con0",
               "-monitor", "unix:%s,server=on,wait=off" % self.monitor_path]
        cmd += list(extra_args) + list(netdev_args)
        for dev in devices or [config.device()]:
            cmd += ["-device", dev]
        self.cmdline = cmd
        self.output = ""
        self._seen = 0
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        ws.procs.append(self)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.in_testpmd = False

    # -- console ------------------------------------------------------

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
        text = data.decode(errors="replace").replace("\r", "")
        self.output += text
        return True

    def poll_output(self):
        while self._read(0):
            pass

    def expect(self, pattern, timeout=CMD_TIMEOUT):
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.output, self._seen)
            if m:
                text = self.output[self._seen:m.end()]
                self._seen = m.end()
                return text, m
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestpmdError("%s: timeout (%ss) waiting for %r; last console output:\n%s"
                                   % (self.name, timeout, pattern,
                                      self.output[-4000:]))
            if self._read(min(left, 0.5)) is None:
                m = regex.search(self.output, self._seen)
                if m:
                    continue
                raise TestpmdError("%s: QEMU exited (rc=%s) before %r; console:\n%s"
                                   % (self.name, self.proc.poll(), pattern,
                                      self.output[-4000:]))

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def wait_ready(self, timeout=BOOT_TIMEOUT):
        self.expect(r"vireo-guest: ready", timeout)
        return time.monotonic() - self.started

    def sh(self, line, timeout=CMD_TIMEOUT):
        """Run one shell command in the guest: (output, exit status)."""
        self.send(line)
        text, m = self.expect(r"vireo-guest: rc=(\d+)\n", timeout)
        return text[:len(text) - (m.end() - m.start())], int(m.group(1))

    def fetch(self, path, timeout=CMD_TIMEOUT):
        """A guest file's bytes, carried as base64 over the console."""
        self.send("echo vireo-begin; base64 %s; echo vireo-end" % path)
        text, _ = self.expect(r"vireo-end\n", timeout)
        _, m = self.expect(r"vireo-guest: rc=(\d+)\n", timeout)
        body = text[text.index("vireo-begin\n") + len("vireo-begin\n"):
                    text.rindex("vireo-end\n")]
        return base64.b64decode("".join(body.split()))

    # -- testpmd in the guest -----------------------------------------

    def testpmd_cmdline(self, eal_args=(), app_args=(), devargs="",
                        allow=(PCI_ADDR,)):
        cmd = sanitizer_prefix() + [
            "dpdk-testpmd", "--lcores", "0@0,1@0", "-m", "96",
            "--file-prefix", "vg"]
        for addr in allow:
            cmd += ["-a", addr + (devargs if addr == PCI_ADDR else "")]
        cmd += [

               "-d", "/opt/vireo/librte_net_vireo.so",
               "-d", "/lib/librte_mempool_ring.so",
               "-d", "/lib/librte_net_pcap.so",
               "'--log-level=pmd.net.vireo.*:info'"]
        cmd += list(eal_args)
        cmd += ["--", "-i"] + list(app_args)
        return " ".join(cmd)

    def start_testpmd(self, eal_args=(), app_args=(), devargs="",
                      timeout=BOOT_TIMEOUT, allow=(PCI_ADDR,)):
        """testpmd on the console: it owns it until quit."""
        self.send(self.testpmd_cmdline(eal_args, app_args, devargs, allow))
        self.in_testpmd = True
        text, _ = self.expect(PROMPT_RE, timeout)
        return text

    def answer(self, line, end_mark, timeout=CMD_TIMEOUT, threads=None):
        """What testpmd printed for the command @line, up to its next
        prompt (PROMPT_RE: other threads' log lines may split it).
        testpmd ending first (its exit status, matched by @end_mark,
        group 1) or no prompt in @timeout fails, naming the command;
        @threads, if given, tells where testpmd is stuck."""
        try:
            text, m = self.expect("(?:%s)|%s" % (PROMPT_RE, end_mark),
                                  timeout)
        except TestpmdError:
            if self.proc.poll() is not None:
                raise
            where = threads() if threads else ""
            raise TestpmdError("%s: no prompt %ss after %r%s; console ends:\n%s"
                               % (self.name, timeout, line, where,
                                  self.output[-1500:])) from None
        if m.group(1) is not None:
            raise TestpmdError("%s: testpmd ended (exit status %s) after %r; console ends:\n%s"
                               % (self.name, m.group(1), line,
                                  self.output[-1500:]))
        start = harness.prompt_start(self.output, m.start(), m.end())
        return text[:len(text) - (m.end() - start)]

    def cmd(self, line, timeout=CMD_TIMEOUT):
        """One testpmd command; what it printed (the echo included)."""
        self.send(line)
        return self.answer(line, r"vireo-guest: rc=(\d+)\n", timeout)

    def quit_testpmd(self, timeout=CMD_TIMEOUT):
        self.send("quit")
        text, m = self.expect(r"vireo-guest: rc=(\d+)\n", timeout)
        self.in_testpmd = False
        return text, int(m.group(1))

    # -- QEMU monitor -------------------------------------------------

    def devmem8(self, bar, offset, value=None):
        """Read (or write) one byte of a BAR of our device, behind the
        driver's back, through /dev/mem in the guest."""
        line = ("b=$(sed -n %dp /sys/bus/pci/devices/%s/resource | cut -d' ' -f1);"
                " devmem $((b + %d)) 8" % (bar + 1, PCI_ADDR, offset))
        if value is not None:
            line += " %d" % value
        out, rc = self.sh(line)
        if rc != 0:
            raise TestpmdError("%s: devmem failed:\n%s" % (self.name, out))
        if value is not None:
            return value
        # testpmd's log lines may share the console with devmem's answer
        found = re.findall(r"^(0x[0-9a-fA-F]+)$", out, re.M)
        if not found:
            raise TestpmdError("%s: no value in devmem's answer:\n%s"
                               % (self.name, out))
        return int(found[-1], 16)

    def monitor(self, line, timeout=30):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(self.monitor_path)
        buf = b""
        try:
            while b"(qemu) " not in buf:
                buf += s.recv(4096)
            s.sendall((line + "\n").encode())
            buf = b""
            while b"(qemu) " not in buf:
                buf += s.recv(4096)
        finally:
            s.close()
        return buf.decode(errors="replace")

    # -- end ----------------------------------------------------------

    def poweroff(self, timeout=60):
        if self.proc.poll() is None:
            try:
                if self.in_testpmd:
                    self.quit_testpmd()
                self.send("poweroff -f")
            except (BrokenPipeError, TestpmdError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        while self._read(0.05):
            pass
        return self.proc.returncode

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        try:
            with open(self.log_path, "w") as f:
                f.write(self.output)
        except OSError:
            pass


class BackgroundTestpmd:
    """testpmd in the guest's background, its commands through a FIFO and
    its output on the console: the agent stays free for shell commands
    (devmem) while the port runs.  Commands go as agent lines starting
    with @ (no exit mark), so the console shows only testpmd's answer.
    When testpmd ends, its subshell prints its exit status (EXIT_MARK):
    a crash fails the command at once, with its signal."""

    FIFO = "/tmp/tp.in"
    EXIT_MARK = r"vireo-guest: testpmd exited rc=(\d+)\n"

    def __init__(self, g, cmdline, timeout=BOOT_TIMEOUT):
        self.g = g
        self.name = g.name + "-testpmd"
        # A writer that never closes: testpmd's stdin never reaches EOF.
        g.sh("mkfifo %s; (sleep 1000000 > %s &)" % (self.FIFO, self.FIFO))
        self.start = len(g.output)
        g.send("@(%s < %s; echo \"vireo-guest: testpmd exited rc=$?\")"
               " > /dev/console 2>&1 &" % (cmdline, self.FIFO))
        self.banner = g.answer("(start)", self.EXIT_MARK, timeout)

    @property
    def output(self):
        return self.g.output[self.start:]

    def wait_output(self, pattern, timeout=CMD_TIMEOUT):
        """Wait for @pattern anywhere in testpmd's time on the console
        (log lines come between prompts, maybe inside a shell command's
        output)."""
        regex = re.compile(pattern)
        ended = re.compile(self.EXIT_MARK)
        deadline = time.monotonic() + timeout
        while not regex.search(self.g.output, self.start):
            m = ended.search(self.g.output, self.start)
            if m:
                raise TestpmdError("%s: testpmd ended (exit status %s) before %r; console ends:\n%s"
                                   % (self.name, m.group(1), pattern,
                                      self.g.output[-1500:]))
            if time.monotonic() > deadline:
                raise TestpmdError("%s: no %r after %ss; console ends:\n%s"
                                   % (self.name, pattern, timeout,
                                      self.g.output[-1500:]))
            self.g._read(0.5)

    def threads(self):
        """Where each testpmd thread is, asked of the guest's kernel:
        state, wait channel, and the system call it is in with its user
        PC (mapped to a library by the executable mappings)."""
        try:
            out, _ = self.g.sh(
                "p=$(pidof dpdk-testpmd); for t in /proc/$p/task/*; do"
                " echo \"thread $(cat $t/comm): $(cut -d' ' -f3 $t/stat)"
                " wchan=$(cat $t/wchan) syscall=$(cat $t/syscall)\"; done;"
                " grep -E ' r-xp .*(testpmd|librte|libc[.-])' /proc/$p/maps",
                30)
        except TestpmdError:
            return "; the guest's shell does not answer either"
        return "; testpmd's threads:\n" + out

    def cmd(self, line, timeout=CMD_TIMEOUT):
        self.g.send("@echo '%s' > %s" % (line, self.FIFO))
        return self.g.answer(line, self.EXIT_MARK, timeout, self.threads)

    def quit(self, timeout=CMD_TIMEOUT):
        """Quit testpmd; its output.  It must exit with status 0."""
        self.g.send("@echo quit > %s" % self.FIFO)
        _, m = self.g.expect(self.EXIT_MARK, timeout)
        if m.group(1) != "0":
            raise TestpmdError("%s: testpmd exited with status %s on quit; console ends:\n%s"
                               % (self.name, m.group(1), self.g.output[-1500:]))
        return self.output
