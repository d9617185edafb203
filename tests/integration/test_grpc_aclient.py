# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""libgrpc's asynchronous client (grpc_aclient.h) through
tests/grpc/grpc_atestc: unary, server-stream, client-stream, a
deadline and a cancellation, all at once on one connection and one
event loop, against grpc_testd; and a call whose server is not there,
which waits for the connection until its deadline."""

import socket
import subprocess

from grpcpki import build_dir, pki  # noqa: F401 (fixtures; sets sys.path)
from test_grpc_transport import server  # noqa: F401 (fixture)


def run_atestc(build_dir, pki, port, mode):  # noqa: F811
    exe = build_dir / "tests" / "grpc" / "grpc_atestc"
    r = subprocess.run([str(exe), "127.0.0.1", str(port), pki.ca,
                        pki.client_cert, pki.client_key, mode],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_aclient_all_at_once(server, build_dir, pki):  # noqa: F811
    out = run_atestc(build_dir, pki, server.port, "all")
    assert sorted(out) == sorted([
        "health OK 0.0.0-test",
        "echo OK hi openshell-client",
        "status PERMISSION_DENIED denied",
        "watch OK 2000",
        "push OK lines=20",
        "slow DEADLINE_EXCEEDED deadline exceeded",
    ]), out     # and never a line for the cancelled call


def test_aclient_server_down(build_dir, pki):  # noqa: F811
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()       # nothing listens there now
    out = run_atestc(build_dir, pki, port, "down")
    assert out == ["health DEADLINE_EXCEEDED deadline exceeded"], out
