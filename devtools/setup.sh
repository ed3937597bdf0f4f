#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# Prepare a Debian 12 machine to build and test Vireo.  Idempotent; run as
# root.  Steps:
#   1. install DPDK and the build/test tools from Debian's archive;
#   2. extract the DPDK driver SDK headers (missing from libdpdk-dev) from the
#      Debian source package of exactly the installed version into
#      build-sdk/ (git-ignored);
#   3. reserve 2 MiB hugepages and mount hugetlbfs when the kernel allows it,
#      and record the memory mode the tools will use in build-sdk/memmode.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
sdk="$top/build-sdk"
quiet=${VIREO_SETUP_QUIET:-0}

say() { [ "$quiet" = 1 ] || echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (packages, hugepages)"

packages="dpdk dpdk-dev libdpdk-dev meson ninja-build python3-pyelftools
	libnuma-dev pkg-config gcc python3 dpkg-dev xz-utils tcpdump
	gcovr clang debhelper openvswitch-switch-dpdk python3-matplotlib"

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}

missing=""
for p in $packages; do
	installed "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# openvswitch-switch comes for the OVS system test, which runs its own
	# ovsdb-server and ovs-vswitchd: the system's OVS service must neither
	# start nor stay enabled.  Its maintainer scripts start services
	# through invoke-rc.d, which asks policy-rc.d; ours refuses every
	# start (101) for the length of the install, unless one exists.
	ovs_new=0
	installed openvswitch-switch || ovs_new=1
	policy=/usr/sbin/policy-rc.d
	own_policy=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# devtools/setup.sh: no service starts\nexit 101\n' \
			> "$policy"
		chmod 755 "$policy"
		own_policy=1
	fi
	rc=0
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing >/dev/null || rc=$?
	[ $own_policy = 0 ] || rm -f "$policy"
	[ $rc = 0 ] || die "apt-get install failed (rc $rc)"
	if [ $ovs_new = 1 ] && command -v systemctl >/dev/null; then
		units="openvswitch-switch.service ovs-vswitchd.service
			ovsdb-server.service ovs-record-hostname.service"
		# shellcheck disable=SC2086
		systemctl disable --quiet $units 2>/dev/null || true
		if [ -d /run/systemd/system ]; then
			# shellcheck disable=SC2086
			systemctl stop $units 2>/dev/null || true
		fi
	fi
fi

version=$(dpkg-query -W -f='${Version}' libdpdk-dev)
headers="ethdev_driver.h ethdev_vdev.h ethdev_pci.h bus_vdev_driver.h
	bus_pci_driver.h dev_driver.h bus_driver.h"

have_all=1
[ "$(cat "$sdk/VERSION" 2>/dev/null)" = "$version" ] || have_all=0
for h in $headers; do [ -f "$sdk/include/$h" ] || have_all=0; done

if [ $have_all = 0 ]; then
	say "fetching driver SDK headers from Debian source dpdk=$version"
	# deb-src is enabled for this run only if the system lacks it: add it to
	# the existing deb822 sources file next to the binary entries.
	src_file=""
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
		[ -f "$f" ] && { src_file=$f; break; }
	done
	[ -n "$src_file" ] || die "no apt sources file found to add deb-src to"
	if ! grep -rqs '^[^#]*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		case "$src_file" in
		*.sources) sed -i 's/^Types: deb$/Types: deb deb-src/' "$src_file" ;;
		*) sed -n 's/^deb /deb-src /p' "$src_file" >> "$src_file" ;;
		esac
		apt-get update -qq
	fi
	dl=$(mktemp -d /var/tmp/vireo-src.XXXXXX)
	trap 'rm -rf "$dl"' EXIT
	if ! (cd "$dl" && apt-get source --download-only -qq "dpdk=$version" >/dev/null 2>&1); then
		die "Debian's source package dpdk=$version cannot be downloaded; " \
		    "the SDK headers must match the installed libdpdk-dev exactly, so stopping"
	fi
	tarball=$(ls "$dl"/dpdk_*.orig.tar.* 2>/dev/null | head -n 1)
	[ -n "$tarball" ] || die "source package dpdk=$version has no orig tarball"
	rm -rf "$sdk/include"
	mkdir -p "$sdk/include"
	pattern=""
	for h in $headers; do pattern="$pattern --wildcards */$h"; done
	# shellcheck disable=SC2086
	tar -xf "$tarball" -C "$sdk/include" --strip-components=0 $pattern
	# flatten: the headers live in lib/ethdev, drivers/bus/... in the tree
	find "$sdk/include" -mindepth 2 -type f -name '*.h' -exec mv -f {} "$sdk/include/" \;
	find "$sdk/include" -mindepth 1 -type d -exec rm -rf {} + 2>/dev/null || true
	for h in $headers; do
		[ -f "$sdk/include/$h" ] || die "header $h not found in $tarball"
	done
	echo "$version" > "$sdk/VERSION"
fi
say "driver SDK headers for DPDK $version in $sdk/include"

# Hugepages: try 2 MiB pages, fall back to --no-huge (memfd) everywhere.
mode=nohuge
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
want=${VIREO_HUGEPAGES:-1024}
if [ -w "$hp/nr_hugepages" ]; then
	cur=$(cat "$hp/nr_hugepages")
	[ "$cur" -ge "$want" ] || echo "$want" > "$hp/nr_hugepages" 2>/dev/null || true
	if ! grep -qs '^[^ ]* /dev/hugepages hugetlbfs' /proc/mounts; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages 2>/dev/null || true
	fi
	if [ "$(cat "$hp/nr_hugepages")" -gt 0 ] &&
	   grep -qs ' hugetlbfs ' /proc/mounts; then
		mode=hugepages
	fi
fi
[ -z "${VIREO_MEMMODE:-}" ] || mode=$VIREO_MEMMODE
echo "$mode" > "$sdk/memmode"
say "memory mode: $mode ($( [ $mode = hugepages ] && echo "2 MiB pages, --single-file-segments" || echo "--no-huge, memfd"))"
