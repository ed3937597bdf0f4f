#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# The whole guest matrix of net_vireo (virtio-pci) in QEMU (TCG):
#   backend (QEMU's virtio-net looping through a socket | vhost-user served
#   by testpmd/net_vhost on the host) x layout (packed | split) x mergeable
#   Rx buffers (on | off) x device (modern | transitional), the vfio-pci
#   cells, and legacy-only devices (split only: backend x mergeable),
# with payload integrity both ways.  About a minute per configuration on
# an idle 2-CPU machine.  CI runs five guests (app/test/system/test_guest.py).
#
# usage: devtools/guest/run-matrix.sh [-k SUBSTRING]...   (as root)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
export VIREO_BUILD=${VIREO_BUILD:-$top/build}
bash "$top/devtools/setup.sh"
bash "$top/devtools/guest/setup.sh"
bash "$top/devtools/build.sh"
exec python3 "$top/app/test/system/test_guest.py" --matrix "$@"
