# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The gateway's side of SSH access (issue 5; control-plane.md §4.5,
§4.6, §4.8) without a running sandbox: CreateSshSession and
RevokeSshSession, the checks of CONNECT /connect/ssh in order with
their status codes and the tunnel limits, ExecSandbox's validation, and
the CLI's ssh-proxy/ssh-config.  Sandbox and session records that no
RPC can produce (a READY sandbox without a supervisor, an expired
session, a session whose sandbox is gone) are written into the store
directly; gatewayd reads the store on every request.

End-to-end cases with real sandboxes are in test_ssh_sandbox.py.
"""

import os
import re
import socket
import sqlite3
import ssl
import subprocess
import time
import uuid

import pytest

from cpfixture import PROTO, control_plane  # noqa: F401

import grpc  # noqa: E402
import datamodel_pb2 as dm  # noqa: E402
import openshell_pb2 as pb  # noqa: E402
import openshell_pb2_grpc as pg  # noqa: E402

READY = dm.SANDBOX_PHASE_READY
PROVISIONING = dm.SANDBOX_PHASE_PROVISIONING
DAY_MS = 24 * 3600 * 1000


@pytest.fixture(scope="module")
def gw():
    with control_plane() as c:
        yield c


def _db(gw):
    return os.path.join(gw.state_dir, "db", "openshell.db")


def _put(gw, otype, oid, name, payload):
    now = int(time.time() * 1000)
    con = sqlite3.connect(_db(gw), timeout=10)
    with con:
        con.execute("INSERT OR REPLACE INTO objects VALUES (?,?,?,?,?,?)",
                    (otype, oid, name, payload, now, now))
    con.close()


def _row(gw, oid):
    con = sqlite3.connect(_db(gw), timeout=10)
    r = con.execute("SELECT name, payload FROM objects WHERE id = ?",
                    (oid,)).fetchone()
    con.close()
    return r


def sandbox(gw, phase):
    """A sandbox record (no supervisor behind it); returns its id."""
    sid = str(uuid.uuid4())
    name = "ssh-" + sid[:8]
    sb = dm.Sandbox(id=sid, name=name, namespace="default", phase=phase)
    _put(gw, "sandbox", sid, name, sb.SerializeToString())
    return sid


def session(gw, sid, expires=None, revoked=False):
    """A session record written directly; returns its token."""
    tok = str(uuid.uuid4())
    now = int(time.time() * 1000)
    ss = pb.SshSession(id=tok, token=tok, sandbox_id=sid, created_at_ms=now,
                       revoked=revoked, name=tok[:6],
                       expires_at_ms=now + DAY_MS if expires is None
                       else expires)
    _put(gw, "ssh_session", tok, tok[:6], ss.SerializeToString())
    return tok


def stub(gw):
    return pg.OpenShellStub(gw.channel())


def _tls(gw, cert=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(gw.pki, "ca.crt"))
    ctx.check_hostname = False
    if cert is None:
        ctx.load_cert_chain(os.path.join(gw.pki, "admin.crt"),
                            os.path.join(gw.pki, "admin.key"))
    else:
        ctx.load_cert_chain(*cert)
    # No ALPN: the port then speaks HTTP/1.1 (§4.6).
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=15)
    return ctx.wrap_socket(s)


def request(gw, head, cert=None, keep=False):
    """Sends a raw HTTP/1.1 head; returns (status, socket or None)."""
    s = _tls(gw, cert)
    s.sendall(head.encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(1)
        if not chunk:
            break
        buf += chunk
    status = int(buf.split(b" ", 2)[1]) if buf else 0
    if keep:
        return status, s
    s.close()
    return status, None


def connect(gw, sid=None, token=None, extra="", keep=False, cert=None):
    head = "CONNECT /connect/ssh HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if sid is not None:
        head += "X-Sandbox-Id: %s\r\n" % sid
    if token is not None:
        head += "X-Sandbox-Token: %s\r\n" % token
    return request(gw, head + extra + "\r\n", cert=cert, keep=keep)


# ---- CreateSshSession / RevokeSshSession ----

def test_create_session_requires_ready(gw):
    st = stub(gw)
    sid = sandbox(gw, PROVISIONING)
    with pytest.raises(grpc.RpcError) as e:
        st.CreateSshSession(pb.CreateSshSessionRequest(sandbox_id=sid))
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as e:
        st.CreateSshSession(pb.CreateSshSessionRequest(
            sandbox_id=str(uuid.uuid4())))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as e:
        st.CreateSshSession(pb.CreateSshSessionRequest())
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_create_session_fields(gw):
    sid = sandbox(gw, READY)
    before = int(time.time() * 1000)
    r = stub(gw).CreateSshSession(pb.CreateSshSessionRequest(sandbox_id=sid))
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                        r"[89ab][0-9a-f]{3}-[0-9a-f]{12}", r.token)
    assert r.sandbox_id == sid
    assert r.gateway_scheme == "https"
    assert r.gateway_host == "127.0.0.1"
    assert r.gateway_port == gw.port
    assert r.connect_path == "/connect/ssh"
    assert r.host_key_fingerprint == ""
    assert before + DAY_MS <= r.expires_at_ms <= \
        int(time.time() * 1000) + DAY_MS
    name, payload = _row(gw, r.token)        # id = token
    assert re.fullmatch(r"[a-z]{6}", name)
    ss = pb.SshSession.FromString(payload)
    assert (ss.token, ss.sandbox_id, ss.revoked) == (r.token, sid, False)


def test_revoke_session(gw):
    st = stub(gw)
    sid = sandbox(gw, READY)
    tok = st.CreateSshSession(pb.CreateSshSessionRequest(
        sandbox_id=sid)).token
    assert st.RevokeSshSession(pb.RevokeSshSessionRequest(
        token=tok)).revoked
    assert not st.RevokeSshSession(pb.RevokeSshSessionRequest(
        token=tok)).revoked
    assert not st.RevokeSshSession(pb.RevokeSshSessionRequest(
        token=str(uuid.uuid4()))).revoked
    assert connect(gw, sid, tok)[0] == 401


def test_sessions_are_admin_only(gw):
    sid = sandbox(gw, READY)
    st = pg.OpenShellStub(gw.channel(gw.client_creds(sid)))
    with pytest.raises(grpc.RpcError) as e:
        st.CreateSshSession(pb.CreateSshSessionRequest(sandbox_id=sid))
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


# ---- CONNECT /connect/ssh, checks in order ----

def test_connect_method_and_headers(gw):
    sid = sandbox(gw, READY)
    tok = session(gw, sid)
    assert request(gw, "GET /connect/ssh HTTP/1.1\r\nHost: x\r\n"
                   "X-Sandbox-Id: %s\r\nX-Sandbox-Token: %s\r\n\r\n"
                   % (sid, tok))[0] == 405
    assert connect(gw)[0] == 401
    assert connect(gw, sid=sid)[0] == 401
    assert connect(gw, token=tok)[0] == 401
    assert connect(gw, sid="   ", token=tok)[0] == 400
    assert connect(gw, sid=sid, token=" \t ")[0] == 400


def test_connect_session_checks(gw):
    sid = sandbox(gw, READY)
    other = sandbox(gw, READY)
    assert connect(gw, sid, str(uuid.uuid4()))[0] == 401          # unknown
    assert connect(gw, sid, session(gw, sid, revoked=True))[0] == 401
    assert connect(gw, other, session(gw, sid))[0] == 401       # mismatch
    past = int(time.time() * 1000) - 1000
    assert connect(gw, sid, session(gw, sid, expires=past))[0] == 401
    gone = str(uuid.uuid4())
    assert connect(gw, gone, session(gw, gone))[0] == 404
    nr = sandbox(gw, PROVISIONING)
    assert connect(gw, nr, session(gw, nr))[0] == 412


def test_connect_needs_admin_certificate(gw):
    sid = sandbox(gw, READY)
    tok = session(gw, sid)
    d = gw.client_cert(sid)
    crt = os.path.join(gw.root, "sbx.crt")
    key = os.path.join(gw.root, "sbx.key")
    with open(crt, "wb") as f:
        f.write(d[0])
    with open(key, "wb") as f:
        f.write(d[1])
    assert connect(gw, sid, tok, cert=(crt, key))[0] == 403


def test_connect_limits(gw):
    """200 comes before the sandbox is dialled; with no endpoint the
    gateway keeps retrying for ~34 s, so the tunnels stay counted."""
    sid = sandbox(gw, READY)
    toks = [session(gw, sid) for _ in range(7)]
    held = []
    try:
        for _ in range(3):
            status, s = connect(gw, sid, toks[0], keep=True)
            assert status == 200
            held.append(s)
        assert connect(gw, sid, toks[0])[0] == 429      # 3 per token
        for t in toks[1:6]:
            for _ in range(3):
                status, s = connect(gw, sid, t, keep=True)
                assert status == 200
                held.append(s)
        for _ in range(2):
            status, s = connect(gw, sid, toks[6], keep=True)
            assert status == 200
            held.append(s)
        assert len(held) == 20
        assert connect(gw, sid, toks[6])[0] == 429      # 20 per sandbox
        other = sandbox(gw, READY)
        status, s = connect(gw, other, session(gw, other), keep=True)
        assert status == 200
        held.append(s)
        # A closed tunnel frees its place.
        held.pop(0).close()
        deadline = time.monotonic() + 10
        while True:
            status, s = connect(gw, sid, toks[0], keep=True)
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert status == 200
        held.append(s)
    finally:
        for s in held:
            s.close()


# ---- ExecSandbox validation ----

def _exec(gw, **kw):
    return list(stub(gw).ExecSandbox(pb.ExecSandboxRequest(**kw),
                                     timeout=30))


@pytest.mark.parametrize("kw", [
    dict(command=["true"]),                          # no sandbox_id
    dict(sandbox_id="READY"),                        # no command
    dict(sandbox_id="READY", command=["echo", "a\nb"]),
    dict(sandbox_id="READY", command=["echo", "a\rb"]),
    dict(sandbox_id="READY", command=["echo"], workdir="/tmp\n"),
    dict(sandbox_id="READY", command=["echo"], environment={"1X": "v"}),
    dict(sandbox_id="READY", command=["echo"], environment={"A-B": "v"}),
    dict(sandbox_id="READY", command=["echo"], environment={"X": "a\nb"}),
    dict(sandbox_id="READY", command=["x" * (32 * 1024 + 1)]),
    dict(sandbox_id="READY", command=["x"] * 1025),
    dict(sandbox_id="READY", command=["echo", "a\0b"]),
])
def test_exec_validation(gw, kw):
    kw = dict(kw)
    if kw.get("sandbox_id") == "READY":
        kw["sandbox_id"] = sandbox(gw, READY)
    with pytest.raises(grpc.RpcError) as e:
        _exec(gw, **kw)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, \
        e.value.details()


def test_exec_not_found_and_not_ready(gw):
    with pytest.raises(grpc.RpcError) as e:
        _exec(gw, sandbox_id=str(uuid.uuid4()), command=["true"])
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as e:
        _exec(gw, sandbox_id=sandbox(gw, PROVISIONING), command=["true"])
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_exec_unreachable_sandbox(gw):
    """No SSH endpoint: retried (6 attempts, ~6 s), then UNAVAILABLE."""
    with pytest.raises(grpc.RpcError) as e:
        _exec(gw, sandbox_id=sandbox(gw, READY), command=["true"])
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


# ---- CLI ----

@pytest.fixture(scope="module")
def cli(gw, tmp_path_factory):
    """The CLI configured for gw: metadata and the admin bundle."""
    import json
    import shutil
    home = str(tmp_path_factory.mktemp("cli"))
    cfg = os.path.join(home, "config", "openshell")
    cl = os.path.join(cfg, "clusters", "t")
    os.makedirs(os.path.join(cl, "mtls"))
    for src, dst in (("ca.crt", "ca.crt"), ("admin.crt", "tls.crt"),
                     ("admin.key", "tls.key")):
        shutil.copy(os.path.join(gw.pki, src),
                    os.path.join(cl, "mtls", dst))
    with open(os.path.join(cl, "metadata.json"), "w") as f:
        json.dump({"name": "t", "gateway_endpoint":
                   "https://127.0.0.1:%d" % gw.port, "is_remote": False,
                   "gateway_port": gw.port, "auth_mode": "mtls"}, f)
    with open(os.path.join(cfg, "active_cluster"), "w") as f:
        f.write("t\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OPENSHELL_")}
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"))

    def run(*args, **kw):
        return subprocess.run([gw.cli_bin, *args], capture_output=True,
                              text=True, env=env, timeout=30,
                              stdin=subprocess.DEVNULL, **kw)
    run.env = env
    return run


def test_ssh_config(gw, cli):
    r = cli("sandbox", "ssh-config", "mybox")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "Host openshell-mybox"
    assert "    User sandbox" in lines
    assert "    StrictHostKeyChecking no" in lines
    assert "    LogLevel ERROR" in lines
    assert re.search(r"^    ProxyCommand \S*openshell ssh-proxy "
                     r"--gateway-name t --name mybox$", r.stdout, re.M)


def test_ssh_proxy_refused(gw, cli):
    sid = sandbox(gw, READY)
    url = "https://127.0.0.1:%d/connect/ssh" % gw.port
    r = cli("ssh-proxy", "--gateway", url, "--sandbox-id", sid,
            "--token", str(uuid.uuid4()), "--gateway-name", "t")
    assert r.returncode == 1
    assert "HTTP 401" in r.stderr
    gone = str(uuid.uuid4())
    r = cli("ssh-proxy", "--gateway", url, "--sandbox-id", gone,
            "--token", session(gw, gone), "--gateway-name", "t")
    assert r.returncode == 1 and "HTTP 404" in r.stderr


def test_ssh_proxy_name_mode_not_ready(gw, cli):
    sid = sandbox(gw, PROVISIONING)
    name = _row(gw, sid)[0]
    r = cli("ssh-proxy", "--gateway-name", "t", "--name", name)
    assert r.returncode == 1
    assert "not ready" in r.stderr


def test_exec_cli_validation_errors(gw, cli):
    sid = sandbox(gw, PROVISIONING)
    name = _row(gw, sid)[0]
    r = cli("sandbox", "exec", name, "--", "true")
    assert r.returncode == 1 and "not ready" in r.stderr
    r = cli("sandbox", "exec", name)
    assert r.returncode == 1 and "usage" in r.stderr


# ---- the tunnel itself, against a fake SSH endpoint ----

class FakeEndpoint:
    """<state>/sandboxes/<id>/run/ssh.sock as the supervisor would
    serve it: checks the NSSH1 line, answers OK, echoes until EOF,
    then says "bye" and closes (so half-close is visible)."""

    def __init__(self, gw, sid):
        import hashlib
        import hmac
        import threading
        d = os.path.join(gw.state_dir, "sandboxes", sid, "run")
        os.makedirs(d)
        self.path = os.path.join(d, "ssh.sock")
        with open(os.path.join(gw.pki, "ssh-handshake.secret"), "rb") as f:
            self.secret = f.read().strip()
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(self.path)
        self.srv.listen(4)
        self.lines = []
        self.hmac, self.hashlib = hmac, hashlib
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        c, _ = self.srv.accept()
        line = b""
        while not line.endswith(b"\n"):
            b = c.recv(1)
            if not b:
                return
            line += b
        f = line.decode().split(" ")
        self.lines.append(line)
        msg = "%s|%s|%s" % (f[1], f[2], f[3].strip())
        want = self.hmac.new(self.secret, msg.encode(),
                             self.hashlib.sha256).hexdigest()
        ok = (len(f) == 5 and f[0] == "NSSH1" and
              abs(int(f[2]) - time.time()) < 30 and
              f[4].strip() == want)
        c.sendall(b"OK\n" if ok else b"ERR\n")
        while ok:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
        c.sendall(b"bye")
        c.close()

    def close(self):
        self.srv.close()


def test_tunnel_relays_with_half_close(gw, cli):
    sid = sandbox(gw, READY)
    tok = session(gw, sid)
    fake = FakeEndpoint(gw, sid)
    try:
        url = "https://127.0.0.1:%d/connect/ssh" % gw.port
        data = os.urandom(300000)
        try:
            r = subprocess.run([gw.cli_bin, "ssh-proxy", "--gateway", url,
                                "--sandbox-id", sid, "--token", tok,
                                "--gateway-name", "t"], input=data,
                               capture_output=True, timeout=30,
                               env=cli.env)
        except subprocess.TimeoutExpired:
            raise AssertionError(gw.log.text()[-3000:])
        assert r.returncode == 0, r.stderr
        assert r.stdout == data + b"bye"
        fake.t.join(10)
        assert fake.lines[0].startswith(("NSSH1 %s " % tok).encode())
    finally:
        fake.close()


def test_sessions_go_with_their_sandbox(gw):
    st = stub(gw)
    sid = sandbox(gw, READY)
    name = _row(gw, sid)[0]
    toks = [st.CreateSshSession(pb.CreateSshSessionRequest(
        sandbox_id=sid)).token for _ in range(2)]
    other = sandbox(gw, READY)
    keep = st.CreateSshSession(pb.CreateSshSessionRequest(
        sandbox_id=other)).token
    st.DeleteSandbox(pb.DeleteSandboxRequest(name=name))
    assert [_row(gw, t) for t in toks] == [None, None]
    assert _row(gw, keep) is not None
    assert connect(gw, sid, toks[0])[0] == 401
