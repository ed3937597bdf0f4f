#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# Run every test suite of Vireo from a fresh machine: setup, build, the C
# unit tests (meson test), then the system tests (stock dpdk-testpmd with
# our plugin against stock net_vhost).  Ends with "N passed, N failed"
# counting every test case of every suite.
#
# usage: devtools/test.sh [-k SUBSTRING]...   (filters system tests)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VIREO_BUILD:-$top/build}
export VIREO_BUILD=$build

bash "$top/devtools/setup.sh" || exit 1
bash "$top/devtools/build.sh" || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0

echo "== unit tests (meson test)"
meson test -C "$build" --suite unit --print-errorlogs --num-processes 2 \
	> "$build/unit-tests.log" 2>&1
unit_rc=$?
tail -n 15 "$build/unit-tests.log"
# Each test program prints its own "N passed, N failed": add them up, and
# count a program that ended without that line as one failure.
read -r p f < <(python3 "$top/devtools/sum-unit-results.py" \
	"$build/meson-logs/testlog.json")
passed=$((passed + p))
failed=$((failed + f))
if [ $unit_rc -ne 0 ] && [ "$f" -eq 0 ]; then
	failed=$((failed + 1))
fi

echo "== system tests"
python3 "$top/app/test/system/run.py" "$@" | tee "$build/system-tests.log"
read -r p f < <(tail -n 1 "$build/system-tests.log" |
	sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
if [ -z "${p:-}" ]; then
	p=0 f=1
fi
passed=$((passed + p))
failed=$((failed + f))

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
