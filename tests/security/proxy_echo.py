# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""An HTTP listener for test_proxy.py, run inside the test host's
namespace:  proxy_echo.py ADDR PORT

Answers every request with 200 and the request head it received as the
body, so that a test sees exactly what the proxy sent upstream (the
rewritten request line, headers, resolved credentials).  Prints "ready"
once bound."""

import socket
import sys
import threading


def serve(c):
    with c:
        c.settimeout(5)
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                b = c.recv(65536)
                if not b:
                    return
                buf += b
        except OSError:
            return
        head = buf.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n%s" % (len(head), head))


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], int(sys.argv[2])))
    s.listen(64)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
