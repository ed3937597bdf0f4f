#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# Soak Vireo: mixed traffic through stock testpmd with our plugin against
# the fault backend for MINUTES (default 10): every data path in turn
# (packed/split, mergeable or not, in order or not, 1-2 queue pairs,
# client/server, indirect/chained Tx), frames of 64..8192 bytes, port
# restarts and backend SIGKILLs at random, each frame checked byte for
# byte. Ends with the totals, or what failed. Needs root.
#
# usage: devtools/soak.sh [MINUTES] [SEED]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VIREO_BUILD:-$top/build}
export VIREO_BUILD=$build
minutes=${1:-10}
seed=${2:-$(date +%s)}

bash "$top/devtools/build.sh" || exit 1
exec python3 "$top/app/test/system/soak.py" --minutes "$minutes" --seed "$seed"
