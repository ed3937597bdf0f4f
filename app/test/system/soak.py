#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Soak: mixed traffic through our PMD for a long time, every path, frame
sizes 64..8192, port restarts and backend reconnects (SIGKILL) at random,
with the payload of every frame checked (issue 7).

Runs segment after segment, each with one data path of our PMD (packed
or split, mergeable or not, in order or not, one or two queue pairs,
client or server mode, indirect or chained Tx) against the fault
backend, which generates integrity frames on Rx and checks what comes
back on Tx byte for byte. Verdict: no frame corrupted, duplicated or out
of order; after every port stop the mbufs in use are back to what they
were before traffic; testpmd answers throughout and exits cleanly.

usage: soak.py [--minutes M] [--seed S]   (devtools/soak.sh wraps it)
"""

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from fault_backend import (FaultBackend, check_integrity, mbufs_in_use,  # noqa: E402
                           start_port, start_vireo, xstats)
from harness import check, workspace  # noqa: E402

BIG = [64, 65, 128, 256, 511, 1024, 1500, 1518, 2048, 4000, 8192]
SMALL = [64, 65, 128, 256, 511, 1024, 1500, 1518]

# (name, our devargs, backend options, sizes)
PATHS = [
    ("packed-mrg-inorder", {"packed_vq": 1, "mrg_rxbuf": 1, "in_order": 1},
     ["--tx-batch"], BIG),
    ("split-mrg-inorder", {"packed_vq": 0, "mrg_rxbuf": 1, "in_order": 1},
     ["--tx-batch"], BIG),
    ("packed-mrg", {"packed_vq": 1, "mrg_rxbuf": 1, "in_order": 0}, [], BIG),
    ("split-mrg", {"packed_vq": 0, "mrg_rxbuf": 1, "in_order": 0}, [], BIG),
    ("packed", {"packed_vq": 1, "mrg_rxbuf": 0, "in_order": 1}, [], SMALL),
    ("split", {"packed_vq": 0, "mrg_rxbuf": 0, "in_order": 0}, [], SMALL),
    ("packed-chained", {"packed_vq": 1, "mrg_rxbuf": 1},
     ["--features-off", "indirect"], BIG),
    ("split-chained-2q", {"packed_vq": 0, "mrg_rxbuf": 1, "queues": 2},
     ["--features-off", "indirect"], BIG),
    ("packed-2q-server", {"packed_vq": 1, "mrg_rxbuf": 1, "queues": 2,
                          "server": 1}, [], BIG),
    ("split-server", {"packed_vq": 0, "mrg_rxbuf": 1, "server": 1}, [],
     BIG),
]

RATE = 30000


class Segment:
    """One path for a while: a backend (replaced at each reconnect) and
    our testpmd, with events."""

    def __init__(self, idx, path, rng, log):
        self.name, self.devargs, self.be_opts, self.sizes = path
        self.rng = rng
        self.log = log
        self.server = bool(self.devargs.get("server"))
        self.queues = self.devargs.get("queues", 1)
        ws = workspace()
        self.tag = "soak%d-%s" % (idx, self.name)
        self.sock = ws.socket("soak%d" % idx)
        self.backends = []
        self.finished = []
        self.events = {"port_restart": 0, "reconnect": 0}
        if not self.server:
            self.backend()
        da = dict(self.devargs)
        da.pop("queues", None)
        self.ours = start_vireo(self.tag, self.sock, da, queues=self.queues,
                                eal_args=["--log-level=pmd.net.vireo.*:notice"],
                                app_args=["--max-pkt-len=9018"]
                                if self.sizes is BIG else [])
        if self.server:
            self.backend()
        self.ours.cmd("port stop 0")
        self.baseline = mbufs_in_use(self.ours)
        start_port(self.ours)
        self.be.wait(lambda s: s.get("rings_started", 0) >= 2 * self.queues,
                     30, "rings")
        self.ours.cmd("set fwd io")
        self.ours.cmd("start")
        self.be.resume()

    def backend(self):
        self.be = FaultBackend(self.tag + "-be", self.sock, client=self.server,
                               queues=self.queues, rate=RATE,
                               sizes=self.sizes, extra=self.be_opts,
                               paused=True)
        self.backends.append(self.be)

    def flowing(self, frames=1000, timeout=60):
        """Traffic comes back to the current backend."""
        before = self.be.stats().get("verified", 0)
        self.be.wait(lambda s: s.get("verified", 0) >= before + frames,
                     timeout, "traffic on %s" % self.tag)

    def port_restart(self):
        self.events["port_restart"] += 1
        self.be.pause()
        self.ours.cmd("stop")
        self.ours.cmd("port stop 0")
        in_use = mbufs_in_use(self.ours)
        check(in_use == self.baseline,
              "%s: %d mbufs in use after port stop, %d before: leak"
              % (self.tag, in_use, self.baseline))
        start_port(self.ours)
        self.ours.cmd("start")
        self.be.resume()

    def reconnect(self):
        self.events["reconnect"] += 1
        self.be.kill()
        self.finished.append(self.be.stats())
        self.backend()
        self.be.wait(lambda s: s.get("rings_started", 0) >= 2 * self.queues,
                     30, "rings after reconnect")
        self.be.resume()

    def run(self, seconds):
        end = time.monotonic() + seconds
        self.flowing()
        while time.monotonic() < end:
            time.sleep(self.rng.uniform(0.5, 3))
            ev = self.rng.random()
            if ev < 0.3:
                self.port_restart()
            elif ev < 0.6:
                self.reconnect()
            else:
                # traffic answers meanwhile: the control path lives
                xstats(self.ours)
            self.flowing()

    def finish(self):
        self.ours.cmd("stop")
        self.be.pause()
        time.sleep(0.3)
        self.finished.append(self.be.stats())
        x = xstats(self.ours)
        broken = {k: v for k, v in x.items() if k.endswith("ring_broken") and v}
        check(not broken, "%s: queues broken: %s" % (self.tag, broken))
        self.ours.cmd("port stop 0")
        in_use = mbufs_in_use(self.ours)
        check(in_use == self.baseline, "%s: %d mbufs in use at the end, %d "
              "before: leak" % (self.tag, in_use, self.baseline))
        rc = self.ours.quit()
        check(rc == 0, "%s: testpmd exited with %s" % (self.tag, rc))
        self.be.stop()
        total = {"verified": 0, "verified_bytes": 0, "corrupt": 0,
                 "reordered": 0, "lost": 0, "stale": 0, "dev_errors": 0}
        for st in self.finished:
            # frames in flight when a port stopped or a backend died are
            # lost: gaps are allowed, damage is not
            check_integrity(st, 0, allow_lost=True)
            for k in total:
                total[k] += st.get(k, 0)
        check(total["dev_errors"] == 0,
              "%s: the backend refused chains we wrote" % self.tag)
        return total


def run_soak(seconds, seed=1, segment_seconds=None, log=print,
             every_path=False):
    """Soak for @seconds (and, with @every_path, at least once through
    every path); returns the totals. Raises on any violation."""
    rng = random.Random(seed)
    seg_len = segment_seconds or max(8, min(60, seconds / len(PATHS)))
    end = time.monotonic() + seconds
    totals = {"verified": 0, "verified_bytes": 0, "corrupt": 0,
              "reordered": 0, "lost": 0, "stale": 0, "segments": 0,
              "port_restart": 0, "reconnect": 0, "leaked_mbufs": 0}
    idx = 0
    while time.monotonic() < end or idx == 0 or \
            (every_path and idx < len(PATHS)):
        path = PATHS[idx % len(PATHS)]
        left = end - time.monotonic()
        seg = Segment(idx, path, rng, log)
        seg.run(max(2, min(seg_len, left)))
        t = seg.finish()
        for k in ("verified", "verified_bytes", "corrupt", "reordered",
                  "lost", "stale"):
            totals[k] += t[k]
        for k, v in seg.events.items():
            totals[k] += v
        totals["segments"] += 1
        log("soak: %-20s %8d frames verified, %d port restarts, %d "
            "reconnects, 0 corrupted, 0 leaked" % (
                path[0], t["verified"], seg.events["port_restart"],
                seg.events["reconnect"]))
        harness._cleanup_all()
        idx += 1
    return totals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("the soak needs root (hugepages, /var/run/dpdk)")
    harness.install_cleanup_handlers()
    print("soak: %.1f minutes, seed %d, memory mode %s" %
          (args.minutes, args.seed, harness.memory_mode()), flush=True)
    start = time.monotonic()
    try:
        t = run_soak(args.minutes * 60, args.seed,
                     log=lambda m: print(m, flush=True))
    except Exception as exc:  # the verdict, whatever failed
        print("soak: FAILED after %.0fs: %s" % (time.monotonic() - start, exc))
        return 1
    print("soak: PASSED in %.0fs: %d segments, %d frames (%d bytes) verified, "
          "0 corrupted, 0 duplicated or reordered, %d lost in restarts, %d "
          "stale after reconnects, %d port restarts, %d reconnects, 0 mbufs "
          "leaked" % (time.monotonic() - start, t["segments"], t["verified"],
                      t["verified_bytes"], t["lost"], t["stale"],
                      t["port_restart"], t["reconnect"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
