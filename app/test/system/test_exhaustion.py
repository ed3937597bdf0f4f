# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Resource exhaustion (issue 7), our testpmd against the fault backend:
an mbuf pool that runs dry (Rx refills fail and are counted, nothing
leaks, traffic resumes when the pool refills), mbufs too small for the
MTU without mergeable buffers (a clear error at queue setup; with them,
frames spread over many small buffers arrive intact), and queue counts
or sizes beyond what the backend serves (clear errors)."""

import re
import time

from fault_backend import (PATIENT_RETRY, FaultBackend, check_integrity,
                           mbufs_in_use, port_stats, start_port, start_vireo,
                           xstats)
from harness import Testpmd, check, workspace
from traffic import vireo_vdev

VIREO_LOG = "--log-level=pmd.net.vireo.*:info"
RATE = 20000


def test_exhaustion_empty_mempool():
    """Rings of 1024 and a pool of 1536 mbufs: the backend keeps every Tx
    buffer for 3 s while Rx goes on, so the mbufs end up in the Tx ring
    and Rx refills find the pool empty (rx_nombuf). When the backend lets
    go, the pool refills and traffic resumes; after the port stops every
    mbuf is back in the pool."""
    ws = workspace()
    sock = ws.socket("x-nombuf")
    be = FaultBackend("x-nombuf-be", sock, fault="hold_tx", fault_arg=3,
                      fault_after=2000, rate=RATE, paused=True)
    ours = start_vireo("x-nombuf", sock, {"queue_size": 1024},
                       eal_args=[VIREO_LOG], nb_mbufs=1536)
    ours.cmd("port stop 0")
    baseline = mbufs_in_use(ours)
    start_port(ours)
    ours.cmd("set fwd io")
    ours.cmd("start")
    be.resume()
    be.wait(lambda s: s.get("holding_tx") == 1, 30, "Tx held")
    deadline = time.monotonic() + 10
    while port_stats(ours)["rx_nombuf"] == 0:
        check(time.monotonic() < deadline, "no rx_nombuf while the pool is dry")
        time.sleep(0.2)
    x = xstats(ours)
    check(x.get("rx_q0_nombuf", 0) > 0, "rx_q0_nombuf not counted: %s" % x)
    be.wait(lambda s: s.get("holding_tx") == 0, 30, "Tx released")
    before = be.stats()["verified"]
    be.wait(lambda s: s.get("verified", 0) >= before + 5000, 60,
            "traffic after the pool refilled")
    ours.cmd("stop")
    st = be.stats()
    # io forwarding drops what the full Tx ring refuses: gaps, no damage
    check_integrity(st, 5000, allow_lost=True)
    x = xstats(ours)
    check(x["rx_q0_ring_broken"] == 0 and x["tx_q0_ring_broken"] == 0,
          "a queue broke: %s" % x)
    ours.cmd("port stop 0")
    in_use = mbufs_in_use(ours)
    check(in_use == baseline, "%d mbufs in use after the port stopped, "
          "%d before traffic: leaked %d" % (in_use, baseline, in_use - baseline))
    # and it works again from there
    start_port(ours)
    ours.cmd("set fwd io retry")
    ours.cmd(PATIENT_RETRY)
    ours.cmd("start")
    before = be.stats()["verified"]
    be.wait(lambda s: s.get("verified", 0) >= before + 3000, 60, "traffic")
    ours.cmd("stop")
    check(ours.quit() == 0, "testpmd did not exit cleanly")
    be.stop()


def test_exhaustion_mbufs_too_small():
    """128-byte mbufs (data room) and a 1500 MTU: without mergeable
    buffers the Rx queue setup refuses with a message that says what to
    do; with them, 64..1518-byte frames arrive over up to 12 buffers each
    and come back (12-segment Tx chains) intact."""
    ws = workspace()
    sock = ws.socket("x-small")
    be = FaultBackend("x-small-be", sock, rate=RATE,
                      sizes=[64, 200, 700, 1518], paused=True)
    ours = start_vireo("x-small", sock, {"mrg_rxbuf": 0}, eal_args=[VIREO_LOG],
                       app_args=["--mbuf-size=256", "--max-pkt-len=1518"])
    check(re.search(r"cannot hold a \d+-byte frame.*use larger mbufs",
                    ours.output),
          "no clear error at queue setup:\n" + ours.output[-2000:])
    out = ours.cmd("port start 0")
    check("Fail" in out or "Invalid" in out, "port started with mbufs too small")
    check(ours.quit() == 0, "testpmd did not exit cleanly")
    be.stop()

    sock = ws.socket("x-small-mrg")
    be = FaultBackend("x-small-mrg-be", sock, rate=RATE,
                      sizes=[64, 200, 700, 1518], paused=True)
    ours = start_vireo("x-small-mrg", sock, {"mrg_rxbuf": 1},
                       eal_args=[VIREO_LOG],
                       app_args=["--mbuf-size=256", "--max-pkt-len=1518"])
    ours.cmd("set fwd io retry")
    ours.cmd(PATIENT_RETRY)
    ours.cmd("start")
    be.resume()
    be.wait(lambda s: s.get("verified", 0) >= 3000, 60, "traffic")
    ours.cmd("stop")
    st = be.stats()
    check_integrity(st, 3000)
    check(st["tx_segs_max"] >= 12, "Tx chains of %d segments only: %s"
          % (st["tx_segs_max"], st))
    check(ours.quit() == 0, "testpmd did not exit cleanly")
    be.stop()


def test_exhaustion_queue_count_above_backend():
    """Two queue pairs asked of a backend that serves one: the probe says
    so and fails; testpmd runs on without the port and exits cleanly."""
    ws = workspace()
    sock = ws.socket("x-queues")
    be = FaultBackend("x-queues-be", sock, queues=1, paused=True)
    ours = Testpmd("x-queues", 1, vdevs=[vireo_vdev(sock, queues=2)],
                   eal_args=[VIREO_LOG])
    check(re.search(r"cannot serve 2 queue pairs", ours.output),
          "no clear error:\n" + ours.output[-2000:])
    check(ours.quit() == 0, "testpmd did not exit cleanly")
    be.stop()


def test_exhaustion_queue_size_above_backend():
    """Rings of 1024 offered to a backend that takes at most 256: it
    refuses SET_VRING_NUM, the port start fails naming the request; a
    size it takes works."""
    ws = workspace()
    sock = ws.socket("x-qsize")
    be = FaultBackend("x-qsize-be", sock, extra=["--max-ring", "256"],
                      rate=RATE, paused=True)
    ours = start_vireo("x-qsize", sock, {"queue_size": 1024},
                       eal_args=[VIREO_LOG])
    check(re.search(r"refused SET_VRING_NUM", ours.output) and
          re.search(r"ring \d+ not handed to the backend", ours.output),
          "no clear error:\n" + ours.output[-2000:])
    out = ours.cmd("port start 0")
    check("Fail" in out, "port started with rings the backend refuses")
    check(ours.quit() == 0, "testpmd did not exit cleanly")
    sock2 = ws.socket("x-qsize-ok")
    be2 = FaultBackend("x-qsize-ok-be", sock2, extra=["--max-ring", "256"],
                       rate=RATE, paused=True)
    ours = start_vireo("x-qsize-ok", sock2, {"queue_size": 256},
                       eal_args=[VIREO_LOG])
    ours.cmd("set fwd io retry")
    ours.cmd(PATIENT_RETRY)
    ours.cmd("start")
    be2.resume()
    be2.wait(lambda s: s.get("verified", 0) >= 3000, 60, "traffic")
    ours.cmd("stop")
    check_integrity(be2.stats(), 3000)
    check(ours.quit() == 0, "testpmd did not exit cleanly")
    be.stop()
    be2.stop()
