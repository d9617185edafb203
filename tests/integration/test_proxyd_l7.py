# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""proxyd's L7 REST relay on plain-HTTP tunnels (sandbox.md §2.8 with the
G6/G7 fixes), proxyd driven directly with this process as its parent
(proxydharness.FakeParent).  An origin server on a TEST-NET address in a
private network namespace records what reaches it, so every attack test
checks both the client's answer and that nothing got through."""

import json
import socket

import pytest

import proxydenv
from proxydenv import (PH, clean, curl_ident, load_policy,  # noqa: F401
                       require_proxyd, running_proxyd, send_secrets)
from proxydharness import Origin, private_netns

HOST = "203.0.113.20"
PORT = 8080

POLICY = """version: 1
network_policies:
  api:
    name: api
    endpoints:
      - host: full.test
        port: 8080
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        access: full
      - host: ro.test
        port: 8080
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        access: read-only
      - host: audit.test
        port: 8080
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: audit
        access: read-only
      - host: rules.test
        port: 8080
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        rules:
          - allow: { method: GET, path: "/allowed/**" }
          - allow: { method: GET, path: "/ws" }
          - allow: { method: POST, path: /upload }
          - allow: { method: GET, path: /q, query: { v: "a*" } }
          - allow: { method: GET, path: /any, query: { v: { any: ["x*", "y*"] } } }
      - host: "*.wild.test"
        port: 8080
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        access: read-only
      - host: skip.test
        port: 8080
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        tls: skip
        enforcement: enforce
        access: read-only
      - host: other.test
        port: 8080
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        access: full
      - host: raw.test
        port: 8080
        allowed_ips: [203.0.113.0/24]
    binaries:
      - { path: /usr/bin/curl }
"""

NAMES = ["full.test", "ro.test", "audit.test", "rules.test", "a.wild.test",
         "skip.test", "other.test", "raw.test"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    require_proxyd()
    with private_netns(["10.200.0.1/32", HOST + "/32"]):
        origin = Origin(HOST, PORT)
        with running_proxyd(POLICY, servers=[origin], secrets={
                PH + "UNBOUND": "never-sent"},
                hosts="%s %s\n" % (HOST, " ".join(NAMES)),
                ident=curl_ident, ctl_path=None) as parent:
            send_secrets(parent, {
                PH + "TOKEN": ["tok-123", ["full.test", "*.wild.test"]],
                PH + "OTHER": ["other-456", ["other.test"]],
                PH + "CRLF": ["bad\r\nX-Injected: 1", ["full.test"]],
                PH + "NOHOSTS": ["nohosts-789", []],
            })
            e = type("Env", (), {})()
            e.parent, e.origin = parent, origin
            yield e


def tunnel(host, port=PORT):
    s, rest = proxydenv.tunnel(host, port)
    LEFT.pop(s.fileno(), None)
    assert rest == b""
    return s


LEFT = {}


def read_response(s, head_only=False):
    """One response: (status, headers dict, body); body by CL, chunked
    (raw) or to EOF.  None when the connection closed first."""
    buf = LEFT.pop(s.fileno(), b"")
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None if not buf else (buf, None, None)
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    hdrs = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    if head_only or status in (101, 204, 304):
        return status, hdrs, rest
    if "content-length" in hdrs:
        n = int(hdrs["content-length"])
        while len(rest) < n:
            d = s.recv(65536)
            if not d:
                break
            rest += d
        LEFT[s.fileno()] = rest[n:]
        return status, hdrs, rest[:n]
    if hdrs.get("transfer-encoding") == "chunked":
        while not rest.endswith(b"\r\n\r\n") or b"0\r\n" not in rest:
            d = s.recv(65536)
            if not d:
                break
            rest += d
        return status, hdrs, rest
    while True:
        d = s.recv(65536)
        if not d:
            return status, hdrs, rest
        rest += d


def closed(s):
    """The proxy closed the connection (EOF, or a reset)."""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def req(host, method, target, extra=b"", body=b""):
    return proxydenv.request(host, PORT, method, target, extra, body)


def exchange(host, method, target, extra=b"", body=b""):
    s = tunnel(host)
    s.sendall(req(host, method, target, extra, body))
    r = read_response(s)
    s.close()
    return r


def assert_denied(r, method, target, path=None, policy="api"):
    status, hdrs, body = r
    assert status == 403
    assert hdrs["content-type"] == "application/json"
    assert hdrs["x-openshell-policy"] == policy
    assert hdrs["connection"] == "close"
    assert int(hdrs["content-length"]) == len(body)
    j = json.loads(body)
    assert j == {"error": "policy_denied", "policy": policy,
                 "rule": "%s %s" % (method, target),
                 "detail": "%s %s not permitted by policy" % (
                     method, path or target)}


# -- allowed and denied -------------------------------------------------------

def test_full_access_keepalive(env):
    s = tunnel("full.test")
    for m, t in [("GET", "/a"), ("POST", "/b"), ("DELETE", "/c?x=1")]:
        s.sendall(req("full.test", m, t, body=b"xy" if m == "POST" else b""))
        status, _, body = read_response(s)
        assert status == 200 and body == ("ok %s %s" % (m, t)).encode()
    s.close()
    got = env.origin.drain()
    assert [(g[0], g[1]) for g in got] == [("GET", "/a"), ("POST", "/b"),
                                           ("DELETE", "/c?x=1")]
    assert got[1][3] == b"xy"


def test_read_only_get_ok_post_403(env):
    mark = env.parent.log.mark()
    assert exchange("ro.test", "GET", "/repos")[0] == 200
    env.parent.log.wait_for(r"L7_REQUEST .*l7_action=GET .*l7_decision=allow",
                            mark)
    s = tunnel("ro.test")
    s.sendall(req("ro.test", "POST", "/repos?x=1", body=b"data"))
    assert_denied(read_response(s), "POST", "/repos?x=1", "/repos")
    assert closed(s)
    line = env.parent.log.wait_for(r"L7_REQUEST dst_host=ro.test .*"
                                   r"l7_decision=deny", mark)
    for f in ("dst_host=ro.test", "dst_port=8080", "policy=api",
              "l7_protocol=rest", "l7_action=POST", "l7_target=\"/repos?x=1\"",
              "l7_query_params=\"x=1\""):
        assert f in line
    assert [g[1] for g in env.origin.drain()] == ["/repos"]


def test_audit_post_passes_logged(env):
    mark = env.parent.log.mark()
    r = exchange("audit.test", "POST", "/x", body=b"1")
    assert r[0] == 200
    env.parent.log.wait_for(r"L7_REQUEST .*l7_action=POST .*"
                            r"l7_decision=audit", mark)
    assert [g[0] for g in env.origin.drain()] == ["POST"]


def test_path_rules(env):
    assert exchange("rules.test", "GET", "/allowed/x/y")[0] == 200
    assert_denied(exchange("rules.test", "GET", "/other"), "GET", "/other")
    assert_denied(exchange("rules.test", "POST", "/allowed/x", body=b"1"),
                  "POST", "/allowed/x")
    assert [g[1] for g in env.origin.drain()] == ["/allowed/x/y"]


@pytest.mark.parametrize("target,ok", [
    ("/q?v=abc", True), ("/q?v=b", False), ("/q", False),
    ("/q?v=abc&v=zz", False), ("/q?v=a.b", False), ("/q?w=1&v=a1", True),
    ("/any?v=x1", True), ("/any?v=y2", True), ("/any?v=z", False),
])
def test_query_matchers(env, target, ok):
    r = exchange("rules.test", "GET", target)
    if ok:
        assert r[0] == 200
    else:
        assert r[0] == 403
    assert len(env.origin.drain()) == (1 if ok else 0)


def test_wildcard_host_l7(env):
    assert exchange("a.wild.test", "GET", "/x")[0] == 200
    assert exchange("a.wild.test", "PUT", "/x", body=b"1")[0] == 403


def test_tls_skip_relays_raw(env):
    # tls: skip: no inspection at all, even a POST or garbage goes raw.
    s = tunnel("skip.test")
    s.sendall(req("skip.test", "POST", "/x", body=b"1"))
    assert read_response(s)[0] == 200
    s.close()


def test_response_framings(env):
    s = tunnel("full.test")
    s.sendall(req("full.test", "GET", "/chunked"))
    status, hdrs, body = read_response(s)
    assert status == 200 and body.endswith(b"0\r\nX-T: 1\r\n\r\n")
    s.sendall(req("full.test", "HEAD", "/h"))
    status, hdrs, rest = read_response(s, head_only=True)
    assert status == 200 and rest == b"" and hdrs["content-length"] == "10"
    s.sendall(req("full.test", "GET", "/close"))
    status, _, body = read_response(s)
    assert status == 200 and body == b"ok GET /close"
    s.close()


def test_expect_100_continue(env):
    s = tunnel("full.test")
    s.sendall(b"POST /up HTTP/1.1\r\nHost: full.test:8080\r\nContent-Length:"
              b" 3\r\nExpect: 100-continue\r\n\r\n")
    status, _, _ = read_response(s, head_only=True)
    assert status == 100
    s.sendall(b"abc")
    status, _, body = read_response(s)
    assert status == 200 and body == b"ok POST /up"
    s.close()
    assert env.origin.drain()[0][3] == b"abc"


def test_websocket_upgrade_after_allow(env):
    s = tunnel("rules.test")
    s.sendall(req("rules.test", "GET", "/ws",
                  b"Connection: Upgrade\r\nUpgrade: websocket\r\n"))
    status, _, rest = read_response(s)
    assert status == 101
    s.sendall(b"\x81\x02hi")
    got = rest
    while len(got) < 4:
        got += s.recv(100)
    assert got == b"\x81\x02hi"
    s.close()


def test_placeholder_bound_host_resolved(env):
    r = exchange("full.test", "GET", "/p",
                 b"Authorization: Bearer %sTOKEN\r\n" % PH.encode())
    assert r[0] == 200
    (got,) = env.origin.drain()
    assert got[2]["authorization"] == "Bearer tok-123"


# -- attacks ------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    # CL.TE and TE.CL
    b"POST /x HTTP/1.1\r\nHost: full.test:8080\r\nContent-Length: 6\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n"
    b"Host: full.test:8080\r\n\r\n",
    b"POST /x HTTP/1.1\r\nHost: full.test:8080\r\nTransfer-Encoding: "
    b"chunked\r\nContent-Length: 3\r\n\r\n1\r\nA\r\n0\r\n\r\n",
    # duplicate CL (equal too)
    b"POST /x HTTP/1.1\r\nHost: full.test:8080\r\nContent-Length: 1\r\n"
    b"Content-Length: 1\r\n\r\nA",
    # bare LF, obs-fold, whitespace before colon
    b"GET /x HTTP/1.1\nHost: full.test:8080\n\n",
    b"GET /x HTTP/1.1\r\nHost: full.test:8080\r\nX-A: 1\r\n  folded\r\n\r\n",
    b"GET /x HTTP/1.1\r\nHost : full.test:8080\r\n\r\n",
    b"GET /x HTTP/1.1\r\nHost: full.test:8080\r\nTransfer-Encoding : "
    b"chunked\r\n\r\n",
    # h2 preface, invalid version
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    b"GET /x HTTP/1.2\r\nHost: full.test:8080\r\n\r\n",
])
def test_malformed_400_close(env, raw):
    s = tunnel("full.test")
    s.sendall(raw)
    r = read_response(s)
    assert r is not None and r[0] == 400
    assert closed(s)
    assert env.origin.drain() == []


@pytest.mark.parametrize("target", [
    "/allowed/../secret", "/allowed/%2e%2e/secret", "/allowed/%2E%2E/secret",
    "//secret", "/allowed/./../secret",
])
def test_traversal_normalised_denied(env, target):
    r = exchange("rules.test", "GET", target)
    assert r[0] == 403
    assert json.loads(r[2])["detail"] == "GET /secret not permitted by policy"
    assert env.origin.drain() == []


@pytest.mark.parametrize("target,code", [
    ("/allowed%2Fx", 403),                # %2F never a separator
    ("/allowed/..%2Fsecret", 400),        # hidden dot segment
    ("/allowed/%2F..%2F..%2Fsecret", 400),
    ("/allowed/x%5C..%5C..%5Csecret", 400),
])
def test_encoded_slash_tricks(env, target, code):
    assert exchange("rules.test", "GET", target)[0] == code
    assert env.origin.drain() == []


def test_normalised_path_goes_upstream(env):
    assert exchange("rules.test", "GET", "/allowed//x/./y/%7Ez")[0] == 200
    assert [g[1] for g in env.origin.drain()] == ["/allowed/x/y/~z"]


@pytest.mark.parametrize("host", ["evil.test", "full.test:9999",
                                  "ro.test:8080"])
def test_host_header_mismatch(env, host):
    s = tunnel("full.test")
    s.sendall(b"GET /x HTTP/1.1\r\nHost: %s\r\n\r\n" % host.encode())
    r = read_response(s)
    assert r[0] == 403
    assert closed(s)
    assert env.origin.drain() == []


@pytest.mark.parametrize("method", ["get", "PROPFIND", "FOO", "post"])
def test_unknown_or_lowercase_method_inspected(env, method):
    mark = env.parent.log.mark()
    r = exchange("ro.test", method, "/x")
    if method == "get":
        # methods compare without case (§2.8): inspected and allowed
        assert r[0] == 200
    else:
        assert_denied(r, method, "/x")
    env.parent.log.wait_for(r"L7_REQUEST .*l7_action=%s " % method, mark)


def test_h2c_upgrade_refused(env):
    s = tunnel("full.test")
    s.sendall(req("full.test", "GET", "/x", b"Connection: Upgrade, "
                  b"HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMA"
                  b"AABkAAQAAP__\r\n"))
    assert read_response(s)[0] == 403
    assert closed(s)
    assert env.origin.drain() == []


def test_websocket_denied_not_relayed(env):
    s = tunnel("ro.test")
    s.sendall(req("ro.test", "POST", "/ws",
                  b"Connection: Upgrade\r\nUpgrade: websocket\r\n"))
    assert read_response(s)[0] == 403
    assert env.origin.drain() == []


def test_pipelined_second_request_judged(env):
    s = tunnel("ro.test")
    s.sendall(req("ro.test", "GET", "/one") +
              req("ro.test", "POST", "/two", body=b"zz"))
    assert read_response(s)[0] == 200
    assert_denied(read_response(s), "POST", "/two")
    assert [g[1] for g in env.origin.drain()] == ["/one"]


def test_placeholder_to_unbound_host_refused(env):
    mark = env.parent.log.mark()
    for ph in ("TOKEN", "NOHOSTS", "UNBOUND", "MISSING"):
        r = exchange("other.test", "GET", "/x",
                     b"X-Key: %s%s\r\n" % (PH.encode(), ph.encode()))
        assert r[0] == 500
    env.parent.log.wait_for(r"placeholder not resolvable", mark)
    assert env.origin.drain() == []
    # the bound one works there
    assert exchange("other.test", "GET", "/x",
                    b"X-Key: %sOTHER\r\n" % PH.encode())[0] == 200
    assert env.origin.drain()[0][2]["x-key"] == "other-456"
    assert not [l for l in env.parent.log.lines if "tok-123" in l]


def test_placeholder_crlf_secret_refused(env):
    r = exchange("full.test", "GET", "/x",
                 b"X-Key: %sCRLF\r\n" % PH.encode())
    assert r[0] == 500
    assert env.origin.drain() == []


def test_placeholder_in_query_and_path_resolved(env):
    mark = env.parent.log.mark()
    r = exchange("full.test", "GET", "/v1/%sTOKEN/x?k=%sTOKEN&o=1" % (PH, PH))
    assert r[0] == 200
    (got,) = env.origin.drain()
    assert got[1] == "/v1/tok-123/x?k=tok-123&o=1"
    # This request's line: the last test's may still be on its way.
    line = env.parent.log.wait_for(r"L7_REQUEST .*l7_target=\"?/v1/", mark)
    assert "[CREDENTIAL]" in line and "tok-123" not in line
    # embedded in a segment too
    assert exchange("full.test", "GET", "/a-%sTOKEN-b" % PH)[0] == 200
    assert env.origin.drain()[0][1] == "/a-tok-123-b"


@pytest.mark.parametrize("target", [
    "/x?k=%sOTHER" % PH,            # bound to other.test only
    "/%sNOHOSTS" % PH,               # bound to no host
    "/x?k=%sMISSING" % PH,           # unknown
    "/x?k=pre%sTOKEN" % PH,          # not a whole query value
    "/x?k=openshell%3Aresolve%3Aenv%3AOTHER",   # encoded
])
def test_placeholder_in_target_refused(env, target):
    assert exchange("full.test", "GET", target)[0] == 500
    assert env.origin.drain() == []


# -- reload -------------------------------------------------------------------

def test_reload_applies_to_next_request(env):
    s = tunnel("ro.test")
    s.sendall(req("ro.test", "GET", "/a"))
    assert read_response(s)[0] == 200
    load_policy(env.parent, POLICY.replace("access: read-only",
                                           "access: read-write"))
    try:
        s.sendall(req("ro.test", "POST", "/b", body=b"1"))
        r = read_response(s)
        assert r is not None and r[0] == 200, "\n".join(
            env.parent.log.lines[-8:])
    finally:
        load_policy(env.parent, POLICY)
    s.sendall(req("ro.test", "POST", "/c", body=b"1"))
    assert read_response(s)[0] == 403
    s.close()


def test_reload_closes_disallowed_l4_tunnel(env):
    s = tunnel("raw.test")
    s.sendall(req("raw.test", "GET", "/a"))
    assert read_response(s)[0] == 200
    mark = load_policy(env.parent, POLICY.replace("host: raw.test",
                                                  "host: gone.test"))
    try:
        env.parent.log.wait_for(r"CONNECT .*dst_host=raw.test.*action=close",
                                mark)
        assert closed(s)
    finally:
        load_policy(env.parent, POLICY)
