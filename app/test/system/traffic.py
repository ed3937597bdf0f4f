# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Topologies shared by the main job and the data-path tests.

The device side is always stock dpdk-testpmd with net_vhost; our side is
stock dpdk-testpmd with our plugin and a net_vireo_user port.
"""

import os
import re
import time

import integrity
from harness import Testpmd, TestpmdError, check, workspace


def vireo_vdev(sock, **devargs):
    args = ["path=%s" % sock] + ["%s=%s" % kv for kv in devargs.items()]
    return "net_vireo_user0," + ",".join(args)


def vhost_vdev(sock, queues=1, client=0, name="net_vhost0"):
    return "%s,iface=%s,queues=%d,client=%d" % (name, sock, queues, client)


def port_stats(pmd, port=0):
    """Counters of `show port stats`: rx/tx packets, bytes, errors, pps."""
    out = pmd.cmd("show port stats %d" % port)
    stats = {}
    for key, pat in (("rx_packets", r"RX-packets:\s*(\d+)"),
                     ("rx_missed", r"RX-missed:\s*(\d+)"),
                     ("rx_bytes", r"RX-bytes:\s*(\d+)"),
                     ("rx_errors", r"RX-errors:\s*(\d+)"),
                     ("rx_nombuf", r"RX-nombuf:\s*(\d+)"),
                     ("tx_packets", r"TX-packets:\s*(\d+)"),
                     ("tx_errors", r"TX-errors:\s*(\d+)"),
                     ("tx_bytes", r"TX-bytes:\s*(\d+)"),
                     ("rx_pps", r"Rx-pps:\s*(\d+)"),
                     ("tx_pps", r"Tx-pps:\s*(\d+)")):
        m = re.search(pat, out)
        stats[key] = int(m.group(1)) if m else None
    return stats


def wait_link_up(pmd, port=0, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = pmd.cmd("show port info %d" % port)
        if re.search(r"Link status:\s*up", out):
            return
        time.sleep(0.2)
    raise TestpmdError("%s: port %d link still down after %ss"
                       % (pmd.name, port, timeout))


class Pair:
    """A net_vhost backend (CPU 0) and our PMD's testpmd (CPU 1)."""

    def __init__(self, name="pair", devargs=None, queues=1, extra_vhost=(),
                 vhost_args=(), vireo_args=(), vireo_eal=(), vhost_client=0,
                 nb_mbufs=16384, start_vireo=True):
        ws = workspace()
        self.sock = ws.socket(name)
        devargs = dict(devargs or {})
        if queues > 1:
            devargs.setdefault("queues", queues)
        if vhost_client:
            devargs.setdefault("server", 1)
        self.devargs = devargs
        self.vhost = None
        self.vireo = None
        self.queues = queues
        self._vireo_kw = dict(app_args=list(vireo_args), eal_args=list(vireo_eal),
                              nb_mbufs=nb_mbufs)
        self.vhost = Testpmd(name + "-vhost", 0, plugin=False,
                             vdevs=[vhost_vdev(self.sock, queues, vhost_client)] +
                             list(extra_vhost),
                             app_args=["--rxq=%d" % queues, "--txq=%d" % queues] +
                             list(vhost_args))
        if start_vireo:
            self.start_vireo()

    def start_vireo(self):
        qargs = ["--rxq=%d" % self.queues, "--txq=%d" % self.queues]
        kw = dict(self._vireo_kw)
        kw["app_args"] = qargs + kw["app_args"]
        self.vireo = Testpmd(self.name_vireo(), 1,
                             vdevs=[vireo_vdev(self.sock, **self.devargs)], **kw)
        return self.vireo

    def name_vireo(self):
        return os.path.basename(self.sock)[:-5] + "-vireo"

    def close(self):
        for pmd in (self.vireo, self.vhost):
            if pmd is not None:
                pmd.quit()


def pcap_vdev(rx_pcap, tx_pcap, name="net_pcap0"):
    return "%s,rx_pcap=%s,tx_pcap=%s" % (name, rx_pcap, tx_pcap)


def wait_counter(read, target, timeout, settle=1.5):
    """Poll read() until it reaches @target, or stops moving for @settle
    seconds, or @timeout passes; return the last value."""
    deadline = time.monotonic() + timeout
    last, last_change = read(), time.monotonic()
    while last < target and time.monotonic() < deadline:
        time.sleep(0.2)
        now = read()
        if now != last:
            last, last_change = now, time.monotonic()
        elif time.monotonic() - last_change > settle:
            break
    return last


def integrity_run(name, devargs, count, sizes, streams=1, queues=1,
                  vireo_args=(), vireo_cmds=(), timeout=60):
    """Frames from a pcap file go: backend net_pcap -> backend net_vhost ->
    our port (Rx) -> our port (Tx, io forward on the same port) ->
    net_vhost -> net_pcap -> a pcap file.  Returns (report, stats) where
    report is integrity.verify()'s and stats our port's counters."""
    ws = workspace()
    gen = os.path.join(ws.dir, name + "-gen.pcap")
    out = os.path.join(ws.dir, name + "-out.pcap")
    sent = integrity.generate(gen, count, sizes, streams=streams)
    # --no-flush-rx: testpmd drains every Rx queue at "start", which
    # would swallow the pcap file before forwarding begins.
    pair = Pair(name, devargs=devargs, queues=queues,
                extra_vhost=[pcap_vdev(gen, out)],
                vhost_args=["--no-flush-rx"],
                vireo_args=["--port-topology=loop"] + list(vireo_args),
                start_vireo=False)
    # The backend: port 0 net_vhost, port 1 net_pcap, io forward paired.
    pair.vhost.cmd("set fwd io retry")
    vireo = pair.start_vireo()
    for c in vireo_cmds:
        vireo.cmd(c)
    vireo.cmd("set fwd io retry")
    vireo.cmd("start")
    wait_link_up(pair.vhost, 0)
    pair.vhost.cmd("start")
    got = wait_counter(lambda: port_stats(pair.vhost, 0)["rx_packets"],
                       count, timeout)
    pair.vhost.cmd("stop")
    vireo.cmd("stop")
    stats = port_stats(vireo, 0)
    vireo.quit()
    # Closing the backend flushes the pcap writer.
    pair.vhost.quit()
    received = integrity.read_pcap(out)
    report = integrity.verify(sent, received)
    report["backend_rx"] = got
    return report, stats
