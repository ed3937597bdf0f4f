#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# Every test suite against an AddressSanitizer + UBSan build
# (meson -Dsanitize=true, in build-asan/ or $VIREO_BUILD): the unit tests
# (sanitized programs), then the system tests with VIREO_SANITIZE=1,
# which loads libasan into stock testpmd (LD_PRELOAD) wherever our
# plugin is loaded, and runs the fault backend sanitized. A sanitizer
# report aborts the process that made it (a test failure) and is kept
# in $VIREO_BUILD/asan/; the script lists them at the end.
#
# usage: devtools/test-asan.sh [-k SUBSTRING]...   (filters system tests)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VIREO_BUILD:-$top/build-asan}
export VIREO_BUILD=$build VIREO_SANITIZE=1

bash "$top/devtools/setup.sh" || exit 1
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$top" -Dsanitize=true >/dev/null || exit 1
fi
grep -q "sanitize.*true" "$build/meson-info/intro-buildoptions.json" 2>/dev/null ||
	meson configure "$build" -Dsanitize=true >/dev/null || exit 1
ninja -C "$build" >/dev/null || ninja -C "$build" || exit 1
rm -rf "$build/asan"
mkdir -p "$build/asan"

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:halt_on_error=1}
export ASAN_OPTIONS
echo "== unit tests (sanitized)"
meson test -C "$build" --suite unit --print-errorlogs --num-processes 2 \
	> "$build/unit-tests.log" 2>&1
unit_rc=$?
tail -n 15 "$build/unit-tests.log"
unset ASAN_OPTIONS

echo "== system tests (VIREO_SANITIZE=1)"
python3 "$top/app/test/system/run.py" "$@" | tee "$build/system-tests.log"
sys_rc=${PIPESTATUS[0]}

reports=$(find "$build/asan" -type f 2>/dev/null | wc -l)
if [ "$reports" -ne 0 ]; then
	echo "== sanitizer reports ($reports):"
	for f in "$build"/asan/*; do
		echo "--- $f"
		head -n 30 "$f"
	done
fi
echo "unit: $([ $unit_rc -eq 0 ] && echo pass || echo FAIL)," \
	"system: $([ "$sys_rc" -eq 0 ] && echo pass || echo FAIL)," \
	"sanitizer reports: $reports"
[ $unit_rc -eq 0 ] && [ "$sys_rc" -eq 0 ] && [ "$reports" -eq 0 ]
