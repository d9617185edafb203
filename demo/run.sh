#!/bin/sh
# The main job on this machine: start a local gateway, show its process
# tree and what each daemon reports, then stop it.  (The sandbox demo,
# a policy allowing one local endpoint and denying another, arrives with
# the sandbox runtime.)
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
state=$(mktemp -d)
trap 'kill "$gw" 2>/dev/null; wait "$gw" 2>/dev/null; rm -rf "$state"' EXIT

"$B"/bin/openshell-gateway -d --state-dir "$state" 2>"$state/stderr" &
gw=$!
# Wait for the tree's setup handshake, not for a fixed time.
i=0
until grep -q 'gateway ready' "$state/stderr" 2>/dev/null; do
	kill -0 "$gw" 2>/dev/null || { cat "$state/stderr"; exit 1; }
	i=$((i + 1)); [ $i -lt 200 ] || { echo "gateway did not start"; exit 1; }
	sleep 0.05
done
echo "== gateway up (pid $gw); its children:"
ps -o pid,user,comm --ppid "$gw"
for svc in gatewayd watchd logd; do
	echo "== openshell admin $svc status"
	"$B"/bin/openshell admin "$svc" status --state-dir "$state"
done
echo "== openshell admin logd dump"
"$B"/bin/openshell admin logd dump --state-dir "$state" | tail -n 12
