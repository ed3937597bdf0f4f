#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Where the one-core loop's cycles go, ours against DPDK's net_virtio_user.

The one-core harness of devtools/bench.py, its forwarding CPU sampled
with perf (cpu-clock: these VMs have no hardware counters) while the
loop runs, in windows: testpmd's cycles per forwarded packet over the
window with the fewest are split by the share of that window's samples
in each object: the virtio PMD, the vhost side (librte_vhost and
net_vhost) and the rest (testpmd, the mempool, ld.so).  Runs alternate
ABBA; each part is the median over the runs.

Two figures say how far a row's ratio can move by work on the PMD
alone: the floor, the ratio ours would give if our PMD cost nothing
(our loop without it over DPDK's whole loop), and the budget, the cycles
our PMD may cost for the row to meet the one-core target (0.85).

usage: devtools/profile.py [--paths P,..] [--sizes 64,1518] [--runs 2]
                           [--windows 8] [--window 0.5] [--rst FILE]
                           [--out DIR]
"""

import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "app", "test", "system"))
sys.path.insert(0, os.path.join(TOP, "devtools"))

import harness  # noqa: E402
from bench import (CYCLES, PATHS, TARGETS, abba, machine,  # noqa: E402
                   onecore_size, onecore_testpmd)
from callgrind import GROUPS  # noqa: E402

# the forwarding lcore of the one-core harness (lcores 0@0,1@1)
FWD_CPU = 1
PARTS = ("virtio PMD", "vhost", "rest")
SHARE = re.compile(r"^\s*([0-9.]+)%\s+(\S+)\s*$")


def shares(datafile):
    """Fraction of the samples per part, from perf report by object."""
    out = subprocess.run(["perf", "report", "-i", datafile, "--stdio",
                          "--no-children", "--sort", "dso", "-q"],
                         capture_output=True, text=True, check=True).stdout
    part = dict.fromkeys(PARTS, 0.0)
    for line in out.splitlines():
        m = SHARE.match(line)
        if not m:
            continue
        obj = os.path.basename(m.group(2))
        col = next((c for prefix, c in GROUPS if obj.startswith(prefix)),
                   "rest")
        part[col] += float(m.group(1)) / 100
    total = sum(part.values())
    return {k: v / total for k, v in part.items()} if total else None


def sample(driver, path, sizes, windows, window):
    """One process: cycles per packet per size, split into parts, from
    the lowest of @windows windows of @window s each sampled on its own
    (as in bench.py, a host stall only adds cycles)."""
    def perf_windows(pmd):
        data = os.path.join(harness.workspace().dir, "perf.data")
        best = (None, None)
        for _ in range(windows):
            pmd.cmd("clear fwd stats all")
            subprocess.run(["perf", "record", "-q", "-e", "cpu-clock",
                            "-C", str(FWD_CPU), "-o", data, "--", "sleep",
                            str(window)], check=True, capture_output=True)
            m = CYCLES.search(pmd.cmd("show fwd stats all"))
            if m and (best[0] is None or float(m.group(1)) < best[0]):
                best = (float(m.group(1)), shares(data))
        return best

    pmd = onecore_testpmd(driver, path, "profile")
    result = {}
    for size in sizes:
        (cycles, part), _, _ = onecore_size(pmd, size, perf_windows)
        if cycles is not None and part is not None:
            result[size] = dict({k: cycles * v for k, v in part.items()},
                                total=cycles)
    pmd.quit()
    harness._cleanup_all()
    return result


def median_parts(runs):
    runs = [r for r in runs if r]
    if not runs:
        return None
    return {k: statistics.median(r[k] for r in runs)
            for k in PARTS + ("total",)}


def row_figures(v, d):
    """Ratio, floor (ours without our PMD, over DPDK's loop) and the
    PMD budget at the one-core target."""
    target = TARGETS["onecore"][0]
    rest = v["total"] - v["virtio PMD"]
    return {"ratio": v["total"] / d["total"], "floor": rest / d["total"],
            "budget": target * d["total"] - rest}


def table_rows(report):
    head = ["path", "size", "Vireo PMD", "DPDK PMD", "vhost (ours/DPDK)",
            "rest (ours/DPDK)", "Vireo total", "DPDK total", "ratio",
            "floor", "PMD budget"]
    rows = [head]
    for r in report["rows"]:
        v, d = r["vireo"], r["dpdk"]
        if not v or not d:
            continue
        f = row_figures(v, d)
        rows.append([r["path"], "%d" % r["size"],
                     "%.1f" % v["virtio PMD"], "%.1f" % d["virtio PMD"],
                     "%.1f / %.1f" % (v["vhost"], d["vhost"]),
                     "%.1f / %.1f" % (v["rest"], d["rest"]),
                     "%.1f" % v["total"], "%.1f" % d["total"],
                     "%.2f" % f["ratio"], "%.2f" % f["floor"],
                     "%.1f" % f["budget"]])
    return rows


def markdown(rows):
    out = ["| " + " | ".join(rows[0]) + " |",
           "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(out) + "\n"


def rst(report, rows):
    out = [".. SPDX-License-Identifier: BSD-3-Clause",
           "   Copyright(c) 2026 The Vireo Authors", "",
           ".. Written by devtools/profile.py --rst; do not edit.", "",
           ".. list-table:: CPU cycles per forwarded packet by part, one "
           "core, perf sampling (%s, %s, %d runs)"
           % (report["machine"]["cpu"], report["date"], report["runs"]),
           "   :header-rows: 1", ""]
    for r in rows:
        out.append("   * - " + r[0])
        out.extend("     - " + c for c in r[1:])
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", default=",".join(PATHS))
    ap.add_argument("--sizes", default="64,1518")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--windows", type=int, default=8)
    ap.add_argument("--window", type=float, default=0.5,
                    help="seconds of one sampled window")
    ap.add_argument("--out", default=os.path.join(TOP, "build", "bench"))
    ap.add_argument("--rst", metavar="FILE",
                    help="also write the table as an RST list-table")
    args = ap.parse_args()
    if not shutil.which("perf"):
        sys.exit("profile.py needs perf (Debian package linux-perf)")
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    for p in paths:
        if p not in PATHS:
            sys.exit("unknown path %r; known: %s" % (p, ", ".join(PATHS)))
    sizes = [int(s) for s in args.sizes.split(",")]
    harness.install_cleanup_handlers()
    os.makedirs(args.out, exist_ok=True)
    report = {"date": datetime.date.today().isoformat(),
              "machine": machine(), "runs": args.runs, "sizes": sizes,
              "rows": []}
    for path in paths:
        runs = {"vireo": [], "dpdk": []}
        for run in range(args.runs):
            for driver in abba(run):
                try:
                    runs[driver].append(sample(driver, path, sizes,
                                               args.windows, args.window))
                except harness.TestpmdError as exc:
                    print("%s %s run %d failed: %s" % (
                        path, driver, run, str(exc).splitlines()[0]),
                        flush=True)
                    harness._cleanup_all()
        for size in sizes:
            row = {"path": path, "size": size}
            for driver in runs:
                row[driver] = median_parts([r.get(size) for r in runs[driver]])
            report["rows"].append(row)
            v, d = row["vireo"], row["dpdk"]
            if v and d:
                print("%-28s %5d  PMD %.1f / %.1f  total %.1f / %.1f" % (
                    path, size, v["virtio PMD"], d["virtio PMD"],
                    v["total"], d["total"]), flush=True)
    rows = table_rows(report)
    with open(os.path.join(args.out, "profile.json"), "w") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(args.out, "profile.md"), "w") as f:
        f.write(markdown(rows))
    if args.rst:
        with open(args.rst, "w") as f:
            f.write(rst(report, rows))
    print(markdown(rows))
    print("written: %s/profile.{json,md}" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
