#!/bin/sh
# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# bench/rpc: the gateway's gRPC port (issue 3).
#
# 1. Health unary calls/s and p50/p99 latency with 1, 16 and 64
#    concurrent streams on one mTLS HTTP/2 connection.  Ours: rpc_load
#    (h2load cannot present a client certificate) against a real
#    openshell-gateway on an ephemeral port.  Peer: h2load against
#    nghttpd serving the same response bytes (and a grpc-status
#    trailer) over TLS with the same certificate, in the same run; the
#    ratio is ours / peer (target >= 0.5).  rpc_load against nghttpd is
#    printed too, so the two load generators can be told apart.
# 2. WatchSandbox fan-out: 1000 subscribers on one sandbox, one log
#    line pushed, time until all have it (p50/p99/max).  The gateway
#    runs without a compute driver: the bench's sandbox is a record
#    only, so no supervisor boots on the same cores during the
#    measurement (a local driver starts one at CreateSandbox, and its
#    start-up, not the buses, then decides the figure).
#
# BUILD (default build) holds the binaries; RPC_BENCH_SECS (default 2)
# is each measurement's length (plus 0.5 s of warm-up).  Needs h2load
# and nghttpd (Debian nghttp2-client, nghttp2-server), and root (the
# gateway drops to _openshell).
set -u
BUILD=${BUILD:-build}
SECS=${RPC_BENCH_SECS:-2}
BIN=$BUILD/bench/rpc
GW=$BUILD/bin/openshell-gateway
HEALTH=openshell.v1.OpenShell/Health

for f in "$GW" "$BIN/rpc_load" "$BIN/watch_fanout"; do
	if [ ! -x "$f" ]; then
		echo "bench/rpc: $f is not built" >&2
		exit 1
	fi
done
for t in h2load nghttpd; do
	if ! command -v "$t" >/dev/null; then
		echo "bench/rpc: $t is not installed (nghttp2-client/-server)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/openshell-bench-rpc.XXXXXX") || exit 1
chmod 711 "$tmp"	# gatewayd (_openshell) must reach its state dir
gwpid=
ngpid=
cleanup() {
	[ -n "$ngpid" ] && kill "$ngpid" 2>/dev/null
	[ -n "$gwpid" ] && kill "$gwpid" 2>/dev/null
	wait
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The gateway says "ready <port>" on the fifo once it serves.
mkfifo "$tmp/ready"
"$GW" -d --compute-driver none --state-dir "$tmp/state" --port 0 \
    --ready-fd 3 \
    3>"$tmp/ready" </dev/null 2>"$tmp/gateway.err" &
gwpid=$!
read -r word port <"$tmp/ready"
if [ "${word:-}" != ready ]; then
	echo "bench/rpc: the gateway did not start:" >&2
	cat "$tmp/gateway.err" >&2
	exit 1
fi
PKI=$tmp/state/pki

# The peer serves the bytes of a real Health response.
mkdir -p "$tmp/htdocs/${HEALTH%/*}"
if ! "$BIN/rpc_load" -p "$port" -d "$PKI" -m 1 -t 0.2 -w 0 \
    -o "$tmp/htdocs/$HEALTH" >/dev/null; then
	echo "bench/rpc: Health failed against the gateway" >&2
	exit 1
fi
size=$(wc -c <"$tmp/htdocs/$HEALTH")
printf '\000\000\000\000\000' >"$tmp/req.bin"
nport=$("${PYTHON:-python3}" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nghttpd -a 127.0.0.1 -d "$tmp/htdocs" --no-content-length \
    --trailer 'grpc-status: 0' "$nport" "$PKI/server.key" \
    "$PKI/server.crt" >"$tmp/nghttpd.out" 2>&1 &
ngpid=$!

# "rps=R p50_us=A p99_us=B ..." -> the value of one key
field() {
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# h2load's per-request log (start, status, duration us) -> p50 p99
percentiles() {
	cut -f3 "$1" | sort -n | awk '{ v[NR] = $1 }
	    END { if (NR == 0) print "-1 -1";
		  else print v[int(NR / 2) + 1], v[int(NR * 99 / 100) + 1] }'
}

echo "Health unary, one TLS 1.3 connection, response $size bytes," \
    "${SECS}s per figure"
printf '%-8s %10s %7s %7s | %10s %7s %7s | %6s | %10s %6s\n' streams \
    "gateway/s" p50us p99us "nghttpd/s" p50us p99us ratio \
    "ctl/s" ratio
rc=0
below=0
for m in 1 16 64; do
	ours=$("$BIN/rpc_load" -p "$port" -d "$PKI" -m "$m" -t "$SECS") ||
	    rc=1
	ctl=$("$BIN/rpc_load" -r -W 5 -p "$nport" -d "$PKI" -m "$m" \
	    -t "$SECS") || rc=1
	h2load -c 1 -m "$m" -D "$SECS" --warm-up-time 500ms \
	    -d "$tmp/req.bin" -H 'content-type: application/grpc' \
	    -H 'te: trailers' --log-file="$tmp/h2load.log" \
	    "https://127.0.0.1:$nport/$HEALTH" >"$tmp/h2load.out" 2>&1 ||
	    rc=1
	peer=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' \
	    "$tmp/h2load.out")
	set -- $(percentiles "$tmp/h2load.log")
	o=$(field "$ours" rps)
	c=$(field "$ctl" rps)
	ratio=$(awk -v a="${o:-0}" -v b="${peer:-0}" \
	    'BEGIN { printf("%.2f", (b > 0) ? a / b : 0) }')
	cratio=$(awk -v a="${o:-0}" -v b="${c:-0}" \
	    'BEGIN { printf("%.2f", (b > 0) ? a / b : 0) }')
	awk -v r="$ratio" 'BEGIN { exit !(r < 0.5) }' && below=1
	printf '%-8s %10s %7s %7s | %10.0f %7s %7s | %6s | %10s %6s\n' \
	    "$m" "${o:--}" "$(field "$ours" p50_us)" \
	    "$(field "$ours" p99_us)" "${peer:-0}" "$1" "$2" "$ratio" \
	    "${c:--}" "$cratio"
done
echo "ratio = gateway / nghttpd under h2load (target >= 0.5);" \
    "ctl = nghttpd under rpc_load, its ratio gateway / ctl"
[ "$below" -eq 0 ] || echo "bench/rpc: BELOW TARGET (ratio < 0.5)"

echo "WatchSandbox fan-out (one log line pushed, 1000 subscribers" \
    "on 10 connections):"
if ! "$BIN/watch_fanout" -p "$port" -d "$PKI" -n 1000 -c 10; then
	rc=1
fi
exit $rc
