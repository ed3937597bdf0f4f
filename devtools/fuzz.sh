#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# Build the fuzz targets of app/fuzz with clang and libFuzzer (plus
# AddressSanitizer and UBSan) and run each for a fixed time or a fixed
# number of executions, starting from the checked-in corpus.
#
# usage: devtools/fuzz.sh [SECONDS]          each target for SECONDS (60)
#        devtools/fuzz.sh --runs N [TARGET]  each target N executions
#        devtools/fuzz.sh --merge            fold new finds into the corpus
#
# The working corpus (checked-in seeds plus what fuzzing found) lives in
# $VIREO_FUZZ_BUILD/corpus/<target> and grows across runs; crash inputs
# go to $VIREO_FUZZ_BUILD/artifacts/<target>/. Prints per target the
# executions and crashes, then "N passed, N failed" (targets).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
out=${VIREO_FUZZ_BUILD:-$top/build-fuzz}
seconds=60
runs=
merge=0
only=
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift 2 ;;
	--merge) merge=1; shift ;;
	-h|--help) sed -n 4,16p "$0"; exit 0 ;;
	[0-9]*) seconds=$1; shift ;;
	*) only=$1; shift ;;
	esac
done

command -v clang >/dev/null || { echo "fuzz: clang not found (apt-get install clang)"; exit 1; }
mkdir -p "$out"

# target: sources (relative to top), extra flags
declare -A srcs flags
srcs[vring_reclaim]="app/fuzz/fuzz_vring_reclaim.c lib/vring/vring.c lib/vring/vring_device.c lib/vring/vring_dump.c"
flags[vring_reclaim]="-Ilib/vring"
srcs[vring_device]="app/fuzz/fuzz_vring_device.c lib/vring/vring.c lib/vring/vring_device.c lib/vring/vring_dump.c"
flags[vring_device]="-Ilib/vring"
srcs[vhost_reply]="app/fuzz/fuzz_vhost_reply.c drivers/net/virtio/virtio_user/vhost_user.c"
flags[vhost_reply]="-Idrivers/net/virtio/virtio_user $(pkg-config --cflags libdpdk 2>/dev/null)"
libs_vhost_reply=$(pkg-config --libs libdpdk 2>/dev/null)
targets="vring_reclaim vring_device vhost_reply"
[ -n "$only" ] && targets=$only

cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
passed=0
failed=0
for t in $targets; do
	bin="$out/fuzz_$t"
	# shellcheck disable=SC2086
	if ! (cd "$top" && clang $cflags ${flags[$t]} ${srcs[$t]} \
		$([ "$t" = vhost_reply ] && echo "$libs_vhost_reply") -o "$bin") \
		> "$out/build-$t.log" 2>&1; then
		echo "fuzz_$t: build failed, see $out/build-$t.log"
		failed=$((failed + 1))
		continue
	fi
	corpus="$out/corpus/$t"
	art="$out/artifacts/$t"
	mkdir -p "$corpus" "$art"
	cp -n "$top/app/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null
	if [ -n "$runs" ]; then
		# a fixed length: the same seed, a fresh copy of the seeds only,
		# so the smoke run does the same work every time
		corpus="$out/smoke/$t"
		rm -rf "$corpus"
		mkdir -p "$corpus"
		cp "$top/app/fuzz/corpus/$t"/* "$corpus"/
		limit=(-runs="$runs" -seed=1)
	else
		limit=(-max_total_time="$seconds")
	fi
	start=$(date +%s%N)
	ASAN_OPTIONS=abort_on_error=1 "$bin" "${limit[@]}" -max_len=1024 \
		-print_final_stats=1 -artifact_prefix="$art/" "$corpus" \
		> "$out/run-$t.log" 2>&1
	rc=$?
	took_ms=$((($(date +%s%N) - start) / 1000000))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/run-$t.log")
	cov=$(grep -o 'cov: [0-9]*' "$out/run-$t.log" | tail -n 1)
	crashes=$(find "$art" -name 'crash-*' -newer "$bin" | wc -l)
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'fuzz_%s: %s executions, 0 crashes, %s, %d.%ds\n' "$t" \
			"${execs:-?}" "${cov:-cov: ?}" $((took_ms / 1000)) \
			$((took_ms % 1000 / 100))
	else
		failed=$((failed + 1))
		printf 'fuzz_%s: FAILED after %s executions (rc %d), %d crash inputs in %s; log %s\n' \
			"$t" "${execs:-?}" "$rc" "$crashes" "$art" "$out/run-$t.log"
		grep -m 5 -E 'ERROR|invariant|runtime error' "$out/run-$t.log"
	fi
	if [ $merge = 1 ]; then
		"$bin" -merge=1 -use_counters=0 -max_len=1024 \
			"$top/app/fuzz/corpus/$t" "$out/corpus/$t" \
			> "$out/merge-$t.log" 2>&1
		echo "fuzz_$t: corpus now $(ls "$top/app/fuzz/corpus/$t" | wc -l) inputs"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
