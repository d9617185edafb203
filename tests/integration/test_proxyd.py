# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""proxyd on its own (sandbox.md §2): this process is its parent
(proxydharness.FakeParent) and answers the identity queries, so the
pipelines are tested without the supervisor: CONNECT (§2.2 with the G10
fixes), SSRF (§2.6 with the G8 list), the forward proxy (§2.9, G9),
placeholders (§7.3), the outcome catalogue (§2.10) and the §9 log
fields.  Everything runs in a private network namespace holding only
`lo` with TEST-NET addresses."""

import hashlib
import os
import queue
import re
import resource
import socket
import subprocess
import threading

import pytest

from proxydenv import (CURL, PH, PROXY, load_policy, require_proxyd,
                       running_proxyd, send_secrets)
from proxydharness import (Server, connect_tunnel, control, http_exchange,
                           private_netns)

HOST = "203.0.113.10"
HOST6 = "2001:db8::10"
FORBIDDEN = b"HTTP/1.1 403 Forbidden\r\n\r\n"
TIMEOUT_S = 10

POLICY = """version: 1
network_policies:
  test:
    name: test hosts
    endpoints:
      - { host: allowed.test, port: 8080, allowed_ips: [203.0.113.0/24] }
      - { host: allowed.test, port: 9000, allowed_ips: [203.0.113.0/24] }
      - { host: refused.test, port: 9999, allowed_ips: [203.0.113.0/24] }
      - { host: default.test, port: 9000 }
      - { host: 203.0.113.10, port: 9000 }
      - { host: "2001:db8::10", port: 9000 }
      - { host: 127.0.0.1, port: 9000 }
      - { host: 169.254.169.254, port: 80 }
      - { host: "**.ssrf.test", port: 9000 }
      - { host: wide.test, port: 9000, allowed_ips: [0.0.0.0/0] }
      - { host: subnet.test, port: 3128, allowed_ips: [0.0.0.0/0] }
      - { host: loop.test, port: 9000, allowed_ips: [0.0.0.0/0] }
      - { port: 9002, allowed_ips: [203.0.113.10/32] }
      - host: l7.test
        port: 8080
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: "/ok/**" }
          - allow: { method: GET, path: /q, query: { v: "a*" } }
      - host: l7.test
        port: 9000
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: "/**" }
      - host: l7audit.test
        port: 9000
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: audit
        rules:
          - allow: { method: GET, path: "/**" }
    binaries:
      - { path: /usr/bin/curl }
"""

# Representative addresses of every special-purpose class (G8), reached
# by name so that the default (no allowed_ips) mode judges them.
SPECIAL = {
    "this-net": ["0.0.0.1", "0.255.255.254"],
    "private10": ["10.0.0.1", "10.255.255.254"],
    "cgn": ["100.64.0.1", "100.127.255.254"],
    "loopback": ["127.0.0.1", "127.255.255.254"],
    "linklocal": ["169.254.169.254", "169.254.0.1"],
    "private172": ["172.16.0.1", "172.31.255.254"],
    "ietf": ["192.0.0.1", "192.0.0.254"],
    "testnet1": ["192.0.2.1"],
    "relay6to4": ["192.88.99.1"],
    "private192": ["192.168.0.1", "192.168.255.254"],
    "bench": ["198.18.0.1", "198.19.255.254"],
    "testnet2": ["198.51.100.1"],
    "testnet3": ["203.0.113.1"],
    "multicast": ["224.0.0.1", "239.255.255.250"],
    "reserved": ["240.0.0.1", "255.255.255.255"],
    "v6loop": ["::1"],
    "v6unspec": ["::"],
    "v6mapped": ["::ffff:127.0.0.1", "::ffff:10.0.0.1"],
    "nat64": ["64:ff9b::a00:1"],
    "v6compat": ["::10.0.0.1"],
    "sixtofour": ["2002:a00:1::1", "2002:7f00:1::"],
    "v6doc": ["2001:db8::1"],
    "v6ula": ["fc00::1", "fd12:3456::1"],
    "v6ll": ["fe80::1"],
    "v6site": ["fec0::1"],
    "v6mcast": ["ff02::1"],
    "teredo": ["2001::1"],
    "discard": ["100::1"],
}


def hosts_file():
    lines = ["%s allowed.test refused.test default.test wide.test l7.test "
             "l7audit.test" % HOST,
             "%s any.hostless.test" % HOST,
             "10.200.0.1 subnet.test", "127.0.0.1 loop.test"]
    for cls, addrs in SPECIAL.items():
        for i, a in enumerate(addrs):
            lines.append("%s %s%d.ssrf.test" % (a, cls, i))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    require_proxyd()
    with private_netns(["10.200.0.1/32", HOST + "/32"]):
        subprocess.run(["ip", "-6", "addr", "add", HOST6 + "/128", "dev",
                        "lo", "nodad"], check=True)
        servers = [Server(HOST, 8080, "http"), Server(HOST, 9000, "echo"),
                   Server(HOST, 9002, "echo")]
        state = {"exe": CURL, "ok": True, "error": ""}

        def ident(req):
            return {"ok": state["ok"], "error": state["error"], "pid": 4242,
                    "exe": state["exe"], "ancestors": ["/bin/bash"],
                    "cmdline": ["/tmp/script.sh"]}
        with running_proxyd(POLICY, servers=servers, secrets={
                PH + "API_KEY": "s3cret-value", PH + "USER": "alice"},
                hosts=hosts_file(), ident=ident,
                ctl_path=str(tmp_path_factory.mktemp("ctl") /
                             "proxyd.sock")) as parent:
            # host-bound secrets (G7); the unbound ones above are never
            # used
            send_secrets(parent, {
                PH + "API_KEY": ["s3cret-value", ["allowed.test"]],
                PH + "USER": ["alice", ["allowed.test"]],
                PH + "OTHER": ["other-secret", ["other.test"]]})
            env = type("Env", (), {})()
            env.parent, env.state, env.servers = parent, state, servers
            env.ctl = parent.ctl_path
            # leaving the block: proxyd survived everything, sanitizers
            # (SAN=1) said nothing
            yield env


@pytest.fixture(autouse=True)
def identity(env):
    env.state.update(exe=CURL, ok=True, error="")
    yield env.state


def deny_reason(env, mark, target, kind="CONNECT"):
    """The deny line of this target after mark (a line of an earlier
    test may come after mark: lines are written a loop turn later)."""
    host, port = target.rsplit(":", 1)
    return env.parent.log.wait_for(
        r"^.*%s .*dst_host=%s dst_port=%s .*action=deny" % (
            kind, re.escape(host), port), mark)


def connect_forbidden(env, target, timeout=TIMEOUT_S):
    """CONNECT target must get the bare 403; returns the log mark taken
    before it, for the caller's look at why."""
    mark = env.parent.log.mark()
    out = http_exchange(PROXY, b"CONNECT %s HTTP/1.1\r\n\r\n" %
                        target.encode(), timeout=timeout)
    assert out == FORBIDDEN
    return mark


# -- CONNECT ------------------------------------------------------------------

def test_connect_allowed_tunnel_keeps_early_bytes(env):
    mark = env.parent.log.mark()
    s, status, rest = connect_tunnel(PROXY, "allowed.test:9000",
                                     extra=b"early bytes")
    with s:
        assert status == "HTTP/1.1 200 Connection Established"
        got = rest
        while len(got) < len(b"early bytes"):
            got += s.recv(100)
        assert got == b"early bytes"       # G10: not discarded
        s.sendall(b"ping")
        assert s.recv(100) == b"ping"
    line = env.parent.log.wait_for(r"CONNECT .*action=allow", mark)
    for field in ("src_addr=", "src_port=", "proxy_addr=10.200.0.1:3128",
                  "dst_host=allowed.test", "dst_port=9000",
                  "binary=/usr/bin/curl", "binary_pid=4242",
                  "ancestors=/bin/bash", "cmdline=/tmp/script.sh",
                  "engine=opa", "policy=test"):
        assert field in line, (field, line)


def test_identity_query_names_both_ends(env):
    with socket.create_connection(PROXY) as s:
        s.sendall(b"CONNECT allowed.test:9000 HTTP/1.1\r\n\r\n")
        s.recv(100)
        src, sport = s.getsockname()
    reqs = [r for r in env.parent.idents if r["sport"] == sport]
    assert reqs == [{"src": src, "sport": sport, "dst": "10.200.0.1",
                     "dport": 3128}]


def test_connect_unlisted_host_403_bare(env):
    mark = connect_forbidden(env, "unlisted.test:9000")
    line = deny_reason(env, mark, "unlisted.test:9000")
    assert "dst_host=unlisted.test" in line
    assert "policy=-" in line
    assert "not in policy" in line


def test_connect_wrong_port_403(env):
    mark = connect_forbidden(env, "allowed.test:9001")
    assert "not in policy" in deny_reason(env, mark, "allowed.test:9001")


def test_connect_wrong_binary_403(env, identity):
    identity["exe"] = "/usr/bin/python3"
    mark = connect_forbidden(env, "allowed.test:9000")
    line = deny_reason(env, mark, "allowed.test:9000")
    assert "binary=/usr/bin/python3" in line
    assert "not allowed in policy" in line


def test_connect_identity_failure_403(env, identity):
    identity.update(ok=False, error="socket shared between processes")
    mark = connect_forbidden(env, "allowed.test:9000")
    assert "socket shared between processes" in deny_reason(
        env, mark, "allowed.test:9000")


@pytest.mark.parametrize("target", ["127.0.0.1:9000",
                                    "169.254.169.254:80"])
def test_connect_literal_always_blocked(env, target):
    mark = connect_forbidden(env, target)
    env.parent.log.wait_for(r"CONNECT blocked: .*always-blocked", mark)


def test_connect_testnet_without_allowed_ips_403(env):
    mark = connect_forbidden(env, "default.test:9000")
    env.parent.log.wait_for(r"CONNECT blocked: default.test resolves to "
                            r"internal address 203.0.113.10", mark)


@pytest.mark.parametrize("name", ["%s%d.ssrf.test" % (c, i)
                                  for c, a in SPECIAL.items()
                                  for i in range(len(a))])
def test_connect_special_purpose_403(env, name):
    mark = connect_forbidden(env, "%s:9000" % name)
    line = env.parent.log.wait_for(r"CONNECT blocked: %s " % name, mark)
    assert "internal address" in line


def test_connect_allowed_ips_wide(env):
    s, status, _ = connect_tunnel(PROXY, "wide.test:9000")
    s.close()
    assert status == "HTTP/1.1 200 Connection Established"


@pytest.mark.parametrize("target", ["subnet.test:3128", "loop.test:9000"])
def test_connect_allowed_ips_always_blocked(env, target):
    # allowed_ips 0.0.0.0/0 covers them, but loopback and the sandbox
    # subnet (the proxy itself) stay blocked (G8).
    mark = connect_forbidden(env, target)
    env.parent.log.wait_for(r"CONNECT blocked: .*always-blocked", mark)


def test_connect_hostless_allowed_ips(env):
    s, status, _ = connect_tunnel(PROXY, "any.hostless.test:9002")
    with s:
        assert status == "HTTP/1.1 200 Connection Established"
        s.sendall(b"x")
        assert s.recv(10) == b"x"


def test_connect_literal_ip_implicit_allowlist(env):
    s, status, _ = connect_tunnel(PROXY, "%s:9000" % HOST)
    with s:
        assert status == "HTTP/1.1 200 Connection Established"


def test_connect_ipv6_literal(env):
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((HOST6, 9000))
    srv.listen(4)
    try:
        s, status, _ = connect_tunnel(PROXY, "[%s]:9000" % HOST6)
        with s:
            assert status == "HTTP/1.1 200 Connection Established"
            c, peer = srv.accept()
            with c:
                c.sendall(b"v6")
                assert s.recv(10) == b"v6"
    finally:
        srv.close()
    connect_forbidden(env, "[::1]:9000")


def test_connect_refused_upstream_502(env):
    mark = env.parent.log.mark()
    out = http_exchange(PROXY, b"CONNECT refused.test:9999 HTTP/1.1\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
    env.parent.log.wait_for(r"upstream connect failed", mark)


def test_connect_bad_target_closes(env):
    for t in (b"nocolon", b"[::1]443", b"a/b:1", b"host:0", b"[x]:1"):
        out = http_exchange(PROXY, b"CONNECT %s HTTP/1.1\r\n\r\n" % t)
        assert out == b"", t


def test_inference_local_without_router(env):
    """No routerd (this harness runs proxyd alone): the 200, then the
    tunnel is closed and the log says why (sandbox.md §6.5)."""
    mark = env.parent.log.mark()
    out = http_exchange(PROXY, b"CONNECT inference.local:443 HTTP/1.1\r\n\r\n")
    assert out == b"HTTP/1.1 200 Connection Established\r\n\r\n"
    env.parent.log.wait_for(r"inference interception denied: "
                            r"(no TLS termination|no inference router)", mark)


def test_head_too_large_431(env):
    req = (b"GET http://allowed.test:8080/ HTTP/1.1\r\nX-Big: " +
           b"a" * 9000 + b"\r\n\r\n")
    out = http_exchange(PROXY, req)
    assert out.startswith(b"HTTP/1.1 431 ")


# -- forward proxy ------------------------------------------------------------

def test_forward_allowed(env):
    mark = env.parent.log.mark()
    out = http_exchange(PROXY, b"GET http://allowed.test:8080/a?b=c HTTP/1.1"
                        b"\r\nHost: allowed.test:8080\r\n"
                        b"Proxy-Connection: keep-alive\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    body = out.split(b"\r\n\r\n", 1)[1]
    assert body.startswith(b"GET /a?b=c HTTP/1.1\r\n")
    assert b"Connection: close\r\n" in body
    assert b"Via: 1.1 openshell-sandbox\r\n" in body
    assert b"Proxy-Connection" not in body
    line = env.parent.log.wait_for(r"FORWARD .*action=allow", mark)
    assert "method=GET" in line and 'path="/a?b=c"' in line
    assert "dst_host=allowed.test" in line


def test_forward_unlisted_403(env):
    mark = env.parent.log.mark()
    out = http_exchange(PROXY, b"GET http://unlisted.test:8080/ HTTP/1.1\r\n"
                        b"\r\n")
    assert out == FORBIDDEN
    deny_reason(env, mark, "unlisted.test:8080", "FORWARD")


def test_forward_https_400(env):
    out = http_exchange(PROXY, b"GET https://allowed.test/ HTTP/1.1\r\n\r\n")
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    cl = [h for h in head.split(b"\r\n")
          if h.lower().startswith(b"content-length:")]
    assert int(cl[0].split(b":")[1]) == len(body)       # G9
    assert b"CONNECT" in body


def test_forward_placeholders_resolved(env):
    out = http_exchange(PROXY, (
        "GET http://allowed.test:8080/ HTTP/1.1\r\n"
        "Authorization: Bearer %sAPI_KEY\r\nX-User: %sUSER\r\n\r\n" %
        (PH, PH)).encode())
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    body = out.split(b"\r\n\r\n", 1)[1]
    assert b"Authorization: Bearer s3cret-value\r\n" in body
    assert b"X-User: alice\r\n" in body
    assert PH.encode() not in body


def test_forward_unknown_placeholder_500(env):
    n = len(env.servers[0].heads)
    out = http_exchange(PROXY, ("GET http://allowed.test:8080/ HTTP/1.1\r\n"
                                "X-Key: %sNOPE\r\n\r\n" % PH).encode())
    assert out.startswith(b"HTTP/1.1 500 ")
    assert b"Content-Length: 0\r\n" in out
    assert len(env.servers[0].heads) == n      # nothing went upstream


def test_forward_placeholder_unbound_host_500(env):
    # OTHER is bound to other.test: never substituted for allowed.test
    n = len(env.servers[0].heads)
    out = http_exchange(PROXY, ("GET http://allowed.test:8080/ HTTP/1.1\r\n"
                                "X-Key: %sOTHER\r\n\r\n" % PH).encode())
    assert out.startswith(b"HTTP/1.1 500 ")
    assert len(env.servers[0].heads) == n


def test_forward_host_mismatch_400(env):
    out = http_exchange(PROXY, b"GET http://allowed.test:8080/ HTTP/1.1\r\n"
                        b"Host: evil.test\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ")


def test_forward_refused_502(env):
    out = http_exchange(PROXY, b"GET http://refused.test:9999/ HTTP/1.1\r\n"
                        b"\r\n")
    assert out.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")


def test_forward_bad_uri_400(env):
    out = http_exchange(PROXY, b"GET /relative HTTP/1.1\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ")


def test_policy_reload(env):
    load_policy(env.parent, POLICY.replace("allowed.test, port: 9000",
                                           "other.test, port: 9000"))
    try:
        out = http_exchange(PROXY,
                            b"CONNECT allowed.test:9000 HTTP/1.1\r\n\r\n")
        assert out == FORBIDDEN
    finally:
        load_policy(env.parent, POLICY)
    s, status, _ = connect_tunnel(PROXY, "allowed.test:9000")
    s.close()
    assert status == "HTTP/1.1 200 Connection Established"


def test_dns_failure_403(env):
    # Not in the hosts override: evdns asks the system's nameservers,
    # none reachable from the private namespace (the query must neither
    # block the loop nor trip the seccomp filter).
    mark = connect_forbidden(env, "nodns.ssrf.test:9000", timeout=30)
    env.parent.log.wait_for(r"CONNECT blocked: DNS resolution failed for "
                            r"nodns.ssrf.test:9000", mark)
    s, status, _ = connect_tunnel(PROXY, "allowed.test:9000")
    s.close()
    assert status == "HTTP/1.1 200 Connection Established"


def upstream_seen(env):
    """(head, body, extra) of the next request the HTTP server saw."""
    return env.servers[0].done.get(timeout=10)


def drain(q):
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return


def test_forward_body_exact_pipelined_dropped(env):
    # G9: one request goes up, its body exactly; a second, pipelined
    # request never reaches the upstream.
    drain(env.servers[0].done)
    out = http_exchange(PROXY, b"POST http://allowed.test:8080/one HTTP/1.1"
                        b"\r\nContent-Length: 5\r\n\r\nhello"
                        b"GET http://allowed.test:8080/two HTTP/1.1\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    head, body, extra = upstream_seen(env)
    assert head.startswith(b"POST /one HTTP/1.1\r\n")
    assert body == b"hello"
    assert extra == b""


def test_forward_chunked_body(env):
    drain(env.servers[0].done)
    chunked = b"5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n"
    out = http_exchange(PROXY, b"POST http://allowed.test:8080/c HTTP/1.1"
                        b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked +
                        b"GET /smuggled HTTP/1.1\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    head, body, extra = upstream_seen(env)
    assert body == chunked
    assert extra == b""


@pytest.mark.parametrize("hdrs", [
    b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
    b"Content-Length: 3\r\nContent-Length: 4\r\n",
    b"Transfer-Encoding: gzip\r\n",
])
def test_forward_ambiguous_framing_400(env, hdrs):
    n = len(env.servers[0].heads)
    out = http_exchange(PROXY, b"POST http://allowed.test:8080/ HTTP/1.1"
                        b"\r\n" + hdrs + b"\r\nabc")
    assert out.startswith(b"HTTP/1.1 400 ")
    assert len(env.servers[0].heads) == n


def test_tunnel_bulk_backpressure_half_close(env):
    spliced = control(env.ctl, "IPC_CTL_STATS")["tunnels_spliced"]
    data = os.urandom(8 * 1024 * 1024)
    s, status, rest = connect_tunnel(PROXY, "allowed.test:9000",
                                     timeout=60)
    assert status == "HTTP/1.1 200 Connection Established"

    def writer():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)      # passed on as a half-close
    t = threading.Thread(target=writer)
    t.start()
    got = bytearray(rest)
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        got += b
    t.join()
    s.close()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    # the raw tunnel left the bufferevents for splice(2)
    assert control(env.ctl, "IPC_CTL_STATS")["tunnels_spliced"] > spliced


def test_connection_limit(env):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    limit = control(env.ctl, "IPC_CTL_STATS")["connections_max"]
    base = control(env.ctl, "IPC_CTL_STATS")["connections_open"]
    mark = env.parent.log.mark()
    idle = []
    try:
        for _ in range(limit - base):
            idle.append(socket.create_connection(PROXY))
        env.parent.log.wait_for(r"connection limit %d reached" % limit,
                                mark)
        extra = socket.create_connection(PROXY, timeout=TIMEOUT_S)
        extra.sendall(b"CONNECT allowed.test:9000 HTTP/1.1\r\n\r\n")
        idle.pop().close()              # a slot frees: it is served
        assert extra.recv(100).startswith(b"HTTP/1.1 200 ")
        extra.close()
    finally:
        for c in idle:
            c.close()


def test_control_stats(env):
    before = control(env.ctl, "IPC_CTL_STATS")
    http_exchange(PROXY, b"CONNECT unlisted.test:9000 HTTP/1.1\r\n\r\n")
    s, _, _ = connect_tunnel(PROXY, "allowed.test:9000")
    st = control(env.ctl, "IPC_CTL_STATS")
    s.close()
    assert st["connections_total"] >= before["connections_total"] + 2
    assert st["denied"] == before["denied"] + 1
    assert st["allowed"] == before["allowed"] + 1
    assert st["connections_open"] >= 1
    assert st["policy_rules"] == 1
    assert st["policy"] == "loaded"
    dump = control(env.ctl, "IPC_CTL_DUMP")
    assert any("CONNECT " in e and "dst_host=unlisted.test" in e
               for e in dump["events"])


@pytest.mark.parametrize("path,code,decision", [
    (b"/ok/x", 200, "allow"), (b"/no", 403, "deny"),
    (b"/q?v=abc", 200, "allow"), (b"/q?v=zzz", 403, "deny"),
    (b"/q?v=a%62", 200, "allow")])
def test_forward_l7_rules(env, path, code, decision):
    mark = env.parent.log.mark()
    out = http_exchange(PROXY, b"GET http://l7.test:8080%s HTTP/1.1\r\n\r\n"
                        % path)
    assert out.startswith(b"HTTP/1.1 %d " % code), out
    line = env.parent.log.wait_for(r"FORWARD_L7 ", mark)
    assert "l7_decision=%s" % decision in line
    assert "l7_protocol=rest" in line and "policy=test" in line
    if decision == "deny":
        assert "not permitted by policy" in line


def test_policy_bigger_than_default_frame(env):
    # 16 KiB is libipc's default frame limit; proxyd takes up to 4 MiB.
    big = POLICY + "".join(
        "  extra%03d:\n    endpoints:\n      - { host: h%03d.example.test, "
        "port: 443 }\n    binaries:\n      - { path: /usr/bin/curl }\n" %
        (i, i) for i in range(400))
    assert len(big) > 32 * 1024
    load_policy(env.parent, big, r"policy loaded: 401 network rules")
    load_policy(env.parent, POLICY, r"policy loaded: 1 network rules")


def test_connect_l7_enforced_tls_without_termination_closed(env):
    # Enforced REST rules: the tunnel goes through the L7 relay; TLS
    # it cannot terminate is closed (fail closed, G6a), not relayed raw.
    hello = b"\x16\x03\x01\x00\x05hello"
    mark = env.parent.log.mark()
    s, status, _ = connect_tunnel(PROXY, "l7.test:9000")
    assert status == "HTTP/1.1 200 Connection Established"
    s.sendall(hello)
    assert s.recv(100) == b""
    s.close()
    line = env.parent.log.wait_for(r"L7_REQUEST .*l7_decision=deny", mark)
    assert "TLS termination unavailable" in line
    # audit mode: relayed raw, as the reference does
    s, status, _ = connect_tunnel(PROXY, "l7audit.test:9000")
    assert status == "HTTP/1.1 200 Connection Established"
    s.sendall(hello)
    got = b""
    while len(got) < len(hello):
        got += s.recv(100)
    assert got == hello
    s.close()
