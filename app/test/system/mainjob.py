#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""The main job: stock net_vhost backend and stock testpmd with our PMD
(packed_vq=1) exchange traffic both ways; print the throughput of each
direction and an integrity verdict over sequence-numbered frames.

usage: mainjob.py [--seconds N] [--frames N] [devarg=value ...]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import traffic  # noqa: E402


def throughput(devargs, seconds):
    pair = traffic.Pair("job-rate", devargs=devargs,
                        vireo_args=["--port-topology=loop"],
                        vhost_args=["--port-topology=loop"])
    vireo, vhost = pair.vireo, pair.vhost
    traffic.wait_link_up(vhost, 0)
    vhost.cmd("start")
    vireo.cmd("start tx_first 32")
    time.sleep(1)
    before = traffic.port_stats(vireo)
    t0 = time.monotonic()
    time.sleep(seconds)
    after = traffic.port_stats(vireo)
    dt = time.monotonic() - t0
    vireo.cmd("stop")
    vhost.cmd("stop")
    pair.close()
    rx = (after["rx_packets"] - before["rx_packets"]) / dt
    tx = (after["tx_packets"] - before["tx_packets"]) / dt
    return rx, tx


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("devargs", nargs="*", default=[])
    args = ap.parse_args()
    devargs = {"packed_vq": 1}
    for kv in args.devargs:
        k, _, v = kv.partition("=")
        devargs[k] = v

    harness.install_cleanup_handlers()
    print("vireo main job: net_vhost (CPU 0) <-> testpmd with net_vireo_user "
          "(CPU 1), %s, memory mode %s" %
          (",".join("%s=%s" % kv for kv in devargs.items()),
           harness.memory_mode()), flush=True)
    try:
        rx, tx = throughput(devargs, args.seconds)
        print("throughput over %.0f s, 64-byte frames, io forwarding both ends:"
              % args.seconds)
        print("  backend -> vireo (our Rx): %8.3f Mpps" % (rx / 1e6))
        print("  vireo -> backend (our Tx): %8.3f Mpps" % (tx / 1e6))
        sizes = [64, 128, 256, 512, 1024, 1518]
        report, _stats = traffic.integrity_run("job-check", devargs,
                                               args.frames, sizes)
    except harness.TestpmdError as exc:
        print("the main job could not run: %s" % str(exc).splitlines()[0])
        print("integrity: NOT CHECKED")
        return 1
    finally:
        harness._cleanup_all()
    print("integrity over %d frames of %s bytes, each carried backend -> "
          "vireo -> backend:" % (report["sent"], "/".join(map(str, sizes))))
    print("  intact %(intact)d, corrupted %(corrupted)d, duplicated "
          "%(duplicated)d, reordered %(reordered)d, lost %(lost)d" % report)
    print("integrity: %s" % ("PASS" if report["ok"] else "FAIL"))
    return 0 if report["ok"] and rx > 0 and tx > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
