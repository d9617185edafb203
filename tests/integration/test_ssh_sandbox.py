# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""SSH access to a real sandbox, end to end (issue 5): `sandbox exec`
through ExecSandbox (stdout/stderr apart, exit codes, a signal, stdin),
arguments with newlines (through ssh), plain OpenSSH through `sandbox
ssh-config`, and an upload/download round trip of a tree with nested
directories, symlinks, modes and an empty file.

As test_sandbox_lifecycle.py: root, everything in a network namespace
of its own (the World helper), waiting on process exits only.
"""

import os
import re
import time
import shutil
import stat
import subprocess

import pytest

from test_sandbox_lifecycle import World
from gatewaytree import BUILD


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("sandboxes need root")
    for b in (("bin", "openshell"), ("bin", "openshell-gateway"),
              ("bin", "openshell-sandbox"),
              ("libexec", "openshell", "proxyd"),
              ("libexec", "openshell", "sshd"),
              ("libexec", "openshell", "ssh-exec")):
        if not os.access(os.path.join(BUILD, *b), os.X_OK):
            pytest.skip("%s not built" % os.path.join(*b))
    if shutil.which("ssh") is None:
        pytest.skip("no ssh client")
    w = World(str(tmp_path_factory.mktemp("ssh")))
    try:
        w.start()
        w.cli("sandbox", "create", "--name", "sshbox", "--policy", w.policy)
        yield w
    finally:
        w.close()


def run(w, *args, input=None, timeout=60):
    return subprocess.run(w.argv(*args), capture_output=True, env=w.env,
                          input=input, timeout=timeout)


@pytest.mark.parametrize("code", [0, 1, 42])
def test_exec_exit_codes_and_streams(box, code):
    r = run(box, "sandbox", "exec", "sshbox", "--", "sh", "-c",
            "echo out; echo err >&2; exit %d" % code, input=b"")
    assert r.returncode == code, r.stderr
    assert r.stdout == b"out\n"
    assert r.stderr == b"err\n"


def test_exec_signal(box):
    r = run(box, "sandbox", "exec", "sshbox", "--", "sh", "-c",
            "kill -TERM $$", input=b"")
    assert r.returncode == 128 + 15, r.stderr


def test_exec_stdin_forwarded(box):
    data = bytes(range(256)) * 64
    r = run(box, "sandbox", "exec", "sshbox", "--", "cat", input=data)
    assert r.returncode == 0, r.stderr
    assert r.stdout == data


def test_exec_env_and_workdir(box):
    r = run(box, "sandbox", "exec", "sshbox", "--workdir", "/tmp",
            "--env", "GREETING=it's me", "--", "sh", "-c",
            'pwd; printf "%s\\n" "$GREETING"', input=b"")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"/tmp\nit's me\n"


def test_exec_arguments_byte_exact(box):
    arg = "a\nb\r\nc 'd' \"e\" $f `g` \\h"
    r = run(box, "sandbox", "exec", "sshbox", "--", "printf", "%s", arg,
            input=b"")
    assert r.returncode == 0, r.stderr
    assert r.stdout == arg.encode()


def test_plain_openssh_with_ssh_config(box):
    r = run(box, "sandbox", "ssh-config", "sshbox")
    assert r.returncode == 0, r.stderr
    cfg = os.path.join(box.root, "ssh_config")
    with open(cfg, "wb") as f:
        f.write(r.stdout)
    r = subprocess.run(["ip", "netns", "exec", box.ns, "ssh", "-F", cfg,
                        "openshell-sshbox", "echo", "hello", "from", "ssh"],
                       capture_output=True, env=box.env, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hello from ssh\n"


def _tree(root):
    os.makedirs(os.path.join(root, "a", "b", "c"))
    with open(os.path.join(root, "a", "b", "c", "deep.txt"), "w") as f:
        f.write("deep\n")
    with open(os.path.join(root, "exe.sh"), "w") as f:
        f.write("#!/bin/sh\necho hi\n")
    os.chmod(os.path.join(root, "exe.sh"), 0o750)
    with open(os.path.join(root, "private"), "w") as f:
        f.write("secret-ish\n")
    os.chmod(os.path.join(root, "private"), 0o600)
    open(os.path.join(root, "empty"), "w").close()
    os.symlink("a/b/c/deep.txt", os.path.join(root, "link"))
    os.symlink("/nonexistent", os.path.join(root, "dangling"))
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024 + 7))
    os.utime(os.path.join(root, "a", "b", "c", "deep.txt"),
             (1000000000, 1000000000))


def _snapshot(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                with open(p, "rb") as f:
                    data = f.read()
                out[rel] = ("file", stat.S_IMODE(st.st_mode), len(data),
                            hash(data), int(st.st_mtime))
    return out


def test_upload_download_round_trip(box, tmp_path):
    src = str(tmp_path / "src")
    os.makedirs(src)
    _tree(src)
    r = run(box, "sandbox", "upload", "sshbox", src, "/sandbox/rt",
            "--no-git-ignore")
    assert r.returncode == 0, r.stderr
    dst = str(tmp_path / "dst")
    r = run(box, "sandbox", "download", "sshbox", "/sandbox/rt", dst)
    assert r.returncode == 0, r.stderr
    assert _snapshot(dst) == _snapshot(src)


def test_upload_honours_gitignore(box, tmp_path):
    if shutil.which("git") is None:
        pytest.skip("no git")
    src = str(tmp_path / "repo")
    os.makedirs(os.path.join(src, "sub"))
    subprocess.run(["git", "init", "-q", src], check=True)
    with open(os.path.join(src, ".gitignore"), "w") as f:
        f.write("*.log\n")
    for n in ("keep.txt", "drop.log", "sub/also.txt"):
        with open(os.path.join(src, n), "w") as f:
            f.write(n)
    r = run(box, "sandbox", "upload", "sshbox", src, "/sandbox/gi")
    assert r.returncode == 0, r.stderr
    r = run(box, "sandbox", "exec", "sshbox", "--", "sh", "-c",
            "cd /sandbox/gi && find . -type f | sort", input=b"")
    assert r.stdout.decode().split() == ["./.gitignore", "./keep.txt",
                                         "./sub/also.txt"]


# Run inside the namespace: ExecSandbox with a timeout; prints the
# events as "kind:data" lines.
EXEC_TIMEOUT = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
import grpc, openshell_pb2 as pb, openshell_pb2_grpc as pg
d, port, sid = sys.argv[2], sys.argv[3], sys.argv[4]
rd = lambda n: open(os.path.join(d, n), "rb").read()
creds = grpc.ssl_channel_credentials(rd("ca.crt"), rd("tls.key"),
                                     rd("tls.crt"))
stub = pg.OpenShellStub(grpc.secure_channel("127.0.0.1:" + port, creds))
req = pb.ExecSandboxRequest(sandbox_id=sid, timeout_seconds=1,
                            command=["sh", "-c", "echo started; sleep 30"])
for ev in stub.ExecSandbox(req, timeout=20):
    k = ev.WhichOneof("payload")
    print(k, ev.exit.exit_code if k == "exit" else
          getattr(ev, k).data.decode().strip(), flush=True)
"""


def test_exec_timeout_is_124(box):
    from test_sandbox_lifecycle import PROTO, PY
    sid = box.get("sshbox")["id"]
    r = subprocess.run(["ip", "netns", "exec", box.ns, PY, "-c",
                        EXEC_TIMEOUT, PROTO, box.mtls, box.port, sid],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["stdout started", "exit 124"]


def test_connect_interactive_shell(box):
    """connect forces a PTY (-tt) even from a pipe; the shell reads our
    lines and TERM is passed with SetEnv."""
    r = run(box, "sandbox", "connect", "sshbox",
            input=b"echo conn-$((40+2)) $TERM\nexit 0\n")
    assert r.returncode == 0, r.stderr
    assert b"conn-42 xterm-256color" in r.stdout
    last = os.path.join(box.root, "config", "openshell", "clusters",
                        "openshell", "last_sandbox")
    with open(last) as f:
        assert f.read().strip() == "sshbox"


def test_forward_foreground(box):
    """A forward of a port the sandbox serves on loopback (foreground
    ssh -N; stopped by killing it)."""
    srv = subprocess.Popen(
        box.argv("sandbox", "exec", "sshbox", "--", "python3", "-c",
                 "import socket; s = socket.socket(); "
                 "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
                 "s.bind(('127.0.0.1', 18089)); s.listen(1); "
                 "print('listening', flush=True); c, _ = s.accept(); "
                 "c.sendall(b'from-sandbox'); c.close()"),
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=box.env)
    fwd = None
    try:
        assert srv.stdout.readline() == b"listening\n"
        fwd = subprocess.Popen(box.argv("forward", "start", "18089",
                                        "sshbox"),
                               stdin=subprocess.DEVNULL, env=box.env)
        got = b""
        deadline = time.monotonic() + 20
        # Nothing says when ssh listens: retry the connect (bounded).
        while not got and time.monotonic() < deadline:
            g = subprocess.run(["ip", "netns", "exec", box.ns, "python3",
                                "-c", FETCH], capture_output=True)
            got = g.stdout
        assert got == b"from-sandbox"
    finally:
        for p in (srv, fwd):
            if p is not None:
                p.kill()
                p.wait()


FETCH = r"""
import socket, sys, time
try:
    c = socket.create_connection(("127.0.0.1", 18089), timeout=5)
    sys.stdout.buffer.write(c.recv(100))
except OSError:
    time.sleep(0.2)
"""


def test_upload_download_256mib(box, tmp_path):
    """A 256 MiB file both ways; sizes and content compared."""
    import hashlib
    src = tmp_path / "big"
    h = hashlib.sha256()
    with open(src, "wb") as f:
        block = os.urandom(1 << 20)
        for i in range(256):
            b = bytes([i]) + block[1:]
            h.update(b)
            f.write(b)
    r = run(box, "sandbox", "upload", "sshbox", str(src), "/sandbox/big/",
            timeout=300)
    assert r.returncode == 0, r.stderr
    r = run(box, "sandbox", "exec", "sshbox", "--", "sh", "-c",
            "stat -c %s /sandbox/big/big && sha256sum /sandbox/big/big",
            input=b"")
    size, digest = r.stdout.split()[:2]
    assert int(size) == 256 << 20
    assert digest.decode() == h.hexdigest()
    dst = tmp_path / "back"
    r = run(box, "sandbox", "download", "sshbox", "/sandbox/big/big",
            str(dst), timeout=300)
    assert r.returncode == 0, r.stderr
    with open(dst / "big", "rb") as f:
        h2 = hashlib.sha256()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h2.update(chunk)
    assert h2.hexdigest() == h.hexdigest()
    run(box, "sandbox", "exec", "sshbox", "--", "rm", "-rf", "/sandbox/big",
        input=b"")


# A server on the sandbox's loopback that answers every connection
# with "echo:" + what it read; it prints "listening" once bound.
ECHO_SERVER = (
    "import socket, threading\n"
    "s = socket.socket()\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', %d)); s.listen(64)\n"
    "print('listening', flush=True)\n"
    "def h(c):\n"
    "    c.sendall(b'echo:' + c.recv(100)); c.close()\n"
    "while True:\n"
    "    c, _ = s.accept()\n"
    "    threading.Thread(target=h, args=(c,)).start()\n")

# Run inside the namespace: sequential, concurrent, and after an idle
# spell longer than any HTTP-phase deadline (10 s), connections to the
# forwarded port; prints what each got.
FWD_CLIENT = r"""
import socket, sys, time
port = int(sys.argv[1])
def one(tag):
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(tag)
    return c
for i in range(3):
    c = one(b"s%d" % i)
    print(c.recv(100).decode(), flush=True)
    c.close()
cs = [one(b"c%d" % i) for i in range(8)]
print(" ".join(c.recv(100).decode() for c in cs), flush=True)
time.sleep(float(sys.argv[2]))
print(one(b"late").recv(100).decode(), flush=True)
"""


def _echo_server(w, name, port):
    srv = subprocess.Popen(
        w.argv("sandbox", "exec", name, "--", "python3", "-c",
               ECHO_SERVER % port),
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=w.env)
    assert srv.stdout.readline() == b"listening\n"
    return srv


def _forwards(w):
    """forward list as {(sandbox, port): (pid, status)}."""
    r = run(w, "forward", "list")
    assert r.returncode == 0, r.stderr
    out = {}
    for ln in r.stdout.decode().splitlines()[1:]:
        f = ln.split()
        out[(f[0], f[2])] = (int(f[3]), f[4])
    return out


def _wait_gone(pid, timeout=20):
    """Wait on the process's pidfd (not on a clock) until it exits."""
    import select
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def _refused(w, port):
    g = subprocess.run(["ip", "netns", "exec", w.ns, "python3", "-c",
                        "import socket,sys\n"
                        "try:\n socket.create_connection(('127.0.0.1',"
                        " %d), timeout=5)\nexcept ConnectionRefusedError:"
                        "\n print('refused')" % port],
                       capture_output=True, timeout=30)
    return g.stdout == b"refused\n"


def test_forward_background(box):
    """forward start -d returns once the port listens; sequential,
    concurrent and late (after an idle spell) connections all reach the
    sandbox's loopback; list shows it; stop ends it."""
    srv = _echo_server(box, "sshbox", 18091)
    try:
        r = run(box, "forward", "start", "-d", "18091", "sshbox")
        assert r.returncode == 0, r.stderr
        fwd = _forwards(box)[("sshbox", "18091")]
        assert fwd[1] == "running"
        g = subprocess.run(["ip", "netns", "exec", box.ns, "python3", "-c",
                            FWD_CLIENT, "18091", "11"],
                           capture_output=True, timeout=60)
        assert g.returncode == 0, g.stderr
        assert g.stdout.decode().splitlines() == [
            "echo:s0", "echo:s1", "echo:s2",
            " ".join("echo:c%d" % i for i in range(8)), "echo:late"]
        # a second forward of the same port fails, and says so
        r = run(box, "forward", "start", "-d", "18091", "sshbox")
        assert r.returncode != 0
        assert b"18091" in r.stderr
        assert _forwards(box)[("sshbox", "18091")] == fwd
        r = run(box, "forward", "stop", "18091", "sshbox")
        assert r.returncode == 0, r.stderr
        assert _wait_gone(fwd[0])
        assert ("sshbox", "18091") not in _forwards(box)
        assert _refused(box, 18091)
    finally:
        srv.kill()
        srv.wait()


def test_delete_stops_forwards(box):
    box.cli("sandbox", "create", "--name", "fwdbox", "--policy", box.policy)
    r = run(box, "forward", "start", "-d", "18092", "fwdbox")
    assert r.returncode == 0, r.stderr
    pid = _forwards(box)[("fwdbox", "18092")][0]
    r = run(box, "sandbox", "delete", "fwdbox")
    assert r.returncode == 0, r.stderr
    assert _wait_gone(pid)
    assert ("fwdbox", "18092") not in _forwards(box)
    assert _refused(box, 18092)


def test_create_forward(box):
    """sandbox create --forward: the port is forwarded from READY while
    the command runs; --no-keep stops the forward with the sandbox."""
    server = ("import socket; s = socket.socket(); "
              "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
              "s.bind(('127.0.0.1', 18093)); s.listen(1); "
              "print('listening', flush=True); c, _ = s.accept(); "
              "c.sendall(b'from-create'); c.close()")
    p = subprocess.Popen(
        box.argv("sandbox", "create", "--name", "fwdcreate", "--policy",
                 box.policy, "--forward", "18093", "--no-keep", "--",
                 "python3", "-c", server),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, env=box.env)
    try:
        seen, pid = set(), None
        for ln in p.stdout:
            m = re.match(rb"\xe2\x9c\x93 Forwarding 127.0.0.1:18093 to "
                         rb"sandbox fwdcreate \(pid (\d+)\)", ln)
            if m:
                pid = int(m.group(1))
                seen.add("fwd")
            if ln == b"listening\n":
                seen.add("srv")
            if seen == {"fwd", "srv"}:
                break
        assert seen == {"fwd", "srv"}, seen
        got, deadline = b"", time.monotonic() + 20
        # The server listens; ssh's channel to it may still be opening.
        while not got and time.monotonic() < deadline:
            got = subprocess.run(["ip", "netns", "exec", box.ns, "python3",
                                  "-c", FETCH.replace("18089", "18093")],
                                 capture_output=True).stdout
        assert got == b"from-create"
        rest = p.stdout.read()
        assert p.wait(timeout=60) == 0, rest
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert _wait_gone(pid)
    assert ("fwdcreate", "18093") not in _forwards(box)
    assert _refused(box, 18093)


def _admin(w, *args):
    r = run(w, "admin", *args)
    return r.returncode, r.stdout.decode(), r.stderr.decode()


CONNECT_DENIED = (
    "import socket; s = socket.create_connection(('10.200.0.1', 3128)); "
    "s.sendall(b'CONNECT nowhere.test:443 HTTP/1.1\\r\\n\\r\\n'); "
    "print(s.recv(100).split()[1].decode())")


def test_admin_sandbox_daemons(box):
    """openshell admin reaches a sandbox's proxyd and sshd through the
    control sockets in the sandbox's state directory; the agent cannot
    reach them."""
    import json
    rc, out, err = _admin(box, "proxyd", "stats", "-o", "json",
                          "--sandbox", "sshbox")
    assert rc == 0, err
    before = json.loads(out)
    assert before["policy"] == "loaded"
    r = run(box, "sandbox", "exec", "sshbox", "--", "python3", "-c",
            CONNECT_DENIED, input=b"")
    assert r.stdout == b"403\n", r.stderr
    rc, out, err = _admin(box, "proxyd", "stats", "-o", "json",
                          "--sandbox", "sshbox")
    assert rc == 0, err
    assert json.loads(out)["denied"] == before["denied"] + 1
    rc, out, err = _admin(box, "sshd", "status", "--sandbox", "sshbox")
    assert rc == 0, err
    rc, out, err = _admin(box, "gatewayd", "status", "--sandbox", "sshbox")
    assert rc != 0 and "not a sandbox" in err, err
    rc, out, err = _admin(box, "proxyd", "status", "--sandbox", "nosuch")
    assert rc != 0, out

    sid = box.get("sshbox")["id"]
    sock = os.path.join(box.sbxdir(sid), "run", "proxyd.sock")
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode) and st.st_uid == 0
    assert stat.S_IMODE(st.st_mode) == 0o600
    # Not even its path resolves (a connect could go through the
    # directory: the path is longer than sun_path).
    r = run(box, "sandbox", "exec", "sshbox", "--", "python3", "-c",
            "import os, sys\n"
            "try:\n os.stat(sys.argv[1]); print('reached')\n"
            "except OSError as e:\n print(type(e).__name__)", sock,
            input=b"")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() in (b"FileNotFoundError", b"PermissionError"), \
        r.stdout


def test_sandbox_outlives_its_command(box, tmp_path):
    """A sandbox whose command has exited stays usable until deleted:
    exec (RPC and ssh), upload, a PTY session."""
    r = box.cli("sandbox", "create", "--name", "done", "--policy",
                box.policy, "--", "sh", "-c", "echo bye; exit 3",
                check=False)
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "bye" in r.stdout
    try:
        r = run(box, "sandbox", "exec", "done", "--", "sh", "-c",
                "echo still here; id -un", input=b"")
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"still here\nsandbox\n"
        r = run(box, "sandbox", "exec", "done", "--", "printf", "a\nb",
                input=b"")
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"a\nb"
        f = tmp_path / "up.txt"
        f.write_bytes(b"uploaded\n")
        r = run(box, "sandbox", "upload", "done", str(f), "/sandbox/x/")
        assert r.returncode == 0, r.stderr
        r = run(box, "sandbox", "connect", "done",
                input=b"cat /sandbox/x/up.txt; exit 5\n")
        assert r.returncode == 5, r.stderr
        assert b"uploaded" in r.stdout
    finally:
        box.cli("sandbox", "delete", "done")


def _sshd_of(w, name):
    """The sandbox's sshd: a child of its supervisor."""
    from test_sandbox_lifecycle import _supervisors, _children, _comm
    sid = w.get(name)["id"]
    for sup, cmd in _supervisors().items():
        if sid not in cmd:
            continue
        for pid in _children(sup):
            if _comm(pid) == "sshd":
                return pid
    raise AssertionError("no sshd for %s" % name)


def _kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith(field + ":"):
                return int(ln.split()[1])
    raise AssertionError("%s not in /proc/%d/status" % (field, pid))


def test_upload_to_stalled_reader_is_bounded(box):
    """A session that does not read its stdin (here: until the test
    opens a FIFO) must not make sshd queue what the client sends: the
    SSH window stops the client, sshd's memory stays bounded, and once
    the reader runs every byte arrives intact."""
    import hashlib
    import threading
    total = 64 << 20
    chunk = 1 << 16
    sshd = _sshd_of(box, "sshbox")
    r = run(box, "sandbox", "exec", "sshbox", "--", "sh", "-c",
            "rm -f /tmp/flowgo && mkfifo /tmp/flowgo", input=b"")
    assert r.returncode == 0, r.stderr
    # Peak RSS from here on ("5": reset VmHWM).
    with open("/proc/%d/clear_refs" % sshd, "w") as f:
        f.write("5")
    base = _kib(sshd, "VmRSS")
    # Plain ssh: `sandbox exec` takes the whole stdin before it starts.
    r = run(box, "sandbox", "ssh-config", "sshbox")
    assert r.returncode == 0, r.stderr
    cfg = os.path.join(box.root, "ssh_config_flow")
    with open(cfg, "wb") as f:
        f.write(r.stdout)
    p = subprocess.Popen(
        ["ip", "netns", "exec", box.ns, "ssh", "-F", cfg,
         "openshell-sshbox", "read go < /tmp/flowgo; exec sha256sum"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=box.env)
    h = hashlib.sha256()
    sent = [0]
    progress = threading.Condition()

    def writer():
        block = os.urandom(chunk)
        try:
            for i in range(total // chunk):
                b = i.to_bytes(4, "big") + block[4:]
                h.update(b)
                p.stdin.write(b)
                p.stdin.flush()
                with progress:
                    sent[0] += len(b)
                    progress.notify()
        finally:
            p.stdin.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        # Wait for the writer to stop making progress (the window is
        # shut) or to finish (nothing pushed back: the test fails).
        with progress:
            while sent[0] < total:
                before = sent[0]
                progress.wait(timeout=3)
                if sent[0] == before:
                    break
            stalled = sent[0]
        peak = _kib(sshd, "VmHWM")
        go = run(box, "sandbox", "exec", "sshbox", "--", "sh", "-c",
                 "echo go > /tmp/flowgo", input=b"")
        assert go.returncode == 0, go.stderr
        t.join(timeout=300)
        out = p.stdout.read()
        err = p.stderr.read()
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        t.join()
    assert p.returncode == 0, err
    assert stalled < total, "never held back: peak +%d KiB" % (peak - base)
    assert peak - base < 16 << 10, (base, peak)
    assert _kib(sshd, "VmHWM") - base < 16 << 10
    assert out.split()[0].decode() == h.hexdigest()
