# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""4K pages (DTS pvp_virtio_user_4k_pages): both sides run with
`--no-huge -m 1024`, so our memory reaches the backend as memfd-backed
4 KB pages; frames of every size go around the loop intact, and the
counters agree, for split and packed rings."""

from harness import check
import traffic

SIZES = [64, 128, 256, 512, 1024, 1518, 8000]
NO_HUGE = ["--no-huge", "-m", "1024"]


def run_4k(packed):
    name = "4k-%s" % ("packed" if packed else "split")
    loop = traffic.Loop(name, {"packed_vq": packed, "mrg_rxbuf": 1,
                               "in_order": 1},
                        mem_args=NO_HUGE, nb_mbufs=8192, vhost_mbufs=8192)
    check("--no-huge" in loop.vireo.cmdline and "--no-huge" in loop.vhost.cmdline,
          "not both sides without hugepages")
    _reports, report = loop.round(loop.frames(700, SIZES), timeout=90)
    check(report["ok"], "%s: integrity failed: %s" % (name, report))
    loop.stop_vireo_fwd()
    ours = traffic.port_stats(loop.vireo, 0)
    theirs = traffic.port_stats(loop.vhost, 0)
    check(ours["rx_packets"] == theirs["tx_packets"] == 700 and
          ours["tx_bytes"] == theirs["rx_bytes"],
          "%s: counters: ours %s, backend %s" % (name, ours, theirs))
    loop.close()


def test_4k_pages_split():
    run_4k(0)


def test_4k_pages_packed():
    run_4k(1)
