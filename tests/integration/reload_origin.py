# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The origin of test_policy_reload.py, run inside its namespace:

    reload_origin.py ADDR HTTP_PORT ECHO_PORT

HTTP_PORT serves keep-alive HTTP/1.1 (200 "ok METHOD PATH" to every
request, the body read and dropped); ECHO_PORT echoes bytes back.
Neither ever times a connection out, so a connection that ends was
ended by the proxy.  Prints "ready" once both listen."""

import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _any(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        if n:
            self.rfile.read(n)
        body = ("ok %s %s" % (self.command, self.path)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

    def log_message(self, *args):
        pass


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            d = self.request.recv(65536)
            if not d:
                return
            self.request.sendall(d)


class EchoServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    addr, hport, eport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ThreadingHTTPServer.daemon_threads = True
    h = ThreadingHTTPServer((addr, hport), Handler)
    e = EchoServer((addr, eport), Echo)
    for s in (h, e):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ready", flush=True)
    try:
        sys.stdin.read()        # until the test closes our stdin
    finally:
        h.shutdown()
        e.shutdown()


if __name__ == "__main__":
    main()
