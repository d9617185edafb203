#!/bin/sh
# The main job on this machine: a local gateway, a sandbox whose policy
# allows one local web server and denies another, and the proxy's log
# lines that prove it.  Everything runs in network namespaces made for the
# demo (the "web" is two TEST-NET-3 addresses in a namespace of its own),
# so nothing leaves this machine and the host's network is not touched.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root" >&2; exit 1; }
B=$(cd "${BUILD:-build}" && pwd)
D=$(pwd)/demo
ns=osdemo$$
web=osdemoweb$$
tmp=$(mktemp -d)

cleanup() {
	ip netns exec "$ns" env XDG_CONFIG_HOME="$tmp/config" \
	    XDG_STATE_HOME="$tmp/state" "$B/bin/openshell" gateway stop \
	    >/dev/null 2>&1 || true
	[ -f "$tmp/web.pid" ] && kill "$(cat "$tmp/web.pid")" 2>/dev/null
	ip netns del "$ns" 2>/dev/null || true
	ip netns del "$web" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# Two namespaces joined by a veth pair: the gateway's, and the "web".
ip netns add "$ns"
ip netns add "$web"
ip link add "osd$$" netns "$ns" type veth peer name "osw$$" netns "$web"
ip -n "$ns" link set lo up
ip -n "$ns" addr add 203.0.113.1/24 dev "osd$$"
ip -n "$ns" link set "osd$$" up
ip -n "$web" link set lo up
ip -n "$web" addr add 203.0.113.10/24 dev "osw$$"
ip -n "$web" addr add 203.0.113.20/24 dev "osw$$"
ip -n "$web" link set "osw$$" up
printf '203.0.113.10 docs.demo\n203.0.113.20 exfil.demo\n' >"$tmp/hosts"
mkdir -p "$tmp/www"
echo "hello from docs.demo" >"$tmp/www/index.html"
ip netns exec "$web" /usr/bin/python3 -m http.server 8080 \
    --directory "$tmp/www" >"$tmp/web.log" 2>&1 &
echo $! >"$tmp/web.pid"

run() {
	ip netns exec "$ns" env XDG_CONFIG_HOME="$tmp/config" \
	    XDG_STATE_HOME="$tmp/state" OPENSHELL_HOSTS_FILE="$tmp/hosts" \
	    "$B/bin/openshell" "$@"
}

echo "== openshell gateway start"
run gateway start --port 0
echo
echo "== the policy (demo/policy.yaml): curl may reach docs.demo:8080, nothing else"
sed -n '/^network_policies/,$p' "$D/policy.yaml"
echo
echo "== openshell inference set: inference.local goes to a (mock) model route"
run provider create --name demo-llm --type openai \
    --credential OPENAI_API_KEY=sk-demo-secret \
    --config OPENAI_BASE_URL=mock://demo
run inference set --provider demo-llm --model demo-model
echo
echo "== openshell sandbox create --policy demo/policy.yaml -- <three curls>"
run sandbox create --name demo --policy "$D/policy.yaml" -- sh -c '
	for h in docs.demo exfil.demo; do
		code=$(curl -s -o /tmp/body -w "%{http_code}" http://$h:8080/)
		echo "curl http://$h:8080/ -> HTTP $code $(cat /tmp/body)"
	done
	echo "curl https://inference.local/v1/chat/completions ->"
	curl -s https://inference.local/v1/chat/completions \
	    -H "content-type: application/json" \
	    -d "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" |
	    cut -c1-150'
echo
echo "== openshell logs demo (the proxy's decisions)"
run logs demo --source sandbox | grep -E 'FORWARD|CONNECT|inference routed' || true
echo
echo "== openshell sandbox get demo"
run sandbox get demo | sed -n '1,12p'
run sandbox delete demo
