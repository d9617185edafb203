# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""libgrpc against stock clients: Debian's grpcio with the generated
stubs, python's ssl for the HTTP/1.1 side, raw TLS sockets for garbage
and hand-built HTTP/2 frames, nghttp for a request without te.

The server is tests/grpc/grpc_testd (see its header for what each
borrowed RPC does)."""

import concurrent.futures
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import threading

import grpc
import pytest

from grpcpki import build_dir, pki  # noqa: F401 (fixtures; sets sys.path)
import openshell_pb2 as pb  # noqa: E402
import openshell_pb2_grpc as pb_grpc  # noqa: E402

MAX_MSG = 1024 * 1024


class Server:
    def __init__(self, build_dir, pki, tmp_path):
        self.pki = pki
        exe = build_dir / "tests" / "grpc" / "grpc_testd"
        self.errlog = tmp_path / "grpc_testd.stderr"
        with open(self.errlog, "w") as err:
            self.proc = subprocess.Popen(
                [str(exe), "0", pki.server_cert, pki.server_key, pki.ca,
                 str(MAX_MSG)], stdout=subprocess.PIPE, stderr=err,
                text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("ready "), (line, self.errlog.read_text())
        self.port = int(line.split()[1])
        self.addr = f"127.0.0.1:{self.port}"

    def channel(self, cert=None, key=None, ca=None):
        p = self.pki
        creds = grpc.ssl_channel_credentials(
            root_certificates=open(ca or p.ca, "rb").read(),
            private_key=open(key or p.client_key, "rb").read(),
            certificate_chain=open(cert or p.client_cert, "rb").read())
        return grpc.secure_channel(self.addr, creds, options=[
            ("grpc.ssl_target_name_override", "localhost")])

    def stub(self, **kw):
        return pb_grpc.OpenShellStub(self.channel(**kw))

    def tls(self, alpn=None, cert=True):
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        ctx.check_hostname = False
        if cert:
            ctx.load_cert_chain(self.pki.client_cert, self.pki.client_key)
        if alpn:
            ctx.set_alpn_protocols(alpn)
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return ctx.wrap_socket(raw, server_hostname="localhost")

    def stop(self):
        """Graceful stop, so sanitizer builds get to report."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        err = self.errlog.read_text()
        assert "Sanitizer" not in err and "runtime error" not in err, err


@pytest.fixture
def server(build_dir, pki, tmp_path):
    s = Server(build_dir, pki, tmp_path)
    yield s
    s.stop()


def test_health(server):
    r = server.stub().Health(pb.HealthRequest(), timeout=10)
    assert r.status == pb.SERVICE_STATUS_HEALTHY
    assert r.version == "0.0.0-test"


def test_peer_cn_and_echo(server):
    r = server.stub().GetSandbox(pb.GetSandboxRequest(name="abc"), timeout=10)
    assert r.sandbox.name == "abc"
    assert r.sandbox.id == "openshell-client"


def test_server_streaming_in_order(server):
    n = 3000  # well beyond the 64 KiB per-stream queue: drains must work
    events = list(server.stub().WatchSandbox(
        pb.WatchSandboxRequest(id="x", log_tail_lines=n), timeout=30))
    assert [e.log.timestamp_ms for e in events] == list(range(n))
    assert events[-1].log.message == f"line {n - 1}"


def test_client_streaming_count(server):
    def gen():
        for i in range(50):
            yield pb.PushSandboxLogsRequest(
                sandbox_id="s", logs=[pb.SandboxLogLine(message=str(j))
                                      for j in range(i % 4)])
    resp, call = server.stub().PushSandboxLogs.with_call(gen(), timeout=10)
    assert call.code() == grpc.StatusCode.OK
    assert call.details() == f"lines={sum(i % 4 for i in range(50))}"


def test_client_streaming_early_error(server):
    def gen():
        for _ in range(1000):
            yield pb.PushSandboxLogsRequest(
                sandbox_id="fail-after:3", logs=[pb.SandboxLogLine()])
    with pytest.raises(grpc.RpcError) as e:
        server.stub().PushSandboxLogs(gen(), timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details() == "enough"


def test_error_status_and_utf8_message(server):
    text = "sandbox 'büro' ✗ 100% gone\tnow"
    with pytest.raises(grpc.RpcError) as e:
        server.stub().GetSandbox(
            pb.GetSandboxRequest(name=f"status:5:{text}"), timeout=10)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    assert e.value.details() == text


def test_deadline_exceeded_cancels_handler(server):
    stub = server.stub()
    with pytest.raises(grpc.RpcError) as e:
        stub.ListSandboxes(pb.ListSandboxesRequest(limit=0), timeout=0.3)
    assert e.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    # The handler heard of it (cancel callback), the server lives on.
    stats = stub.GetSandbox(pb.GetSandboxRequest(name="stats"), timeout=10)
    assert stats.sandbox.name == "cancels=1"


def test_async_answer(server):
    r = server.stub().ListSandboxes(pb.ListSandboxesRequest(limit=50),
                                    timeout=10)
    assert list(r.sandboxes) == []


def test_client_cancel_reaches_handler(server):
    stub = server.stub()
    fut = stub.ListSandboxes.future(pb.ListSandboxesRequest(limit=0))
    # Once the server has the call (a later call on the same channel
    # has been answered), cancel it: RST_STREAM must reach the handler.
    stub.Health(pb.HealthRequest(), timeout=10)
    fut.cancel()
    for _ in range(100):
        r = stub.GetSandbox(pb.GetSandboxRequest(name="stats"), timeout=10)
        if r.sandbox.name == "cancels=1":
            break
    assert r.sandbox.name == "cancels=1"


def test_unknown_method(server):
    ch = server.channel()
    call = ch.unary_unary("/openshell.v1.OpenShell/NoSuchRpc")
    with pytest.raises(grpc.RpcError) as e:
        call(b"", timeout=10)
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_oversized_request(server):
    big = pb.GetSandboxRequest(name="x" * (MAX_MSG + 10))
    with pytest.raises(grpc.RpcError) as e:
        server.stub().GetSandbox(big, timeout=10)
    assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # The connection survives.
    assert server.stub().Health(pb.HealthRequest(), timeout=10).version


def test_unknown_fields_ignored(server):
    # Field 99 (varint) is unknown to the server's HealthRequest.
    ch = server.channel()
    call = ch.unary_unary("/openshell.v1.OpenShell/Health",
                          response_deserializer=pb.HealthResponse.FromString)
    r = call(b"\x98\x06\x01", timeout=10)
    assert r.status == pb.SERVICE_STATUS_HEALTHY


def test_100_concurrent_calls_one_channel(server):
    stub = server.stub()
    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        futs = [ex.submit(stub.GetSandbox,
                          pb.GetSandboxRequest(name=f"n{i}"), timeout=30)
                for i in range(100)]
        names = [f.result().sandbox.name for f in futs]
    assert names == [f"n{i}" for i in range(100)]
    slow = [stub.ListSandboxes.future(pb.ListSandboxesRequest(limit=200),
                                      timeout=30) for _ in range(100)]
    assert all(list(f.result().sandboxes) == [] for f in slow)


def test_no_client_cert_refused(server):
    s = server.tls(alpn=["h2"], cert=False)
    # TLS 1.3: the refusal arrives after the client's handshake ends.
    with pytest.raises((ssl.SSLError, ConnectionError)):
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        if not s.recv(1024):
            raise ConnectionError("closed")
    s.close()


def test_foreign_ca_client_refused(server):
    p = server.pki
    with pytest.raises(grpc.RpcError) as e:
        server.stub(cert=p.foreign_cert, key=p.foreign_key).Health(
            pb.HealthRequest(), timeout=10)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


def http1(server, request, alpn=None):
    s = server.tls(alpn=alpn)
    assert s.selected_alpn_protocol() in (None, "http/1.1")
    s.sendall(request)
    data = b""
    while chunk := s.recv(4096):
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def test_http1_healthz(server):
    assert http1(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") == \
        (200, b"")
    assert http1(server, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
                 alpn=["http/1.1"]) == (200, b"")


def test_http1_readyz(server):
    st, body = http1(server, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert st == 200
    assert body == b'{"status":"healthy","version":"0.0.0-test"}'


def test_http1_connect_ssh(server):
    req = (b"CONNECT /connect/ssh HTTP/1.1\r\nHost: x\r\n"
           b"X-Sandbox-Id: a\r\nX-Sandbox-Token: b\r\n\r\n")
    assert http1(server, req)[0] == 412
    assert http1(server, b"GET /connect/ssh HTTP/1.1\r\nHost: x\r\n\r\n")[0] \
        == 405


def test_http1_errors(server):
    assert http1(server, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 404
    assert http1(server, b"POST /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[0] \
        == 405
    assert http1(server, b"GET /healthz HTTP/1.1\nHost: x\n\n")[0] == 400
    assert http1(server, b"GET /healthz HTTP/1.1\r\n\r\n")[0] == 400
    big = b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n"
    assert http1(server, big)[0] == 431


def test_http1_connect_takeover(server):
    s = server.tls()
    # Bytes sent with the head must reach whoever takes the connection.
    s.sendall(b"CONNECT /connect/echo HTTP/1.1\r\nHost: x\r\n\r\nSSH-2.0-x")
    data = b""
    while b"SSH-2.0-x" not in data:
        chunk = s.recv(4096)
        assert chunk
        data += chunk
    assert data == b"HTTP/1.1 200 OK\r\n\r\nSSH-2.0-x"
    s.sendall(b"ping")
    assert s.recv(4) == b"ping"
    s.close()


def frame(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", sid) + payload


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def drain_until_closed(s):
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    return data


def test_garbage_closes_connection_only(server):
    s = server.tls(alpn=["h2"])
    assert s.selected_alpn_protocol() == "h2"
    s.sendall(b"\x00\xffthis is not http/2 at all" * 10)
    drain_until_closed(s)
    s.close()
    assert server.stub().Health(pb.HealthRequest(), timeout=10).version


def test_malformed_frames_close_connection_only(server):
    stub = server.stub()
    stub.Health(pb.HealthRequest(), timeout=10)  # an established channel
    s = server.tls(alpn=["h2"])
    # SETTINGS on stream 1 and a WINDOW_UPDATE of 0 are protocol errors.
    s.sendall(PREFACE + frame(4, 0, 0, b"") + frame(4, 0, 1, b"\0" * 6) +
              frame(8, 0, 0, b"\0\0\0\0"))
    data = drain_until_closed(s)
    s.close()
    assert b"\x07" in data  # a GOAWAY frame type somewhere in the reply
    assert stub.Health(pb.HealthRequest(), timeout=10).version
    assert server.stub().Health(pb.HealthRequest(), timeout=10).version


def hpack_literal(headers):
    out = b""
    for k, v in headers:
        k, v = k.encode(), v.encode()
        out += b"\x00" + bytes([len(k)]) + k + bytes([len(v)]) + v
    return out


def test_missing_te_answered_not_hung(server):
    s = server.tls(alpn=["h2"])
    hdrs = hpack_literal([(":method", "POST"), (":scheme", "https"),
                          (":path", "/openshell.v1.OpenShell/Health"),
                          (":authority", "localhost"),
                          ("content-type", "application/grpc")])
    s.sendall(PREFACE + frame(4, 0, 0, b"") +
              frame(1, 0x4, 1, hdrs) +            # HEADERS, END_HEADERS
              frame(0, 0x1, 1, b"\0\0\0\0\0"))    # DATA, END_STREAM
    # Read frames until stream 1 ends (END_STREAM on HEADERS or RST).
    buf, ended = b"", False
    while not ended:
        chunk = s.recv(65536)
        assert chunk, "connection closed without an answer"
        buf += chunk
        while len(buf) >= 9:
            ln = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + ln:
                break
            ftype, flags = buf[3], buf[4]
            sid = int.from_bytes(buf[5:9], "big") & 0x7fffffff
            buf = buf[9 + ln:]
            if sid == 1 and (ftype == 3 or (ftype == 1 and flags & 1)):
                ended = True
    s.close()


@pytest.mark.skipif(shutil.which("nghttp") is None, reason="no nghttp")
def test_missing_te_status_via_nghttp(server, tmp_path):
    body = tmp_path / "req"
    body.write_bytes(b"\0\0\0\0\0")
    r = subprocess.run(
        ["nghttp", "-v", "-t", "10", "--cert", server.pki.client_cert,
         "--key", server.pki.client_key, "-H", "content-type: application/grpc",
         "-d", str(body), f"https://{server.addr}/openshell.v1.OpenShell/Health"],
        capture_output=True, text=True, timeout=30)
    out = r.stdout
    assert ":status: 400" in out
    assert "grpc-status: 13" in out
    assert "END_STREAM" in out


def test_graceful_shutdown_finishes_in_flight(server):
    stub = server.stub()
    fut = stub.ListSandboxes.future(pb.ListSandboxesRequest(limit=500),
                                    timeout=30)
    stub.Health(pb.HealthRequest(), timeout=10)  # the slow call is in
    server.proc.send_signal(signal.SIGTERM)
    assert list(fut.result().sandboxes) == []
    assert server.proc.wait(timeout=30) == 0


# ---- libgrpc's client (tests/grpc/grpc_testc) ----

def run_testc(build_dir, pki, port, *args, ca=None):
    exe = build_dir / "tests" / "grpc" / "grpc_testc"
    r = subprocess.run([str(exe), "127.0.0.1", str(port), ca or pki.ca,
                        pki.client_cert, pki.client_key, *map(str, args)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_c_client_against_testd(server, build_dir, pki):
    port = server.port
    assert run_testc(build_dir, pki, port, "health") == ["OK 0.0.0-test"]
    assert run_testc(build_dir, pki, port, "echo", "hi") == \
        ["OK hi openshell-client"]
    assert run_testc(build_dir, pki, port, "echo", "status:7:nö 100%") == \
        ["PERMISSION_DENIED nö 100%"]
    assert run_testc(build_dir, pki, port, "watch", 5000) == ["OK 5000"]
    assert run_testc(build_dir, pki, port, "push", 10) == ["OK lines=20"]
    out = run_testc(build_dir, pki, port, "slow", 0, 300)
    assert out[0].startswith("DEADLINE_EXCEEDED ")
    assert out[1] == "OK 0.0.0-test"
    assert run_testc(build_dir, pki, port, "big", MAX_MSG + 10)[0].startswith(
        "RESOURCE_EXHAUSTED ")
    assert run_testc(build_dir, pki, port, "repeat", 50) == \
        ["OK 0.0.0-test"] * 50
    # A server whose certificate the client cannot verify.
    assert run_testc(build_dir, pki, port, "health",
                 ca=pki.foreign_ca)[0].startswith("CONNECT-FAILED ")


class PyServicer(pb_grpc.OpenShellServicer):
    """grpcio's idea of the same fixture behaviours."""

    def Health(self, request, context):
        return pb.HealthResponse(status=pb.SERVICE_STATUS_HEALTHY,
                                 version="py")

    def GetSandbox(self, request, context):
        if request.name.startswith("status:"):
            code, _, text = request.name[7:].partition(":")
            context.abort(
                next(c for c in grpc.StatusCode if c.value[0] == int(code)),
                text)
        return pb.SandboxResponse(sandbox={"name": request.name, "id": "py"})

    def WatchSandbox(self, request, context):
        for i in range(request.log_tail_lines):
            yield pb.SandboxStreamEvent(log=pb.SandboxLogLine(
                timestamp_ms=i, message=f"line {i}"))

    def PushSandboxLogs(self, request_iterator, context):
        n = sum(len(r.logs) for r in request_iterator)
        context.set_details(f"lines={n}")
        return pb.PushSandboxLogsResponse()

    def ListSandboxes(self, request, context):
        done = threading.Event()
        context.add_callback(done.set)
        done.wait(request.limit / 1000 if request.limit else 30)
        return pb.ListSandboxesResponse()


def test_c_client_against_grpcio(build_dir, pki):
    srv = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_OpenShellServicer_to_server(PyServicer(), srv)
    creds = grpc.ssl_server_credentials(
        [(open(pki.server_key, "rb").read(),
          open(pki.server_cert, "rb").read())],
        root_certificates=open(pki.ca, "rb").read(),
        require_client_auth=True)
    port = srv.add_secure_port("127.0.0.1:0", creds)
    srv.start()
    try:
        assert run_testc(build_dir, pki, port, "health") == ["OK py"]
        assert run_testc(build_dir, pki, port, "echo", "hi") == ["OK hi py"]
        assert run_testc(build_dir, pki, port, "echo", "status:5:wég") == \
            ["NOT_FOUND wég"]
        assert run_testc(build_dir, pki, port, "watch", 3000) == ["OK 3000"]
        assert run_testc(build_dir, pki, port, "push", 10) == ["OK lines=20"]
        # Either side's deadline may fire first.
        out = run_testc(build_dir, pki, port, "slow", 0, 300)
        assert out[0].startswith("DEADLINE_EXCEEDED ") and out[1] == "OK py"
        assert run_testc(build_dir, pki, port, "repeat", 20) == ["OK py"] * 20
    finally:
        srv.stop(None)
