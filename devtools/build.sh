#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# Configure (once) and build Vireo in build/ (or $VIREO_BUILD).
# Extra arguments go to the first `meson setup`.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VIREO_BUILD:-$top/build}
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$top" "$@" >/dev/null
fi
ninja -C "$build" >/dev/null || ninja -C "$build"
