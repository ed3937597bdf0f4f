# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Multi-queue (DTS loopback_multi_queues, on 2 CPUs: one forwarding
lcore per process serves every queue's stream).

For 2 and 4 queue pairs, split and packed (queues=N, so the control
queue carries VQ_PAIRS_SET), both sides with --rxq=N --txq=N:
  - integrity per queue: backend queue q sends stream q; it comes back on
    queue q only, intact, in order, none lost;
  - per-queue counters on both sides match what each queue carried;
  - our txonly on N queues: every backend Rx queue counts packets;
  - the backend's txonly on N queues: every one of our Rx queues does.
"""

from harness import check
import traffic

SIZES = [64, 512, 1518]
PER_QUEUE = 200


def per_queue(x, direction, queues):
    return [x.get("%s_q%d_packets" % (direction, q), 0) for q in range(queues)]


def txonly_spreads(sender, receiver, queues, what):
    """@sender in txonly, @receiver in rxonly: each of the receiver's
    queues must count packets."""
    before = per_queue(traffic.xstats(receiver, 0), "rx", queues)
    receiver.cmd("start")
    sender.cmd("set fwd txonly")
    sender.cmd("start")
    total = lambda: sum(per_queue(traffic.xstats(receiver, 0), "rx", queues))
    traffic.wait_counter(total, sum(before) + 10000 * queues, 10)
    sender.cmd("stop")
    receiver.cmd("stop")
    after = per_queue(traffic.xstats(receiver, 0), "rx", queues)
    moved = [a - b for a, b in zip(after, before)]
    check(all(m > 0 for m in moved), "%s: per-queue Rx packets %s: a queue "
          "carried nothing" % (what, moved))
    sent = per_queue(traffic.xstats(sender, 0), "tx", queues)
    check(all(s > 0 for s in sent), "%s: per-queue Tx packets %s"
          % (what, sent))


def run_mq(queues, packed):
    name = "mq%d-%s" % (queues, "packed" if packed else "split")
    loop = traffic.Loop(name, {"packed_vq": packed, "mrg_rxbuf": 1,
                               "in_order": 0 if packed else 1},
                        queues=queues)
    vireo, vhost = loop.vireo, loop.vhost
    reports, merged = loop.round(loop.frames(PER_QUEUE, SIZES))
    for q, rep in enumerate(reports):
        check(rep["ok"] and rep["intact"] == PER_QUEUE,
              "%s: queue %d: %s" % (name, q, rep))
    loop.stop_vireo_fwd()
    ours = traffic.xstats(vireo, 0)
    theirs = traffic.xstats(vhost, 0)
    for direction, peer in (("rx", "tx"), ("tx", "rx")):
        mine = per_queue(ours, direction, queues)
        other = per_queue(theirs, peer, queues)
        check(mine == [PER_QUEUE] * queues,
              "%s: our per-queue %s packets %s, each queue carried %d"
              % (name, direction, mine, PER_QUEUE))
        check(mine == other, "%s: our %s per queue %s, backend %s %s"
              % (name, direction, mine, peer, other))

    # Our Tx on every queue, the backend counting.
    vhost.cmd("port start 1")
    vhost.cmd("set portlist 0")
    vhost.cmd("set fwd rxonly")
    vireo.cmd("set txpkts 64")
    txonly_spreads(vireo, vhost, queues, "%s, our Tx" % name)
    # The backend's Tx on every queue, our port counting.
    vireo.cmd("set fwd rxonly")
    txonly_spreads(vhost, vireo, queues, "%s, our Rx" % name)
    loop.close()


def test_mq2_split():
    run_mq(2, 0)


def test_mq2_packed():
    run_mq(2, 1)


def test_mq4_split():
    run_mq(4, 0)


def test_mq4_packed():
    run_mq(4, 1)
