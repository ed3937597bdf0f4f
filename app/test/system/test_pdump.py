# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Secondary processes on our port: our testpmd is the primary (stock
testpmd calls rte_pdump_init), and
  - dpdk-pdump, a secondary that probes our vdev through
    vireo_user_probe_secondary, captures our port's Rx on every queue into
    a pcap: it holds exactly the frames the backend sent, byte for byte,
    in order (8000-byte chains included);
  - dpdk-proc-info, another secondary, reads our port's stats and xstats
    through vireo_eth_dev_ops_secondary: the same numbers as the primary.

Secondaries need the primary's hugepages: in --no-huge mode (VIREO_MEMMODE
=nohuge) there is nothing to attach to, and the test says so and passes
without checking.
"""

import os
import re
import subprocess

import harness
from harness import check
import integrity
import traffic

SIZES = [64, 512, 1518, 8000]


def mempool_preload():
    """The mempool drivers stock testpmd links directly, in link order.

    A secondary's mempools are found by ops index, an index into each
    process's own table of mempool drivers, filled as they register.
    Debian's testpmd links librte_mempool_dpaa, so it registers first
    there and not in dpdk-pdump: pdump's pool would run dpaa's ops in the
    primary.  Preloading the same libraries into the secondary gives it
    the same table."""
    testpmd = subprocess.run(["sh", "-c", "command -v %s" % harness.TESTPMD],
                             capture_output=True, text=True).stdout.strip()
    out = subprocess.run(["ldd", testpmd], capture_output=True,
                         text=True).stdout
    return [m.group(1) for m in
            re.finditer(r"^\s*(librte_mempool_\w+\.so[.\d]*)\s", out, re.M)]


def secondary(name, tool, tool_args, primary, lcores=True):
    """@tool as a secondary of @primary (both tools add --proc-type
    themselves; dpdk-proc-info also its own -c1)."""
    env = ["env"]
    libs = mempool_preload()
    if libs:
        env.append("LD_PRELOAD=%s" % " ".join(libs))
    eal = harness.eal_args(name, 1, prefix=primary.prefix)
    if not lcores:
        eal = eal[2:]
    argv = env + ["stdbuf", "-oL", tool] + eal + ["--"] + tool_args
    return harness.Program(name, argv)


def run_pdump(packed):
    if harness.memory_mode() != "hugepages":
        print("    (no hugepages: a secondary cannot attach; not checked)")
        return
    name = "pdump-%s" % ("packed" if packed else "split")
    ws = harness.workspace()
    capture = os.path.join(ws.dir, name + "-rx.pcap")
    loop = traffic.Loop(name, {"packed_vq": packed, "mrg_rxbuf": 1,
                               "in_order": 1})
    # Forwarding first: the vdev pdump plugs in appears in the primary
    # too, and testpmd starts forwarding only with every port started.
    loop.start_vireo_fwd()
    pdump = secondary(name + "-pdump", "dpdk-pdump",
                      ["--pdump", "port=0,queue=*,rx-dev=%s" % capture],
                      loop.vireo)
    pdump.expect(r"capture for \(1\) tuples", 60)
    frames = loop.frames(400, SIZES)
    _reports, report = loop.round(frames)
    check(report["ok"], "%s: the loop itself failed: %s" % (name, report))
    pdump.quit()
    check(re.search(r"packets dequeued:\s+400\b", pdump.output),
          "%s: pdump stats:\n%s" % (name, pdump.output[-2000:]))
    captured = integrity.read_pcap(capture)
    rep = integrity.verify(frames[0], captured, ignore_macs=False)
    check(rep["ok"] and rep["received"] == 400,
          "%s: capture of our Rx: %s" % (name, rep))

    # Stats and xstats read by another secondary.
    loop.stop_vireo_fwd()
    ours = traffic.port_stats(loop.vireo, 0)
    x = traffic.xstats(loop.vireo, 0)
    outputs = {}
    # proc-info shows --stats or else --xstats: one run each.
    for what in ("--stats", "--xstats"):
        info = secondary(name + "-info", "dpdk-proc-info", [what],
                         loop.vireo, lcores=False)
        rc = info.wait_exit(60)
        check(rc == 0, "%s: dpdk-proc-info %s failed (rc %s):\n%s"
              % (name, what, rc, info.output[-3000:]))
        outputs[what] = info.output
    m = re.search(r"RX-packets:\s*(\d+)\s+RX-errors:\s*(\d+)\s+RX-bytes:\s*(\d+)",
                  outputs["--stats"])
    check(m and int(m.group(1)) == ours["rx_packets"] and
          int(m.group(3)) == ours["rx_bytes"] and ours["rx_packets"] >= 400,
          "%s: proc-info stats differ from the primary's %s:\n%s"
          % (name, ours, outputs["--stats"][-3000:]))
    for key in ("rx_q0_ring_free", "tx_q0_ring_size", "rx_q0_packets",
                "tx_q0_ring_last_used"):
        m = re.search(r"^%s:\s*(\d+)\s*$" % key, outputs["--xstats"], re.M)
        check(m and int(m.group(1)) == x[key],
              "%s: proc-info xstat %s %s, primary %s"
              % (name, key, m and m.group(1), x[key]))
    loop.close()


def test_pdump_split():
    run_pdump(0)


def test_pdump_packed():
    run_pdump(1)
