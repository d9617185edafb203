#!/bin/sh
# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# bench/sandbox: create -> READY latency through the local compute
# driver (p50/p95 over 20) beside `bwrap --unshare-all true`.  Needs
# root (sandboxes do); the gateway runs in a network namespace of its
# own with nothing but loopback, in temporary XDG directories.
set -u
BUILD=${BUILD:-build}
B=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "skip: bench/sandbox needs root"
	exit 0
fi
for p in bin/openshell bin/openshell-gateway bin/openshell-sandbox \
    libexec/openshell/proxyd; do
	[ -x "$B/$p" ] || { echo "skip: $B/$p not built"; exit 0; }
done
command -v bwrap >/dev/null || { echo "skip: bwrap missing"; exit 0; }

NS=osbench-$$
T=$(mktemp -d /tmp/osbench.XXXXXX)
export HOME=$T XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state
cleanup() {
	ip netns exec "$NS" "$B/bin/openshell" gateway stop >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$NS" && ip -n "$NS" link set lo up || exit 1
out=$(ip netns exec "$NS" "$B/bin/openshell" gateway start --port 0) ||
    exit 1
port=$(printf '%s\n' "$out" | sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p')
ip netns exec "$NS" /usr/bin/python3 "$HERE/sandbox_bench.py" \
    "$B/python/proto" "$T/config/openshell/clusters/openshell/mtls" \
    "$port" 20
