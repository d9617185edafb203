#!/bin/sh
# Install every Debian package the project needs, and its system users.
# Idempotent: when everything is present it only runs dpkg-query.
set -eu

# Build and runtime libraries.
BUILD_PKGS="build-essential pkg-config clang libclang-rt-14-dev
libssl-dev openssl libevent-dev libprotobuf-c-dev protobuf-c-compiler
protobuf-compiler libsqlite3-dev sqlite3 libssh-dev libseccomp-dev
libnl-3-dev libnl-route-3-dev libmsgpack-dev libnghttp2-dev libyaml-dev
libjansson-dev libncurses-dev libcmocka-dev libbsd-dev iproute2"

# Python SDK and integration tests.
PY_PKGS="python3 python3-grpcio python3-protobuf protobuf-compiler-grpc
python3-pytest python3-pexpect python3-requests python3-hpack"

# Tools the tests drive, and peers the benchmarks measure against.
TOOL_PKGS="curl git tmux gdb openssh-client openssh-server
openssh-sftp-server tinyproxy squid mitmproxy bubblewrap nghttp2-client
nghttp2-server wrk iperf3 hyperfine"

missing=""
for p in $BUILD_PKGS $PY_PKGS $TOOL_PKGS; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing:$missing (run as root)" >&2
		exit 1
	fi
	echo "deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Services pulled in as test peers must not start on install.
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	log=$(mktemp)
	if ! apt-get install -y -qq --no-install-recommends $missing >"$log" 2>&1; then
		cat "$log" >&2; rm -f "$log" /usr/sbin/policy-rc.d; exit 1
	fi
	rm -f "$log"
	rm -f /usr/sbin/policy-rc.d
fi

# The unprivileged user every daemon drops to, and the agent's user.
if [ "$(id -u)" -eq 0 ]; then
	getent passwd _openshell >/dev/null ||
	    useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin _openshell
	getent passwd sandbox >/dev/null ||
	    useradd --system --create-home --home-dir /home/sandbox \
	    --shell /bin/bash sandbox
fi
exit 0
