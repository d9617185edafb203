# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""End to end through proxyd: the only way out is the policy's.  (The
decision rules themselves are proxyd's suite; this proves the wiring:
listener in the proxy netns, identity from the supervisor, hosts-file
override, upstream from the supervisor's netns.)"""

import os
import shlex
import signal

from sbxsec import ALLOW_CURL, log_lines

CURL = ["/usr/bin/curl", "-s", "-o", "/dev/null", "-w",
        "%{http_code}/%{http_connect}\n", "--max-time", "20"]


def curl(*args):
    return shlex.join(CURL + list(args))


def test_curl_allowed_and_denied(sandbox, world):
    sb = sandbox(network=ALLOW_CURL)
    before = len(log_lines(world.testlog))
    p = sb.run(["/bin/sh", "-c", "; ".join([
        curl("http://allowed.test:8080/"),
        curl("-p", "http://allowed.test:8080/"),
        curl("http://denied.test:8081/"),
        curl("-p", "http://denied.test:8081/"),
        curl("-p", "http://allowed.test:8081/"),
        "exit 0"])])
    assert p.returncode == 0, p.stderr
    codes = p.stdout.split()
    assert codes[0] == "200/000", (codes, p.stderr)	# forward proxy
    assert codes[1] == "200/200", (codes, p.stderr)	# CONNECT
    assert codes[2] == "403/000", (codes, p.stderr)	# unlisted host
    assert codes[3].endswith("/403"), (codes, p.stderr)
    assert codes[4].endswith("/403"), (codes, p.stderr)	# wrong port
    lines = log_lines(world.testlog)[before:]
    assert all(l.startswith("tcp 8080 ") for l in lines), lines
    assert len(lines) == 2


def test_wrong_binary_denied(sandbox, world):
    """python is not curl: the identity the supervisor resolves decides."""
    sb = sandbox(network=ALLOW_CURL)
    p = sb.py("""
import socket
s = socket.create_connection(("10.200.0.1", 3128), timeout=20)
s.sendall(b"CONNECT allowed.test:8080 HTTP/1.1\\r\\nHost: allowed.test:8080\\r\\n\\r\\n")
print(s.recv(200).split(b"\\r\\n")[0].decode())
""")
    assert p.returncode == 0, p.stderr
    assert " 403" in p.stdout, (p.stdout, p.stderr)


def _proxyd_pid(supervisor):
    kids = open(f"/proc/{supervisor}/task/{supervisor}/children").read()
    for k in kids.split():
        if open(f"/proc/{k}/comm").read().strip() == "proxyd":
            return int(k)
    return None


def _wait_log(stream, text):
    for line in stream:
        if text in line:
            return line
    raise AssertionError(f"no log line with {text!r}")


def test_proxyd_killed_restarts_agent_survives(sandbox, world):
    """kill -9 proxyd: the agent keeps running, and once the supervisor
    has restarted proxyd new connections work again."""
    sb = sandbox(network=ALLOW_CURL)
    hold = sb.popen(["/bin/sh", "-c", "while read what; do " +
                     curl("-p", "http://allowed.test:8080/") +
                     "; done; echo agent-done"], stdin=True)
    try:
        assert hold.ready == "ready"
        first = _proxyd_pid(hold.pid)
        assert first is not None
        hold.stdin.write("1\n")
        hold.stdin.flush()
        assert hold.stdout.readline().strip() == "200/200"
        os.kill(first, signal.SIGKILL)
        _wait_log(hold.stderr, "restarted proxyd")
        assert _proxyd_pid(hold.pid) not in (None, first)
        hold.stdin.write("2\n")
        hold.stdin.flush()
        assert hold.stdout.readline().strip() == "200/200"
        hold.stdin.close()
        assert hold.stdout.readline().strip() == "agent-done"
        assert hold.wait(30) == 0
    finally:
        if hold.poll() is None:
            hold.kill()
        hold.wait(30)


ALLOW_PY = """  testhost:
    name: testhost
    endpoints:
      - host: allowed.test
        port: 8080
        allowed_ips: [203.0.113.0/24]
    binaries:
      - { path: %s }
""" % os.path.realpath("/usr/bin/python3")

# G5: the allowed python (A) connects to the proxy and passes the socket
# (SCM_RIGHTS) to its parent B, a copy of python at /sandbox/py2 that
# the policy does not list, which then makes the request.  With A still
# holding the socket the holders differ ("socket shared between
# processes"); with A gone B alone holds it and B is not allowed.
# Either way: 403.  "own": A makes the request itself: 200.
BORROW_B = r"""
import array, socket, subprocess, sys
mode = sys.argv[1]
a, b = socket.socketpair()
child = subprocess.Popen(["/usr/bin/python3", "/sandbox/borrow_a.py", mode],
                         pass_fds=(b.fileno(),), stdout=subprocess.PIPE,
                         text=True, env={"FD": str(b.fileno())})
b.close()
if mode == "own":
    print(child.communicate(timeout=30)[0].strip(), flush=True)
    sys.exit(0)
msg, anc, _, _ = a.recvmsg(1, socket.CMSG_LEN(4))
fds = array.array("i")
fds.frombytes(anc[0][2][:4])
s = socket.socket(fileno=fds[0])
if mode == "handed":
    child.wait(30)		# A exits: B alone holds the socket
s.sendall(b"CONNECT allowed.test:8080 HTTP/1.1\r\n"
          b"Host: allowed.test:8080\r\n\r\n")
s.settimeout(20)
print(s.recv(200).split(b"\r\n")[0].decode(), flush=True)
if mode == "shared":
    a.send(b"x")		# let A go
child.wait(30)
"""

BORROW_A = r"""
import os, socket, sys
mode = sys.argv[1]
ch = socket.socket(fileno=int(os.environ["FD"]))
s = socket.create_connection(("10.200.0.1", 3128), timeout=20)
if mode == "own":
    s.sendall(b"CONNECT allowed.test:8080 HTTP/1.1\r\n"
              b"Host: allowed.test:8080\r\n\r\n")
    print(s.recv(200).split(b"\r\n")[0].decode(), flush=True)
    sys.exit(0)
ch.sendmsg([b"s"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                     s.fileno().to_bytes(4, sys.byteorder))])
if mode == "handed":
    sys.exit(0)
ch.recv(1)			# keep holding it until B is done
"""


def test_borrowed_socket_denied(sandbox, world):
    sb = sandbox(network=ALLOW_PY)
    sb.install(os.path.realpath("/usr/bin/python3"), "py2")
    (sb.sbxdir() / "borrow_b.py").write_text(BORROW_B)
    (sb.sbxdir() / "borrow_a.py").write_text(BORROW_A)
    res = {}
    for mode in ("own", "shared", "handed"):
        p = sb.run(["/sandbox/py2", "/sandbox/borrow_b.py", mode])
        assert p.returncode == 0, p.stderr
        res[mode] = (p.stdout.strip(), p.stderr)
    assert res["own"][0].startswith("HTTP/1.1 200"), res["own"]
    assert res["shared"][0].startswith("HTTP/1.1 403"), res["shared"]
    assert "socket shared between processes" in res["shared"][1]
    assert res["handed"][0].startswith("HTTP/1.1 403"), res["handed"]


ALLOW_PY2 = ALLOW_PY.replace(os.path.realpath("/usr/bin/python3"),
                             "/sandbox/py2")

PROBE = r"""
import os, socket, sys
if len(sys.argv) > 1:		# replace our own binary, then connect
    os.rename("/sandbox/py3", "/sandbox/py2")
s = socket.create_connection(("10.200.0.1", 3128), timeout=20)
s.sendall(b"CONNECT allowed.test:8080 HTTP/1.1\r\nHost: allowed.test\r\n\r\n")
print(s.recv(200).split(b"\r\n")[0].decode().split()[1], flush=True)
"""


def test_binary_integrity(sandbox, world):
    """/sandbox is writable: a listed binary replaced after it started,
    or since its first sighting, no longer carries its identity."""
    sb = sandbox(network=ALLOW_PY2)
    py = os.path.realpath("/usr/bin/python3")
    sb.install(py, "py2")
    (sb.sbxdir() / "probe.py").write_text(PROBE)
    p = sb.run(["/bin/sh", "-c",
                "/sandbox/py2 /sandbox/probe.py; "
                "cp /sandbox/py2 /sandbox/py3; "
                "/sandbox/py2 /sandbox/probe.py replace; "
                "/sandbox/py2 /sandbox/probe.py"])
    assert p.returncode == 0, p.stderr
    # first sighting trusted; replaced while running; changed since
    assert p.stdout.split() == ["200", "403", "403"], (p.stdout, p.stderr)
    assert "binary integrity check failed" in p.stderr
