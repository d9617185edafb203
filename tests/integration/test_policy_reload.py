# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Hot policy reload within a second (issue 6 point 5), end to end: a
real gateway tree, a real openshell-sandbox in gateway mode with its own
certificate, `openshell policy set --wait`, and an agent that holds its
connections to a local origin through the sandbox's proxy.

  * one keep-alive connection to an L7 endpoint (plain HTTP, read-only):
    GET passes; a POST (on a second connection) is denied with the 403
    JSON and closed; after `policy set --wait` with a read-write policy
    the first connection's next POST passes -- and back and forth, 5
    reloads, each judged on the same open connections;
  * a policy only the sandbox's pipeline rejects: `--wait` says FAILED
    with the validation error (exit 1), the last good policy stays;
  * an L4 tunnel the new policy no longer allows is closed;
  * the time from UpdateConfig to LOADED (the revision's created_at_ms
    to loaded_at_ms, both the gateway's clock) over the reloads: p50
    printed and under a second (the supervisor's fallback poll is set
    to an hour, so only the watch can make it).

Everything runs in a network namespace of this module (`ip netns exec`
for the gateway, the supervisor, the origin, every CLI call and the one
gRPC helper): loopback, plus the TEST-NET-3 address ORIGIN on lo, which
the policy's names resolve to through --hosts-file.  Waiting is on the
CLI's exit and on the agent's answer lines; nothing sleeps.
"""

import json
import os
import queue
import select
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time

import pytest

from gatewaytree import BUILD, LogStream, child_pids, wait_gone

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(BUILD, "python", "proto")
PY = "/usr/bin/python3"
ORIGIN = "203.0.113.30"
HTTP_PORT = 8080
ECHO_PORT = 8081
API = "api.test"
L4 = "l4.test"
TIMEOUT = 30
RELOADS = 5

FS_RO = ["/usr", "/lib", "/etc", "/var/log", "/proc", "/dev/urandom"]
FS_RW = ["/sandbox", "/tmp", "/dev/null"]


def policy(access, l4=True, broken=False):
    """The sandbox's policy as a dict (YAML for the CLI, a proto for
    CreateSandbox: one source, so the baseline checks always pass)."""
    ep = {"host": API, "port": HTTP_PORT, "protocol": "rest",
          "enforcement": "enforce", "allowed_ips": [ORIGIN + "/32"]}
    if not broken:
        # Without access or rules only the sandbox's L7 check refuses it.
        ep["access"] = access
    net = {"api": {"name": "api", "endpoints": [ep],
                   "binaries": [{"path": "/usr/bin/python3*"}]}}
    if l4:
        net["raw"] = {"name": "raw", "endpoints": [
            {"host": L4, "port": ECHO_PORT, "allowed_ips": [ORIGIN + "/32"]}],
            "binaries": [{"path": "/usr/bin/python3*"}]}
    return {"version": 1,
            "filesystem_policy": {"include_workdir": True,
                                  "read_only": FS_RO, "read_write": FS_RW},
            "landlock": {"compatibility": "best_effort"},
            "process": {"run_as_user": "sandbox", "run_as_group": "sandbox"},
            "network_policies": net}


def yaml_of(p):
    """JSON is YAML: libpolicy's loader reads it as such."""
    return json.dumps(p, indent=1) + "\n"


# CreateSandbox, from inside the namespace (this process's gRPC threads
# may live in another one).  argv: proto dir, mtls dir, port, name.
CREATE = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
import grpc, openshell_pb2 as pb, openshell_pb2_grpc as pg
import datamodel_pb2 as dm
d, port, name = sys.argv[2], sys.argv[3], sys.argv[4]
p = json.loads(sys.stdin.read())
rd = lambda n: open(os.path.join(d, n), "rb").read()
creds = grpc.ssl_channel_credentials(rd("ca.crt"), rd("tls.key"),
                                     rd("tls.crt"))
stub = pg.OpenShellStub(grpc.secure_channel("127.0.0.1:" + port, creds))
spec = dm.SandboxSpec()
pol = spec.policy
pol.version = 1
fs = p["filesystem_policy"]
pol.filesystem.include_workdir = fs["include_workdir"]
pol.filesystem.read_only.extend(fs["read_only"])
pol.filesystem.read_write.extend(fs["read_write"])
pol.landlock.compatibility = p["landlock"]["compatibility"]
pol.process.run_as_user = p["process"]["run_as_user"]
pol.process.run_as_group = p["process"]["run_as_group"]
for key, r in p["network_policies"].items():
    rule = pol.network_policies[key]
    rule.name = r["name"]
    for ep in r["endpoints"]:
        rule.endpoints.add(**ep)
    for b in r["binaries"]:
        rule.binaries.add(**b)
sb = stub.CreateSandbox(pb.CreateSandboxRequest(name=name, spec=spec),
                        timeout=30).sandbox
print(json.dumps({"id": sb.id, "name": sb.name}))
"""

# The agent: JSON commands on stdin, one JSON answer line each on
# stdout (prefixed, as the supervisor's stdout carries it).  Named
# connections through the proxy stay open between commands.
AGENT = r"""
import json, socket, sys, time
PROXY = ("10.200.0.1", 3128)
conns, left = {}, {}

def head(s):
    buf = left.pop(s, b"")
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return None, buf
        buf += d
    h, rest = buf.split(b"\r\n\r\n", 1)
    return h.decode("latin-1"), rest

def do_open(c):
    s = socket.create_connection(PROXY, timeout=20)
    t = "%s:%d" % (c["host"], c["port"])
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (t, t)).encode())
    h, rest = head(s)
    conns[c["name"]] = s
    left[s] = rest
    return {"status": int(h.split()[1]) if h else None}

def do_req(c):
    s = conns[c["name"]]
    body = c.get("body", "").encode()
    s.sendall(("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n"
               % (c["method"], c["path"], c["host"], len(body))).encode()
              + body)
    h, rest = head(s)
    if h is None:
        return {"status": None}
    lines = h.split("\r\n")
    hdrs = dict((k.strip().lower(), v.strip()) for k, v in
                (l.split(":", 1) for l in lines[1:]))
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        d = s.recv(65536)
        if not d:
            break
        rest += d
    left[s] = rest[n:]
    return {"status": int(lines[0].split()[1]), "headers": hdrs,
            "body": rest[:n].decode()}

def do_echo(c):
    s = conns[c["name"]]
    s.sendall(c["data"].encode())
    got = b""
    while len(got) < len(c["data"]):
        d = s.recv(65536)
        if not d:
            break
        got += d
    return {"echo": got.decode()}

def do_eof(c):
    s = conns[c["name"]]
    s.settimeout(c.get("timeout", 20))
    t = time.monotonic()
    try:
        eof = left.pop(s, b"") == b"" and s.recv(65536) == b""
    except socket.timeout:
        eof = False
    except OSError:
        eof = True
    return {"eof": eof, "s": round(time.monotonic() - t, 3)}

OPS = {"open": do_open, "req": do_req, "echo": do_echo, "eof": do_eof}
print("@@" + json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    c = json.loads(line)
    try:
        r = OPS[c["op"]](c)
    except OSError as e:
        r = {"error": str(e)}
    print("@@" + json.dumps(r), flush=True)
"""


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True,
                          text=True)


class World:
    """The namespace, the origin, the gateway, the CLI's directories."""

    def __init__(self, root):
        self.root = root
        self.ns = "osrld-%d" % os.getpid()
        self.procs = []
        self.gw = None

    def start(self):
        _ip("netns", "add", self.ns)
        _ip("-n", self.ns, "link", "set", "lo", "up")
        _ip("-n", self.ns, "addr", "add", ORIGIN + "/32", "dev", "lo")
        self.hosts = os.path.join(self.root, "hosts")
        with open(self.hosts, "w") as f:
            f.write("%s %s %s\n" % (ORIGIN, API, L4))
        o = subprocess.Popen(self.inns(PY, os.path.join(HERE,
                             "reload_origin.py"), ORIGIN, HTTP_PORT,
                             ECHO_PORT), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        self.procs.append(o)
        assert o.stdout.readline().strip() == "ready"
        self._gateway()
        self._cli_config()

    def inns(self, *argv):
        return ["ip", "netns", "exec", self.ns, *[str(a) for a in argv]]

    def _gateway(self):
        self.state = os.path.join(self.root, "gw")
        self.pki = os.path.join(self.state, "pki")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("OPENSHELL_")}
        env["OPENSHELL_COMPUTE_DRIVER"] = "none"   # we run the supervisor
        rfd, wfd = os.pipe()
        self.gw = subprocess.Popen(
            self.inns(os.path.join(BUILD, "bin", "openshell-gateway"), "-d",
                      "--state-dir", self.state, "--port", "0",
                      "--ready-fd", wfd),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env=env, pass_fds=(wfd,))
        os.close(wfd)
        self.gwlog = LogStream(self.gw.stderr)
        with os.fdopen(rfd, "rb") as f:
            line = f.readline().decode()
        assert line.startswith("ready "), self.gwlog.text()
        self.port = int(line.split()[1])

    def _cli_config(self):
        cfg = os.path.join(self.root, "config", "openshell")
        self.mtls = os.path.join(cfg, "clusters", "openshell", "mtls")
        os.makedirs(self.mtls, mode=0o700)
        for src, dst in (("ca.crt", "ca.crt"), ("admin.crt", "tls.crt"),
                         ("admin.key", "tls.key")):
            shutil.copyfile(os.path.join(self.pki, src),
                            os.path.join(self.mtls, dst))
        with open(os.path.join(cfg, "clusters", "openshell",
                               "metadata.json"), "w") as f:
            json.dump({"name": "openshell", "gateway_port": self.port,
                       "gateway_endpoint": "https://127.0.0.1:%d"
                       % self.port}, f)
        with open(os.path.join(cfg, "active_cluster"), "w") as f:
            f.write("openshell\n")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("OPENSHELL_")}
        self.env.update(HOME=self.root,
                        XDG_CONFIG_HOME=os.path.join(self.root, "config"))

    def cli(self, *args, timeout=TIMEOUT):
        return subprocess.run(
            self.inns(os.path.join(BUILD, "bin", "openshell"), *args),
            capture_output=True, text=True, env=self.env, timeout=timeout,
            stdin=subprocess.DEVNULL)

    def create(self, name, pol):
        r = subprocess.run(self.inns(PY, "-c", CREATE, PROTO, self.mtls,
                                     self.port, name),
                           input=json.dumps(pol), capture_output=True,
                           text=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def client_cert(self, cn):
        """A client certificate for CN cn from the gateway's CA."""
        d = tempfile.mkdtemp(dir=self.root)
        with open(os.path.join(d, "ext"), "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        for args in (["req", "-newkey", "ec", "-pkeyopt",
                      "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                      "/CN=" + cn, "-keyout", "tls.key", "-out", "c.csr"],
                     ["x509", "-req", "-in", "c.csr", "-CA",
                      os.path.join(self.pki, "ca.crt"), "-CAkey",
                      os.path.join(self.pki, "ca.key"), "-CAcreateserial",
                      "-CAserial", os.path.join(d, "ca.srl"), "-days", "2",
                      "-extfile", "ext", "-out", "tls.crt"]):
            subprocess.run(["openssl", *args], cwd=d, check=True,
                           capture_output=True)
        shutil.copyfile(os.path.join(self.pki, "ca.crt"),
                        os.path.join(d, "ca.crt"))
        return d

    def pid_of(self, title):
        for pid in child_pids(self.gw.pid):
            try:
                with open("/proc/%d/comm" % pid) as f:
                    if f.read().strip() == title:
                        return pid
            except OSError:
                pass
        raise AssertionError("no %s under the gateway" % title)

    def stop(self):
        if self.gw is not None:
            pids = child_pids(self.gw.pid)
            if self.gw.poll() is None:
                self.gw.terminate()
                try:
                    self.gw.wait(timeout=TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.gw.kill()
                    self.gw.wait()
            wait_gone(pids)
        for p in self.procs:
            p.stdin.close()
            try:
                p.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        _ip("netns", "del", self.ns, check=False)


class Supervisor:
    """openshell-sandbox for one sandbox, the agent's stdio ours."""

    def __init__(self, world, sb, tls):
        self.err = open(os.path.join(world.root, "sup.stderr"), "w+b")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("OPENSHELL_")}
        # Only the watch can make a reload fast.
        env["OPENSHELL_POLICY_POLL_INTERVAL_SECS"] = "3600"
        rfd, wfd = os.pipe()
        self.proc = subprocess.Popen(world.inns(
            os.path.join(BUILD, "bin", "openshell-sandbox"), "-d",
            "--sandbox-id", sb["id"], "--name", sb["name"],
            "--endpoint", "https://127.0.0.1:%d" % world.port,
            "--tls-ca", os.path.join(tls, "ca.crt"),
            "--tls-cert", os.path.join(tls, "tls.crt"),
            "--tls-key", os.path.join(tls, "tls.key"),
            "--state-dir", os.path.join(world.root, "sbx"),
            "--hosts-file", world.hosts, "--ready-fd", wfd,
            "--", PY, "-u", "-c", AGENT),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err,
            env=env, pass_fds=(wfd,))
        os.close(wfd)
        self.q = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self._ready_line(rfd)
        assert self.ready.startswith("ready "), (self.ready, self.stderr())
        assert self.answer() == {"ready": True}, self.stderr()

    def _ready_line(self, fd):
        buf = b""
        end = time.monotonic() + TIMEOUT
        try:
            while not buf.endswith(b"\n"):
                r, _, _ = select.select([fd], [], [],
                                        max(end - time.monotonic(), 0))
                if not r:
                    break
                chunk = os.read(fd, 256)
                if not chunk:
                    break
                buf += chunk
        finally:
            os.close(fd)
        return buf.decode()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith("@@"):
                self.q.put(json.loads(line[2:]))
        self.q.put(None)

    def answer(self):
        try:
            a = self.q.get(timeout=TIMEOUT)
        except queue.Empty:
            a = "no answer"
        assert isinstance(a, dict), (a, self.stderr())
        return a

    def do(self, op, **kw):
        kw["op"] = op
        self.proc.stdin.write((json.dumps(kw) + "\n").encode())
        self.proc.stdin.flush()
        return self.answer()

    def req(self, name, method, path):
        return self.do("req", name=name, method=method, path=path,
                       host="%s:%d" % (API, HTTP_PORT),
                       body="x" if method == "POST" else "")

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def world():
    if os.geteuid() != 0:
        pytest.skip("the supervisor runs as root")
    for b in (("bin", "openshell-sandbox"), ("bin", "openshell-gateway"),
              ("bin", "openshell")):
        if not os.access(os.path.join(BUILD, *b), os.X_OK):
            pytest.skip("%s is not built" % os.path.join(*b))
    root = tempfile.mkdtemp(prefix="osrld-")
    os.chmod(root, 0o711)
    w = World(root)
    try:
        w.start()
        yield w
    finally:
        w.stop()
        shutil.rmtree(root, ignore_errors=True)


def set_policy(world, tmp, name, pol, tag):
    """`policy set NAME --wait`: (result, version, seconds it took)."""
    f = os.path.join(tmp, "%s.yaml" % tag)
    with open(f, "w") as fh:
        fh.write(yaml_of(pol))
    t = time.monotonic()
    r = world.cli("policy", "set", name, "--policy", f, "--wait",
                  "--timeout", "20")
    took = time.monotonic() - t
    first = r.stdout.splitlines()[0] if r.stdout else ""
    assert first.startswith("✓ Policy version "), (r.stdout, r.stderr)
    return r, int(first.split()[3]), took


def revision(world, name, version):
    r = world.cli("policy", "get", name, "--rev", str(version), "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def assert_allowed(sup, name, method):
    a = sup.req(name, method, "/" + method.lower())
    assert a.get("status") == 200, a
    assert a["body"] == "ok %s /%s" % (method, method.lower()), a


def assert_denied(sup, name):
    a = sup.req(name, "POST", "/post")
    assert a.get("status") == 403, a
    assert a["headers"]["content-type"] == "application/json", a
    assert a["headers"]["x-openshell-policy"] == "api", a
    body = json.loads(a["body"])
    assert body["error"] == "policy_denied", body
    assert body["detail"] == "POST /post not permitted by policy", body
    # The deny response closes the connection (sandbox.md §2.8).
    assert sup.do("eof", name=name, timeout=10)["eof"]


def test_hot_reload(world, tmp_path):
    ro, rw = policy("read-only"), policy("read-write")
    sb = world.create("reload", ro)
    sup = Supervisor(world, sb, world.client_cert(sb["id"]))
    try:
        _scenario(world, sup, sb, ro, rw, str(tmp_path))
    finally:
        sup.stop()
    err = sup.stderr() + world.gwlog.text()
    assert "Sanitizer" not in err and "runtime error" not in err, err


def _scenario(world, sup, sb, ro, rw, tmp):
    name = sb["name"]
    # Read-only: one keep-alive connection that GETs; a POST (on its own
    # connection, which the denial closes) gets the 403 JSON.
    assert sup.do("open", name="A", host=API, port=HTTP_PORT) == \
        {"status": 200}
    assert_allowed(sup, "A", "GET")
    assert sup.do("open", name="B", host=API, port=HTTP_PORT) == \
        {"status": 200}
    assert_denied(sup, "B")
    assert sup.do("open", name="T", host=L4, port=ECHO_PORT) == \
        {"status": 200}
    assert sup.do("echo", name="T", data="ping") == {"echo": "ping"}

    # Reloads, back and forth, each judged on the open connection A.
    gw_ms, cli_s = [], []
    for i in range(RELOADS):
        pol, tag = (rw, "rw") if i % 2 == 0 else (ro, "ro")
        r, v, took = set_policy(world, tmp, name, pol, "%s%d" % (tag, i))
        assert r.returncode == 0, (r.stdout, r.stderr, sup.stderr())
        assert r.stdout.splitlines()[-1] == \
            "✓ Policy version %d loaded" % v, r.stdout
        rev = revision(world, name, v)["revision"]
        assert rev["status"] == "POLICY_STATUS_LOADED", rev
        gw_ms.append(int(rev["loadedAtMs"]) - int(rev["createdAtMs"]))
        cli_s.append(took)
        if pol is rw:
            assert_allowed(sup, "A", "POST")     # same connection
        else:
            assert_allowed(sup, "A", "GET")
            assert_denied(sup, "A")
            assert sup.do("open", name="A", host=API, port=HTTP_PORT) == \
                {"status": 200}
            assert_allowed(sup, "A", "GET")
    last_good = v
    # The L4 tunnel lived through all of them (its rule never changed).
    assert sup.do("echo", name="T", data="pong") == {"echo": "pong"}

    # Only the sandbox's pipeline rejects this one: FAILED with its
    # reason, exit 1; the last good policy (read-write) stays.
    r, v, _ = set_policy(world, tmp, name, policy("read-write",
                                                  broken=True), "bad")
    assert r.returncode == 1, (r.stdout, r.stderr)
    last = r.stdout.splitlines()[-1]
    assert last.startswith("✗ Policy version %d failed to load: " % v), last
    assert "protocol requires rules or access" in last, last
    rev = revision(world, name, v)["revision"]
    assert rev["status"] == "POLICY_STATUS_FAILED"
    assert "protocol requires rules or access" in rev["loadError"]
    assert int(revision(world, name, 0)["activeVersion"]) == last_good
    assert_allowed(sup, "A", "POST")
    assert "keeping the previous one" in sup.stderr()

    # A policy without the L4 rule closes that tunnel; A stays.
    r, v, _ = set_policy(world, tmp, name, policy("read-write", l4=False),
                         "nol4")
    assert r.returncode == 0, (r.stdout, r.stderr)
    eof = sup.do("eof", name="T", timeout=10)
    assert eof["eof"], (eof, sup.stderr())
    assert_allowed(sup, "A", "POST")

    # gatewayd dies and comes back: the watch stream comes back too (the
    # poll, an hour apart, cannot be what loads the next revision).
    pid = world.pid_of("gatewayd")
    mark = world.gwlog.mark()
    os.kill(pid, signal.SIGKILL)
    assert not wait_gone([pid])
    world.gwlog.wait_for(r"^gateway: restarted gatewayd", start=mark)
    r, v, again = set_policy(world, tmp, name, policy("read-only", l4=False),
                             "after-restart")
    assert r.returncode == 0, (r.stdout, r.stderr, sup.stderr())
    assert again < 10, again
    assert_allowed(sup, "A", "GET")
    assert_denied(sup, "A")

    p50_gw = statistics.median(gw_ms)
    p50_cli = statistics.median(cli_s)
    print("\npolicy reload over %d reloads: UpdateConfig -> LOADED p50 "
          "%.0f ms (max %.0f ms); `policy set --wait` p50 %.0f ms "
          "(max %.0f ms); just after a gatewayd restart %.0f ms"
          % (RELOADS, p50_gw, max(gw_ms), p50_cli * 1000, max(cli_s) * 1000,
             again * 1000))
    assert p50_gw < 1000, gw_ms
    assert p50_cli < 1.0, cli_s
