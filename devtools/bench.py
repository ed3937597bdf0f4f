#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Vireo against DPDK's own net_virtio_user, side by side, one invocation.

Two harnesses, each alternating ours and theirs (ABBA ABBA...) against
the same stock net_vhost backend:

onecore  one testpmd holding net_vhost and the virtio-user port (attached
         after the vhost port), ONE forwarding core in io mode, tx_first,
         --record-core-cycles: CPU cycles per forwarded packet.  Both ends
         run on that core, so a difference between drivers is the
         difference of their cost.  Each size is measured as a series of
         short windows (testpmd's counters cleared and read), and a run's
         figure is its lowest window: where the host takes the CPU away
         in bursts (seen on one machine kind: a fixed loop taking up to
         twice its time for 50-100 ms at a time, whole-run figures
         +-20-30 %), a stall only ever adds cycles, and the lowest
         window is the one it missed.  The whole-run figure is kept in
         the JSON.  Stable to about 2 % on a quiet host either way.
twocore  backend testpmd on CPU 0, virtio testpmd on CPU 1: virtio txonly
         with backend rxonly, the reverse, and mac forwarding both ways
         (start tx_first 32): Mpps per direction, a run's figure its
         best window (port counters read every window), for the same
         reason as the lowest one above.  Bimodal on these VMs,
         and the two modes take turns: each new pair of processes runs
         in the other mode from the pair before.  With ABAB the same
         driver would always meet the same mode; ABBA gives each driver
         both modes equally, over an even number of runs (>= 6).

Writes <out>/bench.json, <out>/bench.md, <out>/bench.rst (for the guide)
and <out>/bench.png.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "app", "test", "system"))

import harness  # noqa: E402
import traffic  # noqa: E402

# name -> devargs common to both drivers (DPDK's defaults differ from
# ours, so every key that selects a path is given explicitly).
PATHS = {
    "split": dict(packed_vq=0, mrg_rxbuf=0, in_order=0),
    "split mergeable": dict(packed_vq=0, mrg_rxbuf=1, in_order=0),
    "split in-order": dict(packed_vq=0, mrg_rxbuf=0, in_order=1),
    "split vectorized": dict(packed_vq=0, mrg_rxbuf=0, in_order=0,
                             vectorized=1),
    "packed": dict(packed_vq=1, mrg_rxbuf=0, in_order=0),
    "packed mergeable": dict(packed_vq=1, mrg_rxbuf=1, in_order=0),
    "packed in-order": dict(packed_vq=1, mrg_rxbuf=0, in_order=1),
    "packed in-order vectorized": dict(packed_vq=1, mrg_rxbuf=0, in_order=1,
                                       vectorized=1),
}
DRIVERS = {"vireo": "net_vireo_user", "dpdk": "net_virtio_user"}
CYCLES = re.compile(r"CPU cycles/packet=([0-9.]+)")
# after start: the first bursts, and the rings filling, left out
ONECORE_WARMUP = 0.5
# rxonly before each size: long enough to empty rings of a few hundred
ONECORE_DRAIN = 0.2


def vdev(driver, sock, devargs):
    args = ",".join("%s=%s" % kv for kv in devargs.items())
    return "%s1,path=%s,%s" % (DRIVERS[driver], sock, args)


def eal_extra(path):
    # DPDK's packed vector path needs AVX512 allowed explicitly.
    return ["--force-max-simd-bitwidth=512"] if "vectorized" in path else []


def abba(run):
    """The drivers in the order run @run takes them: ABBA ABBA... (see
    the module comment, twocore)."""
    return ("vireo", "dpdk") if run % 2 == 0 else ("dpdk", "vireo")


def window_count(seconds, window):
    """How many windows of @window s measure @seconds (at least one)."""
    return max(1, int(round(seconds / window)))


# per onecore run: size -> the window figures and the whole-run one
ONECORE_DETAIL = []


def onecore_drain(pmd):
    """Empties the loop before a size: the frames tx_first put in before
    stay in the rings across stop and start (--no-flush-rx), and a later
    size would be measured on a mix (seen: 288 bytes on average for the
    512-byte row after the 64-byte one, 698 for the 1518-byte row).
    rxonly takes whatever either port still has and frees it."""
    pmd.cmd("set fwd rxonly")
    pmd.cmd("start")
    time.sleep(ONECORE_DRAIN)
    pmd.cmd("stop", 60)
    pmd.cmd("set fwd io")


def onecore_testpmd(driver, path, name="onecore"):
    """The one-core loop's testpmd, its virtio-user port attached after
    the vhost port and both started, the link up."""
    ws = harness.workspace()
    sock = ws.socket("%s1" % name)
    pmd = harness.Testpmd("%s-%s" % (name, driver), 0,
                          lcores="0@0,1@1",
                          vdevs=[traffic.vhost_vdev(sock)],
                          eal_args=eal_extra(path),
                          app_args=["--record-core-cycles", "--nb-cores=1",
                                    "--no-flush-rx"],
                          nb_mbufs=32768, mem_mb=512)
    out = pmd.cmd("port attach %s" % vdev(driver, sock, PATHS[path]), 60)
    if "is attached" not in out:
        raise harness.TestpmdError("attach failed:\n" + out)
    pmd.cmd("port start all", 60)
    traffic.wait_link_up(pmd, 0)
    return pmd


def onecore_size(pmd, size, measure):
    """Forwards frames of @size bytes in the loop (emptied first) and
    calls measure(pmd) once it runs; returns what measure returned, the
    average frame forwarded meanwhile (a row whose frames are not all
    of its size fails) and the whole run's cycles per packet."""
    onecore_drain(pmd)
    pmd.cmd("set txpkts %d" % size)
    pmd.cmd("start tx_first")
    time.sleep(ONECORE_WARMUP)
    before = traffic.port_stats(pmd, 1)
    result = measure(pmd)
    after = traffic.port_stats(pmd, 1)
    m = CYCLES.search(pmd.cmd("stop", 60))
    frame = ((after["rx_bytes"] - before["rx_bytes"]) /
             max(1, after["rx_packets"] - before["rx_packets"]))
    if abs(frame - size) > 0.5:
        raise harness.TestpmdError(
            "%d-byte row forwarded frames of %.1f bytes on average"
            % (size, frame))
    return result, frame, float(m.group(1)) if m else None


def onecore_run(driver, path, sizes, seconds, window):
    """One process, one forwarding core: cycles per packet per size, the
    lowest of the windows (see the module comment)."""
    def windows(pmd):
        figures = []
        for _ in range(window_count(seconds, window)):
            pmd.cmd("clear fwd stats all")
            time.sleep(window)
            m = CYCLES.search(pmd.cmd("show fwd stats all"))
            if m:
                figures.append(float(m.group(1)))
        return figures

    pmd = onecore_testpmd(driver, path)
    result, detail = {}, {"driver": driver, "path": path}
    for size in sizes:
        figures, frame, whole = onecore_size(pmd, size, windows)
        result[size] = min(figures) if figures else None
        detail[size] = {"windows": figures, "frame_bytes": frame,
                        "whole": whole}
    pmd.quit()
    harness._cleanup_all()
    ONECORE_DETAIL.append(detail)
    return result


# per twocore run and mode: the window rates and the whole-run ones
TWOCORE_DETAIL = []


def window_rates(virt, seconds, window):
    """Rx and Tx Mpps of the virtio port over windows of @window s, and
    over the whole @seconds."""
    first = last = traffic.port_stats(virt)
    t_first = t_last = time.monotonic()
    windows = []
    for _ in range(window_count(seconds, window)):
        time.sleep(window)
        now, t_now = traffic.port_stats(virt), time.monotonic()
        windows.append({k: (now[k + "_packets"] - last[k + "_packets"]) /
                        (t_now - t_last) / 1e6 for k in ("rx", "tx")})
        last, t_last = now, t_now
    whole = {k: (last[k + "_packets"] - first[k + "_packets"]) /
             (t_last - t_first) / 1e6 for k in ("rx", "tx")}
    return {"windows": windows, "whole": whole}


def twocore_run(driver, path, sizes, seconds, window):
    """Backend on CPU 0, virtio on CPU 1: Mpps per direction and mode."""
    result = {}
    for size in sizes:
        for mode in ("tx", "rx", "fwd"):
            ws = harness.workspace()
            sock = ws.socket("bench2")
            vhost = harness.Testpmd("twocore-vhost", 0,
                                    vdevs=[traffic.vhost_vdev(sock)],
                                    app_args=["--no-flush-rx"],
                                    nb_mbufs=32768, mem_mb=512)
            virt = harness.Testpmd("twocore-%s" % driver, 1,
                                   vdevs=[vdev(driver, sock, PATHS[path])],
                                   eal_args=eal_extra(path),
                                   app_args=["--no-flush-rx"],
                                   nb_mbufs=32768, mem_mb=512)
            traffic.wait_link_up(vhost, 0)
            for pmd in (vhost, virt):
                pmd.cmd("set txpkts %d" % size)
            if mode == "tx":
                vhost.cmd("set fwd rxonly")
                virt.cmd("set fwd txonly")
            elif mode == "rx":
                vhost.cmd("set fwd txonly")
                virt.cmd("set fwd rxonly")
            else:
                vhost.cmd("set fwd mac")
                virt.cmd("set fwd mac")
            vhost.cmd("start")
            virt.cmd("start tx_first 32" if mode == "fwd" else "start")
            time.sleep(1)
            rates = window_rates(virt, seconds, window)
            for pmd in (virt, vhost):
                pmd.cmd("stop", 60)
            virt.quit()
            vhost.quit()
            harness._cleanup_all()
            # the best window of each direction (see the module comment)
            rx = max(r["rx"] for r in rates["windows"])
            tx = max(r["tx"] for r in rates["windows"])
            TWOCORE_DETAIL.append({"driver": driver, "path": path,
                                   "case": "%d %s" % (size, mode),
                                   "windows": rates["windows"],
                                   "whole": rates["whole"]})
            if mode == "tx":
                result["%d tx" % size] = tx
            elif mode == "rx":
                result["%d rx" % size] = rx
            else:
                result["%d fwd rx" % size] = rx
                result["%d fwd tx" % size] = tx
    return result


def summarize(samples):
    vals = [v for v in samples if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals),
            "max": max(vals), "runs": vals}


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(),
            "memory_mode": harness.memory_mode()}


# The targets of the two harnesses: ours at most 0.85 of DPDK's cycles,
# at least 1.10 of its Mpps.
TARGETS = {"onecore": (0.85, "<="), "twocore": (1.10, ">=")}


def verdict(name, v, d):
    """A row's ratio, two decimals, and whether it meets its target
    (judged on the exact ratio: 0.851 prints as 0.85 and misses)."""
    if not v or not d or not d["median"]:
        return "-", "-"
    ratio = v["median"] / d["median"]
    target, sense = TARGETS[name]
    ok = ratio <= target if sense == "<=" else ratio >= target
    return "%.2f" % ratio, "holds" if ok else "misses"


def held(report, name):
    """'N of M rows hold' for one harness's table."""
    marks = [verdict(name, r["vireo"], r["dpdk"])[1]
             for r in report.get(name, [])]
    return "%d of %d rows hold" % (marks.count("holds"), len(marks))


def markdown(report):
    lines = []
    m = report["machine"]
    lines.append("Bench of %s on %s (%d CPUs, %s), memory mode %s, %d runs each, ABBA."
                 % (report["date"], m["cpu"], m["cpus"], m["kernel"],
                    m["memory_mode"], report["runs"]))
    lines.append("")
    if report.get("onecore"):
        lines.append("One core, io forwarding, CPU cycles per forwarded packet "
                     "(each run's lowest %g s window; medians over runs, "
                     "min-max in brackets; lower is better; ratio = vireo / "
                     "dpdk, target <= 0.85):" % report.get("window_seconds", 0))
        lines.append("")
        lines.append("| path | size | vireo | dpdk | ratio | target |")
        lines.append("|---|---:|---:|---:|---:|---|")
        for row in report["onecore"]:
            v, d = row["vireo"], row["dpdk"]
            lines.append("| %s | %s | %s | %s | %s | %s |" % ((
                row["path"], row["size"],
                "%.1f (%.1f-%.1f)" % (v["median"], v["min"], v["max"]) if v else "-",
                "%.1f (%.1f-%.1f)" % (d["median"], d["min"], d["max"]) if d else "-")
                + verdict("onecore", v, d)))
        lines.append("")
        lines.append(held(report, "onecore") + ".")
        lines.append("")
    if report.get("twocore"):
        lines.append("Two cores, Mpps (each run's best %g s window; higher "
                     "is better; ratio = vireo / dpdk, target >= 1.10; "
                     "medians, min-max in brackets):"
                     % report.get("window_seconds", 0))
        lines.append("")
        lines.append("| path | size, mode | vireo | dpdk | ratio | target |")
        lines.append("|---|---|---:|---:|---:|---|")
        for row in report["twocore"]:
            v, d = row["vireo"], row["dpdk"]
            lines.append("| %s | %s | %s | %s | %s | %s |" % ((
                row["path"], row["case"],
                "%.2f (%.2f-%.2f)" % (v["median"], v["min"], v["max"]) if v else "-",
                "%.2f (%.2f-%.2f)" % (d["median"], d["min"], d["max"]) if d else "-")
                + verdict("twocore", v, d)))
        lines.append("")
        lines.append(held(report, "twocore") + ".")
    return "\n".join(lines) + "\n"


def rst(report):
    """The same tables as markdown(), as RST list-tables for the guide
    (doc/guides/nics/vireo_bench.inc is this file, copied)."""
    m = report["machine"]
    out = [".. SPDX-License-Identifier: BSD-3-Clause",
           "   Copyright(c) 2026 The Vireo Authors",
           "",
           ".. Written by devtools/bench.py (bench.rst); do not edit.",
           "",
           "Run of %s on %s (%d CPUs, kernel %s), memory mode %s, %d runs "
           "of each driver, in ABBA order." % (report["date"], m["cpu"],
                                             m["cpus"], m["kernel"],
                                             m["memory_mode"], report["runs"]),
           ""]

    def table(title, head, rows):
        out.extend([".. list-table:: " + title, "   :header-rows: 1", ""])
        for r in [head] + rows:
            out.append("   * - " + r[0])
            out.extend("     - " + c for c in r[1:])
        out.append("")

    def cell(x, fmt):
        return (fmt + " (" + fmt + " to " + fmt + ")") % (
            x["median"], x["min"], x["max"]) if x else "-"

    if report.get("onecore"):
        rows = []
        for row in report["onecore"]:
            v, d = row["vireo"], row["dpdk"]
            rows.append([row["path"], str(row["size"]), cell(v, "%.1f"),
                         cell(d, "%.1f")] +
                        list(verdict("onecore", v, d)))
        table("One core: CPU cycles per forwarded packet, each run's "
              "lowest %g s window (ratio = Vireo / DPDK, lower is better, "
              "target 0.85 or less; %s)"
              % (report.get("window_seconds", 0), held(report, "onecore")),
              ["path", "bytes", "Vireo", "DPDK", "ratio", "target"], rows)
    if report.get("twocore"):
        rows = []
        for row in report["twocore"]:
            v, d = row["vireo"], row["dpdk"]
            rows.append([row["path"], row["case"], cell(v, "%.2f"),
                         cell(d, "%.2f")] +
                        list(verdict("twocore", v, d)))
        table("Two cores: Mpps, each run's best %g s window (ratio = "
              "Vireo / DPDK, higher is better, target 1.10 or more; %s)"
              % (report.get("window_seconds", 0), held(report, "twocore")),
              ["path", "bytes, direction", "Vireo", "DPDK", "ratio",
               "target"], rows)
    return "\n".join(out)


def chart(report, path, data=None):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        # Debian's matplotlib is for Debian's python3, which may not be
        # the python3 first in PATH: draw with that one if it can.
        system = "/usr/bin/python3"
        if os.path.realpath(sys.executable) != os.path.realpath(system) and \
                os.path.exists(system):
            data = data or path[:-len(".png")] + ".json"
            if subprocess.run([system, __file__, "--chart-from", data,
                               "--out", os.path.dirname(path)]).returncode == 0:
                return
        print("no matplotlib: chart skipped (apt-get install python3-matplotlib)")
        return
    rows = [r for r in report.get("onecore", []) if r["vireo"] and r["dpdk"]]
    if not rows:
        return
    labels = ["%s\n%s B" % (r["path"], r["size"]) for r in rows]
    ours = [r["vireo"]["median"] for r in rows]
    theirs = [r["dpdk"]["median"] for r in rows]
    fig, ax = plt.subplots(figsize=(max(8, len(rows) * 0.8), 5))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], ours, width=0.4, label="vireo")
    ax.bar([x + 0.2 for x in xs], theirs, width=0.4, label="dpdk net_virtio")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("CPU cycles per forwarded packet (one core)")
    ax.set_title("Vireo vs DPDK net_virtio_user, %s" % report["date"])
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--harness", choices=["onecore", "twocore", "all"],
                    default="onecore")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3,
                    help="measured time per size and mode")
    ap.add_argument("--window", type=float, default=0.25,
                    help="length of one window (see above)")
    ap.add_argument("--sizes", default="64,512,1518")
    ap.add_argument("--paths", default=",".join(PATHS),
                    help="comma-separated, from: " + ", ".join(PATHS))
    ap.add_argument("--out", default=os.path.join(TOP, "build", "bench"))
    ap.add_argument("--chart-from", metavar="JSON",
                    help="only draw <out>/bench.png from a bench.json")
    args = ap.parse_args()
    if args.chart_from:
        with open(args.chart_from) as f:
            os.makedirs(args.out, exist_ok=True)
            chart(json.load(f), os.path.join(args.out, "bench.png"),
                  args.chart_from)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    for p in paths:
        if p not in PATHS:
            sys.exit("unknown path %r; known: %s" % (p, ", ".join(PATHS)))
    if args.harness == "twocore" or args.harness == "all":
        args.runs = max(args.runs, 6)
    if args.runs % 2:
        args.runs += 1  # both orders (ABBA) equally often
    harness.install_cleanup_handlers()
    os.makedirs(args.out, exist_ok=True)

    report = {"date": datetime.date.today().isoformat(),
              "machine": machine(), "runs": args.runs, "sizes": sizes}
    for name, fn in (("onecore", onecore_run), ("twocore", twocore_run)):
        if args.harness not in (name, "all"):
            continue
        rows = []
        for path in paths:
            samples = {"vireo": [], "dpdk": []}
            for run in range(args.runs):
                for driver in abba(run):
                    try:
                        samples[driver].append(fn(driver, path, sizes,
                                                  args.seconds,
                                                  args.window))
                    except harness.TestpmdError as exc:
                        print("%s %s %s run %d failed: %s" % (
                            name, path, driver, run,
                            str(exc).splitlines()[0]), flush=True)
                        harness._cleanup_all()
                        samples[driver].append({})
            keys = []
            for s in samples["vireo"] + samples["dpdk"]:
                keys += [k for k in s if k not in keys]
            for key in keys:
                row = {"path": path}
                row["size" if name == "onecore" else "case"] = key
                for driver in ("vireo", "dpdk"):
                    row[driver] = summarize([s.get(key) for s in samples[driver]])
                rows.append(row)
                v, d = row["vireo"], row["dpdk"]
                print("%-8s %-28s %-12s vireo %s dpdk %s" % (
                    name, path, key,
                    "%.2f" % v["median"] if v else "-",
                    "%.2f" % d["median"] if d else "-"), flush=True)
        report[name] = rows
    if ONECORE_DETAIL:
        report["onecore_detail"] = ONECORE_DETAIL
    if TWOCORE_DETAIL:
        report["twocore_detail"] = TWOCORE_DETAIL
    report["window_seconds"] = args.window

    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump(report, f, indent=1)
    md = markdown(report)
    with open(os.path.join(args.out, "bench.md"), "w") as f:
        f.write(md)
    with open(os.path.join(args.out, "bench.rst"), "w") as f:
        f.write(rst(report))
    chart(report, os.path.join(args.out, "bench.png"))
    print(md)
    print("written: %s/bench.{json,md,rst,png}" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
