# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Reconnect under traffic and a short soak (issue 7).

The backend (app/fault_backend) generates integrity frames on Rx and
checks what our testpmd forwards back on Tx, so both directions carry
traffic all the time; it is killed with SIGKILL and replaced 20 times,
with our PMD as client and as server (the transport's own reconnect
tests are in test_transport.py: this is the same under load, over and
over). The long soak is devtools/soak.sh; CI runs a short one here.
"""

import os
import time

import soak
from fault_backend import (FaultBackend, check_integrity, mbufs_in_use,
                           start_port, start_vireo, xstats)
from harness import check, workspace

KILLS = 20
RATE = 30000
SIZES = [64, 128, 512, 1024, 1518, 4000, 8192]


def reconnect_under_traffic(server, packed):
    ws = workspace()
    name = "r-%s-%s" % ("server" if server else "client",
                        "packed" if packed else "split")
    sock = ws.socket(name)
    devargs = {"packed_vq": int(packed), "mrg_rxbuf": 1}
    if server:
        devargs["server"] = 1

    def backend(i):
        return FaultBackend("%s-be%d" % (name, i), sock, client=server,
                            rate=RATE, sizes=SIZES, paused=True)

    be = None if server else backend(0)
    ours = start_vireo(name, sock, devargs, app_args=["--max-pkt-len=9018"],
                       eal_args=["--log-level=pmd.net.vireo.*:notice"])
    if server:
        be = backend(0)
    ours.cmd("port stop 0")
    baseline = mbufs_in_use(ours)
    start_port(ours)
    be.wait(lambda s: s.get("rings_started", 0) >= 2, 30, "rings")
    # plain io: while the backend is gone Tx drops instead of waiting
    ours.cmd("set fwd io")
    ours.cmd("start")
    be.resume()
    verified = stale = 0
    for i in range(1, KILLS + 1):
        be.wait(lambda s: s.get("verified", 0) >= 1000, 60,
                "traffic with backend %d" % (i - 1))
        be.kill()
        st = be.stats()
        check_integrity(st, 1000, allow_lost=True)
        verified += st["verified"]
        stale += st["stale"]
        be = backend(i)
        be.wait(lambda s: s.get("rings_started", 0) >= 2, 30,
                "reconnection %d" % i)
        be.resume()
        # testpmd answers between two kills
        xstats(ours)
    be.wait(lambda s: s.get("verified", 0) >= 3000, 60, "traffic at the end")
    ours.cmd("stop")
    be.pause()
    st = be.stats()
    check_integrity(st, 3000, allow_lost=True)
    verified += st["verified"]
    check(st["dev_errors"] == 0, "the backend refused our chains: %s" % st)
    x = xstats(ours)
    check(not any(v for k, v in x.items() if k.endswith("ring_broken")),
          "a queue broke: %s" % x)
    ours.cmd("port stop 0")
    in_use = mbufs_in_use(ours)
    check(in_use == baseline, "mbufs in use %d after %d reconnects, %d "
          "before: leak" % (in_use, KILLS, baseline))
    check(ours.quit() == 0, "testpmd did not exit cleanly")
    be.stop()
    print("    %s: %d reconnects, %d frames verified, %d stale after "
          "reconnects, 0 corrupted, 0 mbufs leaked" % (name, KILLS, verified,
                                                       stale))


def test_reconnect_under_traffic_client():
    """Our PMD connects to the backend (the usual vhost-user setup)."""
    reconnect_under_traffic(server=False, packed=True)
    reconnect_under_traffic(server=False, packed=False)


def test_reconnect_under_traffic_server():
    """Our PMD listens (server=1), the backend connects to it."""
    reconnect_under_traffic(server=True, packed=False)
    reconnect_under_traffic(server=True, packed=True)


def test_soak_short():
    """Every path for a few seconds, with port restarts and reconnects;
    the long form is devtools/soak.sh [minutes]."""
    seconds = float(os.environ.get("VIREO_SOAK_SECONDS", "60"))
    t0 = time.monotonic()
    t = soak.run_soak(seconds, seed=7,
                      segment_seconds=max(4, seconds / len(soak.PATHS)),
                      every_path=True,
                      log=lambda m: print("    " + m, flush=True))
    print("    soak: %d frames verified in %.0fs, %d port restarts, %d "
          "reconnects, 0 corrupted, 0 mbufs leaked" % (
              t["verified"], time.monotonic() - t0, t["port_restart"],
              t["reconnect"]))
    check(t["verified"] > 0, "nothing verified")
