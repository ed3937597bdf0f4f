#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""net_vireo (the virtio-pci transport) in a real QEMU guest.

Each configuration boots a busybox guest (TCG) whose virtio-net PCI
function is bound to uio_pci_generic (IOVA = PA, hugepages) or, in a q35
guest with QEMU's virtual IOMMU, to vfio-pci (IOVA = VA), runs stock
dpdk-testpmd with our plugin on it (DPDK's own net_virtio is not in the
guest), and checks:

- probe: the device, its layout, mergeable setting, MTU, queue pairs and
  IOMMU use (ACCESS_PLATFORM) as QEMU was told;
- link: QEMU's `set_link` off/on seen by the port (loop backend);
- re-init: `port stop` / `port start` (device reset, queues set up again)
  and traffic afterwards;
- traffic with payload integrity (integrity.py) over the backend:
  loop:  guest pcap -> net_vireo Tx -> QEMU's virtio-net model -> UDP
         socket back to itself -> net_vireo Rx -> guest pcap;
  vhost: guest -> host -> guest: guest pcap -> net_vireo -> vhost-user
         -> host testpmd (net_vhost, io forward back) -> net_vireo ->
         guest pcap; and host -> guest -> host: host pcap -> net_vhost
         -> net_vireo (io forward back) -> net_vhost -> host pcap.
- a clean `quit` (ports closed: device reset) and no broken ring.
A last guest (run_faults) checks what the driver must survive:
NEEDS_RESET, a reset behind the port's back, and the device unplugged;
beside it a legacy-only device probes as a second port.

CI (test_* below) runs five guests that together cover both backends,
both layouts, mergeable on and off, modern, transitional and legacy-only
devices, uio and vfio, and the faults.  The whole matrix:
devtools/guest/run-matrix.sh (this file with --matrix).
"""

import argparse
import itertools
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import guest  # noqa: E402
import harness  # noqa: E402
import integrity  # noqa: E402
from harness import Testpmd, TestpmdError, check, workspace  # noqa: E402
from traffic import port_stats, vhost_vdev, pcap_vdev  # noqa: E402

TRAFFIC_TIMEOUT = 180


def _wait_stat(read, target, timeout=TRAFFIC_TIMEOUT):
    """Poll a counter until it reaches @target or @timeout passes (no
    'settled' shortcut: under TCG a pause of seconds is normal)."""
    deadline = time.monotonic() + timeout
    value = read()
    while value < target and time.monotonic() < deadline:
        time.sleep(1)
        value = read()
    return value


def _wait_link(pmd, port, up, timeout=60):
    want = "up" if up else "down"
    deadline = time.monotonic() + timeout
    while True:
        out = pmd.cmd("show port info %d" % port)
        m = re.search(r"Link status:\s*(\w+)", out)
        if m and m.group(1) == want:
            return
        if time.monotonic() > deadline:
            raise TestpmdError("%s: port %d link not %s after %ss"
                               % (pmd.name, port, want, timeout))
        time.sleep(1)


def _check_probe(g, cfg, text):
    dev_id = "0x1041" if cfg.modern else "0x1000"
    iface = "legacy virtio-pci" if cfg.legacy else "virtio 1.x"
    check(re.search(r"virtio-net %s \(%s\) bound to %s"
                    % (re.escape(guest.PCI_ADDR), dev_id, cfg.driver),
                    g.output),
          "%s: device %s not bound to %s as %s"
          % (cfg, guest.PCI_ADDR, cfg.driver, dev_id))
    iova = "VA" if cfg.vfio else "PA"
    check("Selected IOVA mode '%s'" % iova in text,
          "%s: EAL did not select IOVA as %s" % (cfg, iova))
    check("Probe PCI driver: net_vireo" in text,
          "%s: net_vireo did not probe the device:\n%s" % (cfg, text[-3000:]))
    check("net_virtio" not in text,
          "%s: DPDK's net_virtio is in the guest" % cfg)
    # A transitional device keeps its modern interface; only a
    # legacy-only one is driven through the I/O BAR.
    check("%s: using the %s interface" % (guest.PCI_ADDR, iface) in text,
          "%s: %s interface not chosen:\n%s" % (cfg, iface, text[-3000:]))
    m = re.search(r"data path: [a-z -]+, ([a-z0-9.]+) \(", text)
    check(m is not None, "%s: no data path logged" % cfg)
    check((m.group(1) != "scalar") == cfg.vectorized,
          "%s: data path %s with vectorized=%d" % (cfg, m.group(1),
                                                   cfg.vectorized))
    m = re.search(r"negotiated features 0x[0-9a-f]+: ([A-Z0-9_ ]+)", text)
    check(m is not None, "%s: no negotiated features logged" % cfg)
    feats = m.group(1).split()
    check(("RING_PACKED" in feats) == cfg.packed,
          "%s: RING_PACKED negotiated=%s" % (cfg, "RING_PACKED" in feats))
    check(("MRG_RXBUF" in feats) == cfg.mrg,
          "%s: MRG_RXBUF negotiated=%s" % (cfg, "MRG_RXBUF" in feats))
    check(("VERSION_1" in feats) != cfg.legacy,
          "%s: VERSION_1 negotiated=%s" % (cfg, "VERSION_1" in feats))
    check(("ACCESS_PLATFORM" in feats) == cfg.vfio,
          "%s: ACCESS_PLATFORM negotiated=%s" % (cfg, "ACCESS_PLATFORM" in feats))
    layout = "packed" if cfg.packed else "split"
    check(re.search(r"probed: port 0, MAC %s, %d queue pair\(s\), %s layout, mergeable %s"
                    % (guest.GUEST_MAC, cfg.queue_pairs, layout,
                       "on" if cfg.mrg else "off"), text),
          "%s: probe summary does not match the device:\n%s"
          % (cfg, text[-3000:]))
    check(("MTU" in feats) == bool(cfg.host_mtu),
          "%s: MTU negotiated=%s" % (cfg, "MTU" in feats))
    check(("MQ" in feats) == (cfg.queue_pairs > 1),
          "%s: MQ negotiated=%s" % (cfg, "MQ" in feats))
    info = g.cmd("show port info 0")
    check("Driver name: net_vireo" in info, "%s: port 0 is not net_vireo" % cfg)
    if cfg.host_mtu:
        # The device's MTU is the port's maximum (frame = MTU + 22).
        check("Maximum configurable length of RX packet: %d"
              % (cfg.host_mtu + 22) in info,
              "%s: device MTU %d not reported:\n%s" % (cfg, cfg.host_mtu, info))


def _check_rings(g, cfg):
    out = g.cmd("show port xstats 0")
    size = cfg.queue_size or 256
    for ring in ("rx_q0", "tx_q0"):
        check("%s_ring_size: %d" % (ring, size) in out,
              "%s: %s is not %d descriptors:\n%s" % (cfg, ring, size, out))
    for ring in ("rx_q0", "tx_q0"):
        m = re.search(r"%s_ring_broken: (\d+)" % ring, out)
        check(m is not None and m.group(1) == "0",
              "%s: %s broken:\n%s" % (cfg, ring, out))
    st = port_stats(g, 0)
    check(st["rx_errors"] == 0 and st["tx_errors"] == 0,
          "%s: port errors %s" % (cfg, st))
    return out


def _start_guest_testpmd(g, cfg):
    app = ["--total-num-mbufs=2048", "--no-flush-rx",
           "--port-topology=paired"]
    if cfg.mrg:
        # 896-byte buffers: large frames span several, as mergeable
        # Rx buffers must handle, and go back out as mbuf chains.
        app.append("--mbuf-size=1024")
    text = g.start_testpmd(
        eal_args=["--vdev", "net_pcap0,rx_pcap=/data/gen.pcap,tx_pcap=/tmp/out.pcap"],
        app_args=app, devargs=cfg.devargs())
    _check_probe(g, cfg, text)
    _wait_link(g, 0, True)
    return text


def _finish_guest(g, cfg):
    """Quit testpmd (closes the port: device reset) and fetch what the
    guest's pcap port wrote."""
    text, rc = g.quit_testpmd()
    check(rc == 0 and "Bye" in text,
          "%s: guest testpmd quit with rc=%d:\n%s" % (cfg, rc, text[-3000:]))
    check("Port 0 is closed" in text, "%s: port 0 not closed" % cfg)
    return g.fetch("/tmp/out.pcap")


def _verify(cfg, what, sent, data_or_path):
    if isinstance(data_or_path, bytes):
        path = os.path.join(workspace().dir, "%s-%s.pcap" % (cfg, what))
        with open(path, "wb") as f:
            f.write(data_or_path)
    else:
        path = data_or_path
    report = integrity.verify(sent, integrity.read_pcap(path))
    check(report["ok"], "%s: %s integrity: %s" % (cfg, what, report))
    return report


def run_loop(cfg):
    """QEMU's virtio-net model, its socket netdev sending to itself."""
    port = guest.free_udp_port()
    g = guest.Guest("guest-" + cfg.name, cfg,
                    ["-netdev", "socket,id=n0,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d"
                     % (port, port)])
    result = {"boot_s": round(g.wait_ready(), 1)}
    _start_guest_testpmd(g, cfg)

    # Link: QEMU drops it; the port sees it (config status, polled).
    g.monitor("set_link n0 off")
    _wait_link(g, 0, False)
    g.monitor("set_link n0 on")
    _wait_link(g, 0, True)

    # Re-init: stop resets the device, start sets every queue up again.
    g.cmd("port stop 0")
    g.cmd("port start 0")
    _wait_link(g, 0, True)

    g.cmd("set portlist 0,1")
    g.cmd("set fwd io")
    g.cmd("start")
    got = _wait_stat(lambda: port_stats(g, 1)["tx_packets"],
                     guest.FRAME_COUNT)
    g.cmd("stop")
    xstats = _check_rings(g, cfg)
    check(got == guest.FRAME_COUNT, "%s: %d of %d frames came back"
          % (cfg, got, guest.FRAME_COUNT))
    data = _finish_guest(g, cfg)
    g.poweroff()
    guest.check_sanitizers(g)
    result["guest_loop"] = _verify(cfg, "guest-loop", guest.guest_frames(),
                                   data)
    result["kicks"] = re.findall(r"(?:rx|tx)_q0_kicks: \d+", xstats)
    return result


def run_vhost(cfg):
    """vhost-user: stock testpmd with net_vhost on the host serves the
    device's rings from the guest's shared memory."""
    ws = workspace()
    sock = ws.socket("guest-" + cfg.name)
    host_gen = os.path.join(ws.dir, "host-gen.pcap")
    host_out = os.path.join(ws.dir, "host-out.pcap")
    integrity.write_pcap(host_gen, guest.host_frames())
    host = Testpmd("host-" + cfg.name, 1, plugin=False,
                   vdevs=[vhost_vdev(sock, queues=cfg.queue_pairs),
                          pcap_vdev(host_gen, host_out, name="net_pcap1")],
                   app_args=["--no-flush-rx", "--port-topology=paired"],
                   nb_mbufs=8192, timeout=120)
    g = guest.Guest("guest-" + cfg.name, cfg,
                    ["-object", "memory-backend-memfd,id=mem,size=512M,share=on",
                     "-numa", "node,memdev=mem",
                     "-chardev", "socket,id=vu0,path=%s" % sock,
                     "-netdev", "vhost-user,id=n0,chardev=vu0,queues=%d"
                     % cfg.queue_pairs])
    result = {"boot_s": round(g.wait_ready(), 1)}
    host.poll_output()
    _start_guest_testpmd(g, cfg)
    host.poll_output()
    _wait_link(host, 0, True)

    # guest -> host -> guest
    host.cmd("set portlist 0")
    host.cmd("set fwd io")
    host.cmd("start")
    g.cmd("set portlist 0,1")
    g.cmd("set fwd io")
    g.cmd("start")
    got = _wait_stat(lambda: port_stats(g, 1)["tx_packets"],
                     guest.FRAME_COUNT)
    g.cmd("stop")
    host.cmd("stop")
    check(got == guest.FRAME_COUNT, "%s: guest->host->guest: %d of %d frames came back"
          % (cfg, got, guest.FRAME_COUNT))

    # Re-init: the device resets, QEMU takes the rings back from the
    # backend and hands it the new ones.
    g.cmd("port stop 0")
    g.cmd("port start 0")
    _wait_link(g, 0, True)
    _wait_link(host, 0, True)

    # host -> guest -> host
    g.cmd("set portlist 0")
    g.cmd("start")
    host.cmd("set portlist 0,1")
    host.cmd("start")
    got = _wait_stat(lambda: port_stats(host, 1)["tx_packets"],
                     guest.FRAME_COUNT)
    host.cmd("stop")
    g.cmd("stop")
    check(got == guest.FRAME_COUNT, "%s: host->guest->host: %d of %d frames came back"
          % (cfg, got, guest.FRAME_COUNT))
    _check_rings(g, cfg)
    data = _finish_guest(g, cfg)
    g.poweroff()
    guest.check_sanitizers(g)
    host.quit()
    result["guest_host_guest"] = _verify(cfg, "guest-host-guest",
                                         guest.guest_frames(), data)
    result["host_guest_host"] = _verify(cfg, "host-guest-host",
                                        guest.host_frames(), host_out)
    return result


def run_faults():
    """What the driver must survive, in one guest with two devices:
    - a legacy-only function (no virtio 1.x capabilities) beside a modern
      one: each probes through its own interface, the legacy one as
      port 1, and the faults below on port 0 leave it alone;
    - NEEDS_RESET while the port runs (set in the device's status through
      /dev/mem, as QEMU's model keeps what is written there): logged,
      link down; port stop/start resets the device and traffic resumes;
    - the device reset behind the running port (status written 0): the
      same;
    - the device unplugged (QEMU device_del; it then reads zeroes and
      vanishes from PCI configuration space): link down, start refused,
      testpmd quits normally.
    """
    cfg = guest.Config("loop", packed=True, mrg=False, modern=True)
    legacy_addr = "0000:00:05.0"
    p0, p1 = guest.free_udp_port(), guest.free_udp_port()
    g = guest.Guest("guest-faults", cfg,
                    ["-netdev", "socket,id=n0,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d"
                     % (p0, p0),
                     "-netdev", "socket,id=n1,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d"
                     % (p1, p1)],
                    devices=[cfg.device(),
                             "virtio-net-pci,id=nic1,netdev=n1,addr=0x5,"
                             "disable-legacy=off,disable-modern=on"])
    result = {"boot_s": round(g.wait_ready(), 1)}
    tp = guest.BackgroundTestpmd(g, g.testpmd_cmdline(
        allow=(guest.PCI_ADDR, legacy_addr),
        app_args=["--total-num-mbufs=2048"]))
    text = tp.banner
    check("%s: using the legacy virtio-pci interface" % legacy_addr in text,
          "legacy-only device not driven as legacy:\n%s" % text[-3000:])
    check("%s: using the virtio 1.x interface" % guest.PCI_ADDR in text,
          "modern device not driven as modern:\n%s" % text[-3000:])
    check(re.search(r"probed: port 0, MAC %s" % guest.GUEST_MAC, text),
          "modern device not probed beside the legacy one:\n%s" % text[-3000:])
    check(re.search(r"probed: port 1, MAC [0-9a-f:]+, 1 queue pair\(s\), split layout",
                    text),
          "legacy device not probed as port 1:\n%s" % text[-3000:])
    _wait_link(tp, 0, True)
    _wait_link(tp, 1, True)

    def traffic_flows():
        before = port_stats(tp, 0)["rx_packets"]
        tp.cmd("start tx_first")
        time.sleep(3)
        after = port_stats(tp, 0)["rx_packets"]
        tp.cmd("stop")
        check(after > before, "no traffic on port 0 (rx %d -> %d)"
              % (before, after))

    def recover():
        tp.cmd("stop")
        tp.cmd("port stop 0")
        tp.cmd("port start 0")
        _wait_link(tp, 0, True)
        traffic_flows()

    traffic_flows()
    # QEMU's modern layout: common configuration at offset 0 of BAR 4,
    # device_status at 0x14 in it.
    bar, status_off = 4, 0x14
    tp.cmd("start tx_first")
    status = g.devmem8(bar, status_off)
    check(status & 0x4, "device status 0x%02x without DRIVER_OK" % status)
    g.devmem8(bar, status_off, status | 0x40)
    tp.wait_output(r"device set NEEDS_RESET")
    _wait_link(tp, 0, False)
    recover()

    tp.cmd("start tx_first")
    g.devmem8(bar, status_off, 0)
    tp.wait_output(r"device was reset under the running port")
    _wait_link(tp, 0, False)
    recover()

    tp.cmd("start tx_first")
    g.monitor("device_del nic0")
    tp.wait_output(r"device not answering")
    _wait_link(tp, 0, False)
    tp.cmd("stop")
    tp.cmd("port stop 0")
    out = tp.cmd("port start 0")
    check("Fail to start port 0" in out, "a removed device started:\n%s" % out)
    out = tp.quit()
    check("Port 0 is closed" in out, "port 0 not closed after removal")
    g.poweroff()
    guest.check_sanitizers(g)
    return result


def run_config(cfg):
    if cfg.backend == "loop":
        return run_loop(cfg)
    return run_vhost(cfg)


# ---- CI: two configurations covering every axis once ----

def test_guest_loop_packed_mrg_modern():
    run_config(guest.Config("loop", packed=True, mrg=True, modern=True))


def test_guest_vhost_split_nomrg_transitional():
    run_config(guest.Config("vhost", packed=False, mrg=False, modern=False))


def test_guest_vfio_loop_split_mrg_modern():
    run_config(guest.Config("loop", packed=False, mrg=True, modern=True,
                            driver="vfio-pci"))


def test_guest_loop_split_nomrg_legacy():
    # The 10-byte net header (no num_buffers), I/O port registers.
    run_config(guest.Config("loop", packed=False, mrg=False, modern=False,
                            legacy=True))


def test_guest_faults():
    run_faults()


# ---- the full matrix, from the command line ----

def matrix():
    for backend, packed, mrg, modern in itertools.product(
            ("loop", "vhost"), (True, False), (True, False), (True, False)):
        yield guest.Config(backend, packed, mrg, modern)
    # vfio-pci behind QEMU's virtual IOMMU (IOVA = VA), loop backend,
    # modern devices only (QEMU gives a transitional device no
    # iommu_platform): every layout x mergeable.
    for packed, mrg in itertools.product((True, False), (True, False)):
        yield guest.Config("loop", packed, mrg, True, driver="vfio-pci")
    # Legacy-only devices (disable-modern=on): split only, both backends,
    # mergeable on and off (12- and 10-byte net headers).
    for backend, mrg in itertools.product(("loop", "vhost"), (True, False)):
        yield guest.Config(backend, False, mrg, False, legacy=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--matrix", action="store_true",
                    help="run every backend x layout x mergeable x modern/transitional, "
                    "the vfio-pci and the legacy-only cells")
    ap.add_argument("-k", action="append", default=[],
                    help="only configurations whose name contains this")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("guest tests need root")
    harness.install_cleanup_handlers()
    configs = list(matrix()) if args.matrix else [
        guest.Config("loop", True, True, True),
        guest.Config("vhost", False, False, False)]
    configs = [c for c in configs if not args.k or any(k in c.name for k in args.k)]
    if not args.k or any(k in "faults" for k in args.k):
        configs.append(None)
    passed = failed = 0
    rows = []
    for cfg in configs:
        start = time.monotonic()
        try:
            res = run_faults() if cfg is None else run_config(cfg)
            ok, why = True, ""
        except Exception as exc:  # a configuration's failure, whatever its kind
            ok, why, res = False, "%s: %s" % (type(exc).__name__, exc), {}
        finally:
            harness._cleanup_all()
        took = time.monotonic() - start
        name = cfg.name if cfg is not None else "faults"
        rows.append((name, ok, took))
        if ok:
            passed += 1
            print("PASS %s (%.0fs, boot %ss)" % (name, took,
                                                res.get("boot_s")), flush=True)
        else:
            failed += 1
            print("FAIL %s (%.0fs)\n    %s" % (name, took,
                                              why.replace("\n", "\n    ")),
                  flush=True)
    print("\nbackend layout mergeable device       driver           result")
    for name, ok, took in rows:
        cells = name.split("-") if "-" in name else [name, "", "", ""]
        driver = "vfio-pci" if cells[-1] == "vfio" else (
            "uio_pci_generic" if len(cells) == 4 and cells[1] else "")
        print("%-7s %-6s %-9s %-12s %-16s %s (%.0fs)" % (
            tuple(cells[:4]) + (driver, "PASS" if ok else "FAIL", took)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
