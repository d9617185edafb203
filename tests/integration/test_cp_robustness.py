# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Robustness of the real gateway's port (issue 3, Acceptance):
malformed HTTP/2 frames, truncated and oversized gRPC messages, garbage
after and instead of the TLS handshake, bad HTTP/1.1 heads, floods
(too many streams, rapid reset, unread PINGs, a huge header block) and
200 held connections are each answered with the right status or a
closed connection, while a watcher client keeps calling Health and
ListSandboxes successfully (each call with its own deadline).  Also:
connections that never authenticate cannot lock certified clients
out; strings that are not UTF-8 never reach stock clients; the server
never logs a credential value.

Client certificates and key modes are covered by test_cp_api.py
(test_authorization, test_key_modes).

HTTP/2 is spoken by hand here (frames built byte by byte, so that they
can be wrong on purpose); python3-hpack encodes and decodes header
blocks.  Every wait has a deadline; nothing sleeps to synchronise."""

import os
import secrets
import socket
import ssl
import struct
import threading
import time

import grpc
import hpack
import pytest

from cpfixture import cp  # noqa: F401  (fixture)

import datamodel_pb2 as dm  # noqa: E402
import inference_pb2 as inf  # noqa: E402
import inference_pb2_grpc as infg  # noqa: E402
import openshell_pb2 as pb  # noqa: E402
import openshell_pb2_grpc as pbg  # noqa: E402

TIMEOUT = 10
CALL = 5                    # deadline of one watcher call
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST, SETTINGS, PING, GOAWAY, WINDOW = 0, 1, 3, 4, 6, 7, 8
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
HEALTH = "/openshell.v1.OpenShell/Health"
LIST = "/openshell.v1.OpenShell/ListSandboxes"
# HTTP/2 error codes (RFC 9113 section 7)
PROTOCOL_ERROR, FRAME_SIZE_ERROR, COMPRESSION_ERROR = 0x1, 0x6, 0x9


def frame(ftype, flags, sid, payload=b"", length=None):
    n = len(payload) if length is None else length
    return struct.pack(">I", n)[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", sid & 0x7fffffff) + payload


def grpc_msg(body, length=None):
    return struct.pack(">BI", 0, len(body) if length is None else length) \
        + body


class Watcher:
    """Calls Health and ListSandboxes in turn on its own channel, each
    with a deadline, and records every failure."""

    def __init__(self, cp):
        self.ch = grpc.secure_channel(cp.endpoint, cp.creds)
        self.stub = pbg.OpenShellStub(self.ch)
        self.ok = 0
        self.failures = []
        self.cond = threading.Condition()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        i = 0
        while not self.stop.is_set():
            i += 1
            t0 = time.monotonic()
            try:
                if i % 2:
                    r = self.stub.Health(pb.HealthRequest(), timeout=CALL)
                    assert r.status == pb.SERVICE_STATUS_HEALTHY
                else:
                    self.stub.ListSandboxes(pb.ListSandboxesRequest(),
                                            timeout=CALL)
                with self.cond:
                    self.ok += 1
                    self.cond.notify_all()
            except (grpc.RpcError, AssertionError) as e:
                with self.cond:
                    self.failures.append((round(time.monotonic() - t0, 3),
                                          repr(e)[:300]))
                    self.cond.notify_all()

    def mark(self):
        with self.cond:
            return self.ok

    def progressed(self, since, n=5, timeout=TIMEOUT):
        """Waits for n more successful calls after mark `since`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.ok < since + n and not self.failures:
                left = deadline - time.monotonic()
                assert left > 0, "watcher stalled (%d calls)" % self.ok
                self.cond.wait(left)
            assert not self.failures, self.failures

    def close(self):
        self.stop.set()
        self.thread.join(timeout=TIMEOUT)
        self.ch.close()
        assert not self.failures, self.failures


@pytest.fixture
def watcher(cp):
    w = Watcher(cp)
    try:
        w.progressed(0)
        yield w
        w.progressed(w.mark())
    finally:
        w.close()


def tls_ctx(cp, alpn=("h2",), cert=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(cp.pki, "ca.crt"))
    if cert:
        ctx.load_cert_chain(os.path.join(cp.pki, "admin.crt"),
                            os.path.join(cp.pki, "admin.key"))
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


class H2:
    """One raw HTTP/2 connection over TLS with the admin certificate."""

    def __init__(self, cp, alpn=("h2",)):
        raw = socket.create_connection(("127.0.0.1", cp.port),
                                       timeout=TIMEOUT)
        self.sk = tls_ctx(cp, alpn).wrap_socket(raw,
                                                server_hostname="127.0.0.1")
        self.sk.settimeout(TIMEOUT)
        assert self.sk.selected_alpn_protocol() == (alpn[0] if alpn
                                                    else None)
        self.buf = b""
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.eof = False
        self.started = False

    def send(self, data):
        self.sk.sendall(data)

    def start(self):
        self.send(PREFACE + frame(SETTINGS, 0, 0))
        self.started = True

    def request(self, sid, path, body=None, end=True):
        hdrs = [(":method", "POST"), (":scheme", "https"),
                (":path", path), (":authority", "127.0.0.1"),
                ("content-type", "application/grpc"), ("te", "trailers")]
        out = frame(HEADERS, END_HEADERS, sid, self.enc.encode(hdrs))
        if body is not None:
            out += frame(DATA, END_STREAM if end else 0, sid, body)
        self.send(out)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no answer from the gateway in time")
        self.sk.settimeout(left)
        try:
            chunk = self.sk.recv(65536)
        except socket.timeout:
            raise AssertionError("no answer from the gateway in time")
        except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError,
                ssl.SSLZeroReturnError):
            chunk = b""
        except ssl.SSLError as e:
            # A TLS alert or a reset during the close is a close too.
            chunk = b"" if "alert" in str(e) or "EOF" in str(e) else None
            if chunk is None:
                raise
        if not chunk:
            self.eof = True
        self.buf += chunk

    def frame(self, deadline):
        """The next frame (type, flags, sid, payload), None at EOF.
        SETTINGS and PING are acknowledged on the way."""
        while True:
            while len(self.buf) < 9 or \
                    len(self.buf) < 9 + int.from_bytes(self.buf[:3], "big"):
                if self.eof:
                    return None
                self._fill(deadline)
            n = int.from_bytes(self.buf[:3], "big")
            ftype, flags = self.buf[3], self.buf[4]
            sid = int.from_bytes(self.buf[5:9], "big") & 0x7fffffff
            payload, self.buf = self.buf[9:9 + n], self.buf[9 + n:]
            try:
                if ftype == SETTINGS and not flags & ACK:
                    self.send(frame(SETTINGS, ACK, 0))
                elif ftype == PING and not flags & ACK:
                    self.send(frame(PING, ACK, 0, payload))
            except OSError:
                pass
            return ftype, flags, sid, payload

    def until_closed(self, timeout=TIMEOUT):
        """Reads to EOF; returns the GOAWAY error codes seen.  The
        server must close the connection before the deadline."""
        deadline = time.monotonic() + timeout
        codes = []
        while True:
            f = self.frame(deadline)
            if f is None:
                return codes
            if f[0] == GOAWAY:
                codes.append(struct.unpack(">I", f[3][4:8])[0])

    def answer(self, sid, timeout=TIMEOUT):
        """Headers of stream sid merged (response headers, then
        trailers), plus the gRPC messages' bytes, once the stream ends;
        None if the connection closed first."""
        deadline = time.monotonic() + timeout
        headers, body = {}, b""
        while True:
            f = self.frame(deadline)
            if f is None:
                return None
            ftype, flags, fsid, payload = f
            if ftype == HEADERS:
                if flags & 0x8:         # PADDED
                    payload = payload[1:len(payload) - payload[0]]
                if flags & 0x20:        # PRIORITY
                    payload = payload[5:]
                block = dict(self.dec.decode(payload))
                if fsid == sid:
                    headers.update(block)
            elif ftype == DATA and fsid == sid:
                body += payload
                if payload:
                    self.send(frame(WINDOW, 0, 0,
                                    struct.pack(">I", len(payload))))
            elif ftype == RST and fsid == sid:
                return {"rst": struct.unpack(">I", payload)[0]}, body
            elif ftype == GOAWAY:
                return {"goaway": struct.unpack(">I", payload[4:8])[0]}, body
            if fsid == sid and ftype in (HEADERS, DATA) and \
                    flags & END_STREAM:
                return headers, body

    def close(self):
        try:
            self.sk.close()
        except OSError:
            pass


def status_of(headers):
    assert headers is not None, "connection closed before an answer"
    h = {(k.decode() if isinstance(k, bytes) else k):
         (v.decode() if isinstance(v, bytes) else v)
         for k, v in headers.items()}
    assert "grpc-status" in h, h
    return int(h["grpc-status"]), h.get("grpc-message", "")


def closed_by_server(h2, allowed=(PROTOCOL_ERROR, FRAME_SIZE_ERROR,
                                  COMPRESSION_ERROR)):
    codes = h2.until_closed()
    # a GOAWAY naming the error, then the close
    assert codes and all(c in allowed for c in codes), codes
    return codes


def health_ok(h2, sid):
    h2.request(sid, HEALTH, grpc_msg(b""))
    hdrs, body = h2.answer(sid)
    assert status_of(hdrs) == (0, ""), hdrs
    assert len(body) >= 5
    return body


# ---- malformed HTTP/2 frames ------------------------------------------

BAD_FRAMES = {
    # SETTINGS whose length is not a multiple of 6
    "settings-length": frame(SETTINGS, 0, 0, b"\x00\x03\x00\x00\x00"),
    # SETTINGS on a stream
    "settings-stream": frame(SETTINGS, 0, 1),
    # a frame longer than SETTINGS_MAX_FRAME_SIZE (16384)
    "frame-too-long": frame(DATA, 0, 1, b"x" * 100, length=0xffffff),
    # HEADERS on an even (server-initiated) stream id
    "even-stream": frame(HEADERS, END_HEADERS | END_STREAM, 2,
                         hpack.Encoder().encode([(":method", "POST")])),
    # DATA on stream 0
    "data-stream-0": frame(DATA, 0, 0, b"abc"),
    # WINDOW_UPDATE with a zero increment on the connection
    "window-zero": frame(WINDOW, 0, 0, b"\x00\x00\x00\x00"),
    # PING of the wrong size
    "ping-length": frame(PING, 0, 0, b"\x00" * 5),
    # a header block that is not HPACK
    "hpack-garbage": frame(HEADERS, END_HEADERS, 1, b"\xff" * 32),
    # a CONTINUATION nobody started
    "stray-continuation": frame(9, 0x4, 1, b"\x82"),
    # plain garbage after the preface
    "garbage": os.urandom(64) + b"\x00" * 9,
}


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_malformed_frames_close(cp, watcher, name):
    mark = watcher.mark()
    h2 = H2(cp)
    try:
        h2.send(PREFACE + frame(SETTINGS, 0, 0) + BAD_FRAMES[name])
        closed_by_server(h2)
    finally:
        h2.close()
    watcher.progressed(mark)


def test_stream_error_keeps_connection(cp, watcher):
    """A frame that is only a stream error (WINDOW_UPDATE of 0 on an
    open stream) resets that stream; the connection keeps working."""
    h2 = H2(cp)
    try:
        h2.start()
        h2.request(1, HEALTH)
        h2.send(frame(WINDOW, 0, 1, b"\x00\x00\x00\x00"))
        hdrs, _ = h2.answer(1)
        assert "rst" in hdrs or "goaway" in hdrs, hdrs
        if "rst" in hdrs:
            health_ok(h2, 3)
    finally:
        h2.close()


# ---- gRPC message framing -----------------------------------------------

def test_truncated_message(cp, watcher):
    """A 5-byte prefix promising 100 bytes, 10 sent, then END_STREAM:
    an error status on that stream; the connection stays usable."""
    h2 = H2(cp)
    try:
        h2.start()
        h2.request(1, HEALTH, grpc_msg(b"\x00" * 10, length=100))
        assert status_of(h2.answer(1)[0]) == (
            grpc.StatusCode.INTERNAL.value[0], "truncated request message")
        health_ok(h2, 3)
        # A prefix cut in the middle as well.
        h2.request(5, HEALTH, b"\x00\x00\x00")
        assert status_of(h2.answer(5)[0]) == (
            grpc.StatusCode.INTERNAL.value[0], "truncated request message")
        health_ok(h2, 7)
    finally:
        h2.close()


def test_oversized_prefix_answered_before_body(cp, watcher):
    """A prefix promising 64 MiB: RESOURCE_EXHAUSTED at once, without
    the server waiting for (or buffering) the body."""
    h2 = H2(cp)
    try:
        h2.start()
        h2.request(1, HEALTH, grpc_msg(b"", length=64 << 20), end=False)
        assert status_of(h2.answer(1)[0]) == (
            grpc.StatusCode.RESOURCE_EXHAUSTED.value[0],
            "request message larger than the limit of 1048576 bytes")
        health_ok(h2, 3)
    finally:
        h2.close()


def test_oversized_message_grpcio(cp, watcher):
    """A 2 MiB request through a stock client: RESOURCE_EXHAUSTED."""
    ch = grpc.secure_channel(cp.endpoint, cp.creds)
    try:
        call = ch.unary_unary(HEALTH)
        with pytest.raises(grpc.RpcError) as e:
            call(b"\x0a" + b"\x80\x80\x80\x01" + b"x" * (2 << 20),
                 timeout=TIMEOUT)
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, \
            e.value.details()
        # Just under the limit is still served (an unknown field).
        body = b"\x0a\xf0\xff\x3f" + b"x" * 0xffff0
        assert len(body) < 1 << 20
        assert pb.HealthResponse.FromString(
            call(body, timeout=TIMEOUT)).status == pb.SERVICE_STATUS_HEALTHY
    finally:
        ch.close()


def test_unknown_method_and_missing_te(cp, watcher):
    h2 = H2(cp)
    try:
        h2.start()
        h2.request(1, "/openshell.v1.OpenShell/NoSuchMethod", grpc_msg(b""))
        assert status_of(h2.answer(1)[0])[0] == \
            grpc.StatusCode.UNIMPLEMENTED.value[0]
        # No te: trailers: a proper answer, not a hang.
        h2.send(frame(HEADERS, END_HEADERS | END_STREAM, 3, h2.enc.encode(
            [(":method", "POST"), (":scheme", "https"), (":path", HEALTH),
             (":authority", "127.0.0.1"),
             ("content-type", "application/grpc")])))
        assert status_of(h2.answer(3)[0]) == (
            grpc.StatusCode.INTERNAL.value[0], 'request lacks "te: trailers"')
        health_ok(h2, 5)
    finally:
        h2.close()


# ---- garbage on the port ----------------------------------------------

@pytest.mark.parametrize("alpn", [("h2",), ("http/1.1",), None])
def test_garbage_after_handshake(cp, watcher, alpn):
    raw = socket.create_connection(("127.0.0.1", cp.port), timeout=TIMEOUT)
    sk = tls_ctx(cp, alpn).wrap_socket(raw, server_hostname="127.0.0.1")
    try:
        sk.sendall(os.urandom(4096).replace(b"\n", b"") + b"\r\n\r\n")
        deadline = time.monotonic() + TIMEOUT
        got = b""
        while time.monotonic() < deadline:
            sk.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sk.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                chunk = b""
            if not chunk:
                break
            got += chunk
        else:
            raise AssertionError("connection left open: %r" % got[:200])
        if alpn != ("h2",):
            assert got == b"" or got.startswith(b"HTTP/1.1 4"), got[:200]
    finally:
        sk.close()


@pytest.mark.parametrize("what", ["random", "tls-record", "http",
                                  "client-hello-cut"])
def test_garbage_instead_of_handshake(cp, watcher, what):
    data = {
        "random": os.urandom(2048),
        # a handshake record header promising 16 KiB of garbage
        "tls-record": b"\x16\x03\x01\x40\x00" + os.urandom(16384),
        "http": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        # the start of a real ClientHello, then the client goes away
        "client-hello-cut": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    }[what]
    sk = socket.create_connection(("127.0.0.1", cp.port), timeout=TIMEOUT)
    try:
        sk.sendall(data)
        if what == "client-hello-cut":
            sk.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + TIMEOUT
        while True:
            assert time.monotonic() < deadline, "connection left open"
            sk.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sk.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            # a TLS alert record at most
            assert chunk[0] == 0x15, chunk[:40]
    finally:
        sk.close()


def test_no_client_certificate_refused(cp, watcher):
    """Handshake without a certificate: the TLS 1.3 server refuses it
    (an alert on the first read) and serves nothing."""
    raw = socket.create_connection(("127.0.0.1", cp.port), timeout=TIMEOUT)
    sk = tls_ctx(cp, cert=False).wrap_socket(raw,
                                             server_hostname="127.0.0.1")
    try:
        with pytest.raises((ssl.SSLError, ConnectionResetError,
                            BrokenPipeError)):
            sk.sendall(PREFACE + frame(SETTINGS, 0, 0))
            got = sk.recv(65536)
            assert got == b"", got     # closed without an answer
            raise ConnectionResetError("closed")
    finally:
        sk.close()


# ---- many held connections ----------------------------------------------

def test_hold_200_connections(cp, watcher):
    """200 connections opened and held: 70 that never start TLS, 65
    that stop after the handshake, 65 that say the HTTP/2 preface and
    then nothing.  The watcher goes on meanwhile; each held h2
    connection still answers Health; all are released cleanly."""
    held = []
    try:
        for i in range(200):
            if i % 3 == 0:
                held.append(socket.create_connection(
                    ("127.0.0.1", cp.port), timeout=TIMEOUT))
                continue
            h2 = H2(cp)
            if i % 3 == 2:
                h2.start()
            held.append(h2)
        mark = watcher.mark()
        watcher.progressed(mark, n=10)
        # A newcomer through a stock client, and a few of the held h2
        # connections, are all served.
        ch = grpc.secure_channel(cp.endpoint, cp.creds)
        try:
            assert pbg.OpenShellStub(ch).Health(
                pb.HealthRequest(), timeout=CALL).status == \
                pb.SERVICE_STATUS_HEALTHY
        finally:
            ch.close()
        for h2 in [h for h in held if isinstance(h, H2)][:10]:
            if not h2.started:
                h2.start()
            health_ok(h2, 1)
    finally:
        for h in held:
            h.close()
    watcher.progressed(watcher.mark())


def test_preauth_flood_does_not_lock_out_clients(cp, watcher):
    """1100 TCP connections that never start TLS (anyone can open
    them: no certificate is needed) fill the server's connection cap
    (GRPC_MAX_CONNS_DEFAULT 1024) until the handshake timeout.  A
    client with a valid certificate must still get in meanwhile: slots
    held by connections that have not authenticated are the ones to
    give up, not the newcomer's."""
    held = []
    try:
        for _ in range(1100):
            held.append(socket.create_connection(("127.0.0.1", cp.port),
                                                 timeout=TIMEOUT))
        ch = grpc.secure_channel(cp.endpoint, cp.creds)
        try:
            r = pbg.OpenShellStub(ch).Health(pb.HealthRequest(),
                                             timeout=CALL,
                                             wait_for_ready=True)
            assert r.status == pb.SERVICE_STATUS_HEALTHY
        finally:
            ch.close()
    finally:
        for sk in held:
            sk.close()
    watcher.progressed(watcher.mark())


# ---- credentials never logged -------------------------------------------

def test_secret_never_logged(cp, watcher):
    secret = "sk-ROBUST-" + secrets.token_hex(16)
    for svc in ("gatewayd", "watchd", "logd"):
        cp.admin(svc, "log-level", "debug")
    s = pbg.OpenShellStub(cp.channel())
    s.CreateProvider(pb.CreateProviderRequest(provider=dm.Provider(
        name="leaky", type="openai",
        credentials={"OPENAI_API_KEY": secret, "NOT-AN-ENV": secret})),
        timeout=TIMEOUT)
    sb = s.CreateSandbox(pb.CreateSandboxRequest(
        name="env", spec=dm.SandboxSpec(providers=["leaky"])),
        timeout=TIMEOUT).sandbox
    env = s.GetSandboxProviderEnvironment(
        pb.GetSandboxProviderEnvironmentRequest(sandbox_id=sb.id),
        timeout=TIMEOUT).environment
    assert env["OPENAI_API_KEY"] == secret
    sbs = pbg.OpenShellStub(cp.channel(cp.client_creds(sb.id)))
    assert sbs.GetSandboxProviderEnvironment(
        pb.GetSandboxProviderEnvironmentRequest(sandbox_id=sb.id),
        timeout=TIMEOUT).environment["OPENAI_API_KEY"] == secret
    s.UpdateProvider(pb.UpdateProviderRequest(provider=dm.Provider(
        name="leaky", credentials={"OPENAI_API_KEY": secret + "2"})),
        timeout=TIMEOUT)
    # The inference route carries the key too (mock upstream: no
    # network), and the sandbox's bundle hands it out raw.
    s.UpdateProvider(pb.UpdateProviderRequest(provider=dm.Provider(
        name="leaky", config={"OPENAI_BASE_URL": "mock://up/v1"})),
        timeout=TIMEOUT)
    i = infg.InferenceStub(cp.channel())
    i.SetClusterInference(inf.SetClusterInferenceRequest(
        provider_name="leaky", model_id="m"), timeout=TIMEOUT)
    bundle = infg.InferenceStub(cp.channel(cp.client_creds(sb.id))) \
        .GetInferenceBundle(inf.GetInferenceBundleRequest(),
                            timeout=TIMEOUT)
    assert bundle.routes[0].api_key == secret + "2"
    got = s.GetProvider(pb.GetProviderRequest(name="leaky"),
                        timeout=TIMEOUT).provider
    assert secret not in str(got)
    # Everything the server logged: its stderr, gateway.log, logd's
    # event dump, the sandbox's log ring.
    dump = cp.admin("logd", "dump").stdout
    ring = s.GetSandboxLogs(pb.GetSandboxLogsRequest(sandbox_id=sb.id),
                            timeout=TIMEOUT)
    with open(os.path.join(cp.state_dir, "gateway.log"),
              errors="replace") as f:
        gwlog = f.read()
    assert gwlog and dump
    for where, text in (("stderr", cp.log.text()), ("gateway.log", gwlog),
                        ("logd dump", dump), ("sandbox logs", str(ring))):
        assert secret not in text, where
    logs = os.path.join(cp.state_dir, "logs")
    for name in os.listdir(logs) if os.path.isdir(logs) else ():
        with open(os.path.join(logs, name), "rb") as f:
            assert secret.encode() not in f.read(), name


# ---- floods -------------------------------------------------------------

def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_too_many_streams_refused(cp, watcher):
    """200 open streams on one connection: those past the advertised
    SETTINGS_MAX_CONCURRENT_STREAMS are refused (RST_STREAM
    REFUSED_STREAM) or the connection is ended; never a hang."""
    h2 = H2(cp)
    try:
        h2.start()
        out = b""
        for i in range(200):
            out += frame(HEADERS, END_HEADERS, 2 * i + 1, h2.enc.encode(
                [(":method", "POST"), (":scheme", "https"),
                 (":path", HEALTH), (":authority", "127.0.0.1"),
                 ("content-type", "application/grpc"),
                 ("te", "trailers")]))
        h2.send(out)
        deadline = time.monotonic() + TIMEOUT
        refused = 0
        while refused == 0:
            f = h2.frame(deadline)
            if f is None or f[0] == GOAWAY:
                break
            if f[0] == HEADERS:
                h2.dec.decode(f[3])
            if f[0] == RST:
                assert struct.unpack(">I", f[3])[0] == 0x7, f  # REFUSED
                refused += 1
        assert refused or h2.eof or f[0] == GOAWAY
    finally:
        h2.close()


def test_rapid_reset(cp, watcher):
    """Thousands of streams opened and reset at once (the "rapid
    reset" pattern): the server keeps serving others and its memory
    stays bounded; it may end that connection."""
    pid = cp.pid_of("gatewayd")
    before = rss_kb(pid)
    h2 = H2(cp)
    try:
        h2.start()
        block = h2.enc.encode([(":method", "POST"), (":scheme", "https"),
                               (":path", HEALTH), (":authority", "x"),
                               ("content-type", "application/grpc"),
                               ("te", "trailers")])
        try:
            for chunk in range(20):
                out = b""
                for i in range(500):
                    sid = 2 * (chunk * 500 + i) + 1
                    out += frame(HEADERS, END_HEADERS, sid, block) + \
                        frame(RST, 0, sid, b"\x00\x00\x00\x08")
                h2.send(out)
        except (OSError, ssl.SSLError):
            pass                        # the server ended it: fine
        mark = watcher.mark()
        watcher.progressed(mark)
    finally:
        h2.close()
    assert rss_kb(pid) - before < 64 * 1024, (before, rss_kb(pid))


def test_ping_flood_unread(cp, watcher):
    """A client that floods PINGs and never reads their ACKs: the
    server bounds what it queues (closes, or stops reading); other
    clients are served and gatewayd's memory stays bounded."""
    pid = cp.pid_of("gatewayd")
    before = rss_kb(pid)
    h2 = H2(cp)
    try:
        h2.start()
        h2.sk.settimeout(2)
        burst = frame(PING, 0, 0, b"12345678") * 4096
        try:
            for _ in range(50):
                h2.send(burst)
        except (OSError, ssl.SSLError):
            pass        # closed, or the server stopped reading (timeout)
        watcher.progressed(watcher.mark())
    finally:
        h2.close()
    assert rss_kb(pid) - before < 64 * 1024, (before, rss_kb(pid))


def test_huge_header_block(cp, watcher):
    """A header block of 1 MiB in CONTINUATION frames: refused
    (stream reset, 431-like answer or connection closed), bounded."""
    h2 = H2(cp)
    try:
        h2.start()
        block = h2.enc.encode([(":method", "POST"), (":scheme", "https"),
                               (":path", HEALTH), (":authority", "x"),
                               ("content-type", "application/grpc"),
                               ("te", "trailers")] +
                              [("x-pad-%d" % i, "v" * 4000)
                               for i in range(256)])
        pieces = [block[i:i + 16384] for i in range(0, len(block), 16384)]
        out = frame(HEADERS, 0, 1, pieces[0])
        for i, p in enumerate(pieces[1:], 1):
            out += frame(9, END_HEADERS if i == len(pieces) - 1 else 0, 1, p)
        try:
            h2.send(out)
            hdrs = h2.answer(1)
        except (OSError, ssl.SSLError):
            hdrs = None
        if hdrs is not None:
            h = hdrs[0]
            assert "rst" in h or "goaway" in h or \
                h.get(":status", h.get(b":status")) not in ("200", b"200") \
                or status_of(h)[0] != 0, h
    finally:
        h2.close()


@pytest.mark.parametrize("req", [
    b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 200000
    + b"\r\n\r\n",
    b"\x00\x01garbage HTTP/9.9\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\n" + b"H: v\r\n" * 20000 + b"\r\n",
], ids=["long-header", "garbage-line", "many-headers"])
def test_http1_bad_requests(cp, watcher, req):
    """Bad HTTP/1.1 on the same port: a 4xx answer or a close."""
    raw = socket.create_connection(("127.0.0.1", cp.port), timeout=TIMEOUT)
    sk = tls_ctx(cp, ("http/1.1",)).wrap_socket(raw,
                                                server_hostname="127.0.0.1")
    try:
        try:
            sk.sendall(req)
        except (OSError, ssl.SSLError):
            pass
        got = b""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            sk.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sk.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                chunk = b""
            if not chunk:
                break
            got += chunk
        else:
            raise AssertionError("connection left open")
        assert got == b"" or got.startswith(b"HTTP/1.1 4"), got[:100]
    finally:
        sk.close()


# ---- strings that are not UTF-8 -----------------------------------------

BAD_UTF8 = b"q\xc3\x28q"        # a lead byte without its continuation
MARK = b"qzqz"                  # same length, replaced in the encoding


def raw_request(msg):
    data = msg.SerializeToString()
    assert data.count(MARK) == 1
    return data.replace(MARK, BAD_UTF8)


def test_invalid_utf8_never_poisons_reads(cp):
    """proto3 strings must be UTF-8.  A client that is not stock may
    send other bytes; the server either refuses the request or at
    least never hands them on to stock clients, whose reads would then
    fail to decode ("Exception deserializing response") for everyone:
    ListSandboxes, ListProviders, GetSandboxLogs, WatchSandbox."""
    ch = cp.channel()
    s = pbg.OpenShellStub(ch)
    sb = s.CreateSandbox(pb.CreateSandboxRequest(
        name="utf8", spec=dm.SandboxSpec()), timeout=TIMEOUT).sandbox
    unary = lambda m: ch.unary_unary("/openshell.v1.OpenShell/" + m)
    push = ch.stream_unary("/openshell.v1.OpenShell/PushSandboxLogs")
    writes = [
        ("CreateSandbox name", lambda: unary("CreateSandbox")(raw_request(
            pb.CreateSandboxRequest(name=MARK.decode(),
                                    spec=dm.SandboxSpec())),
            timeout=TIMEOUT)),
        ("CreateSandbox env", lambda: unary("CreateSandbox")(raw_request(
            pb.CreateSandboxRequest(name="envbad", spec=dm.SandboxSpec(
                environment={"K": MARK.decode()}))), timeout=TIMEOUT)),
        ("CreateProvider name", lambda: unary("CreateProvider")(raw_request(
            pb.CreateProviderRequest(provider=dm.Provider(
                name=MARK.decode(), type="openai",
                credentials={"K": "v"}))), timeout=TIMEOUT)),
        ("CreateProvider config", lambda: unary("CreateProvider")(
            raw_request(pb.CreateProviderRequest(provider=dm.Provider(
                name="cfgbad", type="openai", credentials={"K": "v"},
                config={"U": MARK.decode()}))), timeout=TIMEOUT)),
        ("PushSandboxLogs message", lambda: push(iter([raw_request(
            pb.PushSandboxLogsRequest(sandbox_id=sb.id, logs=[
                pb.SandboxLogLine(timestamp_ms=1, level="INFO",
                                  message=MARK.decode())]))]),
            timeout=TIMEOUT)),
    ]
    accepted = []
    for what, fn in writes:
        try:
            fn()
            accepted.append(what)
        except grpc.RpcError as e:
            assert e.code() in (grpc.StatusCode.INVALID_ARGUMENT,
                                grpc.StatusCode.INTERNAL), (what, e.code())
    broken = []
    reads = [
        ("ListSandboxes", lambda: s.ListSandboxes(
            pb.ListSandboxesRequest(), timeout=TIMEOUT)),
        ("ListProviders", lambda: s.ListProviders(
            pb.ListProvidersRequest(), timeout=TIMEOUT)),
        ("GetProvider cfgbad", lambda: s.GetProvider(
            pb.GetProviderRequest(name="cfgbad"), timeout=TIMEOUT)),
        ("GetSandbox envbad", lambda: s.GetSandbox(
            pb.GetSandboxRequest(name="envbad"), timeout=TIMEOUT)),
        ("GetSandboxLogs", lambda: s.GetSandboxLogs(
            pb.GetSandboxLogsRequest(sandbox_id=sb.id), timeout=TIMEOUT)),
        ("WatchSandbox", lambda: [ev for ev in s.WatchSandbox(
            pb.WatchSandboxRequest(id=sb.id, follow_logs=True),
            timeout=2)]),
    ]
    for what, fn in reads:
        try:
            fn()
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND or \
                    e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and \
                    what == "WatchSandbox":
                continue        # not created / the stream stayed open
            broken.append((what, e.code(), e.details()))
    assert not broken, ("accepted non-UTF-8 in %s; stock reads now fail: %r"
                        % (accepted, broken))
