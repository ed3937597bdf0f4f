# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""The /vireo/ telemetry commands, read with stock dpdk-telemetry.py from
a running testpmd, agree with the port's xstats and the ring dump."""

import json
import subprocess

from harness import check
from traffic import PATIENT_RETRY, Pair, wait_link_up, xstats

TELEMETRY = "dpdk-telemetry.py"


def telemetry(prefix, commands, timeout=30):
    """Runs stock dpdk-telemetry.py against the process of file prefix
    @prefix, commands on its stdin (not a tty: it prints one JSON reply
    per line and no prompt); returns {command: reply value}."""
    out = subprocess.run([TELEMETRY, "-f", prefix],
                         input="\n".join(commands) + "\n",
                         capture_output=True, text=True, timeout=timeout)
    replies = {}
    for line in out.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        replies.update(json.loads(line))
    for c in commands:
        key = c.split(",")[0]
        check(c in replies or key in replies,
              "no reply to %s; stdout:\n%s\nstderr:\n%s"
              % (c, out.stdout, out.stderr))
    return replies


def reply(replies, command):
    # dpdk-telemetry.py echoes the command without its parameters
    return replies[command.split(",")[0]]


def ask(prefix, command):
    return reply(telemetry(prefix, [command]), command)


def check_queue_against_xstats(q, name, xs):
    for field, stat in (("size", "ring_size"), ("free", "ring_free"),
                        ("next_avail", "ring_next_avail"),
                        ("last_used", "ring_last_used"),
                        ("avail_wrap", "ring_avail_wrap"),
                        ("used_wrap", "ring_used_wrap"),
                        ("broken", "ring_broken"),
                        ("broken_reason", "ring_broken_reason")):
        key = "%s_%s" % (name, stat)
        check(key in xs, "xstats lack %s" % key)
        check(q[field] == xs[key], "%s %s: telemetry %s, xstats %s=%s"
              % (name, field, q[field], key, xs[key]))


def run_checks(devargs, queues, layout, has_cvq):
    pair = Pair("tel-%s" % layout, devargs=devargs, queues=queues)
    vireo = pair.vireo
    # Some traffic first, so indexes have moved off their start values.
    pair.vhost.cmd("set fwd io retry")
    vireo.cmd("set fwd mac")
    vireo.cmd(PATIENT_RETRY)
    vireo.cmd("start")
    wait_link_up(pair.vhost, 0)
    pair.vhost.cmd("start tx_first 8")
    vireo.cmd("stop")
    pair.vhost.cmd("stop")
    # Stopped: the rings hold still while both readers look at them.
    xs = xstats(vireo)

    ports = ask(vireo.prefix, "/vireo/ports")
    check(ports == [0], "/vireo/ports: %r" % (ports,))

    rings = ask(vireo.prefix, "/vireo/rings,0")
    check(rings["port"] == 0 and rings["layout"] == layout,
          "/vireo/rings,0 header: %r" % rings)
    check(rings["nb_rx_queues"] == queues and rings["nb_tx_queues"] == queues,
          "/vireo/rings,0 queue counts: %r" % rings)
    for qid in range(queues):
        for role, index in (("rx", 2 * qid), ("tx", 2 * qid + 1)):
            name = "%s_q%d" % (role, qid)
            check(name in rings, "/vireo/rings,0 lacks %s: %r" % (name, rings))
            q = rings[name]
            check(q["role"] == role and q["index"] == index and
                  q["layout"] == layout, "%s: %r" % (name, q))
            check(q["size"] == 256, "%s size %s" % (name, q["size"]))
            check(0 <= q["free"] <= q["size"], "%s: %r" % (name, q))
            check(q["in_flight"] <= q["size"] - q["free"], "%s: %r" % (name, q))
            check(q["broken"] == 0 and q["broken_reason_str"] == "none",
                  "%s broken: %r" % (name, q))
            check(q["event_mode"] in ("enable", "disable", "desc", "event_idx")
                  and q["device_event_mode"] in ("enable", "disable", "desc",
                                                 "event_idx"),
                  "%s event modes: %r" % (name, q))
            check_queue_against_xstats(q, name, xs)
    # Rx buffers are posted at start: the ring is (nearly) full of them.
    check(rings["rx_q0"]["free"] < rings["rx_q0"]["size"],
          "rx_q0 has no buffers posted: %r" % rings["rx_q0"])
    if has_cvq:
        check("ctrl" in rings and rings["ctrl"]["role"] == "ctrl" and
              rings["ctrl"]["index"] == 2 * queues,
              "/vireo/rings,0 ctrl: %r" % rings.get("ctrl"))
    else:
        check("ctrl" not in rings, "a ctrl queue without cq: %r" % rings)

    one = ask(vireo.prefix, "/vireo/ring,0,1")
    check(one == rings["tx_q0"], "/vireo/ring,0,1 %r != rings tx_q0 %r"
          % (one, rings["tx_q0"]))

    dump = ask(vireo.prefix, "/vireo/dump,0,0")
    check(isinstance(dump, list) and dump and
          dump[0].startswith("vq %s size=256" % layout),
          "/vireo/dump,0,0: %r" % (dump,))
    rx = rings["rx_q0"]
    check(any(l.strip().startswith("free=%d " % rx["free"]) for l in dump),
          "dump free count differs from rings %d: %r" % (rx["free"], dump))
    check(any("broken: no" in l for l in dump), "dump: %r" % (dump,))

    # Bad parameters: telemetry answers null, never a wrong port's data.
    bad = telemetry(vireo.prefix, ["/vireo/rings,7", "/vireo/dump,0,99",
                                   "/vireo/ring,0,x"])
    for c in ("/vireo/rings", "/vireo/dump", "/vireo/ring"):
        check(bad[c] is None, "%s with a bad parameter: %r" % (c, bad[c]))
    # The commands are listed, with help.
    listed = ask(vireo.prefix, "/")
    for c in ("/vireo/ports", "/vireo/rings", "/vireo/ring", "/vireo/dump"):
        check(c in listed, "%s not listed: %r" % (c, listed))
    pair.close()


def test_telemetry_packed():
    run_checks({}, 1, "packed", False)


def test_telemetry_split_mq_cvq():
    run_checks({"packed_vq": 0, "cq": 1}, 2, "split", True)
