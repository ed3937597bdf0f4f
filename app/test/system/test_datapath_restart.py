# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Port restart (DTS loopback_multi_paths_port_restart, on 2 CPUs).

- 100 `port stop 0` / `port start 0` on our side while the backend sends
  at full rate (both our rings are full when we stop): after every stop
  no mbuf of our pool is still in use (the rings gave every buffer back);
  every 20 loops, frames of every size go around the loop intact, in
  order, none lost, and none from before the restart comes back.
- 100 close / re-probe loops: `port close 0`, `device detach`, `port
  attach net_vireo_user0,...` (and every other loop `port detach 0`
  without a close), `port start 0`; same checks every 20 loops.
- The backend restarts its port (the DTS sequence) and sends one packet
  at a time: our port keeps receiving.
"""

import re
import time

from harness import check
import traffic

SIZES = [64, 1518, 8000]
LOOPS = 100
CHECK_EVERY = 20
FRAMES = 300
POOL = "mb_pool_0"


def check_round(loop, what):
    _reports, report = loop.round(loop.frames(FRAMES, SIZES))
    check(report["ok"], "%s: integrity failed: %s" % (what, report))


def check_no_failure(pmd, since, what):
    text = pmd.output[since:]
    for bad in ("Fail", "failed", "broken", "refused", "timed out",
                "no answer"):
        check(bad not in text, "%s: %r in %s's output:\n%s"
              % (what, bad, pmd.name, text[-3000:]))


class Churn:
    """Full-rate traffic into our port while it restarts: the backend
    sends on its vhost port only (txonly, portlist 0) and never reads,
    our port forwards what it gets back: both our rings fill up."""

    def __init__(self, loop):
        self.loop = loop
        self.on = False

    def start(self):
        vhost, vireo = self.loop.vhost, self.loop.vireo
        self.loop.stop_vireo_fwd()
        vhost.cmd("port start 1")   # testpmd forwards only if all run
        vhost.cmd("set portlist 0")
        vhost.cmd("set fwd txonly")
        vhost.cmd("start")
        # Our Tx ring stays full: give up on a burst quickly.
        vireo.cmd("set burst tx delay 1 retry 8")
        self.on = True

    def stop(self):
        vhost, vireo = self.loop.vhost, self.loop.vireo
        self.loop.stop_vireo_fwd()
        vhost.cmd("stop")
        vhost.cmd("set portlist 0,1")
        vhost.cmd("set fwd io retry")
        vhost.cmd("port stop 1")
        vireo.cmd(traffic.PATIENT_RETRY)
        self.on = False


def restart_loops(loop, restart, what):
    """@restart(i) takes our port down and up again (the port is stopped
    and forwarding off when it is called, and must be started after)."""
    vireo, vhost = loop.vireo, loop.vhost
    check_round(loop, "%s: before the loops" % what)
    churn = Churn(loop)
    baseline = None
    for i in range(1, LOOPS + 1):
        checkpoint = i % CHECK_EVERY == 0
        if not churn.on:
            churn.start()
            loop.start_vireo_fwd()
        if checkpoint:
            churn.stop()
        since = len(vireo.output)
        loop.stop_vireo_fwd()
        vireo.cmd("port stop 0")
        in_use = traffic.mempool_in_use(vireo)[POOL]
        if baseline is None:
            baseline = in_use
        check(in_use == baseline, "%s: loop %d: %d mbufs in use after stop, "
              "%d after the first stop: a ring kept buffers"
              % (what, i, in_use, baseline))
        restart(i)
        traffic.wait_link_up(vireo, 0)
        check_no_failure(vireo, since, "%s loop %d" % (what, i))
        if not checkpoint:
            loop.start_vireo_fwd()
        # The backend's vhost messages must not fill its pipe.
        vhost.poll_output()
        if checkpoint:
            check_round(loop, "%s: after loop %d" % (what, i))
    check(baseline == 0, "%s: %d mbufs in use with the port stopped"
          % (what, baseline))


def run_stop_start(name, devargs):
    loop = traffic.Loop(name, devargs)
    restart_loops(loop, lambda _i: loop.vireo.cmd("port start 0"), name)
    loop.close()


def test_port_stop_start_loops():
    run_stop_start("restart-packed", {"packed_vq": 1, "mrg_rxbuf": 1,
                                      "in_order": 0})


def test_port_stop_start_loops_split():
    run_stop_start("restart-split", {"packed_vq": 0, "mrg_rxbuf": 1,
                                     "in_order": 1})


def test_close_reprobe_loops():
    loop = traffic.Loop("reprobe", {"packed_vq": 1, "mrg_rxbuf": 1,
                                    "in_order": 1})
    vdev = traffic.vireo_vdev(loop.pair.sock, **loop.pair.devargs)
    vireo = loop.vireo

    def reprobe(i):
        if i % 2:
            # testpmd 22.11: a closed port is released, so its device
            # is detached by name.
            vireo.cmd("port close 0")
            out = vireo.cmd("device detach net_vireo_user0")
            check("is detached" in out, "device detach: %s" % out)
        else:
            out = vireo.cmd("port detach 0")
            check("Device is detached" in out, "port detach: %s" % out)
        in_use = traffic.mempool_in_use(vireo)[POOL]
        check(in_use == 0, "loop %d: %d mbufs in use after close" % (i, in_use))
        out = vireo.cmd("port attach %s" % vdev, timeout=60)
        check("Port 0 is attached" in out, "loop %d: attach:\n%s" % (i, out))
        out = vireo.cmd("port start 0", timeout=60)
        check(re.search(r"Port 0: [0-9A-F:]{17}", out),
              "loop %d: port start:\n%s" % (i, out))

    restart_loops(loop, reprobe, "close/re-probe")
    loop.close()


def test_backend_port_restart_one_packet():
    """The DTS steps 5-6: the backend stops its port (no traffic moves),
    starts it again, and sends one packet at a time (burst 1)."""
    pair = traffic.Pair("bk-restart", devargs={"packed_vq": 1},
                        vireo_args=["--port-topology=loop"],
                        vhost_args=["--port-topology=loop"])
    vireo, vhost = pair.vireo, pair.vhost
    traffic.wait_link_up(vhost, 0)
    traffic.mac_forward(pair, "start tx_first 32")
    moved = traffic.wait_counter(
        lambda: traffic.port_stats(vireo, 0)["rx_packets"], 10000, 10)
    check(moved >= 10000, "no traffic before the backend restart: %d" % moved)
    vhost.cmd("stop")
    vhost.cmd("port stop 0")
    # What was in flight drains; then nothing may move.
    rx = lambda: traffic.port_stats(vireo, 0)["rx_packets"]
    before = traffic.wait_counter(rx, 1 << 62, 10, settle=0.5)
    time.sleep(1)
    after = rx()
    check(after == before, "%d packets received with the backend port "
          "stopped" % (after - before))
    vhost.cmd("port start 0")
    traffic.wait_link_up(vhost, 0)
    vhost.cmd("set burst 1")
    vhost.cmd("start tx_first 1")
    got = traffic.wait_counter(
        lambda: traffic.port_stats(vireo, 0)["rx_packets"] - after, 1000, 10)
    check(got >= 1000, "after the backend restart, burst 1: %d packets" % got)
    vhost.cmd("stop")
    vireo.cmd("stop")
    pair.close()
