# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Listeners for the security suite, run inside a test namespace.

    sbxsec_server.py LOGFILE ADDR TCPPORT... [-u UDPPORT...]

TCP ports answer an HTTP request with 200 and the port number (so a
curl through the proxy sees which server it reached), and otherwise
echo; UDP ports echo.  Every accepted connection and datagram appends
one line "tcp|udp PORT PEER" to LOGFILE, so that a test can prove
nothing reached a listener.  Prints "ready" once everything is bound.
"""

import os
import selectors
import socket
import sys


def log(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")


def serve_tcp(sel, conn, port, logf):
    try:
        data = conn.recv(65536)
    except OSError:
        data = b""
    if data.startswith((b"GET ", b"HEAD ", b"POST ")):
        body = f"port {port}\n".encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: " +
                     str(len(body)).encode() + b"\r\nConnection: close"
                     b"\r\n\r\n" + body)
    elif data:
        conn.sendall(data)
    conn.close()


def main():
    logf, addr = sys.argv[1], sys.argv[2]
    tcp, udp, cur = [], [], None
    for a in sys.argv[3:]:
        if a == "-u":
            cur = udp
            continue
        (cur if cur is not None else tcp).append(int(a))
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sel = selectors.DefaultSelector()
    for p in tcp:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, p))
        s.listen(64)
        sel.register(s, selectors.EVENT_READ, ("tcp", p))
    for p in udp:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, p))
        sel.register(s, selectors.EVENT_READ, ("udp", p))
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            kind, port = key.data
            if kind == "tcp":
                conn, peer = key.fileobj.accept()
                log(logf, f"tcp {port} {peer[0]}")
                conn.settimeout(2)
                serve_tcp(sel, conn, port, logf)
            else:
                data, peer = key.fileobj.recvfrom(65536)
                log(logf, f"udp {port} {peer[0]}")
                key.fileobj.sendto(data, peer)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        os._exit(0)
