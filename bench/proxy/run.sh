#!/bin/sh
# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# bench/proxy: proxyd (issue 4) against a direct TCP connection to the
# same server and against tinyproxy, in one run, in private network
# namespaces (TEST-NET addresses and veths only; nothing leaves the
# machine).  proxyd runs as the product runs it: under the real
# supervisor (openshell-sandbox, local mode: a policy file, no
# gateway), its clients inside the sandbox's agent (proxy_load agent,
# /sandbox/proxy_load in the policy), so every CONNECT pays the real
# identity lookup (svc/sandbox/ident.c) and the agent's veth.  The
# other columns' clients sit in a client netns behind a veth of their
# own, so all four cross one veth (MTU 1500) to their proxy or server.
# The server and the clients are proxy_load (C), so python is not what
# is measured.
#
#   tunnel down|up xN   bulk MB/s (MiB/s) through 1 and 8 concurrent
#                       CONNECT tunnels, server->client and back, for
#                       PROXY_BENCH_SECS (default 0.5) after 0.2 s of
#                       warm-up; the median of PROXY_BENCH_REPS
#                       (default 3) rounds in which the targets take
#                       turns (other load on the machine hits all)
#   cpu                 the proxy's CPU (user+sys) per GiB moved
#   all cpu             client + server + proxy CPU per GiB: what the
#                       machine pays per byte (direct: client + server)
#   cores               the proxy's CPU seconds per wall second
#   first byte p50/p99  connect(2) to the first byte of a 64-byte
#                       answer through the tunnel, over
#                       PROXY_BENCH_LAT_N (default 1000) connections
#                       one after the other; the median of REPS
#                       interleaved rounds
#   added lat           the same minus direct
#   ident cpu           the supervisor's CPU per CONNECT (identity)
#   RATE ...            the same bulk cases to an upstream host behind
#                       a veth shaped with tbf to PROXY_BENCH_RATE
#                       (default 4gbit): a network-bound link
#   idle tunnels        proxyd down x1 again with 200 idle CONNECT
#                       tunnels open (they must not cost the busy one)
#   policy              policy_bench: ns per decision at 10/1k/10k rules
#
# PROXY_BENCH_ONLY=latency runs the first-byte rows alone (for a
# profiler's sake); PROXY_BENCH_LOG=1 prints the supervisor's and
# proxyd's log at the end.
#
# Columns: direct (client to server), proxyd, tinyproxy (Debian,
# started here, CONNECT allowed to the server's port only), floor
# (proxy_load relay: a bare blocking splice relay, no policy and no
# identity, the best any user-space proxy does on this machine).
# Ratios: proxyd/direct, proxyd/tinyproxy, proxyd/floor.
#
# The physics: on loopback and veths every byte costs CPU at both ends
# of each TCP connection, and a relay adds a second connection, so it
# roughly doubles the machine's work per byte ("all cpu": direct about
# 0.5-0.6 of any relay's, the floor's included).  When the CPU is the
# bottleneck (2 cores here) no relay gets much past that fraction of
# direct; on a link slower than the CPU ("RATE" rows) the relay keeps
# up with direct.
#
# Targets (issue 4): throughput >= 0.90 of direct and >= tinyproxy;
# added latency <= tinyproxy's; policy <= 1 us at 10k.  Needs root
# (network namespaces), iproute2 with tc (tbf), the sandbox and
# _openshell users (as the security suite), and tinyproxy (Debian
# tinyproxy, mk/deps.sh).
set -u
BUILD=${BUILD:-build}
if [ "$(id -u)" -ne 0 ]; then
	echo "bench/proxy: needs root (network namespace), skipped" >&2
	exit 0
fi
for f in "$BUILD/libexec/openshell/proxyd" "$BUILD/bin/openshell-sandbox" \
    "$BUILD/bench/proxy/proxy_load" "$BUILD/bench/policy_bench"; do
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
