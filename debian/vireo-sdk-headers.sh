#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# Makes sure build-sdk/include holds the DPDK driver SDK headers of
# exactly libdpdk-dev version $1 (the ones libdpdk-dev does not ship).
# devtools/setup.sh puts them there on a development machine; a package
# build from a clean clone gets them here from Debian's dpdk source
# package with apt-get source, which needs deb-src in the apt sources but
# no root.  This script never edits the apt configuration: if the source
# cannot be had, it stops and says what to do.
set -eu

version=$1
sdk=build-sdk
# The same list as devtools/setup.sh: what the driver includes.
headers="ethdev_driver.h ethdev_vdev.h ethdev_pci.h bus_vdev_driver.h
	bus_pci_driver.h dev_driver.h bus_driver.h"

have_all=1
[ "$(cat "$sdk/VERSION" 2>/dev/null)" = "$version" ] || have_all=0
for h in $headers; do [ -f "$sdk/include/$h" ] || have_all=0; done
if [ $have_all = 1 ]; then
	echo "vireo-sdk-headers: using $sdk/include (dpdk $version)"
	exit 0
fi

fail() {
	echo "vireo-sdk-headers: error: $*" >&2
	echo "vireo-sdk-headers: the DPDK driver SDK headers of dpdk $version are" \
	     "missing from $sdk/include; run 'sudo devtools/setup.sh' first" \
	     "(it enables deb-src and extracts them), or set" \
	     "VIREO_DPDK_ORIG to dpdk_<version>.orig.tar.xz" >&2
	exit 1
}

# A given tarball first (offline builds), else the source package.
tarball=${VIREO_DPDK_ORIG:-}
dl=""
if [ -z "$tarball" ]; then
	dl=$(mktemp -d "${TMPDIR:-/var/tmp}/vireo-dpdk-src.XXXXXX")
	trap 'rm -rf "$dl"' EXIT
	(cd "$dl" && apt-get source --download-only -qq "dpdk=$version" \
		>/dev/null 2>&1) ||
		fail "apt-get source dpdk=$version failed (is deb-src enabled?)"
	tarball=$(ls "$dl"/dpdk_*.orig.tar.* 2>/dev/null | head -n 1)
fi
[ -n "$tarball" ] && [ -f "$tarball" ] || fail "no dpdk orig tarball"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/vireo-sdk.XXXXXX")
pattern=""
for h in $headers; do pattern="$pattern --wildcards */$h"; done
# shellcheck disable=SC2086
tar -xf "$tarball" -C "$tmp" $pattern || { rm -rf "$tmp"; fail "tar failed on $tarball"; }
rm -rf "$sdk/include"
mkdir -p "$sdk/include"
# flatten: the headers live in lib/ethdev, drivers/bus/... in the tree
find "$tmp" -type f -name '*.h' -exec mv -f {} "$sdk/include/" \;
rm -rf "$tmp"
for h in $headers; do
	[ -f "$sdk/include/$h" ] || fail "header $h not in $tarball"
done
echo "$version" > "$sdk/VERSION"
echo "vireo-sdk-headers: extracted into $sdk/include from $tarball"
