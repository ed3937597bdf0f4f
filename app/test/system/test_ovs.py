# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""OVS-DPDK as a real user of our PMD: Debian's ovs-vswitchd-dpdk (OVS
3.1, DPDK 22.11) loads the plugin (dpdk-extra -d) and runs a
net_vireo_user port (type=dpdk) in a netdev bridge, patched by OpenFlow
rules to a dpdkvhostuserclient port:

  testpmd A: net_pcap <-> net_vhost (server, socket a)
     <-> OVS: vireo0, net_vireo_user client of a   (ofport 1)
              br0, fail_mode=secure, in_port=1->2 and in_port=2->1
              vhu0, dpdkvhostuserclient of socket b (ofport 2)
     <-> testpmd B: net_vireo_user (server, socket b) <-> net_pcap

Both testpmds forward io between their two ports.  Integrity frames go
A -> B (stream 0) and B -> A (stream 1) at the same time; every frame
must come out of the far pcap byte-identical (OVS only outputs them),
none lost, none duplicated, none reordered, none of the other stream.
The counters agree: OVS's statistics of both interfaces (the database
and ovs-ofctl dump-ports), both testpmds' port counters and the frames
written, no drop or error anywhere.  The port is ours: OVS reports
driver_name net_vireo_user and its log holds our data path line for the
layout asked; B's output too, and OVS's vhost side reports the layout
and ring size that B's server port negotiated with it.  At the end the
bridge is deleted (OVS detaches our vdev), ovs-vswitchd exits with 0 and
its log holds no error.  Split and packed layouts, one test each.

On 2 CPUs three busy pollers share two cores: rates mean nothing and
are not looked at.  Rings of 1024 descriptors hold a whole direction's
frames, so a peer off the CPU for a while costs time, not frames.
"""

import os
import random
import re

import harness
from harness import check
import integrity
import ovs
from traffic import (PATIENT_RETRY, pcap_vdev, port_stats, vhost_vdev,
                     vireo_vdev, wait_counter, wait_link_up)

SIZES = [64, 128, 256, 512, 1024, 1514]   # 1514: a full 1500-byte MTU
FRAMES = 600                               # per direction
RING = 1024

PATH_LOG = {0: "split mergeable in-order", 1: "packed mergeable in-order"}


def testpmd(name, cpu, vdevs, plugin):
    """A testpmd forwarding io between port 0 (towards OVS) and port 1
    (net_pcap), patiently; its pcap port stopped until traffic starts
    (net_pcap reads its file from the start when the port starts)."""
    pmd = harness.Testpmd(name, cpu, vdevs=vdevs, plugin=plugin,
                          app_args=["--no-flush-rx"])
    pmd.cmd("set fwd io retry")
    pmd.cmd(PATIENT_RETRY)
    pmd.cmd("port stop 1")
    return pmd


def rx_total(pmd):
    return port_stats(pmd, 0)["rx_packets"]


def run_ovs(packed):
    name = "ovs-%s" % ("packed" if packed else "split")
    ws = harness.workspace()
    sock_a, sock_b = ws.socket(name + "-a"), ws.socket(name + "-b")
    files = {k: os.path.join(ws.dir, "%s-%s.pcap" % (name, k))
             for k in ("gen-a", "out-a", "gen-b", "out-b")}
    ring = {"packed_vq": packed, "queue_size": RING}
    # net_pcap opens its Rx file at probe: there must be one
    for k in ("gen-a", "gen-b"):
        integrity.write_pcap(files[k], [])

    a = testpmd(name + "-a", 0, [vhost_vdev(sock_a),
                                 pcap_vdev(files["gen-a"], files["out-a"])],
                plugin=False)
    b = testpmd(name + "-b", 0,
                [vireo_vdev(sock_b, server=1, **ring),
                 pcap_vdev(files["gen-b"], files["out-b"])], plugin=True)
    sw = ovs.Ovs(name, 1, ovs.eal_extra(ws.prefix(name + "-ovs")))
    sw.vsctl("add-br", "br0", "--", "set", "Bridge", "br0",
             "datapath_type=netdev", "fail_mode=secure")
    sw.vsctl("add-port", "br0", "vireo0", "--", "set", "Interface", "vireo0",
             "type=dpdk", "ofport_request=1",
             "options:dpdk-devargs=%s" % vireo_vdev(sock_a, **ring))
    sw.vsctl("add-port", "br0", "vhu0", "--", "set", "Interface", "vhu0",
             "type=dpdkvhostuserclient", "ofport_request=2",
             "options:vhost-server-path=%s" % sock_b)
    # ovs-ofctl finds br0 by OVS_RUNDIR (br0.mgmt there)
    for rule in ("in_port=1,actions=output:2", "in_port=2,actions=output:1"):
        sw.ofctl("add-flow", "br0", rule)
    sw.wait_link_up("vireo0")
    sw.wait_link_up("vhu0")
    wait_link_up(a, 0)
    wait_link_up(b, 0)

    # The port is ours, on the layout asked.
    _stats, status = sw.interface("vireo0")
    check(status.get("driver_name") == "net_vireo_user",
          "%s: vireo0 status %s" % (name, status))
    # OVS's vhost side negotiated with our server port in B: the layout
    # asked (VIRTIO_F_RING_PACKED, bit 34) and our ring size
    _stats, vhu = sw.interface("vhu0")
    features = int(vhu.get("features", "0"), 16)
    check(vhu.get("status") == "connected" and
          bool(features >> 34 & 1) == bool(packed) and
          vhu.get("vring_0_size") == str(RING),
          "%s: vhu0 status %s" % (name, vhu))
    path = "data path: %s, scalar" % PATH_LOG[packed]
    check(path in sw.log(), "%s: no %r in the OVS log\n%s"
          % (name, path, sw.log_tail()))
    check(path in b.output, "%s: no %r in B's output" % (name, path))

    rng_a = random.Random(1)
    rng_b = random.Random(2)
    to_b = [integrity.make_frame(0, i, SIZES[i % len(SIZES)], rng_a)
            for i in range(FRAMES)]
    to_a = [integrity.make_frame(1, i, SIZES[i % len(SIZES)], rng_b,
                                 src_mac=b"\x02\x00\x00\x00\x00\x02",
                                 dst_mac=b"\x02\x00\x00\x00\x00\x01")
            for i in range(FRAMES)]
    integrity.write_pcap(files["gen-a"], to_b)
    integrity.write_pcap(files["gen-b"], to_a)
    for pmd in (a, b):
        pmd.cmd("port start 1")
        pmd.cmd("start")
    got_a = wait_counter(lambda: rx_total(a), FRAMES, 60)
    got_b = wait_counter(lambda: rx_total(b), FRAMES, 60)
    for pmd in (a, b):
        pmd.cmd("stop")
        # closes the pcap writer: the file is whole
        pmd.cmd("port stop 1")
    sw.check_running()

    for what, sent, out in (("A->B", to_b, files["out-b"]),
                            ("B->A", to_a, files["out-a"])):
        rep = integrity.verify(sent, integrity.read_pcap(out),
                               ignore_macs=False)
        check(rep["ok"] and rep["intact"] == FRAMES,
              "%s %s through OVS: %s (testpmd Rx A %d, B %d)\n%s"
              % (name, what, rep, got_a, got_b, sw.log_tail()))

    # Every counter on the way says the same.
    nbytes = sum(len(f) for f in to_b)
    check(sum(len(f) for f in to_a) == nbytes, "directions differ in size")
    sa, sb = port_stats(a, 0), port_stats(b, 0)
    for who, st in (("A", sa), ("B", sb)):
        check(st["rx_packets"] == FRAMES and st["tx_packets"] == FRAMES and
              st["rx_bytes"] == nbytes and st["tx_bytes"] == nbytes and
              st["rx_errors"] == 0 and st["tx_errors"] == 0 and
              st["rx_missed"] == 0 and st["rx_nombuf"] == 0,
              "%s: testpmd %s port 0: %s (expected %d packets, %d bytes)"
              % (name, who, st, FRAMES, nbytes))
    for iface in ("vireo0", "vhu0"):
        stats = sw.wait_statistics(iface, {"rx_packets": FRAMES,
                                           "tx_packets": FRAMES})
        check(stats.get("rx_packets") == FRAMES and
              stats.get("tx_packets") == FRAMES,
              "%s: OVS %s statistics %s, expected %d each way"
              % (name, iface, stats, FRAMES))
        for key, value in stats.items():
            check(not re.search(r"drop|error", key) or value == 0,
                  "%s: OVS %s %s=%d" % (name, iface, key, value))
        if iface == "vireo0":
            # the per-queue counters our PMD keeps, as OVS reads them
            check(stats.get("rx_q0_packets") == FRAMES and
                  stats.get("tx_q0_packets") == FRAMES,
                  "%s: OVS %s queue statistics %s" % (name, iface, stats))
        check(stats.get("rx_bytes") == nbytes and
              stats.get("tx_bytes") == nbytes,
              "%s: OVS %s bytes %s/%s, expected %d"
              % (name, iface, stats.get("rx_bytes"), stats.get("tx_bytes"),
                 nbytes))
    ports = sw.ofctl("dump-ports", "br0")
    for port in (1, 2):
        m = re.search(r"port\s+%d: rx pkts=(\d+).*?\n\s+tx pkts=(\d+)"
                      % port, ports, re.S)
        check(m and int(m.group(1)) == FRAMES and int(m.group(2)) == FRAMES,
              "%s: ovs-ofctl dump-ports, port %d:\n%s" % (name, port, ports))

    # OVS lets the port go (rte_dev_remove of our vdev) and exits.
    sw.vsctl("del-br", "br0")
    sw.check_running()
    detached = "Device '%s' has been removed and detached" \
        % vireo_vdev(sock_a, **ring)
    check(detached in sw.log(), "%s: no %r in the OVS log\n%s"
          % (name, detached, sw.log_tail()))
    rc = sw.close()
    check(rc == 0, "%s: ovs-vswitchd exited with %s\n%s"
          % (name, rc, sw.log_tail()))
    errors = re.findall(r"^.*\|(?:ERR|EMER)\|.*$", sw.log(), re.M)
    check(not errors, "%s: OVS logged errors:\n%s"
          % (name, "\n".join(errors)))
    for pmd in (b, a):
        rc = pmd.quit()
        check(rc == 0, "%s: %s exited with %s:\n%s"
              % (name, pmd.name, rc, pmd.output[-2000:]))


def test_ovs_packed():
    run_ovs(1)


def test_ovs_split():
    run_ovs(0)
