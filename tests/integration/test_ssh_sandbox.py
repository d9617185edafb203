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
