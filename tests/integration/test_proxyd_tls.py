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
import queue
import socket
import ssl
import subprocess
import threading
import time

import pytest

import proxydenv
from proxydenv import (CURL, PH, PROXY, TIMEOUT, clean,  # noqa: F401
                       curl_ident, require_proxyd, running_proxyd,
                       send_secrets)
from proxydharness import Listener, Origin, control, private_netns

HOST = "203.0.113.30"
PORT = 8443
CLOSE_PORT = 8444       # CloseOrigin's
HOLD_PORT = 8445        # HoldOrigin's
NAMES = ["full.test", "ro.test", "plain.test", "skip.test", "wrong.test",
         "close.test", "hold.test", "sink.test"]
BIG = 100000            # a body of several TLS records
# 24 MiB: far more than the sockets between the test's ends hold
# (theirs are fixed at 64 KiB where it matters; proxyd's autotune, to
# 5 MB or so here)
HUGE = b"0123456789abcdef" * (3 << 19)
STALL = 1.0             # s without progress: HoldOrigin's send is stuck

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
      - host: close.test
        port: 8444
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        access: full
      - host: hold.test
        port: 8445
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        access: read-only
      - host: sink.test
        port: 8445
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
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


class BioTLS:
    """TLS over a plain socket through memory BIOs, so that the test
    decides what leaves in which send(): used as the origin that
    answers and closes in one write, and as the client that half-closes
    after pipelining."""

    def __init__(self, sock, ctx, server_side, hostname=None):
        self.sock = sock
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_side=server_side,
                                server_hostname=hostname)
        self._io(self.obj.do_handshake)
        self.push()

    def push(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def _fill(self):
        self.push()
        d = self.sock.recv(65536)
        if not d:
            self.inc.write_eof()
        else:
            self.inc.write(d)

    def _io(self, fn, *args):
        while True:
            try:
                return fn(*args)
            except ssl.SSLWantReadError:
                self._fill()

    def read(self):
        """Bytes, or b"" at the TLS or TCP end."""
        try:
            return self._io(self.obj.read, 65536)
        except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
            return b""

    def read_all(self):
        buf = b""
        while True:
            d = self.read()
            if not d:
                return buf
            buf += d

    def head(self):
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = self.read()
            if not d:
                return None
            buf += d
        return buf

    def close_notify(self):
        """Our close_notify, written but not sent."""
        try:
            self.obj.unwrap()
        except ssl.SSLWantReadError:
            pass


class CloseOrigin(Listener):
    """An HTTPS origin that answers one request per connection and
    closes in the same write: the response's records, close_notify and
    (right behind) the FIN.  /cl frames the body with Content-Length,
    /close by the close alone."""

    def __init__(self, addr, port, ctx):
        self.ctx = ctx
        Listener.__init__(self, addr, port)

    def _conn(self, c):
        c.settimeout(TIMEOUT)
        try:
            t = BioTLS(c, self.ctx, True)
            head = t.head()
            if head is None:
                return
            target = head.split(b" ")[1]
            body = body_of(BIG)
            if target == b"/cl":
                resp = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" \
                       b"Connection: close\r\n\r\n" % len(body) + body
            else:
                resp = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" \
                    + body
            t.obj.write(resp)
            t.close_notify()
            t.push()        # one send(): records and close_notify
            c.shutdown(socket.SHUT_WR)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            c.close()


class HoldOrigin(Listener):
    """An HTTPS keep-alive origin that answers GET /huge with the body
    HUGE: more than the sockets between proxyd and a client that does
    not read can hold.  How far its answer got when sending made no
    progress for STALL seconds goes to `stalled` (once per answer);
    when proxyd ends a connection, the targets it asked for go to
    `ended`.  POST /sink reads nothing more until `release` is set,
    then the whole body, and answers with its length."""

    def __init__(self, addr, port, ctx):
        self.ctx = ctx
        self.ended = queue.Queue()
        self.stalled = queue.Queue()
        self.release = threading.Event()
        # Small fixed buffers here and at the clients: what the kernel
        # holds between them is then mostly proxyd's sockets' share.
        Listener.__init__(self, addr, port, bufsize=65536)

    def reset(self):
        """Forget what earlier tests left in the queues."""
        for q in (self.ended, self.stalled):
            while not q.empty():
                q.get_nowait()
        self.release.clear()

    def _conn(self, c):
        targets = []
        c.settimeout(TIMEOUT)
        try:
            t = BioTLS(c, self.ctx, True)
            while True:
                head = t.head()
                if head is None:
                    break
                targets.append(head.split(b" ")[1].decode())
                body = HUGE if targets[-1] == "/huge" else b"ok"
                if targets[-1] == "/sink":
                    body = b"%d" % self._sink(t, head)
                t.obj.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                            b"\r\n" % len(body) + body)
                self._send(c, t.out.read())
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            c.close()
            self.ended.put(targets)

    def _sink(self, t, head):
        self.release.wait(TIMEOUT)
        n = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        got = len(head.split(b"\r\n\r\n", 1)[1])
        while got < n:
            d = t.read()
            if not d:
                break
            got += len(d)
        return got

    def _send(self, c, data):
        sent, told = 0, False
        while sent < len(data):
            c.settimeout(STALL if not told else TIMEOUT)
            try:
                sent += c.send(data[sent:sent + 65536])
            except socket.timeout:
                if told:
                    raise
                self.stalled.put(sent)
                told = True
        if not told:
            self.stalled.put(sent)
        c.settimeout(TIMEOUT)


def body_of(n):
    return bytes(b"0123456789abcdef"[i % 16] for i in range(n))


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
        closer = CloseOrigin(HOST, CLOSE_PORT, sctx)
        holder = HoldOrigin(HOST, HOLD_PORT, sctx)
        ctl = str(tmp_path_factory.mktemp("ctl") / "proxyd.sock")
        with running_proxyd(POLICY, servers=[origin, closer, holder],
                            hosts="%s %s\n" % (
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
            e.holder = holder
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
@pytest.mark.parametrize("size", [100000, 1000000])
def test_curl_upload_through_mitm(env, tmp_path, size):
    # curl sends its request with the end of its handshake: the TLS
    # filter left an empty chain first in proxyd's input, and the body
    # relay looped on it for ever (found uploading 100 kB).
    f = tmp_path / "up"
    f.write_bytes(body_of(size))
    p = curl(env, "-X", "POST", "--data-binary", "@%s" % f,
             "https://full.test:8443/up")
    assert p.stdout.split("\n") == ["ok POST /up", "200"], p.stderr
    got = env.origin.drain()
    assert got[-1][3] == body_of(size)


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


@pytest.mark.parametrize("target", ["/cl", "/close"])
def test_origin_answers_and_closes_in_one_write(env, target):
    # The whole response arrives, and its end (close_notify, FIN) at
    # once: a close-delimited body ends only there, so a client must
    # not wait for proxyd's linger time (5 s) to learn it is complete.
    ctx = ssl.create_default_context(cafile=env.cafile)
    s = proxydenv.tunnel("close.test", CLOSE_PORT)[0]
    s.settimeout(3)
    t = BioTLS(s, ctx, False, "close.test")
    t.obj.write(proxydenv.request("close.test", CLOSE_PORT, "GET", target))
    t.push()
    start = time.monotonic()
    data = t.read_all()
    assert time.monotonic() - start < 3
    s.close()
    head, body = data.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 ")
    assert body == body_of(BIG)


def test_h2_only_client_gets_no_application_protocol(env):
    mark = env.parent.log.mark()
    with pytest.raises(ssl.SSLError) as e:
        tls_tunnel(env, "full.test", alpn=("h2",))
    assert "NO APPLICATION PROTOCOL" in str(e.value).upper().replace(
        "_", " ")
    env.parent.log.wait_for(r"offers no http/1.1 in ALPN", mark)
    assert env.origin.drain() == []


def pipelined_half_closed(env, host, reqs, notify):
    """reqs pipelined in one write, then the client's half-close
    (close_notify and FIN, or the FIN alone); returns every byte
    proxyd sends until its end."""
    ctx = ssl.create_default_context(cafile=env.cafile)
    s = tunnel(host)
    t = BioTLS(s, ctx, False, host)
    for r in reqs:
        t.obj.write(r)
    if notify:
        t.close_notify()
    t.push()
    s.shutdown(socket.SHUT_WR)
    data = t.read_all()
    s.close()
    return data


def split_responses(data):
    out = []
    while data:
        head, data = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        n = 0
        for l in lines[1:]:
            k, v = l.split(":", 1)
            if k.strip().lower() == "content-length":
                n = int(v)
        out.append((int(lines[0].split(" ")[1]), data[:n]))
        data = data[n:]
    return out


@pytest.mark.parametrize("notify", [True, False],
                         ids=["close_notify", "fin"])
def test_pipelined_then_half_close_all_answered(env, notify):
    mark = env.parent.log.mark()
    reqs = [req("full.test", "GET", "/p%d" % i) for i in range(3)]
    got = split_responses(pipelined_half_closed(env, "full.test", reqs,
                                                notify))
    assert got == [(200, b"ok GET /p%d" % i) for i in range(3)], \
        env.parent.log.lines[mark:]
    assert [g[1] for g in env.origin.drain()] == ["/p0", "/p1", "/p2"]


def test_pipelined_deny_in_the_middle_stops_the_rest(env):
    # sandbox.md 2.8: an enforced deny answers 403 and closes; what
    # was pipelined behind it is neither judged nor sent upstream.
    mark = env.parent.log.mark()
    reqs = [req("ro.test", "GET", "/a"), req("ro.test", "POST", "/b",
                                             body=b"x"),
            req("ro.test", "GET", "/c")]
    got = split_responses(pipelined_half_closed(env, "ro.test", reqs,
                                                True))
    assert [g[0] for g in got] == [200, 403], env.parent.log.lines[mark:]
    assert json.loads(got[1][1])["rule"] == "POST /b"
    assert [(g[0], g[1]) for g in env.origin.drain()] == [("GET", "/a")]


def test_upload_to_an_origin_that_does_not_read_is_bounded(env):
    # The mirror of the test below: the client sends a body the origin
    # does not read yet.  proxyd holds a bounded part of it and stops
    # reading the client, whose sending stalls far from the end; once
    # the origin reads, all of it arrives.
    env.holder.reset()
    ctx = ssl.create_default_context(cafile=env.cafile)
    s = proxydenv.tunnel("sink.test", HOLD_PORT, sndbuf=65536)[0]
    t = BioTLS(s, ctx, False, "sink.test")
    t.obj.write(proxydenv.request("sink.test", HOLD_PORT, "POST", "/sink",
                                  body=HUGE))
    data, sent = t.out.read(), 0
    s.settimeout(STALL)
    try:
        while sent < len(data):
            sent += s.send(data[sent:sent + 65536])
    except socket.timeout:
        pass
    assert sent < len(data) // 2
    env.holder.release.set()
    s.settimeout(TIMEOUT)
    s.sendall(data[sent:])
    head = t.head()
    s.close()
    assert head.startswith(b"HTTP/1.1 200 "), head
    assert head.endswith(b"\r\n\r\n%d" % len(HUGE)), head
    # the client gone, proxyd ends the upstream connection too
    assert env.holder.ended.get(timeout=TIMEOUT) == ["/sink"]


def test_half_closed_client_gets_what_was_queued_for_it(env):
    # The client pipelines, half-closes (close_notify and FIN) and
    # reads only once proxyd holds all it will hold: proxyd sees its
    # end while the answer still waits, in its buffers and upstream.
    # Everything asked for before the end still comes, then the close
    # (the race the pipelined-deny test above met now and then).
    # proxyd holds a bounded part of the answer of a client that does
    # not read: upstream stalls, far from the end of HUGE.
    env.holder.reset()
    mark = env.parent.log.mark()
    ctx = ssl.create_default_context(cafile=env.cafile)
    s = proxydenv.tunnel("hold.test", HOLD_PORT, rcvbuf=65536)[0]
    t = BioTLS(s, ctx, False, "hold.test")
    for r in (proxydenv.request("hold.test", HOLD_PORT, "GET", "/huge"),
              proxydenv.request("hold.test", HOLD_PORT, "POST", "/b",
                                body=b"x")):
        t.obj.write(r)
    t.close_notify()
    t.push()
    s.shutdown(socket.SHUT_WR)
    assert env.holder.stalled.get(timeout=TIMEOUT) < len(HUGE) // 2
    got = split_responses(t.read_all())
    s.close()
    assert [g[0] for g in got] == [200, 403], env.parent.log.lines[mark:]
    assert got[0][1] == HUGE
    assert env.holder.ended.get(timeout=TIMEOUT) == ["/huge"]
