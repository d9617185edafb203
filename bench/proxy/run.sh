#!/bin/sh
# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# bench/proxy: proxyd (issue 4) against a direct TCP connection to the
# same server, in a private network namespace (only lo, TEST-NET
# addresses), with this script's python as proxyd's parent (the test
# harness of tests/integration/proxydharness.py).
#
#   tunnel MB/s      one CONNECT tunnel, a download of PROXY_BENCH_MB
#   tunnel x8 MB/s   eight tunnels at once, the same each
#   CONNECT/s        sequential CONNECT, 200, close (includes the
#                    identity round trip to the parent)
#   forward GET/s    sequential forward-proxy GETs
#
# Ratio = via proxyd / direct (target >= 0.5 for throughput).  The
# clients and servers are python, so absolute figures are theirs as
# much as proxyd's.  Needs root (a network namespace); BUILD (default
# build) holds proxyd; PROXY_BENCH_SECS (default 2) per rate case.
set -u
BUILD=${BUILD:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "bench/proxy: needs root (network namespace), skipped" >&2
	exit 0
fi
if [ ! -x "$BUILD/libexec/openshell/proxyd" ]; then
	echo "bench/proxy: $BUILD/libexec/openshell/proxyd is not built" >&2
	exit 1
fi
exec /usr/bin/python3 "$(dirname "$0")/proxy_bench.py" "$BUILD"
