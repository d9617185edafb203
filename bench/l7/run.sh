#!/bin/sh
# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# bench/l7: HTTPS through proxyd's TLS termination and L7 REST relay
# (issue 6) against direct TLS to the same server and against mitmdump
# (Debian's mitmproxy, upstream-verifying, its default) in one run, in
# a private network namespace (only lo, TEST-NET addresses; nothing
# leaves the machine).  proxyd runs with l7_bench.py as its parent (the
# harness of tests/integration/proxydharness.py) under a read-only
# `protocol: rest` policy for bench.test and *.bench.test; the upstream
# trusts a test CA made for this run (IPC_PROXY_TRUST, as the tests
# do), the client trusts the CA proxyd announces.  Origin (l7_serve)
# and client (l7_load) are C and OpenSSL, so python is not measured.
#
#   req/s keep-alive      GET / (256-byte answer) on L7_BENCH_CONNS
#                         (default 8) keep-alive connections for
#                         L7_BENCH_SECS (default 1) after 0.3 s warm-up
#   req/s conn/request    the same, a new connection (and a full TLS
#                         handshake, no client resumption) per request
#   latency p50/p99       of those requests (conn/request: connect to
#                         answer)
#   cpu/request           the proxy's CPU (user+sys) per request; for
#                         direct, the origin's (one TLS server end)
#   handshake hit/miss    L7_BENCH_HS_N (default 200) connections one
#                         after the other: the client's TLS handshake
#                         time once the tunnel is up, and connect(2) to
#                         the first answer; hit = a host name whose
#                         leaf is cached, miss = a new name under
#                         *.bench.test each time (for proxyd a miss is
#                         also a new upstream session); resumed = the
#                         client resumes its last session
#
# L7_BENCH_AB=path: another proxyd binary (an older build, say) as a
# fourth target, "proxyd-b", in the same rounds: A/B figures that the
# machine's load moves alike.  L7_BENCH_QUICK=1: request rates only (no
# mitmdump, no handshake series).
#
# Rate figures are the median of L7_BENCH_REPS (default 3) rounds in
# which the targets take turns.  Ratios > 1 favour proxyd; targets
# (issue 6): req/s >= 0.50 of direct and >= 2 x mitmdump.  Needs root
# (a network namespace) and mitmdump (Debian mitmproxy, mk/deps.sh).
set -u
BUILD=${BUILD:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "bench/l7: needs root (network namespace), skipped" >&2
	exit 0
fi
for f in "$BUILD/libexec/openshell/proxyd" "$BUILD/bench/l7/l7_serve" \
    "$BUILD/bench/l7/l7_load"; do
	if [ ! -x "$f" ]; then
		echo "bench/l7: $f is not built" >&2
		exit 1
	fi
done
if ! command -v mitmdump >/dev/null; then
	echo "bench/l7: mitmdump is not installed (Debian mitmproxy)" >&2
	exit 1
fi
exec /usr/bin/python3 "$(dirname "$0")/l7_bench.py" "$BUILD"
