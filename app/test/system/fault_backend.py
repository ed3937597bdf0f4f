# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""The fault-injecting vhost-user backend (app/fault_backend) as the
system tests drive it, and our testpmd facing it.

The backend generates integrity frames on the Rx rings and checks every
frame that comes back on the Tx rings byte for byte (our testpmd forwards
Rx to Tx: io forwarding, loop topology), so one process gives both
directions of traffic and the verdict; it writes its counters to a
key=value file the tests poll.
"""

import os
import re
import signal
import subprocess
import time

import harness
from harness import Testpmd, TestpmdError, check, workspace
from traffic import vireo_vdev

BACKEND = os.path.join(harness.BUILD, "app", "fault_backend",
                       "vireo-fault-backend")
# io forwarding that waits for Tx room instead of dropping (see traffic.py)
PATIENT_RETRY = "set burst tx delay 100 retry 50000"
BROKEN_LINE = r"queue \d+ broken: "

_instances = [0]


class FaultBackend:
    """One vireo-fault-backend process on CPU 0, stats in a file."""

    def __init__(self, name, sock, fault=None, client=False, queues=1,
                 mode="gen", sizes=None, rate=None, count=None,
                 fault_queue=None, fault_after=None, fault_count=None,
                 fault_arg=None, fault_request=None, extra=(), cpu=0,
                 wait_ready=True, paused=False):
        ws = workspace()
        _instances[0] += 1
        self.name = name
        self.sock = sock
        self.client = client
        # a stream id range of its own: frames of an earlier backend
        # that come back after a reconnect are told apart (stale)
        self.stream_base = 1000 + 16 * _instances[0]
        self.stats_path = os.path.join(ws.dir, "%s-%d.stats" %
                                       (name, _instances[0]))
        self.log_path = os.path.join(ws.dir, "%s-%d.log" %
                                     (name, _instances[0]))
        cmd = ["taskset", "-c", str(cpu), BACKEND, "--socket", sock,
               "--queues", str(queues), "--mode", mode, "--stats",
               self.stats_path, "--stream-base", str(self.stream_base)]
        if client:
            cmd.append("--client")
        if paused:
            cmd.append("--paused")
        if sizes:
            cmd += ["--sizes", ",".join(str(s) for s in sizes)]
        for opt, val in (("--rate", rate), ("--count", count),
                         ("--fault", fault), ("--fault-queue", fault_queue),
                         ("--fault-after", fault_after),
                         ("--fault-count", fault_count),
                         ("--fault-arg", fault_arg),
                         ("--fault-request", fault_request)):
            if val is not None:
                cmd += [opt, str(val)]
        cmd += list(extra)
        self.cmdline = cmd
        self.fault = fault
        self._log = open(self.log_path, "wb")
        # an ASan build links libasan itself: no preload
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log,
                                     start_new_session=True,
                                     env=harness.sanitizer_env(preload=False))
        ws.procs.append(self)
        if wait_ready and not client:
            deadline = time.monotonic() + 20
            while not os.path.exists(sock):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise TestpmdError("%s: backend did not come up:\n%s"
                                       % (name, self.log()))
                time.sleep(0.05)

    def stats(self):
        """The counters it wrote last (ints, hex features as ints)."""
        out = {}
        try:
            with open(self.stats_path) as f:
                for line in f:
                    key, _, val = line.strip().partition("=")
                    if key:
                        out[key] = int(val, 0)
        except (OSError, ValueError):
            pass
        return out

    def wait(self, cond, timeout=30, what="condition"):
        """Poll the stats until cond(stats) holds; return them."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.stats()
            if st and cond(st):
                return st
            if time.monotonic() > deadline:
                raise TestpmdError("%s: %s not reached in %ss; stats %s; log:\n%s"
                                   % (self.name, what, timeout, st,
                                      self.log()[-3000:]))
            if self.proc.poll() is not None:
                raise TestpmdError("%s: backend exited (rc %s) waiting for %s; log:\n%s"
                                   % (self.name, self.proc.returncode, what,
                                      self.log()[-3000:]))
            time.sleep(0.1)

    def resume(self):
        """Start (again) generating frames."""
        os.kill(self.proc.pid, signal.SIGUSR1)
        self.wait(lambda s: s.get("paused") == 0, 10, "resume")

    def pause(self):
        os.kill(self.proc.pid, signal.SIGUSR2)
        self.wait(lambda s: s.get("paused") == 1, 10, "pause")

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

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
        self._log.close()

    def stop(self):
        """SIGTERM: it closes the connection and writes its last stats."""
        self.kill(signal.SIGTERM)
        return self.stats()

    def quit(self):
        return self.stop()


def start_vireo(name, sock, devargs=None, queues=1, app_args=(), eal_args=(),
                nb_mbufs=16384, cpu=1, **kw):
    """Our testpmd on CPU @cpu: io forwarding, loop topology, so every
    frame the backend sends on Rx comes back to it on Tx."""
    devargs = dict(devargs or {})
    if queues > 1:
        devargs.setdefault("queues", queues)
    args = ["--port-topology=loop", "--no-flush-rx", "--rxq=%d" % queues, "--txq=%d" % queues]
    return Testpmd(name, cpu, vdevs=[vireo_vdev(sock, **devargs)],
                   app_args=args + list(app_args), eal_args=list(eal_args),
                   nb_mbufs=nb_mbufs, **kw)


def xstats(pmd, port=0):
    out = pmd.cmd("show port xstats %d" % port)
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^\s*(\w+):\s+(\d+)\s*$", out, re.M)}


def link_up(pmd, port=0):
    return bool(re.search(r"Link status:\s*up", pmd.cmd("show port info %d" % port)))


def wait_link(pmd, up=True, timeout=30, port=0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if link_up(pmd, port) == up:
            return
        time.sleep(0.2)
    raise TestpmdError("%s: link not %s after %ss" % (pmd.name,
                                                     "up" if up else "down",
                                                     timeout))


def start_port(pmd, port=0, timeout=30):
    """`port start` until it goes through: a port whose backend is not
    (yet, again) connected refuses to start, and says so."""
    deadline = time.monotonic() + timeout
    while True:
        out = pmd.cmd("port start %d" % port, timeout=60)
        if "Fail" not in out:
            return out
        if time.monotonic() > deadline:
            raise TestpmdError("%s: port %d did not start in %ss:\n%s"
                               % (pmd.name, port, timeout, out))
        time.sleep(0.3)


def integrity_ok(st, need=1):
    """What 'traffic passes with integrity' means for the counters: frames
    came back, none corrupted, duplicated or out of order, none lost
    between two that came back."""
    return (st.get("verified", 0) >= need and st.get("corrupt", 1) == 0 and
            st.get("reordered", 1) == 0 and st.get("lost", 1) == 0)


def check_integrity(st, need=1, allow_lost=False):
    check(st.get("verified", 0) >= need,
          "only %s frames verified (want %d): %s" % (st.get("verified"), need, st))
    check(st.get("corrupt", 1) == 0, "corrupted frames: %s" % st)
    check(st.get("reordered", 1) == 0, "duplicated/reordered frames: %s" % st)
    if not allow_lost:
        check(st.get("lost", 1) == 0, "frames lost between others: %s" % st)


def count_lines(pmd, pattern, since=0):
    return len(re.findall(pattern, pmd.output[since:]))


def mbufs_in_use(pmd, pool="mb_pool_0"):
    """Objects of @pool in use, from `dump_mempool`: its size less those
    in the common pool and in the lcore caches."""
    out = pmd.cmd("dump_mempool")
    for block in re.split(r"^mempool ", out, flags=re.M)[1:]:
        if not block.startswith("<%s>" % pool):
            continue
        size = int(re.search(r"^\s*size=(\d+)", block, re.M).group(1))
        common = int(re.search(r"common_pool_count=(\d+)", block).group(1))
        cache = re.search(r"total_cache_count=(\d+)", block)
        return size - common - (int(cache.group(1)) if cache else 0)
    raise TestpmdError("%s: no mempool %s in dump_mempool" % (pmd.name, pool))


def port_stats(pmd, port=0):
    out = pmd.cmd("show port stats %d" % port)
    stats = {}
    for key, pat in (("rx_packets", r"RX-packets:\s*(\d+)"),
                     ("rx_errors", r"RX-errors:\s*(\d+)"),
                     ("rx_nombuf", r"RX-nombuf:\s*(\d+)"),
                     ("tx_packets", r"TX-packets:\s*(\d+)"),
                     ("tx_errors", r"TX-errors:\s*(\d+)")):
        m = re.search(pat, out)
        stats[key] = int(m.group(1)) if m else None
    return stats
