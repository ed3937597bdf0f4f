#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Sum the 'N passed, N failed' lines of the unit test programs run by
meson test (from meson-logs/testlog.json); print "PASSED FAILED".
A program whose output has no such line counts as one failure.  A
program that exits 77 (meson's SKIP: the AVX512 unit on a CPU without
AVX512) counts as neither; it is named on stderr with its reason."""

import json
import re
import sys

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed", re.M)

passed = failed = 0
try:
    with open(sys.argv[1]) as f:
        lines = f.readlines()
except OSError:
    lines = []
for line in lines:
    rec = json.loads(line)
    if rec.get("result") == "SKIP":
        why = (rec.get("stdout", "") or "").strip().splitlines()
        print("skipped: %s (%s)" % (rec.get("name"), why[-1] if why else
                                    "exit status 77"), file=sys.stderr)
        continue
    found = SUMMARY.findall(rec.get("stdout", "") or "")
    if found:
        p, fl = found[-1]
        passed += int(p)
        failed += int(fl)
        if rec.get("result") not in ("OK", "EXPECTEDFAIL") and int(fl) == 0:
            failed += 1
    else:
        if rec.get("result") == "OK":
            passed += 1
        else:
            failed += 1
if not lines:
    failed += 1
print(passed, failed)
