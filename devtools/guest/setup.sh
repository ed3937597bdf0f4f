#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# Packages the QEMU guest test needs, from Debian's archive: the emulator,
# a stock kernel (its vmlinuz and its uio/uio_pci_generic modules go into
# the guest) and a static busybox (the guest's userland).  Idempotent; run
# as root.  The DPDK packages come from devtools/setup.sh.
set -eu

die() { echo "guest-setup: error: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (packages)"

packages="qemu-system-x86 linux-image-amd64 busybox-static cpio gzip"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -n "$missing" ] || exit 0

echo "guest-setup: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Another engineer's apt may hold the lock: wait for it rather than fail.
for try in $(seq 1 60); do
	# shellcheck disable=SC2086
	if apt-get -o DPkg::Lock::Timeout=120 install -y -qq \
		--no-install-recommends $missing >/dev/null; then
		exit 0
	fi
	if [ "$try" = 1 ]; then
		apt-get -o DPkg::Lock::Timeout=120 update -qq || true
	fi
	sleep 5
done
die "could not install:$missing"
