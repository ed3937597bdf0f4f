# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""The virtio-user transport against stock net_vhost in stock testpmd
(issue 4): features both sides agree on in every ring layout, server
mode and a backend that comes late, a backend killed and restarted in
both modes, both memory modes, and failed probes that leave nothing
behind.

Traffic always runs the same way: a net_pcap port in the backend's
testpmd replays sequence-numbered frames into net_vhost, our port
forwards them back (io, loop topology), and the backend records what
returns; integrity.verify() judges the recording.
"""

import itertools
import os
import random
import re
import socket
import stat
import time

import harness
import integrity
from harness import Testpmd, TestpmdError, check, workspace
from test_probe import BAD_DEVARGS
from traffic import port_stats, vhost_vdev, vireo_vdev, wait_counter, wait_link_up

VHOST_LOG = "--log-level=lib.vhost.config:info"
VIREO_LOG = "--log-level=pmd.net.vireo.*:info"
SIZES = [64, 128, 256, 512, 1024, 1518]

FEATURE_BITS = {
    "MTU": 3, "MAC": 5, "MRG_RXBUF": 15, "STATUS": 16, "CTRL_VQ": 17,
    "CTRL_RX": 18, "CTRL_VLAN": 19, "GUEST_ANNOUNCE": 21, "MQ": 22,
    "CTRL_MAC_ADDR": 23, "PROTOCOL_FEATURES": 30, "VERSION_1": 32,
    "RING_PACKED": 34, "IN_ORDER": 35,
}
# Emulated by the frontend, never asked of the backend.
EMULATED = ("MAC", "STATUS", "CTRL_VQ", "CTRL_RX", "CTRL_VLAN",
            "CTRL_MAC_ADDR", "GUEST_ANNOUNCE", "MTU")

CONNECTED = r"(?m): backend connected$"


def bit(name):
    return 1 << FEATURE_BITS[name]


def set_io_retry(pmd):
    """io forwarding that waits up to 100 ms for room in a full ring
    (the default gives up after 64 us, less than a descheduled peer
    takes on a shared CPU), so no frame is dropped on the way."""
    pmd.cmd("set fwd io retry")
    pmd.cmd("set burst tx delay 10 retry 10000")


def make_frames(queues, count, first_stream=0, seed=1):
    """@count frames spread over @queues, one stream per queue, stream
    ids from @first_stream (each phase of a test its own streams)."""
    rng = random.Random(seed)
    per_queue = [[] for _ in range(queues)]
    for i in range(count):
        q = i % queues
        per_queue[q].append(integrity.make_frame(first_stream + q, i // queues,
                                                 SIZES[i % len(SIZES)], rng))
    return per_queue


class Backend:
    """Stock testpmd on CPU 0: net_vhost as port 0 and, when given
    frames, a net_pcap port 1 with one rx/tx pcap file per queue; io
    forwarding between them."""

    def __init__(self, name, sock, queues=1, client=0, frames=None,
                 infinite=False):
        ws = workspace()
        self.frames = frames or []
        self.outs = []
        vdevs = [vhost_vdev(sock, queues, client)]
        if frames:
            args = []
            for q, queue_frames in enumerate(frames):
                gen = os.path.join(ws.dir, "%s-gen%d.pcap" % (name, q))
                integrity.write_pcap(gen, queue_frames)
                args.append("rx_pcap=" + gen)
                self.outs.append(os.path.join(ws.dir, "%s-out%d.pcap" % (name, q)))
            args += ["tx_pcap=" + out for out in self.outs]
            if infinite:
                args.append("infinite_rx=1")
            vdevs.append("net_pcap0," + ",".join(args))
        # --no-flush-rx: "start" would otherwise drain the pcap first.
        self.pmd = Testpmd(name, 0, plugin=False, vdevs=vdevs,
                           eal_args=[VHOST_LOG],
                           app_args=["--rxq=%d" % queues, "--txq=%d" % queues,
                                     "--no-flush-rx"])
        set_io_retry(self.pmd)

    def rx(self):
        return port_stats(self.pmd, 0)["rx_packets"]

    def forward(self, count, stale=0, timeout=60):
        """Replay the frames; return how many came back from our port,
        waiting for up to @stale more (see verify) until none come."""
        wait_link_up(self.pmd, 0)
        self.pmd.cmd("start")
        got = wait_counter(self.rx, count + stale, timeout)
        self.pmd.cmd("stop")
        return got

    def verify(self):
        """Quit (closing flushes the pcap writer) and judge what came
        back.  Frames of streams this backend never sent are our Tx ring
        offering again what a killed backend took but never completed,
        which vhost-user allows: counted as 'stale', not judged."""
        self.pmd.quit()
        sent = [f for queue_frames in self.frames for f in queue_frames]
        streams = {integrity.parse(f)[0] for f in sent}
        received, stale = [], 0
        for out in self.outs:
            for frame in integrity.read_pcap(out):
                key = integrity.parse(frame)
                if key is not None and key[0] not in streams:
                    stale += 1
                else:
                    received.append(frame)
        report = integrity.verify(sent, received)
        report["stale"] = stale
        return report


def start_ours(name, sock, devargs, queues=1):
    """Stock testpmd on CPU 1 with our port 0, io forwarding on itself."""
    qargs = ["--rxq=%d" % queues, "--txq=%d" % queues] if queues > 1 else []
    ours = Testpmd(name, 1, vdevs=[vireo_vdev(sock, **devargs)],
                   eal_args=[VIREO_LOG],
                   app_args=["--port-topology=loop"] + qargs)
    set_io_retry(ours)
    return ours


def link_status(pmd, port=0):
    m = re.search(r"Link status:\s*(\w+)", pmd.cmd("show port info %d" % port))
    return m.group(1) if m else None


def wait_link(pmd, state, timeout=20):
    deadline = time.monotonic() + timeout
    while link_status(pmd) != state:
        if time.monotonic() > deadline:
            raise TestpmdError("%s: link not %s after %ss" % (pmd.name, state, timeout))
        time.sleep(0.2)


def bring_up(ours, since=0):
    """Once the backend is connected the port, started by testpmd at
    launch with no backend there, comes up by itself: link up, no app
    action."""
    ours.wait_output(CONNECTED, since=since)
    wait_link(ours, "up")


def check_traffic(back, ours, count, stale=0):
    """Forward @count frames and check every one came back intact."""
    ours.cmd("start")
    got = back.forward(count, stale)
    ours.cmd("stop")
    ours.quit()
    report = back.verify()
    check(report["ok"], "%s: %d of %d frames came back; integrity %s"
          % (back.pmd.name, got, count, report))
    return report


def check_rings_enabled(back, queues):
    """The backend saw every ring of @queues pairs enabled."""
    enabled = {int(n) for n in re.findall(r"set queue enable: 1 to qp idx: (\d+)",
                                         back.pmd.output)}
    check(enabled >= set(range(2 * queues)), "%s: rings %s enabled, not all %d"
          % (back.pmd.name, sorted(enabled), 2 * queues))


def features_of(text, regex):
    found = re.findall(regex, text)
    check(found, "no line matching %r" % regex)
    return int(found[-1], 16)


# ---- negotiation ----

def negotiation_case(packed, mrg, in_order, queues):
    name = "neg-p%dm%di%dq%d" % (packed, mrg, in_order, queues)
    devargs = {"packed_vq": packed, "mrg_rxbuf": mrg, "in_order": in_order}
    if queues > 1:
        devargs["queues"] = queues
    sock = workspace().socket(name)
    count = 200
    back = Backend(name + "-vhost", sock, queues,
                   frames=make_frames(queues, count))
    ours = start_ours(name, sock, devargs, queues)
    bring_up(ours)
    # Both have quit after this: their logs are complete.
    check_traffic(back, ours, count)
    theirs = features_of(back.pmd.output, r"negotiated Virtio features: (0x[0-9a-f]+)")
    line = re.findall(r"net_vireo_user0: negotiated features (0x[0-9a-f]+): ([A-Z0-9_ ]+)",
                      ours.output)
    check(line, "%s: no negotiated features line from our port" % name)
    mine, words = int(line[-1][0], 16), set(line[-1][1].split())

    emulated = sum(bit(n) for n in EMULATED)
    want = (mine & ~emulated) | bit("PROTOCOL_FEATURES")
    check(theirs == want, "%s: backend has 0x%x, we have 0x%x: expected 0x%x for the backend"
          % (name, theirs, mine, want))
    for feature, on in (("RING_PACKED", packed), ("MRG_RXBUF", mrg),
                        ("IN_ORDER", in_order), ("MQ", queues > 1),
                        ("CTRL_VQ", queues > 1), ("VERSION_1", True)):
        check(bool(mine & bit(feature)) == bool(on),
              "%s: %s %s negotiated (0x%x)" % (name, feature,
                                               "not" if on else "", mine))
    for feature in FEATURE_BITS:
        check((feature in words) == bool(mine & bit(feature)),
              "%s: the words %s do not match 0x%x at %s" % (name, words, mine, feature))
    check_rings_enabled(back, queues)


def test_transport_negotiation_matrix():
    failures = []
    for combo in itertools.product((0, 1), (0, 1), (0, 1), (1, 4)):
        try:
            negotiation_case(*combo)
        except (AssertionError, TestpmdError) as exc:
            failures.append(str(exc)[:1500])
        finally:
            harness._cleanup_all()
    check(not failures, "%d of 16 combinations failed:\n%s"
          % (len(failures), "\n".join(failures)))


# ---- connection modes ----

def test_transport_server_mode():
    """server=1: the probe returns at once, the backend (client=1)
    connects when it comes, then the port runs."""
    sock = workspace().socket("srv")
    t0 = time.monotonic()
    ours = start_ours("srv", sock, {"server": 1})
    check(time.monotonic() - t0 < 20, "probe took %.1fs" % (time.monotonic() - t0))
    check(stat.S_ISSOCK(os.stat(sock).st_mode), "no listening socket at %s" % sock)
    check(link_status(ours) == "down", "link up without a backend")
    back = Backend("srv-vhost", sock, client=1, frames=make_frames(1, 300))
    bring_up(ours)
    check_traffic(back, ours, 300)
    check(not os.path.exists(sock), "socket %s left after quit" % sock)


def test_transport_client_backend_late():
    """Client mode with no backend yet: the app starts, and once the
    backend appears the port comes up without restarting the app."""
    sock = workspace().socket("late")
    ours = start_ours("late", sock, {})
    ours.wait_output(r"no backend at \S+ yet")
    check(link_status(ours) == "down", "link up without a backend")
    time.sleep(0.5)     # a few watcher rounds with nobody there
    back = Backend("late-vhost", sock, frames=make_frames(1, 300))
    bring_up(ours)
    check_traffic(back, ours, 300)


# ---- backend killed and restarted ----

# vhost 22.11 marks dequeued packed buffers used in one batch once 224
# of 256 are pending, and our Tx reclaims only below 32 free slots:
# after exactly 224 frames our Tx ring holds a completed batch (one used
# slot naming the last of 224 buffers) that we have not reclaimed.
SETTLED_BATCH = 224


def restart_case(ours_server, packed, in_order=1, settled=None, queues=1):
    """The backend dies by SIGKILL, a new one takes its place: link
    down then up with no app action, and the rings resume from where
    the dead backend left them.  It dies while frames flow (wherever
    the rings then are), or with @settled frames done and none flowing
    (a ring state chosen on purpose)."""
    name = "rst-%s-p%di%dq%d" % ("srv" if ours_server else "cli", packed,
                                 in_order, queues)
    sock = workspace().socket(name)
    devargs = {"packed_vq": packed, "in_order": in_order,
               "server": int(ours_server)}
    if queues > 1:
        devargs["queues"] = queues
    lsc = r"Port 0: link state change event"

    # Backends live on the same path; the server side comes first.
    phase1 = make_frames(queues, settled or 64 * queues, first_stream=16)
    infinite = settled is None
    if ours_server:
        ours = start_ours(name, sock, devargs, queues)
        old = Backend(name + "-vhost1", sock, queues, client=1, frames=phase1,
                      infinite=infinite)
    else:
        old = Backend(name + "-vhost1", sock, queues, frames=phase1,
                      infinite=infinite)
        ours = start_ours(name, sock, devargs, queues)
    bring_up(ours)
    ours.cmd("start")
    wait_link_up(old.pmd, 0)
    old.pmd.cmd("start")
    # Flowing: several laps of the 256-entry rings, so the indexes and
    # packed wrap counters are anywhere.
    want = settled or 3000
    got = wait_counter(old.rx, want, 30)
    check(got >= want, "%s: only %d frames before the kill" % (name, got))

    mark = len(ours.output)
    old.pmd.kill()
    ours.wait_output(r"backend disconnected; %s" %
                     ("waiting for it to connect again" if ours_server else "reconnecting"),
                     since=mark)
    ours.wait_output(lsc, since=mark)
    wait_link(ours, "down")
    if not ours_server and os.path.exists(sock):
        # net_vhost will not bind over its dead predecessor's socket.
        os.unlink(sock)

    mark = len(ours.output)
    count = 500
    new = Backend(name + "-vhost2", sock, queues, client=int(ours_server),
                  frames=make_frames(queues, count, first_stream=32, seed=2))
    ours.wait_output(CONNECTED, since=mark)
    ours.wait_output(r"features renegotiated 0x[0-9a-f]+: [A-Z]", since=mark)
    ours.wait_output(lsc, since=mark)
    wait_link(ours, "up")
    # At most a Tx ring of frames the dead backend took comes again.
    check_traffic(new, ours, count, stale=256 * queues)
    check_rings_enabled(new, queues)


def test_transport_restart_client_packed():
    restart_case(False, 1)


def test_transport_restart_client_split():
    restart_case(False, 0)


def test_transport_restart_client_packed_out_of_order():
    restart_case(False, 1, in_order=0)


def test_transport_restart_client_packed_batch():
    restart_case(False, 1, settled=SETTLED_BATCH)


def test_transport_restart_server_packed_batch():
    restart_case(True, 1, settled=SETTLED_BATCH)


def test_transport_restart_client_packed_4_queues():
    restart_case(False, 1, queues=4)


def test_transport_restart_server_packed():
    restart_case(True, 1)


def test_transport_restart_server_split():
    restart_case(True, 0)


# ---- memory ----

def hugepages_free():
    with open("/proc/meminfo") as f:
        m = re.search(r"HugePages_Free:\s*(\d+)", f.read())
    return int(m.group(1)) if m else 0


def test_transport_memory_modes():
    """--no-huge (memfd) and hugepages (single-file segments) both share
    their memory with the backend and carry traffic."""
    modes = ["nohuge"]
    # Two processes of 256 MiB in 2 MiB pages, with room to spare.
    if hugepages_free() >= 300:
        modes.append("hugepages")
    saved = os.environ.get("VIREO_MEMMODE")
    try:
        for mode in modes:
            os.environ["VIREO_MEMMODE"] = mode
            sock = workspace().socket("mem-" + mode)
            back = Backend("mem-%s-vhost" % mode, sock, frames=make_frames(1, 300))
            ours = start_ours("mem-" + mode, sock, {})
            flag = "--no-huge" if mode == "nohuge" else "--single-file-segments"
            check(flag in ours.cmdline, "%s: not run with %s" % (mode, flag))
            bring_up(ours)
            check_traffic(back, ours, 300)
            check("guest memory region size" in back.pmd.output,
                  "%s: backend got no memory table" % mode)
            harness._cleanup_all()
    finally:
        if saved is None:
            os.environ.pop("VIREO_MEMMODE", None)
        else:
            os.environ["VIREO_MEMMODE"] = saved
    check(len(modes) == 2 or harness.memory_mode() == "nohuge",
          "hugepages expected but only %d free" % hugepages_free())


# ---- failed probes, close and re-attach ----

def resources(pmd):
    """What a port could leave behind in its process: fds, threads,
    heap allocations, Vireo memzones."""
    pid = pmd.proc.pid
    heap = re.search(r"Total\s*:.*alloc: ([\d.]+).*count alloc: (\d+)",
                     pmd.cmd("dump_socket_mem"))
    zones = re.findall(r"name:<(vireo[^>]*)>", pmd.cmd("dump_memzone"))
    return {"fds": len(os.listdir("/proc/%d/fd" % pid)),
            "threads": len(os.listdir("/proc/%d/task" % pid)),
            "heap": heap.groups() if heap else None,
            "zones": zones}


def bad_attach_cases(ws):
    """(devargs after the name, message, path that must not appear)."""
    cases = []
    for i, (args, message) in enumerate(BAD_DEVARGS):
        sock = ws.socket("bad%d" % i)
        cases.append((args % {"sock": sock}, message, sock))
        if "%(sock)s" in args:
            # A listener must not be created before every key is good.
            sock = ws.socket("bad%d-srv" % i)
            cases.append((",server=1" + args % {"sock": sock}, message, sock))
    long_path = os.path.join(ws.dir, "x" * 120 + ".sock")
    cases.append((",path=%s" % long_path, "invalid devarg path=", long_path))
    cases.append((",server=1,path=%s" % long_path, "invalid devarg path=", long_path))
    missing = os.path.join(ws.dir, "no-such-dir", "s.sock")
    cases.append((",server=1,path=%s" % missing, "cannot listen on path=", missing))
    return cases


def test_transport_bad_devargs_leave_nothing():
    """Hotplug with each bad devarg, three rounds: each fails with its
    message, creates no socket, and the process keeps exactly the fds,
    threads, heap and memzones it had."""
    ws = workspace()
    plain = os.path.join(ws.dir, "plain-file")
    with open(plain, "w") as f:
        f.write("not a socket\n")
    # Someone else's listener (here, ours) must keep its socket.
    taken = ws.socket("taken")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(taken)
    listener.listen(8)
    cases = bad_attach_cases(ws)
    cases.append((",server=1,path=%s" % plain, "cannot listen on path=", None))
    cases.append((",server=1,path=%s" % taken, "Address already in use", None))
    ours = Testpmd("hotplug", 1, eal_args=[VIREO_LOG])
    before = resources(ours)
    for round_no in range(3):
        for args, message, path in cases:
            out = ours.cmd("port attach net_vireo_user0" + args)
            check(message in out, "%r: expected %r in:\n%s" % (args, message, out))
            check("Failed to attach port" in out, "%r: attached:\n%s" % (args, out))
            check(path is None or not os.path.lexists(path),
                  "%r: %s left behind" % (args, path))
        after = resources(ours)
        check(after == before, "round %d: resources went from %s to %s"
              % (round_no, before, after))
    with open(plain) as f:
        check(f.read() == "not a socket\n", "server=1 clobbered a regular file")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(taken)
    except OSError as exc:
        raise AssertionError("server=1 took over a live socket: %s" % exc)
    finally:
        probe.close()
        listener.close()


def attach_cycle(ours, vdev, sock=None):
    """Attach, (start, see the link up, stop,) close and detach port 0."""
    out = ours.cmd("port attach " + vdev)
    check("Port 0 is attached" in out, "attach failed:\n%s" % out)
    if sock is None:
        ours.cmd("port start 0")
        wait_link(ours, "up")
        ours.cmd("port stop 0")
    else:
        check(stat.S_ISSOCK(os.stat(sock).st_mode), "no socket at %s" % sock)
    ours.cmd("port close 0")
    out = ours.cmd("device detach %s" % vdev.split(",")[0])
    check("is detached" in out, "detach failed:\n%s" % out)
    check(sock is None or not os.path.lexists(sock), "socket %s left after detach" % sock)


def test_transport_close_and_reattach():
    """A port closed and detached comes back with the same devargs, in
    both modes, and the cycles leak nothing."""
    ws = workspace()
    sock = ws.socket("cyc")
    back = Backend("cyc-vhost", sock)
    ours = Testpmd("cycle", 1, eal_args=[VIREO_LOG])
    client = "net_vireo_user0,path=%s" % sock
    srv_sock = ws.socket("cyc-srv")
    server = "net_vireo_user0,path=%s,server=1" % srv_sock
    # The first cycle leaves what ethdev keeps for good (its port data).
    attach_cycle(ours, client)
    before = resources(ours)
    check(not before["zones"], "memzones left after close: %s" % before["zones"])
    for _ in range(3):
        attach_cycle(ours, client)
        attach_cycle(ours, server, srv_sock)
        after = resources(ours)
        check(after == before, "resources went from %s to %s" % (before, after))
    back.pmd.quit()
