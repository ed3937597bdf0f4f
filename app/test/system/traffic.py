# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Topologies shared by the main job and the data-path tests.

The device side is always stock dpdk-testpmd with net_vhost; our side is
stock dpdk-testpmd with our plugin and a net_vireo_user port.
"""

import os
import random
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
                 nb_mbufs=16384, start_vireo=True, mem_args=None,
                 vhost_eal=(), vhost_mbufs=16384):
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
                              nb_mbufs=nb_mbufs, mem_args=mem_args)
        self.vhost = Testpmd(name + "-vhost", 0, plugin=False,
                             vdevs=[vhost_vdev(self.sock, queues, vhost_client)] +
                             list(extra_vhost),
                             app_args=["--rxq=%d" % queues, "--txq=%d" % queues] +
                             list(vhost_args),
                             eal_args=list(vhost_eal), mem_args=mem_args,
                             nb_mbufs=vhost_mbufs)
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


def wait_counter(read, target, timeout, settle=5):
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


# ---- helpers of the data-path tests ----

# io forwarding "with retry" gives up after 64 tries 1 us apart, far less
# than a time slice: with another test's busy-polling testpmd on the same
# CPU the peer is often not running, and the frames would be dropped.
# Waiting up to 5 s per burst keeps "no loss" a property of the driver.
PATIENT_RETRY = "set burst tx delay 100 retry 50000"


def xstats(pmd, port=0):
    """`show port xstats` as a dict name -> value."""
    out = pmd.cmd("show port xstats %d" % port)
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^\s*(\w+):\s+(\d+)\s*$", out, re.M)}


def mempool_in_use(pmd):
    """Objects in use per mempool, from `dump_mempool` (rte_mempool_dump):
    size less those in the common pool and in the lcore caches."""
    out = pmd.cmd("dump_mempool")
    pools = {}
    for block in re.split(r"^mempool ", out, flags=re.M)[1:]:
        name = re.match(r"<([^>]*)>", block).group(1)
        size = int(re.search(r"^\s*size=(\d+)", block, re.M).group(1))
        common = int(re.search(r"common_pool_count=(\d+)", block).group(1))
        cache = re.search(r"total_cache_count=(\d+)", block)
        pools[name] = size - common - (int(cache.group(1)) if cache else 0)
    return pools


def mac_forward(pair, vhost_start="start"):
    """Both sides in mac forwarding (the DTS setup); ours starts first,
    the backend with @vhost_start ("start tx_first 32" seeds a loop)."""
    pair.vireo.cmd("set fwd mac")
    pair.vireo.cmd("start")
    pair.vhost.cmd("set fwd mac")
    pair.vhost.cmd(vhost_start)


def queue_frames(queue, first_seq, count, sizes, rng):
    """@count integrity frames of stream @queue, sizes cycling."""
    return [integrity.make_frame(queue, first_seq + i, sizes[i % len(sizes)], rng)
            for i in range(count)]


class Loop:
    """The integrity topology of integrity_run, kept up for several rounds
    and with one pcap file pair per queue:

      backend port 1 net_pcap (rx file q) -> port 0 net_vhost queue q
      -> our port Rx queue q -> io forward -> our Tx queue q
      -> net_vhost -> net_pcap (tx file q)

    net_pcap opens its files when the port starts and flushes them when
    it stops, so each round() writes the input files, starts the backend's
    pcap port, moves the frames, stops it and reads the output files.
    """

    def __init__(self, name, devargs, queues=1, vireo_args=(), vhost_args=(),
                 vireo_eal=(), vhost_eal=(), mem_args=None, nb_mbufs=16384,
                 vhost_mbufs=16384, seed=1):
        ws = workspace()
        self.name = name
        self.queues = queues
        self.gen = [os.path.join(ws.dir, "%s-gen%d.pcap" % (name, q))
                    for q in range(queues)]
        self.out = [os.path.join(ws.dir, "%s-out%d.pcap" % (name, q))
                    for q in range(queues)]
        for path in self.gen:
            integrity.write_pcap(path, [])
        pcap = "net_pcap0," + ",".join(
            ["rx_pcap=%s" % p for p in self.gen] +
            ["tx_pcap=%s" % p for p in self.out])
        self.rng = random.Random(seed)
        self.next_seq = [0] * queues
        self.pair = Pair(name, devargs=devargs, queues=queues,
                         extra_vhost=[pcap],
                         vhost_args=["--no-flush-rx"] + list(vhost_args),
                         vireo_args=["--port-topology=loop"] + list(vireo_args),
                         vireo_eal=vireo_eal, vhost_eal=vhost_eal,
                         mem_args=mem_args, nb_mbufs=nb_mbufs,
                         vhost_mbufs=vhost_mbufs, start_vireo=False)
        self.vhost = self.pair.vhost
        self.vhost.cmd("set fwd io retry")
        self.vhost.cmd(PATIENT_RETRY)
        # Rounds start the pcap port: it reads its file from the start.
        self.vhost.cmd("port stop 1")
        self.vireo = self.pair.start_vireo()
        self.vireo.cmd("set fwd io retry")
        self.vireo.cmd(PATIENT_RETRY)
        self.forwarding = False
        wait_link_up(self.vhost, 0)

    def frames(self, per_queue, sizes):
        """Fresh frames for every queue, sequence numbers continuing from
        the previous round (a stale frame coming back is then foreign)."""
        out = []
        for q in range(self.queues):
            out.append(queue_frames(q, self.next_seq[q], per_queue, sizes,
                                    self.rng))
            self.next_seq[q] += per_queue
        return out

    def start_vireo_fwd(self):
        if not self.forwarding:
            self.vireo.cmd("start")
            self.forwarding = True

    def stop_vireo_fwd(self):
        if self.forwarding:
            self.vireo.cmd("stop")
            self.forwarding = False

    def round(self, frames, timeout=60):
        """Send @frames (one list per queue) around the loop; returns
        (reports per queue, merged report)."""
        for q in range(self.queues):
            integrity.write_pcap(self.gen[q], frames[q])
        total = sum(len(f) for f in frames)
        base = port_stats(self.vhost, 0)["rx_packets"]
        self.vhost.cmd("port start 1")
        self.start_vireo_fwd()
        self.vhost.cmd("start")
        got = wait_counter(
            lambda: port_stats(self.vhost, 0)["rx_packets"] - base,
            total, timeout)
        self.vhost.cmd("stop")
        # Stopping the pcap port closes the writers: the files are whole.
        self.vhost.cmd("port stop 1")
        reports = []
        for q in range(self.queues):
            rep = integrity.verify(frames[q], integrity.read_pcap(self.out[q]))
            reports.append(rep)
        merged = {k: sum(r[k] for r in reports)
                  for k in ("sent", "received", "intact", "corrupted",
                            "duplicated", "reordered", "lost")}
        merged["ok"] = all(r["ok"] for r in reports)
        merged["backend_rx"] = got
        return reports, merged

    def close(self):
        self.pair.close()
