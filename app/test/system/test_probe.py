# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""The plugin loads into stock testpmd, probes, and refuses bad devargs."""

import json
import subprocess

from harness import PLUGIN, Testpmd, check, run_testpmd_once, workspace


def test_pmdinfo_lists_driver():
    out = subprocess.run(["dpdk-pmdinfo.py", PLUGIN], capture_output=True,
                         text=True, check=True).stdout
    drivers = {d["name"]: d for d in json.loads(out)}
    check("net_vireo_user" in drivers, "pmdinfo lists no net_vireo_user: %s" % out)
    params = drivers["net_vireo_user"].get("params", "")
    for key in ("path=", "queues=", "queue_size=", "packed_vq=", "mrg_rxbuf=",
                "in_order=", "vectorized=", "mac=", "cq=", "server=",
                "speed=", "mtu="):
        check(key in params, "param string lacks %s: %s" % (key, params))


def test_plugin_exports_nothing():
    out = subprocess.run(["nm", "-D", "--defined-only", PLUGIN],
                         capture_output=True, text=True, check=True).stdout
    names = [l.split()[-1] for l in out.splitlines() if l.strip()]
    check(all(n.startswith("vireo_") for n in names),
          "plugin exports non-vireo symbols: %s" % names)


def test_probe_creates_port():
    sock = workspace().socket("probe")
    pmd = Testpmd("probe", 1, vdevs=["net_vireo_user0,path=%s,server=1" % sock])
    info = pmd.cmd("show port info 0")
    check("net_vireo_user" in info, "port 0 is not ours:\n%s" % info)
    pmd.quit()


BAD_DEVARGS = [
    # (devargs after the name, what the error must say)
    (",path=%(sock)s,bogus=1", 'unknown devarg "bogus"'),
    ("", 'devarg "path" is required'),
    (",queues=2", 'devarg "path" is required'),
    (",path=%(sock)s,queues=0", "invalid devarg queues=0: accepted values: an integer from 1 to 128"),
    (",path=%(sock)s,queues=129", "invalid devarg queues=129"),
    (",path=%(sock)s,queue_size=0", "invalid devarg queue_size=0"),
    (",path=%(sock)s,queue_size=40000", "invalid devarg queue_size=40000"),
    (",path=%(sock)s,packed_vq=0,queue_size=100", "invalid devarg queue_size=100: the split layout"),
    (",path=%(sock)s,packed_vq=2", "invalid devarg packed_vq=2: accepted values: 0 or 1"),
    (",path=%(sock)s,mrg_rxbuf=yes", "invalid devarg mrg_rxbuf=yes"),
    (",path=%(sock)s,in_order=-1", "invalid devarg in_order=-1"),
    (",path=%(sock)s,server=3", "invalid devarg server=3"),
    (",path=%(sock)s,mac=00:11:22:33:44", "invalid devarg mac=00:11:22:33:44: accepted values: six hex bytes"),
    (",path=%(sock)s,mac=01:00:00:00:00:01", "invalid devarg mac=01:00:00:00:00:01: accepted values: a unicast"),
    (",path=%(sock)s,mtu=20", "invalid devarg mtu=20"),
    (",path=%(sock)s,speed=abc", "invalid devarg speed=abc"),
]


def test_bad_devargs_fail_probe():
    ws = workspace()
    sock = ws.socket("bad")
    for i, (args, message) in enumerate(BAD_DEVARGS):
        vdev = "net_vireo_user0" + args % {"sock": sock}
        rc, out = run_testpmd_once("bad%d" % i, 1, [vdev])
        check(message in out, "devargs %r: expected %r in output:\n%s"
              % (vdev, message, out[-2000:]))
        check("failed to initialize net_vireo_user0" in out,
              "devargs %r: probe did not fail:\n%s" % (vdev, out[-2000:]))
        check("No probed ethernet devices" in out,
              "devargs %r: a port exists anyway" % vdev)
