# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Run proxyd alone, with this test process as its parent.

FakeParent speaks libipc on proxyd's fd 3 (16-byte host-order header,
one msgpack value per frame, an fd by SCM_RIGHTS), sends the setup rows
of the "sandbox supervisor" block of proto/msgs.def and answers every
IPC_PROXY_IDENT with an identity the test chooses.  The real parent
(svc/sandbox) finds that identity in /proc; tests/security covers it.

private_netns() moves the calling thread (and every thread and process
it starts afterwards) into a fresh network namespace with only `lo`,
holding the TEST-NET addresses the suites use: nothing can leave it.
"""

import array
import contextlib
import ctypes
import os
import queue
import re
import socket
import struct
import subprocess
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TIMEOUT = 10
CLONE_NEWNET = 0x40000000


def _enum(path, macro):
    names = []
    with open(os.path.join(REPO, "proto", path)) as f:
        for line in f:
            m = re.match(r"\s*%s\((\w+)," % macro, line)
            if m:
                names.append(m.group(1))
    return names


PROCS = {n: i for i, n in enumerate(_enum("procs.def", "PROC"))}
MSGS = {n: i + 1 for i, n in enumerate(_enum("msgs.def", "IPC_MSG"))}
MSGNAMES = {v: k for k, v in MSGS.items()}


# -- a msgpack subset: nil, bool, int, str, bin, array, map ----------------

def mp_pack(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if 0 <= v < 1 << 32:
            return b"\xce" + struct.pack(">I", v)
        if v >= 0:
            return b"\xcf" + struct.pack(">Q", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, str):
        b = v.encode()
        if len(b) < 32:
            return bytes([0xa0 | len(b)]) + b
        return b"\xdb" + struct.pack(">I", len(b)) + b
    if isinstance(v, (bytes, bytearray)):
        return b"\xc6" + struct.pack(">I", len(v)) + bytes(v)
    if isinstance(v, (list, tuple)):
        return (b"\xdd" + struct.pack(">I", len(v)) +
                b"".join(mp_pack(x) for x in v))
    if isinstance(v, dict):
        return (b"\xdf" + struct.pack(">I", len(v)) +
                b"".join(mp_pack(k) + mp_pack(x) for k, x in v.items()))
    raise TypeError(type(v))


def mp_unpack(b, i=0):
    t = b[i]
    i += 1
    fixed = {0xcc: ">B", 0xcd: ">H", 0xce: ">I", 0xcf: ">Q",
             0xd0: ">b", 0xd1: ">h", 0xd2: ">i", 0xd3: ">q"}
    if t < 0x80:
        return t, i
    if t >= 0xe0:
        return t - 0x100, i
    if t in fixed:
        n = struct.calcsize(fixed[t])
        return struct.unpack(fixed[t], b[i:i + n])[0], i + n
    if t == 0xc0:
        return None, i
    if t in (0xc2, 0xc3):
        return t == 0xc3, i
    if 0xa0 <= t <= 0xbf or t in (0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6):
        if 0xa0 <= t <= 0xbf:
            n = t & 0x1f
        else:
            w = {0xd9: 1, 0xc4: 1, 0xda: 2, 0xc5: 2}.get(t, 4)
            n = int.from_bytes(b[i:i + w], "big")
            i += w
        raw = b[i:i + n]
        return (raw if t in (0xc4, 0xc5, 0xc6) else raw.decode()), i + n
    if 0x90 <= t <= 0x9f or t in (0xdc, 0xdd):
        if t <= 0x9f:
            n = t & 0x0f
        else:
            w = 2 if t == 0xdc else 4
            n = int.from_bytes(b[i:i + w], "big")
            i += w
        out = []
        for _ in range(n):
            v, i = mp_unpack(b, i)
            out.append(v)
        return out, i
    if 0x80 <= t <= 0x8f or t in (0xde, 0xdf):
        if t <= 0x8f:
            n = t & 0x0f
        else:
            w = 2 if t == 0xde else 4
            n = int.from_bytes(b[i:i + w], "big")
            i += w
        out = {}
        for _ in range(n):
            k, i = mp_unpack(b, i)
            v, i = mp_unpack(b, i)
            out[k] = v
        return out, i
    raise ValueError("msgpack type 0x%02x" % t)


# -- the network namespace --------------------------------------------------

@contextlib.contextmanager
def private_netns(addrs):
    """The calling thread in a new netns with addrs on lo, then back."""
    libc = ctypes.CDLL(None, use_errno=True)
    orig = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    if libc.unshare(CLONE_NEWNET) != 0:
        os.close(orig)
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
    try:
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        for a in addrs:
            subprocess.run(["ip", "addr", "add", a, "dev", "lo"],
                           check=True)
        yield
    finally:
        if libc.setns(orig, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back")
        os.close(orig)


# -- the parent ---------------------------------------------------------------

class LogLines:
    """proxyd's stderr, collected by a thread; wait_for() blocks on a
    condition until a line matches."""

    def __init__(self, stream):
        self.lines = []
        self.cv = threading.Condition()
        self.t = threading.Thread(target=self._run, args=(stream,),
                                  daemon=True)
        self.t.start()

    def _run(self, stream):
        for raw in stream:
            with self.cv:
                self.lines.append(raw.decode(errors="replace").rstrip())
                self.cv.notify_all()

    def mark(self):
        with self.cv:
            return len(self.lines)

    def wait_for(self, pattern, since=0, timeout=TIMEOUT):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for line in self.lines[since:]:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no log line /%s/ in:\n%s" % (
                        pattern, "\n".join(self.lines[since:])))
                self.cv.wait(left)


class FakeParent:
    """proxyd with this process as its parent."""

    def __init__(self, binary, listen_sock, policy, secrets=None,
                 hosts="", ident=None, ctl_path=None):
        self.ident = ident or (lambda req: {"ok": True, "pid": 42,
                                            "exe": "/usr/bin/curl"})
        self.idents = []
        self.other = queue.Queue()  # (name, value) of other messages
        self.lock = threading.Lock()
        self.wlock = threading.Lock()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock = ours
        tfd = theirs.fileno()

        def child():
            os.dup2(tfd, 3)
        self.proc = subprocess.Popen(
            [binary, "-d", "-v", "-u", "65534", "-g", "65534"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, close_fds=False, preexec_fn=child)
        theirs.close()
        self.log = LogLines(self.proc.stderr)
        try:
            self._setup(listen_sock, policy, secrets, hosts, ctl_path)
        except (EOFError, OSError) as e:
            self.proc.wait(timeout=TIMEOUT)
            self.log.t.join(TIMEOUT)
            raise RuntimeError("proxyd setup failed (%s), exit %s:\n%s" % (
                e, self.proc.returncode, "\n".join(self.log.lines)))
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _setup(self, listen_sock, policy, secrets, hosts, ctl_path):
        self.send("IPC_HELLO", [1, "dev", PROCS["PROC_PARENT"]])
        typ, _, body, _ = self.recv()
        assert MSGNAMES[typ] == "IPC_HELLO", MSGNAMES.get(typ)
        assert body[2] == PROCS["PROC_PROXY"]
        self.send("IPC_SETUP_PROXY_LISTEN", [], fd=listen_sock.fileno())
        self.ctl_path = ctl_path
        if ctl_path is not None:
            ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            ctl.bind(ctl_path)
            ctl.listen(4)
            self.send("IPC_SETUP_CTL", [0, 1], fd=ctl.fileno())
            ctl.close()
        self.send_policy(policy)
        self.send("IPC_PROXY_SECRETS", [secrets or {}])
        self.send("IPC_PROXY_HOSTS", [hosts])
        self.send("IPC_SETUP_DONE", [])
        typ, _, _, _ = self.recv()
        assert MSGNAMES[typ] == "IPC_SETUP_DONE", MSGNAMES.get(typ)

    def send_policy(self, yaml):
        self.send("IPC_PROXY_POLICY", [yaml])

    def send(self, name, value, peerid=0, fd=None):
        body = mp_pack(value)
        ln = 16 + len(body)
        if fd is not None:
            ln |= 0x80000000
        frame = struct.pack("=IIII", MSGS[name], ln, peerid,
                            os.getpid()) + body
        anc = []
        if fd is not None:
            anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                    array.array("i", [fd]))]
        with self.wlock:
            self.sock.sendmsg([frame], anc)

    def _recvn(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("proxyd closed its channel")
            buf += chunk
        return buf

    def recv(self):
        typ, ln, peerid, pid = struct.unpack("=IIII", self._recvn(16))
        body = self._recvn((ln & 0x7fffffff) - 16)
        value, _ = mp_unpack(body) if body else (None, 0)
        return typ, peerid, value, pid

    def _serve(self):
        while True:
            try:
                typ, peerid, value, _ = self.recv()
            except (EOFError, OSError):
                return
            if MSGNAMES.get(typ) != "IPC_PROXY_IDENT":
                self.other.put((MSGNAMES.get(typ), value))
                continue
            src, sport, dst, dport = value
            req = {"src": src, "sport": sport, "dst": dst, "dport": dport}
            with self.lock:
                self.idents.append(req)
            r = self.ident(req)
            self.send("IPC_PROXY_IDENT_RESULT", [
                bool(r.get("ok")), r.get("error", ""), r.get("pid", 0),
                r.get("exe", ""), r.get("ancestors", []),
                r.get("cmdline", [])], peerid=peerid)

    def stop(self):
        # shutdown, not just close: the reader thread's recv holds a
        # reference that would keep the channel open.
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def control(path, name, value=None):
    """One control-socket request (IPC_CTL_*) as `openshell admin`
    would send it; returns the reply map."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(TIMEOUT)
        s.connect(path)

        def send(typ, v):
            body = mp_pack(v)
            s.sendall(struct.pack("=IIII", MSGS[typ], 16 + len(body), 0,
                                  os.getpid()) + body)

        def recv():
            hdr = b""
            while len(hdr) < 16:
                hdr += s.recv(16 - len(hdr))
            typ, ln, _, _ = struct.unpack("=IIII", hdr)
            body = b""
            while len(body) < (ln & 0x7fffffff) - 16:
                body += s.recv((ln & 0x7fffffff) - 16 - len(body))
            return MSGNAMES[typ], mp_unpack(body)[0]
        send("IPC_HELLO", [1, "dev", PROCS["PROC_CONTROL"]])
        send(name, [] if value is None else [value])
        while True:
            typ, v = recv()
            if typ != "IPC_HELLO":
                assert typ == "IPC_CTL_REPLY", (typ, v)
                return v


# -- the test hosts ---------------------------------------------------------

class Listener:
    """A TCP listener on (addr, port), IPv4 or IPv6: each connection it
    accepts gets a thread of its own running the subclass's _conn.
    bufsize: the send and receive buffers of every accepted socket,
    fixed (no autotuning), for tests that measure what proxyd holds."""

    def __init__(self, addr, port, bufsize=None):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.ls = socket.socket(fam, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF) if bufsize else ():
            self.ls.setsockopt(socket.SOL_SOCKET, opt, bufsize)
        self.ls.bind((addr, port))
        self.ls.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.ls.close()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            threading.Thread(target=self._conn, args=(c,),
                             daemon=True).start()


class Server(Listener):
    """A threaded TCP server on (addr, port).  Mode "echo" returns every
    byte.  Mode "http" reads one request (head, then a Content-Length
    or chunked body), answers 200 with the head and body it received,
    half-closes, and records whatever else still arrives until EOF, so
    a test sees exactly what went upstream: `heads`, and `done`, a
    queue of (head, body, extra) per connection."""

    def __init__(self, addr, port, mode):
        self.mode = mode
        self.heads = []
        self.done = queue.Queue()
        Listener.__init__(self, addr, port)

    @staticmethod
    def _until(c, buf, done):
        while not done(buf):
            b = c.recv(65536)
            if not b:
                return buf, False
            buf += b
        return buf, True

    def _conn(self, c):
        with c:
            if self.mode == "echo":
                while True:
                    b = c.recv(65536)
                    if not b:
                        return
                    c.sendall(b)
            buf, ok = self._until(c, b"", lambda b: b"\r\n\r\n" in b)
            if not ok:
                return
            head, _, rest = buf.partition(b"\r\n\r\n")
            head += b"\r\n\r\n"
            self.heads.append(head.decode(errors="replace"))
            m = re.search(rb"(?im)^content-length: *(\d+)", head)
            if re.search(rb"(?im)^transfer-encoding:.*chunked", head):
                rest, _ = self._until(c, rest,
                                      lambda b: b"0\r\n\r\n" in b)
                n = rest.index(b"0\r\n\r\n") + 5
            else:
                n = int(m.group(1)) if m else 0
                rest, _ = self._until(c, rest, lambda b: len(b) >= n)
            body, extra = rest[:n], rest[n:]
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                      b"Connection: close\r\n\r\n%s%s" % (
                          len(head) + len(body), head, body))
            c.shutdown(socket.SHUT_WR)
            try:
                extra, _ = self._until(c, extra, lambda b: False)
            except OSError:
                pass
            self.done.put((head, body, extra))



def http_exchange(addr, request, timeout=TIMEOUT):
    """Send raw bytes to the proxy, read until EOF; returns the reply."""
    with socket.create_connection(addr, timeout=timeout) as s:
        s.sendall(request)
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                return out
            out += b


def connect_tunnel(addr, target, timeout=TIMEOUT, extra=b""):
    """CONNECT target; returns (socket, status line, bytes after the
    head).  The caller closes the socket."""
    s = socket.create_connection(addr, timeout=timeout)
    s.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n%s" % (
        target.encode(), target.encode(), extra))
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            break
        buf += b
    head, _, rest = buf.partition(b"\r\n\r\n")
    return s, head.split(b"\r\n")[0].decode(), rest


class Origin(Listener):
    """A keep-alive HTTP/1.1 origin: records every request it parses
    (method, target, headers, body) and answers 200 "ok METHOD TARGET".
    /chunked answers chunked with a trailer, /close close-delimited,
    /ws upgrades to an echo."""

    def __init__(self, addr, port, tls=None):
        self.tls = tls  # an ssl.SSLContext: HTTPS
        self.reqs = queue.Queue()
        Listener.__init__(self, addr, port)

    @staticmethod
    def _readhead(c, buf):
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                return None, buf
            buf += d
        head, rest = buf.split(b"\r\n\r\n", 1)
        return head.decode("latin-1"), rest

    def _conn(self, c):
        buf = b""
        c.settimeout(TIMEOUT)
        try:
            if self.tls is not None:
                c = self.tls.wrap_socket(c, server_side=True)
            while True:
                head, buf = self._readhead(c, buf)
                if head is None:
                    return
                lines = head.split("\r\n")
                method, target, _ = lines[0].split(" ")
                hdrs = {}
                for l in lines[1:]:
                    k, v = l.split(":", 1)
                    hdrs[k.strip().lower()] = v.strip()
                n = int(hdrs.get("content-length", "0"))
                if hdrs.get("expect", "").lower() == "100-continue":
                    c.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                while len(buf) < n:
                    buf += c.recv(65536)
                body, buf = buf[:n], buf[n:]
                self.reqs.put((method, target, hdrs, body))
                if not self._answer(c, method, target, buf):
                    return
        except (OSError, ValueError):
            pass
        finally:
            c.close()

    def _answer(self, c, method, target, buf):
        msg = ("ok %s %s" % (method, target)).encode()
        if target == "/chunked":
            c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                      b"\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n")
            return True
        if target == "/close":
            c.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + msg)
            return False
        if target == "/ws":
            c.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                      b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
            if buf:
                c.sendall(buf)
            while True:
                d = c.recv(65536)
                if not d:
                    return False
                c.sendall(d)
        if method == "HEAD":
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
                      % len(msg))
            return True
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                  % (len(msg), msg))
        return True

    def drain(self):
        out = []
        while True:
            try:
                out.append(self.reqs.get_nowait())
            except queue.Empty:
                return out
