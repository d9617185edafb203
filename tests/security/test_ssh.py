# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The sandbox's SSH endpoint: NSSH1 preface, sessions through the
system OpenSSH client (exec, exit status and signal, stdin, stderr,
PTY with window changes, sftp, direct-tcpip), each session isolated
exactly like the agent, and the attacks that must fail."""

import hashlib
import hmac
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest

from sbxsec import BASE_POLICY, BUILD, HERE, TESTNET_HOST, log_lines

SSHD = BUILD / "libexec" / "openshell" / "sshd"
PROXY = HERE / "ssh_proxy.py"
PLACEHOLDER = "openshell:resolve:env:PROVIDER_TOKEN"

pytestmark = pytest.mark.skipif(
    shutil.which("ssh") is None or not os.access(SSHD, os.X_OK),
    reason="openssh-client or sshd missing")

sys.path.insert(0, str(HERE))
from ssh_proxy import dial, preface, readline  # noqa: E402


class Ssh:
    """A running sandbox (sleep infinity) and its SSH endpoint."""

    def __init__(self, sandbox, request):
        self.secret = "hs-" + secrets.token_hex(16)
        self.token = "pv-" + secrets.token_hex(12)
        policy = BASE_POLICY.format(compat="best_effort",
                                    network="  {}\n").replace(
            "read_write: [", "read_write: [/dev/pts, /dev/tty, ")
        self.sb = sandbox(env={"OPENSHELL_SSH_HANDSHAKE_SECRET":
                               self.secret,
                               "PROVIDER_TOKEN": self.token},
                          extra=["--credential", "PROVIDER_TOKEN"],
                          policy_text=policy)
        self.p = self.sb.popen(["sleep", "infinity"])
        request.addfinalizer(self.stop)
        assert self.p.ready == "ready", self.p.stderr.read()
        self.sock = str(self.sb.state / "run" / "ssh.sock")
        self.env = dict(os.environ, OPENSHELL_SSH_HANDSHAKE_SECRET=self.secret)

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()

    def opts(self):
        return ["-o", f"ProxyCommand={sys.executable} {PROXY} {self.sock}",
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"]

    def ssh(self, *args, input=None, timeout=30):
        return subprocess.run(["ssh", *self.opts(), *args], env=self.env,
                              input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)

    def run(self, cmd, **kw):
        return self.ssh("sandbox@x", cmd, **kw)

    def line(self, line):
        """One raw preface on a fresh connection: the answer."""
        s = dial(self.sock)
        try:
            s.settimeout(10)
            s.sendall(line)
            return readline(s)
        finally:
            s.close()

    def agent_pid(self):
        """The agent (sleep infinity), a grandchild of the supervisor;
        "ready" comes once it is forked, maybe before its exec."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pid = self._find_agent()
            if pid:
                return pid
            time.sleep(0.05)
        raise AssertionError("agent not found")

    def _find_agent(self):
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                if self._ppid(int(d)) != 0 and \
                        self._ppid(self._ppid(int(d))) == self.p.pid and \
                        open(f"/proc/{d}/cmdline", "rb").read() == \
                        b"sleep\0infinity\0":
                    return int(d)
            except OSError:
                continue
        return None

    @staticmethod
    def _ppid(pid):
        for ln in open(f"/proc/{pid}/status"):
            if ln.startswith("PPid:"):
                return int(ln.split()[1])
        return 0


@pytest.fixture
def ssh(sandbox, request):
    return Ssh(sandbox, request)


def sign(secret, token="tok", ts=None, nonce=None):
    return preface(secret, token, ts, nonce)


# -- the preface ----------------------------------------------------------

def test_preface_ok_and_attacks(ssh):
    good = sign(ssh.secret)
    assert ssh.line(good) == b"OK\n"
    # the same line again: a replayed nonce
    assert ssh.line(good) == b"ERR\n"
    now = int(time.time())
    assert ssh.line(sign(ssh.secret, ts=now - 3600)) == b"ERR\n"
    assert ssh.line(sign(ssh.secret, ts=now + 3600)) == b"ERR\n"
    assert ssh.line(sign("not-the-secret")) == b"ERR\n"
    # a good signature with one hex digit changed
    bad = bytearray(sign(ssh.secret))
    bad[-2] = ord("0") if bad[-2] != ord("0") else ord("1")
    assert ssh.line(bytes(bad)) == b"ERR\n"
    mac = hmac.new(ssh.secret.encode(), b"t|1|n", hashlib.sha256).hexdigest()
    for line in (b"NSSH1 t 1 n\n", b"NSSH1 t x n " + mac.encode() + b"\n",
                 b"NSSH2 t 1 n " + mac.encode() + b"\n", b"\n",
                 b"GET / HTTP/1.1\r\n"):
        assert ssh.line(line) == b"ERR\n", line
    # over 1024 bytes without a newline: refused before the end
    assert ssh.line(b"NSSH1 " + b"a" * 2000) == b"ERR\n"
    # the good ones still work, with fresh nonces
    assert ssh.line(sign(ssh.secret, nonce=str(uuid.uuid4()))) == b"OK\n"


# -- sessions -------------------------------------------------------------

def test_stalled_peer_blocks_nobody(ssh):
    """A peer that passes NSSH1 and then says nothing (or stops in the
    middle of the key exchange) does not hold up other connections."""
    idle = dial(ssh.sock)
    half = dial(ssh.sock)
    try:
        idle.sendall(sign(ssh.secret))
        assert readline(idle) == b"OK\n"
        half.sendall(sign(ssh.secret))
        assert readline(half) == b"OK\n"
        half.sendall(b"SSH-2.0-stall\r\n")
        t0 = time.monotonic()
        p = ssh.run("echo through", timeout=20)
        assert p.stdout == b"through\n"
        assert time.monotonic() - t0 < 8
    finally:
        idle.close()
        half.close()


def test_exec_status_stdout_stderr(ssh):
    p = ssh.run("echo hi; echo oops >&2; exit 42")
    assert p.returncode == 42, p.stderr
    assert p.stdout == b"hi\n"
    assert b"oops" in p.stderr and b"oops" not in p.stdout


def test_exit_signal(ssh):
    p = ssh.ssh("-v", "sandbox@x", "kill -TERM $$")
    assert p.returncode == 255
    assert b"rtype exit-signal" in p.stderr
    assert b"rtype exit-status" not in p.stderr


def test_stdin_roundtrip(ssh):
    data = os.urandom(1 << 20)
    p = ssh.run("cat", input=data, timeout=60)
    assert p.returncode == 0
    assert p.stdout == data
    p = ssh.run("yes | head -c 3000000", timeout=60)
    assert len(p.stdout) == 3000000


def test_pty_winch_status(ssh):
    pexpect = pytest.importorskip("pexpect")
    argv = ["-tt", *ssh.opts(), "sandbox@x", "/bin/sh"]
    child = pexpect.spawn("ssh", argv, env=ssh.env, dimensions=(24, 80),
                          timeout=20)
    try:
        child.sendline("tty; echo T$((6*7))")
        child.expect(r"/dev/pts/\d+")
        child.expect("T42")
        child.sendline("stty size; echo S$((1+1))")
        child.expect("24 80")
        child.expect("S2")
        child.setwinsize(40, 132)
        # the window change travels ssh -> sshd -> parent -> TIOCSWINSZ
        for _ in range(50):
            child.sendline("stty size; echo W$((2+3))")
            i = child.expect(["40 132", "24 80"])
            child.expect("W5")
            if i == 0:
                break
        else:
            pytest.fail("window size never changed")
        child.sendline("exit 7")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 7


def test_sftp(ssh, tmp_path):
    up = tmp_path / "up.bin"
    up.write_bytes(os.urandom(200000))
    down = tmp_path / "down.bin"
    batch = f"put {up} /sandbox/up.bin\nget /sandbox/up.bin {down}\n"
    p = subprocess.run(["sftp", *ssh.opts(), "-b", "-", "sandbox@x"],
                       env=ssh.env, input=batch.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert down.read_bytes() == up.read_bytes()
    # written as the sandbox user into the persistent /sandbox
    st = (ssh.sb.sbxdir() / "up.bin").stat()
    assert st.st_uid == pwd.getpwnam("sandbox").pw_uid


# -- isolation: the session is the agent's twin -------------------------------

def test_session_isolated_like_agent(ssh):
    agent = ssh.agent_pid()
    names = ["mnt", "pid", "net", "ipc", "uts"]
    p = ssh.run("; ".join(f"readlink /proc/self/ns/{n}" for n in names) +
                "; id -u; grep -E '^(Seccomp|NoNewPrivs|CapEff|CapBnd):' "
                "/proc/self/status; cat /var/lib/dpkg/status >/dev/null "
                "&& echo READ || echo DENIED; echo TOKEN=$PROVIDER_TOKEN; "
                "env | grep -c OPENSHELL_SSH_HANDSHAKE || true")
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().splitlines()
    for i, n in enumerate(names):
        assert out[i] == os.readlink(f"/proc/{agent}/ns/{n}"), n
        assert out[i] != os.readlink(f"/proc/self/ns/{n}"), n
    st = {ln.split(":")[0]: ln.split(":")[1].strip() for ln in out[6:10]}
    assert int(out[5]) == os.stat(f"/proc/{agent}").st_uid
    assert int(out[5]) == pwd.getpwnam("sandbox").pw_uid
    assert st["Seccomp"] == "2"
    assert st["NoNewPrivs"] == "1"
    assert int(st["CapEff"], 16) == 0 and int(st["CapBnd"], 16) == 0
    agst = open(f"/proc/{agent}/status").read()
    assert "Seccomp:\t2" in agst
    assert out[10] == "DENIED"              # Landlock, as for the agent
    assert out[11] == f"TOKEN={PLACEHOLDER}"
    assert out[12] == "0"
    assert ssh.token.encode() not in p.stdout


def test_endpoint_unreachable_from_inside(ssh):
    p = ssh.run(f"ls -la {ssh.sock} 2>&1; ls {os.path.dirname(ssh.sock)} "
                "2>&1; cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | "
                "awk '$4 == \"0A\"' | wc -l")
    out = p.stdout.decode().splitlines()
    assert "No such file" in out[0]
    assert out[-1].strip() == "0"           # no TCP listener in its netns
    # nor does anything listen on an SSH-ish port of the proxy's side
    p = ssh.run("for a in 127.0.0.1 10.200.0.1; do for port in 22 2222; do "
                "timeout 3 bash -c \"echo > /dev/tcp/$a/$port\" 2>/dev/null "
                "&& echo OPEN $a $port; done; done; echo end")
    assert p.stdout == b"end\n"


# -- direct-tcpip -----------------------------------------------------------

def test_direct_tcpip_loopback_only(ssh, sandbox):
    before = len(log_lines(ssh.sb.world.testlog))
    p = ssh.ssh("-W", f"{TESTNET_HOST}:7", "sandbox@x", input=b"x")
    assert p.returncode == 255
    assert b"open failed" in p.stderr or b"forwarding failed" in p.stderr
    assert len(log_lines(ssh.sb.world.testlog)) == before
    # a listener on the AGENT's loopback, reached through the parent
    code = ("import socket;s=socket.socket();"
            "s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
            "s.bind(('127.0.0.1',7070));s.listen();print('ready',flush=True);"
            "c,_=s.accept();c.sendall(b'pong');c.close()")
    srv = subprocess.Popen(["ssh", *ssh.opts(), "sandbox@x",
                            f"python3 -c \"{code}\""], env=ssh.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert srv.stdout.readline() == b"ready\n"
        p = ssh.ssh("-W", "127.0.0.1:7070", "sandbox@x", input=b"")
        assert p.stdout == b"pong", p.stderr
    finally:
        srv.kill()
        srv.wait()


# -- sshd dies: the parent restarts it; old sessions are hung up -----------

def test_sshd_restart(ssh):
    def sshd_pid():
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if Ssh._ppid(int(d)) == ssh.p.pid and \
                            open(f"/proc/{d}/comm").read() == "sshd\n":
                        return int(d)
                except OSError:
                    pass
        return None

    old = sshd_pid()
    assert old is not None
    # sshd runs as the daemon user, not root, and not as the agent
    assert os.stat(f"/proc/{old}").st_uid == pwd.getpwnam("_openshell").pw_uid
    hung = subprocess.Popen(["ssh", *ssh.opts(), "sandbox@x",
                             "echo up; exec sleep 1000"], env=ssh.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert hung.stdout.readline() == b"up\n"
        os.kill(old, 9)
        # the client loses its connection with its sshd
        assert hung.wait(30) == 255
    finally:
        hung.kill()
        hung.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        p = ssh.run("echo again", timeout=30)
        if p.returncode == 0:
            break
        time.sleep(0.2)
    assert p.stdout == b"again\n", p.stderr
    assert sshd_pid() not in (None, old)
    # the orphaned session was hung up by the parent
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        p = ssh.run("cat /proc/[0-9]*/cmdline | tr '\\0' ' '")
        if b"sleep 1000" not in p.stdout:
            break
        time.sleep(0.2)
    assert b"sleep 1000" not in p.stdout
    assert b"sleep infinity" in p.stdout
