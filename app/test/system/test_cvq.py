# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Control queue commands on both ring layouts (cq=1), from stock
testpmd, with our cvq log at debug level so each command's completion
("command class C cmd N done") is seen, and their effects observed
where they can be:
  - MQ: devargs queues=4 but --rxq=2: the backend's testpmd prints one
    "queue state event" per vring made ready, 2 per enabled pair: 4;
    its txonly on 4 queues reaches our queues 0 and 1 only.  After
    `port config all rxq 4`/`txq 4` and a restart: 8 more, and all four
    queues carry frames;
  - promiscuous and all-multicast on/off, MAC add/remove/set, multicast
    list, VLAN filter on + rx_vlan add/rm: no error, port info agrees;
  - the default MAC set with `mac_addr set` survives a restart (replayed
    to the device) and frames we send in mac-forward mode carry it, as
    the backend's capture shows.
"""

import re
import time

from harness import check
import integrity
import traffic

# virtio-net control classes and commands (spec 5.1.6.5)
CTRL_RX, CTRL_MAC, CTRL_VLAN, CTRL_MQ = 0, 1, 2, 4
RX_PROMISC, RX_ALLMULTI = 0, 1
MAC_TABLE_SET, MAC_ADDR_SET = 0, 1
VLAN_ADD, VLAN_DEL = 0, 1
MQ_PAIRS_SET = 0

NEW_MAC = "02:AA:BB:CC:DD:EE"


def done(cls, cmd):
    return "command class %d cmd %d done" % (cls, cmd)


def run_cmd(pmd, line, expect_done=()):
    """Run a testpmd command: no error printed, and every control
    command in @expect_done completed."""
    out = pmd.cmd(line)
    for bad in ("failed", "error", "Error", "diag=", "not supported",
                "refused", "no answer"):
        check(bad not in out, "%r: %r in:\n%s" % (line, bad, out))
    for cls, cmd in expect_done:
        check(done(cls, cmd) in out, "%r: no %r in:\n%s"
              % (line, done(cls, cmd), out))
    return out


def count_events(vhost, since, want, what):
    """Wait for @want "queue state event" lines after @since, then make
    sure no more come."""
    count = lambda: len(re.findall(r"queue state event",
                                   vhost.output[since:]))
    deadline = time.monotonic() + 20
    while count() < want and time.monotonic() < deadline:
        vhost.poll_output()
        time.sleep(0.1)
    time.sleep(0.5)
    vhost.poll_output()
    check(count() == want, "%s: %d queue state events on the backend, "
          "expected %d" % (what, count(), want))


def rx_per_queue(pmd, queues):
    x = traffic.xstats(pmd, 0)
    return [x.get("rx_q%d_packets" % q, 0) for q in range(queues)]


def backend_txonly_reaches(loop, queues_on, what):
    """The backend sends on its 4 queues; only our first @queues_on Rx
    queues may receive."""
    vireo, vhost = loop.vireo, loop.vhost
    nq = 4
    before = rx_per_queue(vireo, nq)
    vireo.cmd("set fwd rxonly")
    vireo.cmd("start")
    vhost.cmd("port start 1")
    vhost.cmd("set portlist 0")
    vhost.cmd("set fwd txonly")
    vhost.cmd("start")
    traffic.wait_counter(lambda: sum(rx_per_queue(vireo, nq)),
                         sum(before) + 20000, 10)
    vhost.cmd("stop")
    vireo.cmd("stop")
    vhost.cmd("set portlist 0,1")
    vhost.cmd("set fwd io retry")
    vhost.cmd("port stop 1")
    vireo.cmd("set fwd io retry")
    moved = [a - b for a, b in zip(rx_per_queue(vireo, nq), before)]
    check(all(m > 0 for m in moved[:queues_on]) and
          all(m == 0 for m in moved[queues_on:]),
          "%s: per-queue Rx %s, expected traffic on the first %d queues only"
          % (what, moved, queues_on))


def run_cvq(packed):
    name = "cvq-%s" % ("packed" if packed else "split")
    loop = traffic.Loop(name, {"packed_vq": packed, "cq": 1, "queues": 4},
                        queues=4, vireo_args=["--rxq=2", "--txq=2"],
                        vireo_eal=["--log-level=pmd.net.vireo.cvq:debug"])
    vireo, vhost = loop.vireo, loop.vhost
    # Queue pairs: 2 enabled by VQ_PAIRS_SET at start.
    check(done(CTRL_MQ, MQ_PAIRS_SET) in vireo.output,
          "%s: no VQ_PAIRS_SET at start" % name)
    count_events(vhost, 0, 4, "%s, 2 pairs" % name)
    backend_txonly_reaches(loop, 2, "%s, 2 pairs" % name)

    # Rx modes.
    for line, cls, cmd, field, state in (
            ("set promisc 0 off", CTRL_RX, RX_PROMISC, "Promiscuous mode", "disabled"),
            ("set promisc 0 on", CTRL_RX, RX_PROMISC, "Promiscuous mode", "enabled"),
            ("set allmulti 0 on", CTRL_RX, RX_ALLMULTI, "Allmulticast mode", "enabled"),
            ("set allmulti 0 off", CTRL_RX, RX_ALLMULTI, "Allmulticast mode", "disabled")):
        run_cmd(vireo, line, [(cls, cmd)])
        info = vireo.cmd("show port info 0")
        check(re.search(r"%s: %s" % (field, state), info),
              "%s: after %r port info says:\n%s" % (name, line, info))

    # MAC table, multicast list, default MAC.
    run_cmd(vireo, "mac_addr add 0 02:11:22:33:44:55", [(CTRL_MAC, MAC_TABLE_SET)])
    run_cmd(vireo, "mac_addr add 0 02:11:22:33:44:66", [(CTRL_MAC, MAC_TABLE_SET)])
    macs = vireo.cmd("show port 0 macs")
    check("02:11:22:33:44:55" in macs and "02:11:22:33:44:66" in macs,
          "%s: MAC table:\n%s" % (name, macs))
    run_cmd(vireo, "mac_addr remove 0 02:11:22:33:44:55", [(CTRL_MAC, MAC_TABLE_SET)])
    macs = vireo.cmd("show port 0 macs")
    check("02:11:22:33:44:55" not in macs, "%s: removed MAC still listed:\n%s"
          % (name, macs))
    run_cmd(vireo, "mcast_addr add 0 01:00:5E:00:00:01", [(CTRL_MAC, MAC_TABLE_SET)])
    run_cmd(vireo, "mcast_addr remove 0 01:00:5E:00:00:01", [(CTRL_MAC, MAC_TABLE_SET)])
    run_cmd(vireo, "mac_addr set 0 %s" % NEW_MAC, [(CTRL_MAC, MAC_ADDR_SET)])
    info = vireo.cmd("show port info 0")
    check("MAC address: %s" % NEW_MAC in info, "%s: port info:\n%s"
          % (name, info))

    # VLAN filter.
    run_cmd(vireo, "vlan set filter on 0")
    check(re.search(r"filter on", vireo.cmd("show port info 0")),
          "%s: VLAN filter not on" % name)
    run_cmd(vireo, "rx_vlan add 100 0", [(CTRL_VLAN, VLAN_ADD)])
    run_cmd(vireo, "rx_vlan add 200 0", [(CTRL_VLAN, VLAN_ADD)])
    run_cmd(vireo, "rx_vlan rm 200 0", [(CTRL_VLAN, VLAN_DEL)])

    # 4 pairs: a restart replays every filter and enables 4 pairs.
    since = len(vhost.output)
    run_cmd(vireo, "port stop 0")
    run_cmd(vireo, "port config all rxq 4")
    run_cmd(vireo, "port config all txq 4")
    out = run_cmd(vireo, "port start 0",
                  [(CTRL_MQ, MQ_PAIRS_SET), (CTRL_RX, RX_PROMISC),
                   (CTRL_RX, RX_ALLMULTI), (CTRL_MAC, MAC_ADDR_SET),
                   (CTRL_MAC, MAC_TABLE_SET), (CTRL_VLAN, VLAN_ADD)])
    check("Port 0: %s" % NEW_MAC in out, "%s: MAC after restart:\n%s"
          % (name, out))
    count_events(vhost, since, 8, "%s, 4 pairs" % name)
    backend_txonly_reaches(loop, 4, "%s, 4 pairs" % name)

    # What the backend sees from us in mac-forward mode: our new MAC.
    vireo.cmd("set fwd mac retry")
    frames = loop.frames(50, [64, 1518])
    reports, merged = loop.round(frames)
    check(merged["ok"], "%s: mac forward round: %s" % (name, merged))
    srcs = set()
    for path in loop.out:
        srcs |= set(f[6:12] for f in integrity.read_pcap(path))
    want = bytes.fromhex(NEW_MAC.replace(":", ""))
    check(srcs == {want}, "%s: source MACs seen by the backend %s, expected %s"
          % (name, [s.hex(":") for s in srcs], NEW_MAC))
    loop.close()


def test_cvq_split():
    run_cvq(0)


def test_cvq_packed():
    run_cvq(1)
