#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# The main job, from a fresh machine: setup, build, then a stock net_vhost
# backend and stock testpmd with our PMD (packed_vq=1) exchange traffic
# both ways; prints throughput and an integrity verdict.  No hugepages
# needed (VIREO_MEMMODE=nohuge forces --no-huge).
#
# usage: devtools/run.sh [--seconds N] [--frames N] [devarg=value ...]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
export VIREO_BUILD=${VIREO_BUILD:-$top/build}
VIREO_SETUP_QUIET=1 bash "$top/devtools/setup.sh"
bash "$top/devtools/build.sh"
exec python3 "$top/app/test/system/mainjob.py" "$@"
