# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""A device can't hurt us (issue 7): stock testpmd with our plugin against
the fault-injecting backend (app/fault_backend), one fault per case.

For every fault: testpmd does not crash or hang (it answers commands,
`quit` exits 0), the error is counted (an xstat: rx/tx_qN_dev_err_*,
ring_broken, or the queue's error counter) and logged once, the queue is
marked broken where the spec allows nothing else, and once the backend is
fixed (restarted without the fault; `port stop 0`/`port start 0` where a
queue broke) traffic passes again with integrity: every frame the backend
generated on Rx that comes back on Tx is compared byte for byte, none may
be corrupted, duplicated or out of order, none lost between two others.
"""

import os
import re
import time

from fault_backend import (BROKEN_LINE, PATIENT_RETRY, FaultBackend,
                           check_integrity, count_lines, start_port,
                           link_up, start_vireo, wait_link, xstats)
from harness import Testpmd, check, workspace
from traffic import vireo_vdev

VIREO_LOG = "--log-level=pmd.net.vireo.*:info"
RATE = 20000            # frames per second the backend generates
RECOVERY_FRAMES = 3000  # verified after the fix, to call it working
LAYOUTS = {"packed": {"packed_vq": 1}, "split": {"packed_vq": 0}}

# Driver-visible codes (enum vireo_vq_error, negated) and their xstats.
DEV_ERR = {10: "dev_err_bad_id", 11: "dev_err_id_not_posted",
           12: "dev_err_bad_len", 13: "dev_err_bad_flags",
           14: "dev_err_bad_used_idx", 15: "dev_err_out_of_order"}


def _wait_xstats(pmd, cond, timeout=20, what="xstats"):
    deadline = time.monotonic() + timeout
    while True:
        x = xstats(pmd)
        if cond(x):
            return x
        if time.monotonic() > deadline:
            raise AssertionError("%s: %s not reached: %s" % (
                pmd.name, what, {k: v for k, v in x.items() if v}))
        time.sleep(0.2)


def _recover(ours, sock, name, restart_port, devargs_kw=None, sizes=None,
             need=RECOVERY_FRAMES, backend_kw=None):
    """Backend restarted without the fault; port restarted if asked;
    then traffic must pass with integrity. Returns the new backend's
    stats."""
    # no frames until forwarding runs: a port restart would drop them
    be = FaultBackend(name + "-fixed", sock, rate=RATE, sizes=sizes,
                      paused=True, **(backend_kw or {}))
    # the PMD reconnects by itself (client mode); a started port gets
    # its rings handed to the new backend at once
    be.wait(lambda s: s.get("connections", 0) >= 1, 30, "reconnection")
    if restart_port:
        ours.cmd("port stop 0")
        start_port(ours)
    be.wait(lambda s: s.get("rings_started", 0) >= 2, 30, "rings handed")
    wait_link(ours, True)
    ours.cmd("set fwd io retry")
    ours.cmd(PATIENT_RETRY)
    ours.cmd("start")
    be.resume()
    st = be.wait(lambda s: s.get("verified", 0) >= need, 60,
                 "%d frames back after recovery" % need)
    ours.cmd("stop")
    st = be.stats()
    check_integrity(st, need)
    check(st.get("dev_errors", 1) == 0,
          "the backend refused chains our driver wrote: %s" % st)
    x = xstats(ours)
    broken = {k: v for k, v in x.items() if k.endswith("ring_broken") and v}
    check(not broken, "queues still broken after recovery: %s" % broken)
    return be, st


def _finish(ours, be):
    rc = ours.quit()
    check(rc == 0, "%s: testpmd exited with %s:\n%s" % (ours.name, rc,
                                                      ours.output[-2000:]))
    be.stop()


def ring_fault(fault, layout, queue, code, devargs=None, backend_kw=None,
               after=None):
    """A device that writes one bad used entry: counted in the xstat of
    @code, the queue broken with that reason, logged once; testpmd keeps
    answering; backend fixed + port restart: traffic with integrity."""
    ws = workspace()
    name = "f-%s-%s-%s" % (fault, layout, queue)
    sock = ws.socket(name)
    da = dict(LAYOUTS[layout])
    da.update(devargs or {})
    be = FaultBackend(name + "-be", sock, fault=fault, fault_queue=queue,
                      fault_after=after, rate=RATE, **(backend_kw or {}))
    ours = start_vireo(name, sock, da, eal_args=[VIREO_LOG])
    mark = len(ours.output)
    # plain io: a broken Tx queue must not park the forwarding lcore
    ours.cmd("set fwd io")
    ours.cmd("start")
    be.wait(lambda s: s.get("faults", 0) >= 1, 30, "fault injected")
    prefix = "%s_q0_" % queue
    x = _wait_xstats(ours, lambda x: x.get(prefix + "ring_broken") == 1,
                     20, "%s broken" % prefix)
    check(x.get(prefix + DEV_ERR[code]) == 1,
          "%s%s not 1: %s" % (prefix, DEV_ERR[code], x))
    check(x.get(prefix + "ring_broken_reason") == code,
          "broken reason %s, want %d" % (x.get(prefix + "ring_broken_reason"),
                                         code))
    other = "tx" if queue == "rx" else "rx"
    check(x.get(other + "_q0_ring_broken") == 0,
          "the other queue broke too: %s" % x)
    # every later poll meets a broken queue: nothing more is counted or
    # logged (one error, one line)
    time.sleep(2)
    x = xstats(ours)
    check(x.get(prefix + DEV_ERR[code]) == 1, "counted again: %s" % x)
    errors = x.get("rx_q0_errors" if queue == "rx" else "tx_q0_dropped")
    check(errors == 1, "queue error counter %s, want 1" % errors)
    lines = count_lines(ours, BROKEN_LINE, mark)
    check(lines == 1, "broken-queue line logged %d times:\n%s"
          % (lines, ours.output[mark:][-2000:]))
    check(re.search(r"queue %d broken: .*\(-%d\)" %
                    (0 if queue == "rx" else 1, code), ours.output[mark:]),
          "log line does not name the error")
    ours.cmd("stop")
    be.kill()
    fixed, _ = _recover(ours, sock, name, restart_port=True)
    _finish(ours, fixed)


# ---- the device writes used entries that cannot be ----

def test_fault_id_range_packed():
    ring_fault("id_range", "packed", "rx", 10)


def test_fault_id_range_split_tx():
    ring_fault("id_range", "split", "tx", 10)


def test_fault_id_not_posted_packed():
    ring_fault("id_not_posted", "packed", "tx", 11)


def test_fault_id_not_posted_split():
    ring_fault("id_not_posted", "split", "tx", 11)


def test_fault_id_reused_packed():
    ring_fault("id_reused", "packed", "rx", 11)


def test_fault_id_reused_split_tx():
    ring_fault("id_reused", "split", "tx", 11)


def test_fault_len_packed():
    ring_fault("len", "packed", "rx", 12)


def test_fault_len_split():
    ring_fault("len", "split", "rx", 12)


def test_fault_flags_packed():
    ring_fault("flags", "packed", "rx", 13)


def test_fault_flags_packed_tx():
    ring_fault("flags", "packed", "tx", 13)


def test_fault_idx_back_split():
    ring_fault("idx_back", "split", "rx", 14)


def test_fault_idx_far_split():
    ring_fault("idx_far", "split", "tx", 14)


def test_fault_order_split():
    ring_fault("order", "split", "rx", 15, devargs={"in_order": 1})


def test_fault_len_on_tx_is_tolerated():
    """A length on a Tx buffer (nothing writable) is dropped, not fatal:
    some devices report the chain's total there (DPDK 22.11 vhost)."""
    ws = workspace()
    sock = ws.socket("f-len-tx")
    be = FaultBackend("f-len-tx-be", sock, fault="len", fault_queue="tx",
                      fault_count=0, rate=RATE)
    ours = start_vireo("f-len-tx", sock, LAYOUTS["packed"], eal_args=[VIREO_LOG])
    ours.cmd("set fwd io retry")
    ours.cmd(PATIENT_RETRY)
    ours.cmd("start")
    st = be.wait(lambda s: s.get("verified", 0) >= RECOVERY_FRAMES, 60,
                 "traffic")
    ours.cmd("stop")
    check(st["faults"] > 100, "fault not repeated: %s" % st)
    check_integrity(be.stats(), RECOVERY_FRAMES)
    x = xstats(ours)
    check(x.get("tx_q0_ring_broken") == 0, "Tx queue broken: %s" % x)
    _finish(ours, be)


def test_fault_scribble():
    """Random words over the used ring, again and again: whichever check
    catches it first breaks the queue, counted and logged once (or the
    words happened to be plausible); nothing crashes; the port recovers."""
    for layout in ("packed", "split"):
        ws = workspace()
        name = "f-scribble-" + layout
        sock = ws.socket(name)
        be = FaultBackend(name + "-be", sock, fault="scribble", fault_count=0,
                          rate=RATE)
        ours = start_vireo(name, sock, LAYOUTS[layout], eal_args=[VIREO_LOG])
        mark = len(ours.output)
        ours.cmd("set fwd io")
        ours.cmd("start")
        be.wait(lambda s: s.get("faults", 0) >= 1, 30, "scribbles")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            x = xstats(ours)
            if x.get("rx_q0_ring_broken"):
                break
            time.sleep(0.2)
        if x.get("rx_q0_ring_broken"):
            reason = x["rx_q0_ring_broken_reason"]
            check(reason in DEV_ERR and x["rx_q0_" + DEV_ERR[reason]] == 1,
                  "reason %s not counted: %s" % (reason, x))
            check(count_lines(ours, BROKEN_LINE, mark) == 1,
                  "broken line not logged once")
        ours.cmd("stop")
        be.kill()
        fixed, _ = _recover(ours, sock, name, restart_port=True)
        _finish(ours, fixed)


# ---- what the device writes in the frames ----

def test_fault_num_buffers():
    """num_buffers in a mergeable header far beyond the ring (the Rx
    analogue of a looping chain), or 0: the frame is dropped and counted,
    the queue goes on."""
    for value in (0xffff, 0):
        ws = workspace()
        name = "f-nbufs-%d" % value
        sock = ws.socket(name)
        be = FaultBackend(name + "-be", sock, fault="num_buffers",
                          fault_arg=value, fault_count=5, rate=RATE)
        ours = start_vireo(name, sock, {"mrg_rxbuf": 1}, eal_args=[VIREO_LOG])
        ours.cmd("set fwd io retry")
        ours.cmd(PATIENT_RETRY)
        ours.cmd("start")
        be.wait(lambda s: s.get("faults", 0) >= 5, 30, "faults")
        st = be.wait(lambda s: s.get("verified", 0) >= RECOVERY_FRAMES, 60,
                     "traffic after the bad headers")
        ours.cmd("stop")
        st = be.stats()
        x = xstats(ours)
        check(x.get("rx_q0_errors") == 5, "5 bad frames not counted: %s" % x)
        check(x.get("rx_q0_ring_broken") == 0, "queue broken: %s" % x)
        # the five frames are gone, nothing else
        check(st["lost"] == 5, "lost %d frames, want 5: %s" % (st["lost"], st))
        check_integrity(st, RECOVERY_FRAMES, allow_lost=True)
        _finish(ours, be)


def test_fault_bad_net_header():
    """Random offload fields in every Rx header, Rx checksum and LRO on:
    whatever the driver makes of them, nothing crashes; a fixed backend
    then gets clean traffic."""
    ws = workspace()
    name = "f-badhdr"
    sock = ws.socket(name)
    be = FaultBackend(name + "-be", sock, fault="bad_hdr", fault_count=0,
                      rate=RATE, fault_after=0)
    ours = start_vireo(name, sock, {}, eal_args=[VIREO_LOG],
                       app_args=["--rx-offloads=0x1c"])
    ours.cmd("set fwd io")
    ours.cmd("start")
    be.wait(lambda s: s.get("faults", 0) >= 2000, 30, "bad headers")
    ours.cmd("show port stats 0")
    ours.cmd("stop")
    be.kill()
    fixed, _ = _recover(ours, sock, name, restart_port=False)
    _finish(ours, fixed)


# ---- notifications, stalls, hang-ups ----

def test_fault_no_kicks():
    """A device that never reads a kick and never interrupts (and says
    so): a polling driver does not care."""
    for layout in LAYOUTS:
        ws = workspace()
        name = "f-nokick-" + layout
        sock = ws.socket(name)
        be = FaultBackend(name + "-be", sock, fault="no_kicks", rate=RATE)
        ours = start_vireo(name, sock, LAYOUTS[layout], eal_args=[VIREO_LOG])
        ours.cmd("set fwd io retry")
        ours.cmd(PATIENT_RETRY)
        ours.cmd("start")
        st = be.wait(lambda s: s.get("verified", 0) >= RECOVERY_FRAMES, 60,
                     "traffic")
        ours.cmd("stop")
        st = be.stats()
        check(st["kicks"] == 0 and st["calls"] == 0, "kicks seen: %s" % st)
        check_integrity(st, RECOVERY_FRAMES)
        _finish(ours, be)


def test_kick_only_backend():
    """The opposite: a device that serves a ring only when kicked and
    suppresses kicks while busy, re-arming them when idle. Traffic that
    keeps flowing proves no wakeup is lost."""
    for layout in LAYOUTS:
        ws = workspace()
        name = "f-kickonly-" + layout
        sock = ws.socket(name)
        be = FaultBackend(name + "-be", sock, rate=RATE,
                          extra=["--kick-only"])
        ours = start_vireo(name, sock, LAYOUTS[layout], eal_args=[VIREO_LOG])
        ours.cmd("set fwd io retry")
        ours.cmd(PATIENT_RETRY)
        ours.cmd("start")
        st = be.wait(lambda s: s.get("verified", 0) >= 2 * RECOVERY_FRAMES,
                     60, "traffic")
        ours.cmd("stop")
        st = be.stats()
        check(st["kicks"] > 0, "no kicks: %s" % st)
        check_integrity(st, 2 * RECOVERY_FRAMES)
        _finish(ours, be)


def test_fault_stall():
    """The device stops serving its rings for 3 s mid-traffic: testpmd
    answers meanwhile, traffic resumes by itself; then a device that
    stalls for good: stop, port stop and quit still work."""
    ws = workspace()
    sock = ws.socket("f-stall")
    be = FaultBackend("f-stall-be", sock, fault="stall", fault_arg=3,
                      rate=RATE)
    ours = start_vireo("f-stall", sock, {}, eal_args=[VIREO_LOG])
    ours.cmd("set fwd io")
    ours.cmd("start")
    be.wait(lambda s: s.get("stalled") == 1, 30, "stall")
    t0 = time.monotonic()
    ours.cmd("show port stats 0", timeout=5)
    check(time.monotonic() - t0 < 2, "testpmd slow to answer during a stall")
    before = be.stats()["verified"]
    st = be.wait(lambda s: s.get("verified", 0) >= before + RECOVERY_FRAMES,
                 60, "traffic after the stall")
    ours.cmd("stop")
    check_integrity(be.stats(), RECOVERY_FRAMES, allow_lost=True)
    be.kill()
    # for good this time
    be = FaultBackend("f-stall-be2", sock, fault="stall", fault_arg=0,
                      rate=RATE)
    be.wait(lambda s: s.get("rings_started", 0) >= 2, 30, "reconnection")
    ours.cmd("start")
    be.wait(lambda s: s.get("stalled") == 1, 30, "stall")
    time.sleep(1)
    t0 = time.monotonic()
    ours.cmd("stop", timeout=20)
    ours.cmd("port stop 0", timeout=20)
    check(time.monotonic() - t0 < 10, "stop/port stop took %.1fs"
          % (time.monotonic() - t0))
    _finish(ours, be)


def test_fault_disconnect_mid_traffic():
    """The device hangs up in the middle of traffic and comes back (same
    process, listening again): the PMD notices, reconnects, hands the
    rings back where they were; traffic resumes with no port restart."""
    for layout in LAYOUTS:
        ws = workspace()
        name = "f-hangup-" + layout
        sock = ws.socket(name)
        be = FaultBackend(name + "-be", sock, fault="disconnect",
                          fault_after=2000, rate=RATE)
        ours = start_vireo(name, sock, LAYOUTS[layout], eal_args=[VIREO_LOG])
        ours.cmd("set fwd io")
        ours.cmd("start")
        be.wait(lambda s: s.get("connections", 0) >= 2 and
                s.get("rings_started", 0) >= 2, 30, "reconnection")
        before = be.stats()["verified"]
        st = be.wait(lambda s: s.get("verified", 0) >= before + RECOVERY_FRAMES,
                     60, "traffic after the reconnection")
        ours.cmd("stop")
        check_integrity(be.stats(), RECOVERY_FRAMES, allow_lost=True)
        check(re.search(r"backend disconnected", ours.output),
              "hang-up not logged")
        _finish(ours, be)


def test_fault_die_mid_batch():
    """The device dies while publishing a batch of used Tx buffers: the
    later slots are used, the first slot's flags (stored last by a
    batching device) never come.  At hand-over the PMD finishes that
    batch, the next device resumes after it, and traffic goes on with
    nothing duplicated or corrupted (packed: both in and out of order).
    Split: the used index was never published, so the batch is offered
    again and its frames go out twice, nothing else."""
    cells = {"packed": dict(packed_vq=1, in_order=0),
             "packed-in-order": dict(packed_vq=1, in_order=1),
             "split": dict(packed_vq=0)}
    for cell, devargs in cells.items():
        ws = workspace()
        name = "f-midbatch-" + cell
        sock = ws.socket(name)
        be = FaultBackend(name + "-be", sock, fault="die_mid_batch",
                          fault_after=2000, rate=RATE)
        ours = start_vireo(name, sock, devargs, eal_args=[VIREO_LOG])
        ours.cmd("set fwd io")
        ours.cmd("start")
        be.wait(lambda s: s.get("faults", 0) >= 1 and
                s.get("connections", 0) >= 2 and
                s.get("rings_started", 0) >= 2, 30, "reconnection")
        before = be.stats()["verified"]
        be.wait(lambda s: s.get("verified", 0) >= before + RECOVERY_FRAMES,
                60, "traffic after the reconnection (%s)" % cell)
        ours.cmd("stop")
        st = be.stats()
        if cell == "split":
            # nothing published: the frames of the dying batch went out
            # and are offered again, at most once more each
            check(st["reordered"] <= 4, "more than the batch repeated: %s"
                  % st)
            st = dict(st, reordered=0)
        check_integrity(st, RECOVERY_FRAMES, allow_lost=True)
        _finish(ours, be)


# ---- the control channel ----

def control_fault(fault, expect_log, request=None, arg=None, count=None,
                  when="connect", after=None):
    """The backend misbehaves on the control socket. @when: 'connect'
    (the handshake: testpmd started first, the backend comes later),
    'start' (port start), 'stop' (port stop). The PMD logs @expect_log,
    keeps running, and the port works once the backend behaves."""
    ws = workspace()
    name = "c-%s-%s" % (fault, when)
    sock = ws.socket(name)
    # frames only once forwarding runs: a port stop drops what waits
    kw = dict(fault=fault, fault_request=request, fault_arg=arg,
              fault_count=count, fault_after=after, rate=RATE, paused=True)
    if when == "connect":
        # no backend yet: the port probes, waits, starts later
        ours = start_vireo(name, sock, {}, eal_args=[VIREO_LOG])
        mark = len(ours.output)
        be = FaultBackend(name + "-be", sock, **kw)
        ours.wait_output(expect_log, 30, mark)
    else:
        be = FaultBackend(name + "-be", sock, **kw)
        ours = start_vireo(name, sock, {}, eal_args=[VIREO_LOG])
        mark = len(ours.output)
        ours.cmd("port stop 0", timeout=60)
        if when == "start":
            ours.cmd("port start 0", timeout=60)
        ours.wait_output(expect_log, 30, mark)
        be.wait(lambda s: s.get("faults", 0) >= 1, 30, "fault")
    # a refused start, a dropped connection: the next start (once the
    # PMD reconnected) goes through
    start_port(ours)
    ours.cmd("set fwd io retry")
    ours.cmd(PATIENT_RETRY)
    ours.cmd("start")
    be.resume()
    st = be.wait(lambda s: s.get("verified", 0) >= RECOVERY_FRAMES, 60,
                 "traffic")
    ours.cmd("stop")
    check_integrity(be.stats(), RECOVERY_FRAMES)
    check(be.stats()["faults"] >= 1, "fault never injected")
    return ours, be


def _fds(pmd):
    fd_dir = "/proc/%d/fd" % pmd.proc.pid
    out = []
    for fd in os.listdir(fd_dir):
        try:
            out.append(os.readlink(os.path.join(fd_dir, fd)))
        except OSError:
            pass
    return out


def test_control_reply_bad_size():
    ours, be = control_fault("reply_size",
                             r"GET_FEATURES on .*: reply payload size is wrong")
    _finish(ours, be)


def test_control_reply_unknown_request():
    ours, be = control_fault("reply_id",
                             r"GET_FEATURES on .*: reply answers another request")
    _finish(ours, be)


def test_control_reply_with_fds():
    """One descriptor, then more than a message may carry (the kernel
    truncates): refused, and every descriptor received is closed."""
    for nfds in (1, 12):
        ours, be = control_fault("reply_fds",
                                 r"file descriptors attached to a reply",
                                 arg=nfds)
        leaked = [f for f in _fds(ours) if f == "/dev/null"]
        check(not leaked, "descriptors of the bad reply still open: %s" % leaked)
        _finish(ours, be)


def test_control_disconnect_mid_message():
    ours, be = control_fault("short_reply", r"GET_FEATURES on .*: backend disconnected")
    _finish(ours, be)


def test_control_hang_up_on_request():
    """The backend hangs up when it gets SET_MEM_TABLE (port start)."""
    ours, be = control_fault("close_on", r"SET_MEM_TABLE on .*backend disconnected",
                             request="SET_MEM_TABLE", when="start", after=1)
    _finish(ours, be)


def test_control_nack():
    """REPLY_ACK with a failure status for SET_MEM_TABLE and for
    SET_VRING_ADDR: port start fails with a message, the next works."""
    # SET_MEM_TABLE comes once per port start, SET_VRING_ADDR once per
    # ring: skip testpmd's own start
    for request, after in (("SET_MEM_TABLE", 1), ("SET_VRING_ADDR", 2)):
        ours, be = control_fault("nack", r"backend refused %s" % request,
                                 request=request, when="start", after=after)
        _finish(ours, be)


def test_control_reply_never_comes():
    """No reply to GET_VRING_BASE at port stop: the PMD gives up after its
    timeout, drops the connection, port stop completes, testpmd lives."""
    t0 = time.monotonic()
    ours, be = control_fault("stall_reply",
                             r"GET_VRING_BASE on .*: timed out", when="stop")
    check(time.monotonic() - t0 < 90, "took %.0fs" % (time.monotonic() - t0))
    _finish(ours, be)


def test_control_huge_features():
    """Every feature bit offered, every protocol feature, 2^64-1 queues:
    the PMD takes what it knows and works."""
    ours, be = control_fault("huge_features", r"backend offers 0xffffffffffffffff")
    m = re.findall(r"negotiated features (0x[0-9a-f]+)", ours.output)
    check(m, "no negotiated features logged")
    known = (1 << 5) | (1 << 15) | (1 << 16) | (1 << 27) | (1 << 28) | \
        (1 << 32) | (1 << 34) | (1 << 35) | (1 << 30) | (1 << 3)
    for f in m:
        check(int(f, 16) & ~known == 0, "negotiated unknown bits: %s" % f)
    _finish(ours, be)


def test_control_refuses_needed_feature():
    """A backend without VERSION_1. Met at probe: the probe fails with a
    clear message, testpmd runs on without the port and quits cleanly.
    Met later (the port started before its backend came): the backend is
    refused with the message, the link stays down; a proper backend
    later: the port works."""
    ws = workspace()
    sock = ws.socket("c-nov1")
    be = FaultBackend("c-nov1-be", sock, fault="no_version_1", fault_count=0,
                      rate=RATE)
    # no queue options: testpmd refuses them without a port
    ours = Testpmd("c-nov1", 1, vdevs=[vireo_vdev(sock)], eal_args=[VIREO_LOG])
    check(re.search(r"does not offer VERSION_1", ours.output),
          "no clear message at probe:\n" + ours.output[-2000:])
    check(ours.quit() == 0, "testpmd did not exit cleanly")
    be.kill()
    os.unlink(sock)
    ours = start_vireo("c-nov1-late", sock, {}, eal_args=[VIREO_LOG])
    mark = len(ours.output)
    be = FaultBackend("c-nov1-be2", sock, fault="no_version_1",
                      fault_count=0, rate=RATE)
    ours.wait_output(r"does not offer VERSION_1|lacks[^\n]*VERSION_1", 30,
                     mark)
    check(not link_up(ours), "link up with a backend the port cannot use")
    be.kill()
    fixed, _ = _recover(ours, sock, "c-nov1", restart_port=True)
    _finish(ours, fixed)


def test_fault_hang_up_between_buffers_of_a_frame():
    """Mergeable Rx: the device delivers the first buffer of a 4000-byte
    frame (its header says 2 buffers), then hangs up and comes back. The
    new connection's frames must not complete the old one: the driver
    drops what it held (counted), nothing corrupted reaches the app."""
    for layout in LAYOUTS:
        ws = workspace()
        name = "f-cut-" + layout
        sock = ws.socket(name)
        da = dict(LAYOUTS[layout], mrg_rxbuf=1)
        be = FaultBackend(name + "-be", sock, fault="cut_frame",
                          fault_after=500, rate=RATE, sizes=[64, 4000])
        ours = start_vireo(name, sock, da, eal_args=[VIREO_LOG],
                           app_args=["--max-pkt-len=9018"])
        ours.cmd("set fwd io")
        ours.cmd("start")
        be.wait(lambda s: s.get("connections", 0) >= 2 and
                s.get("rings_started", 0) >= 2, 30, "reconnection")
        before = be.stats()["verified"]
        be.wait(lambda s: s.get("verified", 0) >= before + RECOVERY_FRAMES,
                60, "traffic after the reconnection")
        ours.cmd("stop")
        st = be.stats()
        check(st["corrupt"] == 0 and st["alien"] == 0,
              "a frame made of two frames reached the app: %s" % st)
        x = xstats(ours)
        check(x.get("rx_q0_errors", 0) >= 1,
              "the dropped half frame was not counted: %s" % x)
        check_integrity(st, RECOVERY_FRAMES, allow_lost=True)
        _finish(ours, be)
