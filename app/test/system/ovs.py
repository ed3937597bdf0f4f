# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""An Open vSwitch of the test's own: Debian's DPDK build of ovs-vswitchd
with our plugin loaded, beside an ovsdb-server, nothing shared with a
system OVS.

Both run as children of the test, ended by PID (harness.Program), with
their database, sockets, pid files and logs in a folder of the
workspace (OVS_RUNDIR, OVS_DBDIR, OVS_LOGDIR, OVS_SYSCONFDIR point there
for them and for every ovs-vsctl, ovs-ofctl and ovs-appctl we run).
ovs-vswitchd runs in a network namespace of its own (unshare --net): the
userspace datapath makes tap devices for the bridge, and they go away
with the namespace when the process ends.
"""

import os
import re
import subprocess
import time

import harness
from harness import check

VSWITCHD = os.environ.get(
    "VIREO_OVS_VSWITCHD",
    "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk")
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


class OvsError(harness.TestpmdError):
    pass


def eal_extra(prefix, mem_mb=256):
    """The EAL options of ovs-vswitchd (other_config:dpdk-extra).

    OVS 3.1 adds --in-memory unless it finds --legacy-mem, and EAL
    refuses --in-memory with --no-huge: without hugepages, legacy memory.
    --no-pci keeps OVS off the machine's own NICs."""
    args = ["--no-pci", "-d", harness.PLUGIN, "--file-prefix", prefix]
    args += harness.eal_memory_args(mem_mb)
    if harness.memory_mode() != "hugepages":
        args.append("--legacy-mem")
    return args


class Ovs:
    """ovsdb-server and ovs-vswitchd, DPDK initialised with @eal_args,
    the PMD thread pinned to CPU @pmd_cpu."""

    def __init__(self, name, pmd_cpu, eal_args, timeout=60):
        check(os.access(VSWITCHD, os.X_OK),
              "%s missing: devtools/setup.sh installs openvswitch-switch-dpdk"
              % VSWITCHD)
        ws = harness.workspace()
        self.name = name
        self.dir = os.path.join(ws.dir, name)
        self.env = {}
        for var, sub in (("OVS_RUNDIR", "run"), ("OVS_DBDIR", "db"),
                         ("OVS_LOGDIR", "log"), ("OVS_SYSCONFDIR", "etc")):
            path = os.path.join(self.dir, sub)
            os.makedirs(path, exist_ok=True)
            self.env[var] = path
        run = self.env["OVS_RUNDIR"]
        self.db_sock = os.path.join(run, "db.sock")
        self.vswitchd_log = os.path.join(self.env["OVS_LOGDIR"],
                                         "ovs-vswitchd.log")
        self.ovsdb = self.vswitchd = None
        db = os.path.join(self.env["OVS_DBDIR"], "conf.db")
        self._run(["ovsdb-tool", "create", db, SCHEMA])
        self.ovsdb = harness.Program(name + "-ovsdb", self._argv(
            ["ovsdb-server", db, "--remote=punix:" + self.db_sock,
             "--pidfile=" + os.path.join(run, "ovsdb-server.pid"),
             "--unixctl=" + os.path.join(run, "ovsdb-server.ctl"),
             "--log-file=" + os.path.join(self.env["OVS_LOGDIR"],
                                          "ovsdb-server.log"),
             "-vconsole:off"]))
        self._wait(lambda: os.path.exists(self.db_sock), timeout,
                   "ovsdb-server socket")
        self.vsctl("--no-wait", "init")
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".",
                   "other_config:dpdk-init=true",
                   'other_config:dpdk-extra="%s"' % " ".join(eal_args),
                   "other_config:pmd-cpu-mask=0x%x" % (1 << pmd_cpu),
                   # a pool per port sized by its queues, not the shared
                   # 256 K mbufs: the other DPDK processes need memory too
                   "other_config:per-port-memory=true")
        self.vswitchd = harness.Program(name + "-vswitchd", self._argv(
            ["unshare", "--net", VSWITCHD, "unix:" + self.db_sock,
             "--pidfile=" + os.path.join(run, "ovs-vswitchd.pid"),
             "--unixctl=" + os.path.join(run, "ovs-vswitchd.ctl"),
             "--log-file=" + self.vswitchd_log, "-vconsole:off"]))
        self._wait(lambda: self.get("Open_vSwitch", ".",
                                    "dpdk_initialized") == "true",
                   timeout, "dpdk_initialized")

    def _argv(self, argv):
        # `env` and `unshare` exec: the PID is the OVS program's
        return ["env"] + ["%s=%s" % kv for kv in sorted(self.env.items())] \
            + argv

    def _run(self, argv, timeout=60, ok=True):
        env = dict(os.environ)
        env.update(self.env)
        try:
            out = subprocess.run(argv, capture_output=True, text=True,
                                 env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise OvsError("%s: %s timed out after %ss\n%s"
                           % (self.name, " ".join(argv), timeout,
                              self.log_tail()))
        if ok and out.returncode != 0:
            raise OvsError("%s: %s failed (rc %d):\n%s%s\n%s"
                           % (self.name, " ".join(argv), out.returncode,
                              out.stdout, out.stderr, self.log_tail()))
        return out.stdout

    def _wait(self, cond, timeout, what):
        deadline = time.monotonic() + timeout
        while not cond():
            self.check_running()
            if time.monotonic() > deadline:
                raise OvsError("%s: no %s after %ss\n%s"
                               % (self.name, what, timeout, self.log_tail()))
            time.sleep(0.2)

    def vsctl(self, *args, timeout=60):
        """ovs-vsctl; it waits for ovs-vswitchd to apply the change,
        unless given --no-wait."""
        return self._run(["ovs-vsctl", "--db=unix:" + self.db_sock,
                          "--timeout=%d" % timeout] + list(args),
                         timeout=timeout + 5)

    def get(self, table, record, column):
        return self.vsctl("--if-exists", "get", table, record,
                          column).strip().strip('"')

    def ofctl(self, *args):
        return self._run(["ovs-ofctl"] + list(args))

    def appctl(self, *args, timeout=30):
        ctl = os.path.join(self.env["OVS_RUNDIR"], "ovs-vswitchd.ctl")
        return self._run(["ovs-appctl", "-t", ctl, "--timeout=%d" % timeout]
                         + list(args), timeout=timeout + 5)

    def interface(self, name):
        """statistics and status of Interface @name as two dicts."""
        out = {}
        for column in ("statistics", "status"):
            text = self.vsctl("get", "Interface", name, column)
            out[column] = {k: v.strip('"') for k, v in
                           re.findall(r'([\w-]+)=("[^"]*"|[^,}]*)', text)}
        for key, value in out["statistics"].items():
            out["statistics"][key] = int(value)
        return out["statistics"], out["status"]

    def wait_statistics(self, name, want, timeout=20):
        """Statistics of Interface @name once they hold every key: value
        of @want, or as they are after @timeout: ovs-vswitchd writes them
        to the database every 5 s (stats-update-interval)."""
        deadline = time.monotonic() + timeout
        while True:
            stats, _status = self.interface(name)
            if all(stats.get(k) == v for k, v in want.items()) or \
                    time.monotonic() > deadline:
                return stats
            self.check_running()
            time.sleep(0.5)

    def wait_link_up(self, name, timeout=30):
        self._wait(lambda: self.get("Interface", name, "link_state") == "up",
                   timeout, "link up on " + name)

    def check_running(self):
        """Raise if ovsdb-server or ovs-vswitchd has ended; read what
        they printed meanwhile (the pipe must not fill)."""
        for prog in (self.ovsdb, self.vswitchd):
            if prog is None:
                continue
            prog.poll_output()
            if prog.proc.poll() is not None:
                prog.drain()
                raise OvsError("%s exited (rc %s):\n%s\n%s"
                               % (prog.name, prog.proc.returncode,
                                  prog.output[-2000:], self.log_tail()))

    def log(self):
        try:
            with open(self.vswitchd_log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, lines=40):
        return "ovs-vswitchd.log, last lines:\n" + \
            "\n".join(self.log().splitlines()[-lines:])

    def close(self, timeout=30):
        """ovs-vswitchd leaves at `ovs-appctl exit` (its rc returned),
        ovsdb-server at SIGINT; both by PID if they do not."""
        rc = None
        if self.vswitchd is not None and self.vswitchd.proc.poll() is None:
            try:
                self.appctl("exit", timeout=timeout)
                rc = self.vswitchd.wait_exit(timeout)
            except harness.TestpmdError:
                self.vswitchd.quit()
        if self.ovsdb is not None:
            self.ovsdb.quit()
        return rc
