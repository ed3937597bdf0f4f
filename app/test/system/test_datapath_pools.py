# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Rx buffers from mempools of both layouts.

Our Rx refill computes a fresh buffer's address from the mbuf pointer
when every object of the pool has its buffer right after the mbuf (what
rte_pktmbuf_pool_create makes), and reads buf_addr otherwise.  testpmd's
`--mp-alloc=xbuf` makes a pool of pinned external buffers (the buffers
in memzones of their own, nowhere near the mbufs): there the computed
address would be the next mbuf, so the driver must see it and read the
field.  Per layout and ring: the debug log says which rule the queue
took, and frames of 64..1518 and 8000 bytes (mbuf chains, mergeable
buffers) go around the loop byte-identical, none lost, counters equal
to the backend's.
"""

from harness import check
import traffic

SIZES = [64, 128, 256, 512, 1024, 1518, 8000]
FRAMES = 700
DEBUG_LOG = ["--log-level=pmd.net.vireo.driver:debug"]


def run_pool(packed, pinned):
    name = "pool-%s-%s" % ("packed" if packed else "split",
                           "xbuf" if pinned else "native")
    args = ["--mp-alloc=xbuf"] if pinned else []
    loop = traffic.Loop(name, {"packed_vq": packed, "mrg_rxbuf": 1,
                               "in_order": 0},
                        vireo_args=args, vireo_eal=DEBUG_LOG)
    rule = "read from the mbuf" if pinned else "computed from the mbuf"
    check("Rx queue 0: buffer addresses %s" % rule in loop.vireo.output,
          "%s: log does not say the addresses are %s:\n%s"
          % (name, rule, "\n".join(l for l in loop.vireo.output.splitlines()
                                   if "buffer addresses" in l)))
    _reports, report = loop.round(loop.frames(FRAMES, SIZES))
    check(report["ok"], "%s: integrity over %s bytes failed: %s"
          % (name, SIZES, report))
    loop.stop_vireo_fwd()
    ours = traffic.port_stats(loop.vireo, 0)
    theirs = traffic.port_stats(loop.vhost, 0)
    check(ours["rx_packets"] == theirs["tx_packets"] == FRAMES and
          ours["rx_bytes"] == theirs["tx_bytes"] and
          ours["tx_bytes"] == theirs["rx_bytes"],
          "%s: counters: ours %s, backend %s" % (name, ours, theirs))
    check(ours["rx_errors"] == 0 and ours["rx_nombuf"] == 0,
          "%s: rx errors %d, nombuf %d" % (name, ours["rx_errors"],
                                           ours["rx_nombuf"]))
    loop.close()


def test_pool_pinned_extbuf_split():
    run_pool(0, True)


def test_pool_pinned_extbuf_packed():
    run_pool(1, True)


def test_pool_native_split():
    run_pool(0, False)


def test_pool_native_packed():
    run_pool(1, False)
