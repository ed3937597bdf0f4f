#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Instructions per forwarded packet, ours against DPDK's net_virtio_user.

The one-core harness of devtools/bench.py (one testpmd holding net_vhost
and the virtio-user port, one forwarding core, io mode, tx_first) run
under valgrind's callgrind, which counts instructions rather than time:
the figure does not move with what else the machine runs, so it can be
compared across runs and machines where the cycle counts cannot.
Instrumentation is on from `start tx_first` to `stop` only; the
instructions are split by the object they ran in (the virtio PMD, the
vhost side, the rest) and divided by the packets forwarded.

usage: devtools/callgrind.py [--paths P,..] [--size 64] [--seconds 20]
                             [--drivers vireo,dpdk]
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "app", "test", "system"))
sys.path.insert(0, os.path.join(TOP, "devtools"))

import harness  # noqa: E402
import traffic  # noqa: E402
from bench import PATHS, vdev  # noqa: E402

# object file name -> the column it counts in
GROUPS = (("librte_net_vireo", "virtio PMD"),
          ("librte_net_virtio", "virtio PMD"),
          ("librte_vhost", "vhost"),
          ("librte_net_vhost", "vhost"))
TOTALS = re.compile(r"Accumulated forward statistics for all ports.*?"
                    r"RX-packets:\s*(\d+)\s+RX-dropped:\s*(\d+).*?"
                    r"TX-packets:\s*(\d+)\s+TX-dropped:\s*(\d+)", re.S)
ANNOTATED = re.compile(r"^\s*([0-9,]+)\s+\(.*?\)\s+\S.*?\[(.+?)\]\s*$")


def by_object(outfile):
    """Instructions per object file, from callgrind_annotate."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=no",
                          "--threshold=100", outfile],
                         capture_output=True, text=True, check=True).stdout
    per = {}
    for line in out.splitlines():
        m = ANNOTATED.match(line)
        if m:
            obj = os.path.basename(m.group(2))
            per[obj] = per.get(obj, 0) + int(m.group(1).replace(",", ""))
    return per


def measure(driver, path, size, seconds, keep=None):
    ws = harness.workspace()
    sock = ws.socket("cg")
    outdir = os.path.join(ws.dir, "callgrind-%s" % driver)
    os.makedirs(outdir, exist_ok=True)
    # fair-sched: the forwarding lcore spins; without it valgrind may
    # leave the command-line thread waiting for its lock for minutes
    wrapper = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               "--fair-sched=yes",
               "--callgrind-out-file=%s/cg.%%p" % outdir]
    pmd = harness.Testpmd("cg-%s" % driver, 0, lcores="0@0,1@1",
                          vdevs=[traffic.vhost_vdev(sock)],
                          app_args=["--nb-cores=1", "--no-flush-rx"],
                          nb_mbufs=8192, mem_mb=512, wrapper=wrapper,
                          timeout=600,
                          mem_args=["--no-huge", "-m", "512"])
    out = pmd.cmd("port attach %s" % vdev(driver, sock, PATHS[path]), 600)
    if "is attached" not in out:
        raise harness.TestpmdError("attach failed:\n" + out)
    pmd.cmd("port start all", 600)
    traffic.wait_link_up(pmd, 0, timeout=120)
    pmd.cmd("set txpkts %d" % size)
    subprocess.run(["callgrind_control", "-i", "on", str(pmd.proc.pid)],
                   check=True, capture_output=True)
    pmd.cmd("start tx_first", 120)
    time.sleep(seconds)
    out = pmd.cmd("stop", 600)
    subprocess.run(["callgrind_control", "-i", "off", str(pmd.proc.pid)],
                   check=True, capture_output=True)
    m = TOTALS.search(out)
    if not m:
        raise harness.TestpmdError("no forward statistics:\n" + out)
    # forwarded: received and sent on (io forwarding drops what the
    # other port cannot take)
    packets = int(m.group(3))
    print("  %s, %s: rx %s (dropped %s), tx %s (dropped %s)"
          % ((driver, path) + m.groups()), file=sys.stderr)
    pmd.quit(120)
    files = [f for f in glob.glob(os.path.join(outdir, "cg.*"))
             if os.path.getsize(f) > 0]
    per = {}
    for f in files:
        for obj, n in by_object(f).items():
            per[obj] = per.get(obj, 0) + n
        if keep:
            os.makedirs(keep, exist_ok=True)
            shutil.copy(f, os.path.join(keep, "%s-%s.%s" % (
                driver, path.replace(" ", "_"), os.path.basename(f))))
    harness._cleanup_all()
    return packets, per


def summarise(packets, per):
    cols = {"virtio PMD": 0, "vhost": 0, "rest": 0}
    for obj, n in per.items():
        for prefix, col in GROUPS:
            if obj.startswith(prefix):
                cols[col] += n
                break
        else:
            cols["rest"] += n
    total = sum(cols.values())
    row = {k: v / packets for k, v in cols.items()}
    row["total"] = total / packets
    row["packets"] = packets
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", default="split,packed,packed in-order")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--keep", metavar="DIR",
                    help="keep the callgrind files there (callgrind_annotate)")
    ap.add_argument("--rst", metavar="FILE",
                    help="also write the comparison as an RST list-table")
    ap.add_argument("--drivers", default="vireo,dpdk",
                    help="vireo, dpdk or both (the ratio needs both)")
    args = ap.parse_args()
    drivers = [d.strip() for d in args.drivers.split(",")]
    harness.install_cleanup_handlers()
    paths = [p.strip() for p in args.paths.split(",")]
    print("| path (%d B) | driver | virtio PMD | vhost | rest | total "
          "| packets |" % args.size)
    print("|---|---|---|---|---|---|---|")
    table = []
    for path in paths:
        rows = {}
        for driver in drivers:
            rows[driver] = summarise(*measure(driver, path, args.size,
                                              args.seconds, args.keep))
            r = rows[driver]
            print("| %s | %s | %.1f | %.1f | %.1f | %.1f | %d |"
                  % (path, driver, r["virtio PMD"], r["vhost"], r["rest"],
                     r["total"], r["packets"]), flush=True)
        if len(rows) < 2:
            continue
        table.append((path, rows["vireo"], rows["dpdk"]))
        print("| %s | ratio | %.2f | | | %.2f | |"
              % (path, rows["vireo"]["virtio PMD"] /
                 rows["dpdk"]["virtio PMD"],
                 rows["vireo"]["total"] / rows["dpdk"]["total"]), flush=True)
    if args.rst:
        write_rst(args.rst, args.size, table)


def write_rst(path, size, table):
    head = ["path", "Vireo PMD", "DPDK PMD", "PMD ratio", "vhost side",
            "Vireo total", "DPDK total", "total ratio"]
    out = [".. SPDX-License-Identifier: BSD-3-Clause",
           "   Copyright(c) 2026 The Vireo Authors", "",
           ".. Written by devtools/callgrind.py --rst; do not edit.", "",
           ".. list-table:: Instructions per forwarded packet, %d bytes "
           "(callgrind)" % size,
           "   :header-rows: 1", ""]
    rows = [head]
    for name, v, d in table:
        rows.append([name, "%.1f" % v["virtio PMD"], "%.1f" % d["virtio PMD"],
                     "%.2f" % (v["virtio PMD"] / d["virtio PMD"]),
                     "%.1f" % v["vhost"], "%.1f" % v["total"],
                     "%.1f" % d["total"], "%.2f" % (v["total"] / d["total"])])
    for r in rows:
        out.append("   * - " + r[0])
        out.extend("     - " + c for c in r[1:])
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
