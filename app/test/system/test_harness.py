#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""The harness's own reading of testpmd: its prompt, written one character
a write, found whole whatever other threads print inside it (a missed
prompt is a command that seems to hang: the test fails with a timeout
that says nothing of the driver)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import PROMPT_RE, check, prompt_start  # noqa: E402

# Lines seen on consoles and pipes between two characters of a prompt.
_LOG = ("vireo: vireo_pci_device_ok(): 0000:00:04.0: device set NEEDS_RESET "
        "(status 0x4f): link down; stop and start the port to reset it\n")
_EVENT = "\nPort 0: link state change event\n"
_VHOST = "VHOST_CONFIG: (/run/v.sock) vhost peer closed\n"


def _find(text):
    m = re.search(PROMPT_RE, text)
    return (m.start(), m.end()) if m else None


def test_prompt_whole():
    text = "Done.\ntestpmd> "
    check(_find(text) == (6, len(text)), "plain prompt not found")


def test_prompt_split_by_lines():
    prompt = "testpmd> "
    for cut in range(1, len(prompt)):
        for lines in ((_LOG,), (_EVENT,), (_VHOST,), (_LOG, "vireo: x: link down\n", _EVENT)):
            text = "Done.\n" + prompt[:cut] + "".join(lines) + prompt[cut:]
            check(_find(text) == (6, len(text)),
                  "prompt split at %d by %r not found" % (cut, lines))


def test_prompt_not_invented():
    # Text that holds the prompt's letters but no prompt: no match.
    for text in ("dpdk-testpmd -l 0,1 --no-pci\n",
                 "testpmd: no Rx queue\n",
                 "  estimated\n  sync\n  tx\n  port 0\n  mbuf\n  done\n",
                 "t\ne\ns\nt\np\nm\nd\n\n"):
        check(_find(text) is None, "prompt found in %r" % text)


def test_prompt_start_after_split_echo():
    # The command's echo split at a "t" and the prompt split as well: the
    # search may begin at the echo's "t", the answer must not.
    out = ("show port stats 0\n  RX-packets: 0\n  TX-packets: 0\n")
    text = ("show por" + _LOG + "t stats 0\n  RX-packets: 0\n"
            "  TX-packets: 0\n" + "t" + _EVENT + "estpmd> ")
    m = re.search(PROMPT_RE, text)
    check(m is not None and m.end() == len(text), "prompt end not found")
    # the shortest match: it may take in a line let into the prompt, never
    # the command's own output
    start = prompt_start(text, m.start(), m.end())
    check(start >= text.index("t" + _EVENT),
          "prompt start at %d: %r" % (start, text[start:start + 20]))
    check(out.replace("show port stats 0\n", "") in
          text[:start].replace(_LOG, ""), "command output cut short")
