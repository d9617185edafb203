# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""proxyd's TLS termination (sandbox.md §4, G16) and the L7 relay over
the decrypted streams, proxyd driven directly with this process as its
parent.  The origin is an HTTPS server on a TEST-NET address with a
certificate from a test CA of this suite, which the parent hands to
proxyd as an extra upstream anchor (IPC_PROXY_TRUST); clients trust
the sandbox CA proxyd announces (IPC_PROXY_CA)."""

import json
import os
import ssl
import subprocess

import pytest

import proxydenv
from proxydenv import (CURL, PH, PROXY, TIMEOUT, clean,  # noqa: F401
                       curl_ident, require_proxyd, running_proxyd,
                       send_secrets)
from proxydharness import Origin, control, private_netns

HOST = "203.0.113.30"
PORT = 8443
NAMES = ["full.test", "ro.test", "plain.test", "skip.test", "wrong.test"]

POLICY = """version: 1
network_policies:
  api:
    name: api
    endpoints:
      - host: full.test
        port: 8443
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        access: full
      - host: ro.test
        port: 8443
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        access: read-only
      - { host: plain.test, port: 8443, allowed_ips: [203.0.113.0/24] }
      - host: skip.test
        port: 8443
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        tls: skip
        access: read-only
      - host: wrong.test
        port: 8443
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        access: full
    binaries:
      - { path: /usr/bin/curl }
"""


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    """A test CA and a server certificate for every name but wrong.test."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt",
            "-subj", "/CN=Test Origin CA", "-days", "2", "-addext",
            "basicConstraints=critical,CA:TRUE", cwd=d)
    san = ",".join("DNS:" + n for n in NAMES if n != "wrong.test")
    openssl("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj",
            "/CN=origin", "-addext", "subjectAltName=" + san, cwd=d)
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey",
            "ca.key", "-CAcreateserial", "-out", "srv.crt", "-days", "2",
            "-copy_extensions", "copy", cwd=d)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    require_proxyd()
    d = str(tmp_path_factory.mktemp("pki"))
    make_pki(d)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(os.path.join(d, "srv.crt"),
                         os.path.join(d, "srv.key"))
    with private_netns(["10.200.0.1/32", HOST + "/32"]):
        origin = Origin(HOST, PORT, tls=sctx)
        ctl = str(tmp_path_factory.mktemp("ctl") / "proxyd.sock")
        with running_proxyd(POLICY, servers=[origin], hosts="%s %s\n" % (
                HOST, " ".join(NAMES)), ident=curl_ident,
                ctl_path=ctl) as parent:
            mark = parent.log.mark()
            send_secrets(parent, {
                PH + "TOKEN": ["tok-123", ["full.test", "plain.test"]],
                PH + "RO": ["ro-456", ["ro.test"]]})
            with open(os.path.join(d, "ca.crt")) as f:
                parent.send("IPC_PROXY_TRUST", [f.read()])
            name, value = parent.other.get(timeout=TIMEOUT)
            assert name == "IPC_PROXY_CA"
            capem = value[0]
            parent.log.wait_for(r"TLS: termination on, 1 extra", mark)
            cafile = os.path.join(d, "sandbox-ca.pem")
            with open(cafile, "w") as f:
                f.write(capem)
            e = type("Env", (), {})()
            e.parent, e.origin, e.capem = parent, origin, capem
            e.cafile, e.testca = cafile, os.path.join(d, "ca.crt")
            e.ctl = ctl
            yield e


def tunnel(host, port=PORT):
    return proxydenv.tunnel(host, port)[0]


def tls_tunnel(env, host, cafile=None, alpn=("h2", "http/1.1")):
    ctx = ssl.create_default_context(cafile=cafile or env.cafile)
    ctx.set_alpn_protocols(list(alpn))
    return ctx.wrap_socket(tunnel(host), server_hostname=host)


def read_response(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            break
        rest += d
    return int(lines[0].split(" ")[1]), hdrs, rest[:n]


def req(host, method, target, extra=b"", body=b""):
    return proxydenv.request(host, PORT, method, target, extra, body)


def test_ca_certificate(env):
    cert = subprocess.run(["openssl", "x509", "-noout", "-text"],
                          input=env.capem.encode(), capture_output=True,
                          check=True).stdout.decode()
    assert "CN = OpenShell Sandbox CA" in cert
    assert "CA:TRUE, pathlen:0" in cert
    assert "prime256v1" in cert
    assert "PRIVATE KEY" not in env.capem


def test_mitm_full_access_keepalive_alpn(env):
    s = tls_tunnel(env, "full.test")
    assert s.selected_alpn_protocol() == "http/1.1"
    assert s.getpeercert()["subjectAltName"] == (("DNS", "full.test"),)
    for m in ("GET", "POST", "GET"):
        s.sendall(req("full.test", m, "/x", body=b"b" if m == "POST" else b""))
        status, _, body = read_response(s)
        assert status == 200 and body == b"ok %s /x" % m.encode()
    s.close()
    assert len(env.origin.drain()) == 3


def test_mitm_read_only(env):
    s = tls_tunnel(env, "ro.test")
    s.sendall(req("ro.test", "GET", "/repos"))
    assert read_response(s)[0] == 200
    s.sendall(req("ro.test", "POST", "/repos", body=b"x"))
    status, hdrs, body = read_response(s)
    assert status == 403 and hdrs["x-openshell-policy"] == "api"
    assert hdrs["content-type"] == "application/json"
    assert json.loads(body) == {
        "error": "policy_denied", "policy": "api", "rule": "POST /repos",
        "detail": "POST /repos not permitted by policy"}
    s.close()
    assert [g[0] for g in env.origin.drain()] == ["GET"]


def test_mitm_placeholder_bound(env):
    mark = env.parent.log.mark()
    s = tls_tunnel(env, "plain.test")
    s.sendall(req("plain.test", "GET", "/p",
                  b"Authorization: Bearer %sTOKEN\r\n" % PH.encode()))
    assert read_response(s)[0] == 200
    s.close()
    line = env.parent.log.wait_for(r"HTTP_REQUEST host=plain.test", mark)
    assert "credentials_injected=1" in line and "method=GET" in line
    assert not [l for l in env.parent.log.lines if "tok-123" in l]
    assert env.origin.drain()[0][2]["authorization"] == "Bearer tok-123"
    # RO's secret is for ro.test only
    s = tls_tunnel(env, "plain.test")
    s.sendall(req("plain.test", "GET", "/p",
                  b"Authorization: Bearer %sRO\r\n" % PH.encode()))
    assert read_response(s)[0] == 500
    s.close()
    assert env.origin.drain() == []


def test_mitm_host_header_mismatch(env):
    s = tls_tunnel(env, "full.test")
    s.sendall(b"GET / HTTP/1.1\r\nHost: ro.test:8443\r\n\r\n")
    assert read_response(s)[0] == 403
    s.close()
    assert env.origin.drain() == []


def test_mitm_smuggling_refused(env):
    s = tls_tunnel(env, "full.test")
    s.sendall(b"POST / HTTP/1.1\r\nHost: full.test:8443\r\nContent-Length: "
              b"4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert read_response(s)[0] == 400
    s.close()
    assert env.origin.drain() == []


def test_tls_skip_is_raw(env):
    # The origin's own certificate reaches the client: no termination.
    s = tls_tunnel(env, "skip.test", cafile=env.testca)
    s.sendall(req("skip.test", "POST", "/x", body=b"1"))
    assert read_response(s)[0] == 200
    s.close()


def test_upstream_verification_fails_closed(env):
    mark = env.parent.log.mark()
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        s = tls_tunnel(env, "wrong.test")
        s.sendall(req("wrong.test", "GET", "/x"))
        if read_response(s) is None:
            raise ConnectionError("closed")
    env.parent.log.wait_for(r"upstream TLS failed", mark)
    assert env.origin.drain() == []


def test_leaf_cache(env):
    before = control(env.ctl, "IPC_CTL_STATS")
    for _ in range(3):
        tls_tunnel(env, "full.test").close()
    after = control(env.ctl, "IPC_CTL_STATS")
    assert after["tls_leaf_hits"] >= before["tls_leaf_hits"] + 3
    assert after["tls_termination"] == "on"


def curl(env, *args):
    return subprocess.run(
        [CURL, "-sS", "--max-time", "10", "--proxy", "http://%s:%d" % PROXY,
         "--cacert", env.cafile, "-w", "\n%{http_code}"] + list(args),
        capture_output=True, text=True)


@pytest.mark.skipif(not os.access(CURL, os.X_OK), reason="no curl")
def test_curl_through_mitm(env):
    p = curl(env, "https://full.test:8443/x")
    assert p.stdout.split("\n") == ["ok GET /x", "200"], p.stderr
    p = curl(env, "-X", "POST", "-d", "a=1", "https://ro.test:8443/repos")
    body, code = p.stdout.rsplit("\n", 1)
    assert code == "403"
    assert json.loads(body)["rule"] == "POST /repos"
    p = curl(env, "-H", "Authorization: Bearer %sTOKEN" % PH,
             "https://full.test:8443/auth")
    assert p.stdout.endswith("200")
    got = env.origin.drain()
    assert got[-1][2]["authorization"] == "Bearer tok-123"
