#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The Vireo Authors
"""Run the system tests: every test_* function of every test_*.py here.

usage: run.py [-k SUBSTRING]... [--list]
Prints one line per test and ends with 'N passed, N failed'.
"""

import argparse
import importlib
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402


def discover():
    here = os.path.dirname(os.path.abspath(__file__))
    for fname in sorted(os.listdir(here)):
        if fname.startswith("test_") and fname.endswith(".py"):
            mod = importlib.import_module(fname[:-3])
            for name in sorted(vars(mod)):
                fn = getattr(mod, name)
                if name.startswith("test_") and callable(fn):
                    yield "%s.%s" % (fname[:-3], name), fn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", action="append", default=[],
                    help="run only tests whose name contains this")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()

    if os.geteuid() != 0:
        sys.exit("system tests need root (hugepages, /var/run/dpdk)")
    if not os.path.exists(harness.PLUGIN):
        sys.exit("plugin not built: %s" % harness.PLUGIN)
    harness.install_cleanup_handlers()

    tests = [(n, f) for n, f in discover()
             if not args.k or any(k in n for k in args.k)]
    if args.list:
        for name, _ in tests:
            print(name)
        return 0

    passed = failed = 0
    print("system tests: memory mode %s" % harness.memory_mode(), flush=True)
    for name, fn in tests:
        start = time.monotonic()
        try:
            fn()
            ok, why = True, ""
        except Exception as exc:  # a test's failure, whatever its kind
            ok = False
            why = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            if not isinstance(exc, (AssertionError, harness.TestpmdError)):
                why += "\n" + traceback.format_exc()
        finally:
            harness._cleanup_all()
        took = time.monotonic() - start
        if ok:
            passed += 1
            print("PASS %s (%.1fs)" % (name, took), flush=True)
        else:
            failed += 1
            print("FAIL %s (%.1fs)\n    %s" % (name, took,
                                              why.replace("\n", "\n    ")),
                  flush=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
