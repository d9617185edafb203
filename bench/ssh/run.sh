#!/bin/sh
# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
#
# bench/ssh: file upload throughput and exec latency through the
# gateway (issue 5), beside Debian's OpenSSH in the same run.
#
#   upload   `openshell sandbox upload` of a 1 GiB file and of a tree
#            of 10k small files to a real sandbox through a local
#            gateway (ssh -> ssh-proxy -> TLS -> gatewayd -> sshd ->
#            tar in the sandbox), against `tar cf - | ssh host tar xf -`
#            to an OpenSSH sshd on a loopback port; MiB/s and files/s,
#            median of SSH_BENCH_RUNS (default 3), ratio ours/peer
#            (target >= 0.8).
#   exec     `openshell sandbox exec NAME -- true` p50 (CLI start,
#            gRPC, ExecSandbox, a gateway-side SSH connection), `ssh
#            host true` p50 (a full OpenSSH connection), and the raw
#            session round trip on an open connection (ssh -O through a
#            ControlMaster: channel, exec, exit status) for both.
#
# Everything runs as root in a network namespace of its own holding
# only loopback: the gateway (temporary XDG directories), its sandbox,
# the peer sshd (own host key and authorized key in a temporary
# directory, Debian's default UsePAM) and every client.  The peer's
# user is `sandbox' (mk/deps.sh makes it), as in the sandbox: root's
# shell would run root's ~/.bashrc for every command (Debian's bash
# does for sshd), which is not what is measured.
set -u
BUILD=${BUILD:-build}
RUNS=${SSH_BENCH_RUNS:-3}
NEXEC=${SSH_BENCH_EXEC:-20}
SIZE_MB=${SSH_BENCH_MB:-1024}
NFILES=${SSH_BENCH_FILES:-10000}
B=$(cd "$BUILD" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "skip: bench/ssh needs root"
	exit 0
fi
for p in bin/openshell bin/openshell-gateway bin/openshell-sandbox \
    libexec/openshell/proxyd libexec/openshell/sshd; do
	[ -x "$B/$p" ] || { echo "skip: $B/$p not built"; exit 0; }
done
for c in ssh ssh-keygen tar; do
	command -v "$c" >/dev/null || { echo "skip: $c missing"; exit 0; }
done
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || { echo "skip: $SSHD missing (openssh-server)"; exit 0; }

NS=osbssh-$$
T=$(mktemp -d /tmp/osbssh.XXXXXX)
chmod 755 "$T"
export HOME=$T XDG_CONFIG_HOME=$T/config XDG_STATE_HOME=$T/state
madedir=
sshdpid=
cleanup() {
	[ -n "$sshdpid" ] && kill "$sshdpid" 2>/dev/null
	ip netns exec "$NS" "$B/bin/openshell" gateway stop >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	[ -n "$madedir" ] && rmdir /run/sshd 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
inns() {
	ip netns exec "$NS" "$@"
}
os() {
	inns "$B/bin/openshell" "$@"
}
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}
# the median of the numbers on stdin
median() {
	sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf("%.2f", b > 0 ? a / b : 0) }'
}

ip netns add "$NS" && ip -n "$NS" link set lo up || exit 1

# -- the peer: OpenSSH's sshd on a loopback port ---------------------------
if [ ! -d /run/sshd ]; then
	mkdir -p /run/sshd && chmod 755 /run/sshd && madedir=1
fi
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" || exit 1
ssh-keygen -q -t ed25519 -N '' -f "$T/userkey" || exit 1
cp "$T/userkey.pub" "$T/authorized_keys"
chmod 644 "$T/authorized_keys" "$T/userkey.pub"
pport=2222
cat >"$T/sshd_config" <<EOF
ListenAddress 127.0.0.1:$pport
HostKey $T/hostkey
AuthorizedKeysFile $T/authorized_keys
StrictModes no
UsePAM yes
PidFile $T/sshd.pid
LogLevel ERROR
EOF
# Not through inns: $! must be sshd itself (ip execs it), or cleanup
# kills only a subshell and the listener outlives the run.
ip netns exec "$NS" "$SSHD" -D -e -f "$T/sshd_config" 2>"$T/sshd.err" &
sshdpid=$!
PEER="-F /dev/null -i $T/userkey -p $pport -o StrictHostKeyChecking=no \
 -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"
up=0
for _ in $(seq 50); do
	# shellcheck disable=SC2086
	if inns ssh $PEER sandbox@127.0.0.1 true 2>/dev/null; then
		up=1
		break
	fi
	sleep 0.1	# sshd gives no readiness signal
done
if [ "$up" -ne 1 ]; then
	echo "bench/ssh: the peer sshd did not start:" >&2
	cat "$T/sshd.err" >&2
	exit 1
fi

# -- ours: a gateway and a sandbox ---------------------------------------
os gateway start --port 0 >"$T/gw.out" || { cat "$T/gw.out"; exit 1; }
cat >"$T/policy.yaml" <<'EOF'
version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /proc, /dev/urandom, /etc]
  read_write: [/sandbox, /tmp, /dev/null]
landlock:
  compatibility: best_effort
process:
  run_as_user: sandbox
  run_as_group: sandbox
EOF
os sandbox create --name bench --policy "$T/policy.yaml" >/dev/null 2>&1 ||
    { echo "bench/ssh: sandbox create failed" >&2; exit 1; }

# -- the data -------------------------------------------------------------
mkdir -p "$T/data" "$T/tree" "$T/peer"
chown sandbox "$T/peer"
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom >"$T/data/big" || exit 1
/usr/bin/python3 - "$T/tree" "$NFILES" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
r = os.urandom(4096)
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        f.write(r[: 200 + (i * 37) % 3800])
EOF
treemb=$(du -sm "$T/tree" | cut -f1)

# one timed upload, in ms: ours (sandbox upload) or the peer (tar | ssh)
up_ours() {
	os sandbox exec bench -- rm -rf /sandbox/up </dev/null >/dev/null
	t0=$(now_ms)
	os sandbox upload bench "$1" /sandbox/up/ --no-git-ignore \
	    >/dev/null 2>"$T/up.err" || { cat "$T/up.err" >&2; echo 0; return; }
	echo $(($(now_ms) - t0))
}
up_peer() {
	rm -rf "$T/peer/up"
	t0=$(now_ms)
	# shellcheck disable=SC2086
	tar cf - -C "$(dirname "$1")" "$(basename "$1")" | inns ssh $PEER \
	    sandbox@127.0.0.1 "mkdir -p $T/peer/up && tar xf - -C $T/peer/up" ||
	    { echo 0; return; }
	echo $(($(now_ms) - t0))
}

echo "bench/ssh: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "median of $RUNS"
printf '%-28s %12s %12s %7s\n' case ours openssh ratio
below=0
for what in big tree; do
	src=$T/data/big
	[ "$what" = tree ] && src=$T/tree
	: >"$T/ours.ms"
	: >"$T/peer.ms"
	for _ in $(seq "$RUNS"); do
		up_ours "$src" >>"$T/ours.ms"
		up_peer "$src" >>"$T/peer.ms"
	done
	# the bytes arrived whole
	if [ "$what" = big ] && [ "$(os sandbox exec bench -- sha256sum \
	    /sandbox/up/big </dev/null | cut -d' ' -f1)" != \
	    "$(sha256sum "$src" | cut -d' ' -f1)" ]; then
		echo "bench/ssh: the file uploaded to the sandbox differs" >&2
		exit 1
	fi
	o=$(median <"$T/ours.ms")
	p=$(median <"$T/peer.ms")
	if [ "$what" = big ]; then
		label="upload ${SIZE_MB} MiB file (MiB/s)"
		ov=$(awk -v ms="$o" -v mb="$SIZE_MB" \
		    'BEGIN { printf("%.0f", ms ? mb * 1000 / ms : 0) }')
		pv=$(awk -v ms="$p" -v mb="$SIZE_MB" \
		    'BEGIN { printf("%.0f", ms ? mb * 1000 / ms : 0) }')
	else
		label="upload $NFILES files, ${treemb} MiB (files/s)"
		ov=$(awk -v ms="$o" -v n="$NFILES" \
		    'BEGIN { printf("%.0f", ms ? n * 1000 / ms : 0) }')
		pv=$(awk -v ms="$p" -v n="$NFILES" \
		    'BEGIN { printf("%.0f", ms ? n * 1000 / ms : 0) }')
	fi
	r=$(ratio "$ov" "$pv")
	awk -v r="$r" 'BEGIN { exit !(r < 0.8) }' && below=1
	printf '%-28s %12s %12s %7s\n' "$label" "$ov" "$pv" "$r"
	printf '%-28s %12s %12s\n' "  (ms each: ours | peer)" \
	    "$(tr '\n' ' ' <"$T/ours.ms")" "$(tr '\n' ' ' <"$T/peer.ms")"
done
os sandbox exec bench -- rm -rf /sandbox/up </dev/null >/dev/null

# -- exec latency ---------------------------------------------------------
lat() {
	: >"$T/lat.ms"
	for _ in $(seq "$NEXEC"); do
		t0=$(now_ms)
		"$@" </dev/null >/dev/null 2>&1
		echo $(($(now_ms) - t0)) >>"$T/lat.ms"
	done
	median <"$T/lat.ms"
}
eo=$(lat os sandbox exec bench -- true)
# shellcheck disable=SC2086
ep=$(lat inns ssh $PEER sandbox@127.0.0.1 true)
os sandbox ssh-config bench >"$T/ssh_config"
CM="-o ControlMaster=auto -o ControlPersist=60"
# shellcheck disable=SC2086
inns ssh -F "$T/ssh_config" $CM -o ControlPath="$T/cm-ours" \
    openshell-bench true </dev/null
# shellcheck disable=SC2086
inns ssh $PEER $CM -o ControlPath="$T/cm-peer" sandbox@127.0.0.1 true \
    </dev/null
so=$(lat inns ssh -F "$T/ssh_config" -o ControlPath="$T/cm-ours" \
    openshell-bench true)
sp=$(lat inns ssh -F /dev/null -o ControlPath="$T/cm-peer" \
    sandbox@127.0.0.1 true)
inns ssh -F /dev/null -o ControlPath="$T/cm-ours" -O exit x 2>/dev/null
inns ssh -F /dev/null -o ControlPath="$T/cm-peer" -O exit x 2>/dev/null
printf '%-28s %10sms %10sms %7s\n' "exec true, p50 (new conn)" "$eo" "$ep" \
    "$(ratio "$ep" "$eo")"
printf '%-28s %10sms %10sms %7s\n' "session RTT, p50 (open conn)" "$so" \
    "$sp" "$(ratio "$sp" "$so")"
echo "ratio: throughput ours/openssh, latency openssh/ours (target >= 0.8" \
    "for uploads); exec = \`openshell sandbox exec -- true\` (gRPC" \
    "ExecSandbox) vs \`ssh host true\`"
[ "$below" -eq 0 ] || echo "bench/ssh: BELOW TARGET (upload ratio < 0.8)"
exit 0
