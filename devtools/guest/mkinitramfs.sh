#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# Build the initramfs of the Vireo test guest: busybox, stock dpdk-testpmd
# and the shared libraries it, our plugin and net_pcap need (found with
# ldd, copied flat into /lib), uio.ko and uio_pci_generic.ko of the
# host's Debian kernel, and devtools/guest/init.  DPDK's plugin folder is
# NOT copied, so the in-tree net_virtio cannot claim the device.
#
# usage: mkinitramfs.sh OUT PLUGIN [DATA_DIR]
#   OUT       the cpio archive to write (uncompressed: loads fastest)
#   PLUGIN    librte_net_vireo.so, installed as /opt/vireo/ in the guest
#   DATA_DIR  files copied to /data in the guest (traffic pcaps)
# environment: VIREO_TESTPMD (dpdk-testpmd), VIREO_GUEST_KVER (kernel)
set -eu

die() { echo "mkinitramfs: error: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: $0 OUT PLUGIN [DATA_DIR]"
here=$(cd "$(dirname "$0")" && pwd)
out=$1
plugin=$2
data=${3:-}
testpmd=$(command -v "${VIREO_TESTPMD:-dpdk-testpmd}") || die "dpdk-testpmd not found"
kver=${VIREO_GUEST_KVER:-$(ls /lib/modules 2>/dev/null | sort -V | tail -n 1)}
[ -n "$kver" ] || die "no kernel modules in /lib/modules: run devtools/guest/setup.sh"
[ -f "$plugin" ] || die "plugin $plugin not built"

# Two drivers from DPDK's plugin folder, loaded with -d: the mempool
# handler every mbuf pool needs, and net_pcap for traffic files.
pmd() {
	local f
	f=$(find /usr/lib -name "librte_$1.so.[0-9]*" -path '*pmds-*' | sort | head -n 1)
	[ -n "$f" ] || die "librte_$1 not found (package dpdk)"
	echo "$f"
}
pcap_pmd=$(pmd net_pcap)
ring_pmd=$(pmd mempool_ring)

stage=$(mktemp -d /var/tmp/vireo-initramfs.XXXXXX)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,lib/modules,lib64,proc,sys,dev,tmp,run,var,data,opt/vireo,etc}
ln -s ../run "$stage/var/run"

cp /bin/busybox "$stage/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$stage/bin/$applet"
done
cp "$testpmd" "$stage/bin/dpdk-testpmd"
install -m 0644 "$plugin" "$stage/opt/vireo/librte_net_vireo.so"
for f in "$pcap_pmd" "$ring_pmd"; do
	b=$(basename "$f")
	install -m 0644 "$f" "$stage/lib/$b"
	ln -s "$b" "$stage/lib/${b%%.so.*}.so"
done

# Every library the three need, by the name the loader looks for.
ldd "$testpmd" "$plugin" "$pcap_pmd" "$ring_pmd" | awk '
	$2 == "=>" && $3 ~ /^\// { print $1, $3 }
	$1 ~ /^\// && $1 !~ /:$/ { print $1, $1 }' | sort -u |
while read -r name path; do
	case "$name" in
	/*) dest="$stage$name" ;;	# the loader itself, at its own path
	*) dest="$stage/lib/$name" ;;
	esac
	mkdir -p "$(dirname "$dest")"
	[ -e "$dest" ] || cp -L "$path" "$dest"
done
# glibc dlopens libgcc_s for pthread_cancel (EAL's exit path).
gcc_s=$(ldconfig -p | awk '/libgcc_s.so.1 .*x86-64/ { print $NF; exit }')
[ -z "$gcc_s" ] || cp -L "$gcc_s" "$stage/lib/libgcc_s.so.1"
for f in "$stage"/lib/librte_net_virtio*; do
	[ ! -e "$f" ] || die "librte_net_virtio would be in the guest"
done

# uio for the plain guest; vfio-pci and what it needs for a guest with a
# virtual IOMMU (optional: a kernel without them gives a uio-only guest).
for m in uio uio_pci_generic vfio vfio_virqfd irqbypass vfio_iommu_type1 \
	 vfio-pci-core vfio-pci; do
	ko=$(find "/lib/modules/$kver" -name "$m.ko*" | head -n 1)
	case "$m" in
	uio*) [ -n "$ko" ] || die "module $m not found for kernel $kver" ;;
	*) [ -n "$ko" ] || continue ;;
	esac
	case "$ko" in
	*.ko) cp "$ko" "$stage/lib/modules/$m.ko" ;;
	*.ko.xz) xz -dc "$ko" > "$stage/lib/modules/$m.ko" ;;
	*.ko.zst) zstd -qdc "$ko" > "$stage/lib/modules/$m.ko" ;;
	*) die "unknown module format $ko" ;;
	esac
done

mknod "$stage/dev/console" c 5 1
mknod "$stage/dev/null" c 1 3
install -m 0755 "$here/init" "$stage/init"
if [ -n "$data" ]; then
	cp -r "$data"/. "$stage/data/"
fi

tmp="$out.tmp.$$"
(cd "$stage" && find . | cpio -o -H newc --quiet) > "$tmp"
mv -f "$tmp" "$out"
