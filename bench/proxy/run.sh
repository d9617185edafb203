#!/bin/sh
# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# bench/proxy: proxyd (issue 4) against a direct TCP connection to the
# same server and against tinyproxy, in one run, in a private network
# namespace (only lo, TEST-NET addresses; nothing leaves the machine).
# proxyd runs with proxy_bench.py as its parent (the harness of
# tests/integration/proxydharness.py); the server and the clients are
# proxy_load (C), so python is not what is measured.
#
#   tunnel down|up xN   bulk MB/s (MiB/s) through 1 and 8 concurrent
#                       CONNECT tunnels, server->client and back, for
#                       PROXY_BENCH_SECS (default 0.5) after 0.2 s of
#                       warm-up; the median of PROXY_BENCH_REPS
#                       (default 3) rounds in which the targets take
#                       turns (other load on the machine hits all)
#   proxy cpu           the proxy's CPU (user+sys) per GiB moved
#   first byte p50/p99  connect(2) to the first byte of a 64-byte
#                       answer through the tunnel, over
#                       PROXY_BENCH_LAT_N (default 1000) connections
#                       one after the other
#   added lat           the same minus direct
#   idle tunnels        proxyd down x1 again with 200 idle CONNECT
#                       tunnels open (they must not cost the busy one)
#   policy              policy_bench: ns per decision at 10/1k/10k rules
#
# Columns: direct (client to server), proxyd, tinyproxy (Debian,
# started here on a free port, CONNECT allowed to the server's port
# only), floor (proxy_load relay: a bare blocking splice relay, no
# policy and no identity, the best any user-space proxy does on this
# machine: the second TCP connection on loopback roughly doubles the
# kernel's work per byte, so "direct" is out of any proxy's reach when
# CPU-bound).  Ratios: proxyd/direct, proxyd/tinyproxy, proxyd/floor.
#
# Targets (issue 4): throughput >= 0.90 of direct and >= tinyproxy;
# added latency <= tinyproxy's; policy <= 1 us at 10k.  Needs root (a
# network namespace) and tinyproxy (Debian tinyproxy, mk/deps.sh).
set -u
BUILD=${BUILD:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "bench/proxy: needs root (network namespace), skipped" >&2
	exit 0
fi
for f in "$BUILD/libexec/openshell/proxyd" "$BUILD/bench/proxy/proxy_load" \
    "$BUILD/bench/policy_bench"; do
	if [ ! -x "$f" ]; then
		echo "bench/proxy: $f is not built" >&2
		exit 1
	fi
done
if ! command -v tinyproxy >/dev/null; then
	echo "bench/proxy: tinyproxy is not installed (mk/deps.sh)" >&2
	exit 1
fi
/usr/bin/python3 "$(dirname "$0")/proxy_bench.py" "$BUILD" || exit 1
echo "policy decision time (target <= 1000 ns at 10000 rules):"
exec "$BUILD/bench/policy_bench"
