# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""The plugin as users install it: `meson install` and the Debian package
put it in the driver directory of the installed DPDK, stock dpdk-testpmd
loads it there with no -d, and uninstall/purge take it away again.

The package is built once per run, from a copy of the tree holding only
what a clone has (tracked and unignored files) plus the SDK headers that
devtools/setup.sh extracted (absent, debian/rules fetches them).  While
installed, every DPDK process on the machine autoloads the plugin, so
each test installs for as short a time as it can and always removes it.
"""

import json
import os
import re
import shutil
import subprocess

import integrity
from harness import BUILD, TOP, Testpmd, check, workspace
from traffic import (PATIENT_RETRY, Pair, pcap_vdev, port_stats, vireo_vdev,
                     wait_counter, wait_link_up)

PACKAGE = "dpdk-pmd-vireo"
LIBNAME = "librte_net_vireo.so"
_built = {}


def pmd_dir():
    """RTE_EAL_PMD_PATH of the installed DPDK, where EAL autoloads: the
    preprocessor reads it with libdpdk's own flags, as meson.build does."""
    cflags = subprocess.run(["pkg-config", "--cflags", "libdpdk"],
                            capture_output=True, text=True,
                            check=True).stdout.split()
    out = subprocess.run(["cc", "-E", "-dM", "-x", "c", "-"] + cflags,
                         input="#include <rte_build_config.h>\n",
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r'#define RTE_EAL_PMD_PATH "([^"]+)"', out)
    check(m is not None, "RTE_EAL_PMD_PATH not defined by rte_build_config.h")
    return m.group(1)


def installed_path():
    return os.path.join(pmd_dir(), LIBNAME)


def package_installed():
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PACKAGE],
                         capture_output=True, text=True)
    return out.returncode == 0 and "ok installed" in out.stdout


def check_nothing_installed():
    # A plugin already there is someone's: never overwrite or remove it.
    check(not package_installed(), "%s is installed already" % PACKAGE)
    check(not os.path.exists(installed_path()),
          "%s exists already: not ours to replace" % installed_path())


def run(cmd, cwd=None, timeout=900):
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                         timeout=timeout)
    check(out.returncode == 0, "%s failed (rc=%d):\n%s\n%s"
          % (" ".join(cmd), out.returncode, out.stdout[-3000:],
             out.stderr[-3000:]))
    return out.stdout


def clone_tree(dest):
    """What a clone of the current tree holds: tracked files (less the
    ones deleted in the work tree) and untracked unignored ones."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard",
                            "-z"], cwd=TOP, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for rel in files:
        src = os.path.join(TOP, rel)
        if not rel or not os.path.isfile(src):
            continue
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel))
    sdk = os.path.join(TOP, "build-sdk")
    if os.path.isdir(os.path.join(sdk, "include")):
        shutil.copytree(sdk, os.path.join(dest, "build-sdk"))


def build_package():
    """dpkg-buildpackage -us -uc -b once per run; returns the .deb."""
    if "deb" in _built:
        return _built["deb"]
    # Not the workspace: it is removed after each test, the .deb is kept
    # for the run (removed at exit by the workspace of the last test).
    top = os.path.join("/var/tmp", "vireo-deb-%d" % os.getpid())
    shutil.rmtree(top, ignore_errors=True)
    src = os.path.join(top, "src")
    os.makedirs(src)
    clone_tree(src)
    run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, timeout=1800)
    debs = [f for f in os.listdir(top)
            if f.startswith(PACKAGE + "_") and f.endswith(".deb")]
    check(len(debs) == 1, "dpkg-buildpackage made %r" % debs)
    _built["deb"] = os.path.join(top, debs[0])
    _built["top"] = top
    return _built["deb"]


def bumped(deb, suffix):
    """The same package with a higher version, to try an upgrade without
    a second build: unpacked, its control's Version raised, repacked."""
    tmp = os.path.join(os.path.dirname(deb), "bump")
    shutil.rmtree(tmp, ignore_errors=True)
    run(["dpkg-deb", "-R", deb, tmp])
    ctl = os.path.join(tmp, "DEBIAN", "control")
    with open(ctl) as f:
        text = f.read()
    text = re.sub(r"^Version: (.*)$", lambda m: "Version: %s%s"
                  % (m.group(1), suffix), text, flags=re.M)
    with open(ctl, "w") as f:
        f.write(text)
    out = deb.replace(".deb", suffix + ".deb")
    run(["dpkg-deb", "--root-owner-group", "-b", tmp, out])
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def version_installed():
    return subprocess.run(["dpkg-query", "-W", "-f=${Version}", PACKAGE],
                          capture_output=True, text=True).stdout.strip()


def purge():
    if package_installed() or version_installed():
        run(["dpkg", "--purge", PACKAGE])
    check(not package_installed(), "%s still installed" % PACKAGE)
    check(not os.path.exists(installed_path()),
          "%s left behind by purge" % installed_path())
    status = subprocess.run(["dpkg-query", "-W", PACKAGE], capture_output=True)
    check(status.returncode != 0, "dpkg still knows %s" % PACKAGE)


def check_pmdinfo(path):
    """dpdk-pmdinfo.py on the installed plugin lists both drivers:
    net_vireo_user with its parameter string, net_vireo with virtio's
    modern PCI id and the kernel modules it binds through."""
    out = run(["dpdk-pmdinfo.py", path])
    drivers = {d["name"]: d for d in json.loads(out)}
    check("net_vireo_user" in drivers and "net_vireo" in drivers,
          "pmdinfo: %s" % out)
    check("path=" in drivers["net_vireo_user"].get("params", ""),
          "net_vireo_user params: %r" % drivers["net_vireo_user"])
    pci = drivers["net_vireo"]
    ids = {(i.get("vendor"), i.get("device")) for i in pci.get("pci_ids", [])}
    check(("1af4", "1041") in ids, "net_vireo PCI ids: %r" % pci)
    check("vfio-pci" in pci.get("kmod", ""), "net_vireo kmod: %r" % pci)
    return drivers


def loopback_without_d(name, count=2000):
    """integrity_run's loop, our side started with no -d: backend net_pcap
    -> net_vhost -> our port (io forward) -> net_vhost -> net_pcap."""
    ws = workspace()
    gen = os.path.join(ws.dir, name + "-gen.pcap")
    out = os.path.join(ws.dir, name + "-out.pcap")
    sizes = [64, 128, 512, 1500]
    sent = integrity.generate(gen, count, sizes)
    pair = Pair(name, extra_vhost=[pcap_vdev(gen, out)],
                vhost_args=["--no-flush-rx"], start_vireo=False)
    pair.vhost.cmd("set fwd io retry")
    vireo = Testpmd(pair.name_vireo(), 1, plugin=False,
                    vdevs=[vireo_vdev(pair.sock)],
                    app_args=["--port-topology=loop"])
    pair.vireo = vireo
    info = vireo.cmd("show port info 0")
    check("Driver name: net_vireo_user" in info,
          "stock testpmd without -d has no Vireo port:\n%s" % info)
    check(" -d " not in " ".join(vireo.cmdline), "-d given")
    vireo.cmd("set fwd io retry")
    vireo.cmd(PATIENT_RETRY)
    vireo.cmd("start")
    wait_link_up(pair.vhost, 0)
    pair.vhost.cmd("start")
    wait_counter(lambda: port_stats(pair.vhost, 0)["rx_packets"], count, 60)
    pair.vhost.cmd("stop")
    vireo.cmd("stop")
    vireo.quit()
    pair.vhost.quit()
    report = integrity.verify(sent, integrity.read_pcap(out))
    check(report["ok"] and report["intact"] == count,
          "loopback without -d: %r" % report)
    return report


def test_meson_install_uninstall():
    """`meson install` puts the plugin in RTE_EAL_PMD_PATH, stock testpmd
    probes a port with no -d, `ninja uninstall` removes it."""
    check_nothing_installed()
    installed = json.loads(run(["meson", "introspect", BUILD, "--installed"]))
    check(list(installed.values()) == [installed_path()],
          "meson installs %r, not only %s" % (installed, installed_path()))
    try:
        run(["meson", "install", "-C", BUILD, "--no-rebuild"])
        check(os.path.exists(installed_path()), "meson install: no plugin")
        sock = workspace().socket("inst")
        pmd = Testpmd("inst", 1, plugin=False,
                      vdevs=["net_vireo_user0,path=%s,server=1" % sock])
        info = pmd.cmd("show port info 0")
        check("Driver name: net_vireo_user" in info, info)
        pmd.quit()
    finally:
        run(["ninja", "-C", BUILD, "uninstall"])
    check(not os.path.exists(installed_path()), "uninstall left the plugin")


def test_deb_install_upgrade_purge():
    check_nothing_installed()
    deb = build_package()
    try:
        contents = run(["dpkg-deb", "-c", deb])
        check(installed_path() in contents.replace("./", "/"),
              "package lacks %s:\n%s" % (installed_path(), contents))
        run(["dpkg", "-i", deb])
        check(package_installed() and os.path.exists(installed_path()),
              "dpkg -i: plugin not installed")
        check_pmdinfo(installed_path())
        loopback_without_d("deb")
        # Upgrade to a higher version, then purge.
        newer = bumped(deb, "+upgrade1")
        before = version_installed()
        run(["dpkg", "-i", newer])
        after = version_installed()
        check(after == before + "+upgrade1", "upgrade: %s -> %s"
              % (before, after))
        check(os.path.exists(installed_path()), "upgrade lost the plugin")
    finally:
        purge()
        shutil.rmtree(_built.get("top", "/nonexistent"), ignore_errors=True)
        _built.clear()
