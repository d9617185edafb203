# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""ProxyCommand for the SSH tests: dial a sandbox's ssh.sock, send the
NSSH1 preface (secret from OPENSHELL_SSH_HANDSHAKE_SECRET), require OK,
then copy stdin/stdout both ways.

    ssh_proxy.py SOCKET_PATH
"""

import hashlib
import hmac
import os
import selectors
import socket
import sys
import time
import uuid


def preface(secret, token="tok", ts=None, nonce=None):
    ts = int(time.time()) if ts is None else ts
    nonce = nonce or str(uuid.uuid4())
    mac = hmac.new(secret.encode(), f"{token}|{ts}|{nonce}".encode(),
                   hashlib.sha256).hexdigest()
    return f"NSSH1 {token} {ts} {nonce} {mac}\n".encode()


def dial(path):
    """A long state path does not fit sun_path: go through its dir fd."""
    d = os.open(os.path.dirname(path), os.O_PATH | os.O_DIRECTORY)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(f"/proc/self/fd/{d}/{os.path.basename(path)}")
    finally:
        os.close(d)
    return s


def readline(s):
    b = b""
    while not b.endswith(b"\n") and len(b) < 16:
        c = s.recv(1)
        if not c:
            break
        b += c
    return b


def main():
    s = dial(sys.argv[1])
    s.sendall(preface(os.environ["OPENSHELL_SSH_HANDSHAKE_SECRET"]))
    if readline(s) != b"OK\n":
        sys.stderr.write("ssh_proxy: preface refused\n")
        sys.exit(1)
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ)
    sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj == 0:
                data = os.read(0, 65536)
                if not data:
                    sel.unregister(0)
                    s.shutdown(socket.SHUT_WR)
                else:
                    s.sendall(data)
            else:
                data = s.recv(65536)
                if not data:
                    return
                os.write(1, data)


if __name__ == "__main__":
    main()
