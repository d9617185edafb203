# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Set-up shared by the suites that drive proxyd directly (test_proxyd,
test_proxyd_l7, test_proxyd_tls): where proxyd is, the listening
socket, a running proxyd with this process as its parent
(proxydharness.FakeParent) that must outlive the module without a
sanitizer report, secrets and policy pushes that wait for proxyd to
take them, and the CONNECT tunnel the L7 suites talk through.

A suite imports `clean` too when its env has an origin: the autouse
fixture empties the origin's record before every test."""

import contextlib
import os
import socket

import pytest

from proxydharness import FakeParent

BUILD = os.environ.get("OPENSHELL_BUILD", os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "build"))
PROXYD = os.path.join(BUILD, "libexec", "openshell", "proxyd")
PROXY = ("10.200.0.1", 3128)
CURL = "/usr/bin/curl"
PH = "openshell:resolve:env:"
TIMEOUT = 10


def require_proxyd():
    """Skips the module unless proxyd is built and we may unshare."""
    if not os.access(PROXYD, os.X_OK):
        pytest.skip("%s is not built" % PROXYD)
    if os.geteuid() != 0:
        pytest.skip("needs root for a network namespace")


def curl_ident(req):
    """Every client is curl run from bash (the L7 suites' answer)."""
    return {"ok": True, "error": "", "pid": 4242, "exe": CURL,
            "ancestors": ["/bin/bash"], "cmdline": ["curl"]}


@contextlib.contextmanager
def running_proxyd(policy, servers=(), **kw):
    """proxyd on PROXY (call inside private_netns), started by
    FakeParent(**kw) and past "running".  Leaving the block normally
    checks that proxyd still runs and no sanitizer spoke; proxyd, the
    listening socket and servers (anything with close()) are closed
    whatever happens, so the caller hands their ownership over here."""
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    parent = None
    try:
        lsock.bind(PROXY)
        lsock.listen(128)
        parent = FakeParent(PROXYD, lsock, policy, **kw)
        parent.log.wait_for(r"running \(pid")
        yield parent
        assert parent.proc.poll() is None
        assert not [l for l in parent.log.lines if
                    "Sanitizer" in l or "runtime error" in l]
    finally:
        if parent is not None:
            parent.stop()
        lsock.close()
        for s in servers:
            s.close()


def send_secrets(parent, table):
    """IPC_PROXY_SECRETS2 with table {placeholder: [value, hosts]};
    returns once proxyd logs that it holds them all."""
    mark = parent.log.mark()
    parent.send("IPC_PROXY_SECRETS2", [table])
    parent.log.wait_for(r"credential placeholders: %d, host-bound"
                        % len(table), mark)


def load_policy(parent, policy, loaded=r"policy loaded"):
    """Pushes policy and waits for the line loaded; returns the log
    mark taken before the push."""
    mark = parent.log.mark()
    parent.send_policy(policy)
    parent.log.wait_for(loaded, mark)
    return mark


def tunnel(host, port, rcvbuf=None, sndbuf=None):
    """CONNECT host:port through proxyd, which must answer 200; returns
    the socket (the caller closes it) and the bytes after the head.
    rcvbuf, sndbuf: the socket's buffers, set before it connects."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if sndbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    s.connect(PROXY)
    s.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (
        host.encode(), port, host.encode(), port))
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        assert d, "proxy closed during CONNECT"
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 "), head
    return s, rest


def request(host, port, method, target, extra=b"", body=b""):
    """One HTTP/1.1 request for host:port, with Content-Length when
    there is a body; extra is more header lines, each ending in CRLF."""
    r = b"%s %s HTTP/1.1\r\nHost: %s:%d\r\n" % (
        method.encode(), target.encode(), host.encode(), port)
    if body:
        r += b"Content-Length: %d\r\n" % len(body)
    return r + extra + b"\r\n" + body


@pytest.fixture(autouse=True)
def clean(env):
    env.origin.drain()
    yield
