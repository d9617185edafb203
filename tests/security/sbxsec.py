# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Helpers of the security suite (see conftest.py for the world)."""

import os
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("OPENSHELL_BUILD", ROOT / "build"))
HERE = Path(__file__).resolve().parent
SANDBOX = BUILD / "bin" / "openshell-sandbox"
PROXYD = BUILD / "libexec" / "openshell" / "proxyd"
TRY = BUILD / "tests" / "security" / "try_syscall"
PY = "/usr/bin/python3"
TESTNET_HOST = "203.0.113.10"
TESTNET_SELF = "203.0.113.1"
TCP_PORTS = [7, 8080, 8081]
UDP_PORTS = [53, 5353]
HOST_TCP = 7777
HOST_UDP = 7778

BASE_POLICY = """version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /proc, /dev/urandom, /etc, /var/log]
  read_write: [/sandbox, /tmp, /dev/null]
landlock:
  compatibility: {compat}
process:
  run_as_user: sandbox
  run_as_group: sandbox
network_policies:
{network}"""

ALLOW_CURL = """  testhost:
    name: testhost
    endpoints:
      - host: allowed.test
        port: 8080
        allowed_ips: [203.0.113.0/24]
    binaries:
      - { path: /usr/bin/curl }
"""


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


def _start_listener(ns, log, addr, tcp, udp):
    cmd = ["ip", "netns", "exec", ns, PY, str(HERE / "sbxsec_server.py"),
           str(log), addr, *map(str, tcp)]
    if udp:
        cmd += ["-u", *map(str, udp)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if line.strip() != "ready":
        p.kill()
        raise RuntimeError(f"listener in {ns} did not start")
    return p


class Sandbox:
    """One openshell-sandbox run inside the world's host namespace."""

    def __init__(self, world, tmp, compat="best_effort", network="  {}\n",
                 state=None, extra=None, env=None, policy_text=None):
        self.world = world
        self.tmp = Path(tmp)
        self.policy = self.tmp / f"policy-{id(self)}.yaml"
        self.policy.write_text(policy_text if policy_text is not None else
                               BASE_POLICY.format(compat=compat,
                                                  network=network))
        self.state = Path(state) if state else self.tmp / "state"
        self.extra = extra or []
        self.env = dict(os.environ)
        self.env.pop("OPENSHELL_SSH_HANDSHAKE_SECRET", None)
        self.env.update(env or {})

    def argv(self, cmd):
        return ["ip", "netns", "exec", self.world.ns, str(SANDBOX),
                "--policy", str(self.policy), "--state-dir", str(self.state),
                "--hosts-file", str(self.world.hosts), *self.extra, "--",
                *cmd]

    def sbxdir(self):
        """The host side of /sandbox (created by the first run)."""
        return self.state / "sandbox"

    def install(self, src, name, mode=0o755, owner=None):
        """Put a file into /sandbox before a run."""
        d = self.sbxdir()
        d.mkdir(parents=True, exist_ok=True)
        dst = d / name
        shutil.copyfile(src, dst)
        if owner is not None:
            os.chown(dst, *owner)
        os.chmod(dst, mode)
        return f"/sandbox/{name}"

    def run(self, cmd, timeout=60, input=None):
        t0 = time.monotonic()
        p = subprocess.run(self.argv(cmd), env=self.env, input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=timeout)
        p.elapsed = time.monotonic() - t0
        return p

    def popen(self, cmd, ready_fd=True, stdin=False):
        r, w = os.pipe()
        argv = self.argv(cmd)
        if ready_fd:
            argv.insert(5, f"--ready-fd={w}")
        p = subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE,
                             stdin=subprocess.PIPE if stdin else None,
                             stderr=subprocess.PIPE, text=True,
                             pass_fds=(w,))
        os.close(w)
        with os.fdopen(r) as f:
            p.ready = f.readline().strip()
        return p

    def py(self, code, timeout=60):
        return self.run([PY, "-c", code], timeout=timeout)


# Run inside the agent by Sandbox.agent(): probes that print one JSON
# object, so that a test asserts on each attempt's errno and duration.
PROBES = r"""
import errno, json, os, socket, sys, time

def err(e):
    return errno.errorcode.get(e.errno, str(e)) if e.errno else type(e).__name__

def tcp(addr, port, fam=socket.AF_INET, timeout=5):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    t = time.monotonic()
    try:
        s.connect((addr, port))
        r = "connected"
    except OSError as e:
        r = err(e)
    finally:
        s.close()
    return [r, round(time.monotonic() - t, 3)]

def udp(addr, port, fam=socket.AF_INET, timeout=1):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(b"leak?", (addr, port))
        s.recvfrom(100)
        r = "answered"
    except OSError as e:
        r = err(e)
    finally:
        s.close()
    return r

def sock(fam, typ, proto=0):
    try:
        s = socket.socket(fam, typ, proto)
    except OSError as e:
        return err(e)
    try:
        s.connect(("203.0.113.10", 0))
        s.send(b"\x08\x00\xf7\xff\x00\x00\x00\x00")
        return "sent"
    except OSError as e:
        return err(e)
    finally:
        s.close()

def openf(path, mode="r"):
    try:
        with open(path, mode) as f:
            if "r" in mode:
                f.read(1)
            else:
                f.write("x")
        return "ok"
    except OSError as e:
        return err(e)

out = {}
"""


def agent(sb, body, timeout=60):
    """Run PROBES + body (which fills `out') in the agent; the JSON."""
    import json
    p = sb.py(PROBES + body + "\nprint(json.dumps(out))\n",
              timeout=timeout)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1]), p


def log_lines(path):
    return Path(path).read_text().splitlines()


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d, san):
    """A test CA (d/ca.pem) and a server certificate signed by it
    (d/srv.pem, d/srv.key) for san, e.g. "DNS:tls.test" or
    "IP:203.0.113.10"."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "2", "-subj", "/CN=osb test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
             "-subj", "/CN=" + san.split(":", 1)[1], cwd=d)
    (Path(d) / "ext.cnf").write_text(
        "subjectAltName=%s\nextendedKeyUsage=serverAuth\n"
        "basicConstraints=CA:FALSE\n" % san)
    _openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey",
             "ca.key", "-CAcreateserial", "-out", "srv.pem", "-days", "2",
             "-extfile", "ext.cnf", cwd=d)
