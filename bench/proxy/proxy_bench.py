# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""bench/proxy: see run.sh."""

import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

from proxydharness import FakeParent, private_netns  # noqa: E402

HOST = "203.0.113.10"
PROXY = ("10.200.0.1", 3128)
SRC_PORT, HTTP_PORT = 9100, 9101
MB = int(os.environ.get("PROXY_BENCH_MB", "256"))
SECS = float(os.environ.get("PROXY_BENCH_SECS", "2"))
POLICY = """version: 1
network_policies:
  bench:
    endpoints:
      - { host: bench.test, port: %d, allowed_ips: [203.0.113.0/24] }
      - { host: bench.test, port: %d, allowed_ips: [203.0.113.0/24] }
    binaries:
      - { path: /usr/bin/curl }
""" % (SRC_PORT, HTTP_PORT)
CHUNK = b"\0" * (1 << 20)
RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def serve(port, handler):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, port))
    s.listen(512)

    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=handler, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def source(c):
    """Sends MB MiB, then closes."""
    with c:
        try:
            for _ in range(MB):
                c.sendall(CHUNK)
        except OSError:
            pass


def http(c):
    with c:
        buf = b""
        while b"\r\n\r\n" not in buf:
            b = c.recv(4096)
            if not b:
                return
            buf += b
        c.sendall(RESP)


def open_conn(proxy, port):
    if not proxy:
        return socket.create_connection((HOST, port))
    s = socket.create_connection(PROXY)
    s.sendall(b"CONNECT bench.test:%d HTTP/1.1\r\n\r\n" % port)
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 200"), head
    return s


def download(proxy):
    s = open_conn(proxy, SRC_PORT)
    buf = bytearray(1 << 20)
    n = 0
    with s:
        while True:
            k = s.recv_into(buf)
            if not k:
                break
            n += k
    assert n == MB << 20, n


def throughput(proxy, streams):
    t0 = time.monotonic()
    ts = [threading.Thread(target=download, args=(proxy,))
          for _ in range(streams)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return streams * MB / (time.monotonic() - t0)


def rate(fn):
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < SECS:
        fn()
        n += 1
    return n / (time.monotonic() - t0)


def connect_once(proxy):
    open_conn(proxy, HTTP_PORT).close()


def get_once(proxy):
    if proxy:
        s = socket.create_connection(PROXY)
        s.sendall(b"GET http://bench.test:%d/ HTTP/1.1\r\n\r\n" % HTTP_PORT)
    else:
        s = socket.create_connection((HOST, HTTP_PORT))
        s.sendall(b"GET / HTTP/1.1\r\nHost: bench.test\r\n\r\n")
    with s:
        out = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            out += b
    assert out.startswith(b"HTTP/1.1 200"), out


def line(name, ours, ref, unit):
    print("%-16s %10.1f %s   direct %10.1f %s   ratio %.2f" % (
        name, ours, unit, ref, unit, ours / ref if ref else 0))


def main():
    proxyd = os.path.join(sys.argv[1], "libexec", "openshell", "proxyd")
    with private_netns(["10.200.0.1/32", HOST + "/32"]):
        serve(SRC_PORT, source)
        serve(HTTP_PORT, http)
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(PROXY)
        ls.listen(512)
        parent = FakeParent(proxyd, ls, POLICY,
                            hosts="%s bench.test\n" % HOST)
        parent.log.wait_for(r"running \(pid")
        try:
            line("tunnel MB/s", throughput(True, 1), throughput(False, 1),
                 "MB/s")
            line("tunnel x8 MB/s", throughput(True, 8), throughput(False, 8),
                 "MB/s")
            line("CONNECT/s", rate(lambda: connect_once(True)),
                 rate(lambda: connect_once(False)), "/s")
            line("forward GET/s", rate(lambda: get_once(True)),
                 rate(lambda: get_once(False)), "/s")
        finally:
            parent.stop()


if __name__ == "__main__":
    main()
