#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
#
# Build the guides under doc/guides into build/doc (HTML) with Debian's
# Sphinx; any Sphinx warning fails the build.  Installs python3-sphinx
# from Debian's archive if it is missing (needs root then).
#
# usage: devtools/doc.sh
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "doc: error: $*" >&2; exit 1; }

if ! dpkg-query -W -f='${Status}' python3-sphinx 2>/dev/null |
		grep -q "ok installed"; then
	[ "$(id -u)" = 0 ] || die "python3-sphinx is missing: run as root to install it"
	echo "doc: installing python3-sphinx"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq python3-sphinx >/dev/null
fi

# Debian's sphinx-build runs on /usr/bin/python3 whatever python3 is
# first in PATH; call it by its full path for the same reason.
cd "$top"
exec /usr/bin/sphinx-build -W -b html doc/guides build/doc
