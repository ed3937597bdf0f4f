# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Rx interrupts and link events (DTS vhost_virtio_user_interrupt).

Debian ships no l3fwd-power, so our side is app/test/rxintr/vireo-rxintr:
it polls port 0 while frames come, then arms every Rx queue's interrupt
(rte_eth_dev_rx_intr_enable) and sleeps in rte_epoll_wait on the event
fds that rte_eth_dev_rx_intr_ctl_q added.  The backend is stock testpmd
with net_vhost, fed from a pcap file per queue.
  - asleep, the process uses (almost) no CPU;
  - frames on a queue wake it, by that queue's event, and it receives
    every one of them, then sleeps again; again for a second batch;
  - with 2 queues, frames on queue 1 only wake it by queue 1.
LSC (DTS cases 3 and 6): when the backend quits, our testpmd gets a link
state change event and reports the link down.
"""

import os
import random
import re
import time

import harness
from harness import check
import integrity
import traffic

RXINTR = os.path.join(harness.BUILD, "app", "test", "rxintr", "vireo-rxintr")
# Ticks (1/100 s) a sleeping process may use in a second: wake-ups of
# EAL's own threads, not polling (which would be ~100).
ASLEEP_MAX_TICKS = 10


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime of the whole process (every thread)
    return int(fields[11]) + int(fields[12])


def check_asleep(prog, what):
    before = cpu_ticks(prog.proc.pid)
    time.sleep(1.0)
    used = cpu_ticks(prog.proc.pid) - before
    check(used <= ASLEEP_MAX_TICKS, "%s: %d CPU ticks in 1 s: not asleep"
          % (what, used))


class Backend:
    """Stock testpmd: port 0 net_vhost, port 1 net_pcap with one input
    file per queue; send() moves the frames written to those files."""

    def __init__(self, name, queues):
        ws = harness.workspace()
        self.queues = queues
        self.sock = ws.socket(name)
        self.gen = [os.path.join(ws.dir, "%s-gen%d.pcap" % (name, q))
                    for q in range(queues)]
        out = [os.path.join(ws.dir, "%s-out%d.pcap" % (name, q))
               for q in range(queues)]
        for path in self.gen:
            integrity.write_pcap(path, [])
        pcap = "net_pcap0," + ",".join(["rx_pcap=%s" % p for p in self.gen] +
                                       ["tx_pcap=%s" % p for p in out])
        self.pmd = harness.Testpmd(name + "-vhost", 0, plugin=False,
                                   vdevs=[traffic.vhost_vdev(self.sock, queues),
                                          pcap],
                                   app_args=["--rxq=%d" % queues,
                                             "--txq=%d" % queues,
                                             "--no-flush-rx"])
        self.pmd.cmd("set fwd io retry")
        self.pmd.cmd(traffic.PATIENT_RETRY)
        self.pmd.cmd("port stop 1")
        self.rng = random.Random(7)
        self.seq = 0

    def send(self, counts):
        """@counts[q] frames on queue q; returns when the backend has
        handed them all to our port."""
        for q, n in enumerate(counts):
            integrity.write_pcap(self.gen[q], traffic.queue_frames(
                q, self.seq, n, [64, 1518], self.rng))
        self.seq += max(counts)
        base = traffic.port_stats(self.pmd, 0)["tx_packets"]
        self.pmd.cmd("port start 1")
        self.pmd.cmd("start")
        sent = traffic.wait_counter(
            lambda: traffic.port_stats(self.pmd, 0)["tx_packets"] - base,
            sum(counts), 30)
        self.pmd.cmd("stop")
        self.pmd.cmd("port stop 1")
        check(sent == sum(counts), "backend sent %d of %d frames"
              % (sent, sum(counts)))


def start_rxintr(name, sock, devargs, queues):
    argv = [RXINTR] + harness.eal_args(name, 1) + [
        "--vdev", traffic.vireo_vdev(sock, **devargs),
        "--", "--queues", str(queues)]
    prog = harness.Program(name, argv)
    prog.expect(r"rxintr: port 0 started with %d Rx queues" % queues, 30)
    prog.expect(r"rxintr: sleeping \(received 0:", 30)
    return prog


def expect_round(prog, total, queues, woken_by, what):
    """After a batch: woken by one of @woken_by, then asleep again with
    @total received in all."""
    text = prog.expect(r"rxintr: sleeping \(received %d:[^)]*\)" % total, 30)
    woken = set(int(q) for q in re.findall(r"woken by queue (\d+)", text))
    check(woken and woken <= set(woken_by),
          "%s: woken by queues %s, expected %s:\n%s"
          % (what, sorted(woken), woken_by, text))


def run_rxintr(packed, queues):
    name = "rxintr-%s-%dq" % ("packed" if packed else "split", queues)
    backend = Backend(name, queues)
    devargs = {"packed_vq": packed}
    if queues > 1:
        devargs["queues"] = queues
    prog = start_rxintr(name, backend.sock, devargs, queues)
    check_asleep(prog, "%s, before any frame" % name)
    total = 0
    for batch in range(2):
        counts = [100] * queues
        backend.send(counts)
        total += sum(counts)
        expect_round(prog, total, queues, range(queues),
                     "%s, batch %d" % (name, batch))
        check_asleep(prog, "%s, after batch %d" % (name, batch))
        # Late events of this batch (the device signals per enqueue
        # burst, we drain on the first) are not the next batch's.
        prog.skip_output()
    if queues > 1:
        # Only the last queue has frames: only its event may wake us.
        counts = [0] * (queues - 1) + [150]
        backend.send(counts)
        total += 150
        expect_round(prog, total, queues, [queues - 1],
                     "%s, last queue only" % name)
        m = re.findall(r"q%d (\d+)" % (queues - 1), prog.output)
        check(m and int(m[-1]) == 350, "%s: queue %d received %s, sent 350"
              % (name, queues - 1, m[-1:]))
    prog.quit()
    check(re.search(r"rxintr: done: received %d," % total, prog.output),
          "%s: final count wrong:\n%s" % (name, prog.output[-1500:]))
    backend.pmd.quit()


def test_rxintr_split():
    run_rxintr(0, 1)


def test_rxintr_packed():
    run_rxintr(1, 1)


def test_rxintr_split_2q():
    run_rxintr(0, 2)


def test_rxintr_packed_2q():
    run_rxintr(1, 2)


def run_lsc(packed):
    pair = traffic.Pair("lsc-%d" % packed, devargs={"packed_vq": packed,
                                                   "mac": "00:01:02:03:04:05"})
    vireo, vhost = pair.vireo, pair.vhost
    traffic.wait_link_up(vireo, 0)
    traffic.mac_forward(pair, "start")
    since = len(vireo.output)
    vhost.quit()
    vireo.wait_output(r"Port 0: link state change event", 30, since)
    deadline = time.monotonic() + 20
    while True:
        info = vireo.cmd("show port info 0")
        if re.search(r"Link status:\s*down", info):
            break
        check(time.monotonic() < deadline, "link still up after the "
              "backend quit:\n%s" % info)
        time.sleep(0.2)
    vireo.cmd("stop")
    pair.vireo.quit()


def test_lsc_split():
    run_lsc(0)


def test_lsc_packed():
    run_lsc(1)
