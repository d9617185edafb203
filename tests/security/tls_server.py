# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""An HTTPS listener for test_tls_trust.py, run inside the test host's
namespace:  tls_server.py ADDR PORT CERT KEY ROOT

GET /echo answers 200 with the request head it received as the body
(what the proxy sent upstream: resolved credentials); any other GET
serves files under ROOT (a bare git repository for dumb HTTP) or "hello"
for /; POST answers 200 "posted" (the policy must stop it first).
Prints "ready" once bound."""

import http.server
import os
import ssl
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, *a, **kw):
        super().__init__(*a, directory=sys.argv[5], **kw)

    def reply(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/":
            return self.reply(b"hello\n")
        if self.path == "/echo":
            return self.reply(bytes(self.requestline, "latin-1") +
                              b"\r\n" + bytes(self.headers))
        return super().do_GET()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        self.reply(b"posted\n")

    def log_message(self, *a):
        pass


def main():
    addr, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
        sys.argv[4]
    srv = http.server.ThreadingHTTPServer((addr, port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("ready", flush=True)
    os.environ.pop("HTTPS_PROXY", None)
    srv.serve_forever()


if __name__ == "__main__":
    main()
