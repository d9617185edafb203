# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""A model backend for the inference routing tests, run inside the
test's namespace.

    inference_backend.py ADDR PORT LOGFILE

Every request is appended to LOGFILE as one JSON line {method, path,
headers (lower-case names), body}.  A POST whose JSON body has
"stream": true is answered with three server-sent events, flushed one
by one without a Content-Length; a path ending in /broken gets a head
promising 1000 bytes and 10 of them, then the connection is closed;
anything else gets {"echo_model": <the body's model>, "path": <path>}
(status 200, or 418 for a path ending in /teapot).  Prints "ready"
once listening.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _record(self, body):
        rec = {"method": self.command, "path": self.path,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body.decode(errors="replace")}
        with open(self.server.logfile, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def _answer(self):
        n = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(n) if n else b""
        self._record(body)
        try:
            doc = json.loads(body) if body else {}
        except ValueError:
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        if self.path.endswith("/broken"):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
            return
        if doc.get("stream"):
            self._stream()
            return
        out = json.dumps({"echo_model": doc.get("model"),
                          "path": self.path}).encode()
        self.send_response(418 if self.path.endswith("/teapot") else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def _stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for i in range(3):
            self.wfile.write(b"data: {\"n\": %d}\n\n" % i)
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.close_connection = True

    do_GET = _answer
    do_POST = _answer


def main():
    addr, port, logfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    srv = ThreadingHTTPServer((addr, port), Handler)
    srv.logfile = logfile
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
