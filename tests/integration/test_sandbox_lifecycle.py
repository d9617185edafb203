# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Sandbox lifecycle through the local compute driver (issue 4, points 6
and 7): `openshell gateway start` in temporary XDG directories, then
`openshell sandbox create/get/delete`, as root.

Everything runs in a network namespace this module creates (the
gateway, its sandboxes, every CLI call, through `ip netns exec`): it
holds only loopback, with the TEST-NET-3 address 203.0.113.10 on lo for
a test HTTP server that the test's policy allows (its name resolves
through the gateway's --hosts-file override).  Nothing can leave the
machine.  Waiting is on the CLI's own exit, on a WatchSandbox stream or
on log lines; nothing sleeps.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gatewaytree import BUILD, LogStream

HERE = os.path.dirname(os.path.abspath(__file__))
SECURITY = os.path.join(os.path.dirname(HERE), "security")
PROTO = os.path.join(BUILD, "python", "proto")
PY = "/usr/bin/python3"
TESTNET_HOST = "203.0.113.10"
TIMEOUT = 60

POLICY = """\
version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /proc, /dev/urandom, /etc]
  read_write: [/sandbox, /tmp, /dev/null]
landlock:
  compatibility: best_effort
process:
  run_as_user: sandbox
  run_as_group: sandbox
network_policies:
  testhost:
    name: testhost
    endpoints:
      - host: allowed.test
        port: 8080
        allowed_ips: [203.0.113.0/24]
    binaries:
      - { path: /usr/bin/curl }
"""

# Run inside the namespace: prints each phase a WatchSandbox stream
# shows until READY (stop_on_terminal) or the end of the stream.
WATCH = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
import grpc, openshell_pb2 as pb, openshell_pb2_grpc as pg
d, port, sid = sys.argv[2], sys.argv[3], sys.argv[4]
rd = lambda n: open(os.path.join(d, n), "rb").read()
creds = grpc.ssl_channel_credentials(rd("ca.crt"), rd("tls.key"),
                                     rd("tls.crt"))
ch = grpc.secure_channel("127.0.0.1:" + port, creds)
stub = pg.OpenShellStub(ch)
req = pb.WatchSandboxRequest(id=sid, follow_status=True,
                             stop_on_terminal=True)
try:
    for ev in stub.WatchSandbox(req, timeout=60, wait_for_ready=True):
        if ev.WhichOneof("payload") == "sandbox":
            print(ev.sandbox.phase, flush=True)
except grpc.RpcError as e:
    print("end", e.code().name, flush=True)
"""

PHASES = {1: "PROVISIONING", 2: "READY", 3: "ERROR", 4: "DELETING"}


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True,
                          text=True)


class World:
    """The namespace, the test server, the CLI's directories."""

    def __init__(self, root):
        self.ns = "osdrv-%d" % os.getpid()
        self.root = root
        self.state = tempfile.mkdtemp(prefix="osdrv")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("OPENSHELL_")}
        self.hosts = os.path.join(root, "hosts")
        with open(self.hosts, "w") as f:
            f.write("%s allowed.test\n" % TESTNET_HOST)
        self.env.update(HOME=root,
                        XDG_CONFIG_HOME=os.path.join(root, "config"),
                        XDG_STATE_HOME=self.state,
                        OPENSHELL_HOSTS_FILE=self.hosts)
        self.cli_bin = os.path.join(BUILD, "bin", "openshell")
        self.procs = []
        _ip("netns", "add", self.ns)
        _ip("-n", self.ns, "link", "set", "lo", "up")
        _ip("-n", self.ns, "addr", "add", TESTNET_HOST + "/32", "dev", "lo")
        self.server_log = os.path.join(root, "server.log")
        open(self.server_log, "w").close()
        p = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, PY,
             os.path.join(SECURITY, "sbxsec_server.py"), self.server_log,
             TESTNET_HOST, "8080"], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        self.procs.append(p)
        self.policy = os.path.join(root, "policy.yaml")
        with open(self.policy, "w") as f:
            f.write(POLICY)

    def argv(self, *args):
        return ["ip", "netns", "exec", self.ns, self.cli_bin,
                *[str(a) for a in args]]

    def cli(self, *args, check=True, timeout=TIMEOUT):
        r = subprocess.run(self.argv(*args), capture_output=True, text=True,
                           env=self.env, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check:
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r

    def start(self):
        r = self.cli("gateway", "start", "--port", "0")
        m = re.search(r"ready at https://127\.0\.0\.1:(\d+)", r.stdout)
        assert m, r.stdout
        self.port = m.group(1)

    def stop(self):
        return self.cli("gateway", "stop", check=False)

    @property
    def gwstate(self):
        return os.path.join(self.state, "openshell", "clusters", "openshell")

    @property
    def mtls(self):
        return os.path.join(self.root, "config", "openshell", "clusters",
                            "openshell", "mtls")

    def sbxdir(self, sid):
        return os.path.join(self.gwstate, "sandboxes", sid)

    def gateway_pid(self):
        with open(os.path.join(self.gwstate, "run",
                               "openshell-gateway.pid")) as f:
            return int(f.read().split()[0])

    def get(self, name):
        out = self.cli("sandbox", "get", name, "-o", "json").stdout
        return json.loads(out)

    def watch(self, sid):
        """The phases a WatchSandbox stream shows until READY."""
        r = subprocess.run(["ip", "netns", "exec", self.ns, PY, "-c", WATCH,
                            PROTO, self.mtls, self.port, sid],
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr
        return [PHASES.get(int(x), x) if x.isdigit() else x
                for x in r.stdout.split()]

    def delete(self, name):
        """DeleteSandbox, then wait until the record is gone (the
        driver removed every trace first)."""
        sid = self.get(name)["id"]
        self.cli("sandbox", "delete", name)
        phases = self.watch(sid)
        assert "READY" not in phases, phases

    def close(self):
        self.stop()
        for p in self.procs:
            p.kill()
            p.wait()
        _ip("netns", "del", self.ns, check=False)
        subprocess.run(["rm", "-rf", self.state])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("sandboxes need root")
    for b in (("bin", "openshell"), ("bin", "openshell-gateway"),
              ("bin", "openshell-sandbox"),
              ("libexec", "openshell", "proxyd")):
        if not os.access(os.path.join(BUILD, *b), os.X_OK):
            pytest.skip("%s not built" % os.path.join(*b))
    w = World(str(tmp_path_factory.mktemp("drv")))
    try:
        w.start()
        yield w
    finally:
        w.close()


def _supervisors():
    """pid -> cmdline of every openshell-sandbox on the machine."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().rstrip(b"\0").split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"openshell-sandbox"):
            out[int(pid)] = b" ".join(argv).decode(errors="replace")
    return out


def _children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def _comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


def _mounts(pid):
    with open("/proc/%d/mountinfo" % pid) as f:
        return sorted(" ".join(ln.split()[3:5]) for ln in f)


# --- create runs a command ---------------------------------------------


def test_create_streams_output_and_exit_status(world):
    r = world.cli("sandbox", "create", "--name", "cmd7", "--policy",
                  world.policy, "--", "sh", "-c",
                  "echo out; echo err >&2; exit 7", check=False)
    assert r.returncode == 7, (r.stdout, r.stderr)
    assert r.stdout == "out\n", r.stderr
    assert "err" in r.stderr.splitlines(), r.stderr
    # (The READY snapshot and the log lines travel on different buses:
    # a short command may be over before READY is shown.)
    # Kept: still there, READY (the supervisor outlives its command).
    assert world.get("cmd7")["phase"] == "SANDBOX_PHASE_READY"
    world.delete("cmd7")


def test_command_words_round_trip(world):
    r = world.cli("sandbox", "create", "--no-keep", "--policy", world.policy,
                  "--", "printf", "[%s]", "a b", "it's", "$HOME", "")
    assert r.stdout.strip() == "[a b][it's][$HOME][]", r.stderr


# --- no command: READY, and what get shows ------------------------------


def test_ready_without_command_and_get(world):
    r = world.cli("sandbox", "create", "--name", "idle", "--policy",
                  world.policy)
    err = r.stderr.splitlines()
    assert "Created sandbox: idle" in err
    ready = [i for i, ln in enumerate(err) if ln.strip().startswith("Ready")]
    assert ready, r.stderr
    prov = [i for i, ln in enumerate(err) if "Provisioning" in ln]
    assert not prov or prov[0] < ready[0], r.stderr
    sb = world.get("idle")
    assert sb["phase"] == "SANDBOX_PHASE_READY"
    # A watch opened now sees the same final state.
    assert world.watch(sb["id"])[-1] == "READY"
    out = world.cli("sandbox", "get", "idle").stdout
    assert re.search(r"^Phase:\s+READY$", out, re.M), out
    assert re.search(r"^Policy version: \d+$", out, re.M), out
    assert re.search(r"^Landlock:\s+True \(Enforced\): abi=\d+ .*"
                     r"enforced=yes", out, re.M), out
    assert re.search(r"^Seccomp:\s+True \(Enforced\): .*enforced=yes", out,
                     re.M), out
    # The sandbox's own supervisor runs with its id; the agent's
    # command is the default one.
    sups = [c for c in _supervisors().values() if sb["id"] in c]
    assert sups and all(c.endswith("-- sleep infinity") for c in sups)
    # The gateway logged the transition into the sandbox's ring.
    logs = world.cli("logs", "idle", "--source", "gateway").stdout
    assert re.search(r"\[gateway\].*Sandbox idle ready \(landlock: "
                     r"abi=\d+ .*enforced=yes.*; seccomp: .*enforced=yes",
                     logs), logs
    world.delete("idle")


# --- concurrency and traces -------------------------------------------


def _netns():
    """Named namespaces, but those of test suites that may run beside
    us on this machine (a supervisor never names its namespaces)."""
    names = {ln.split()[0] for ln in _ip("netns", "list").stdout.splitlines()
             if ln.strip()}
    return {n for n in names
            if not n.startswith(("osbsec-", "osbth-", "osdrv-", "osbench-"))}


def test_create_delete_20_concurrently_leaves_no_trace(world):
    gw = world.gateway_pid()
    links = _ip("-n", world.ns, "-o", "link").stdout
    netns = _netns()
    mounts_gw = _mounts(gw)
    mine = lambda: {p for p, c in _supervisors().items()
                    if world.gwstate in c}
    before = mine()

    def one(i):
        return world.cli("sandbox", "create", "--name", "c%02d" % i,
                         "--no-keep", "--policy", world.policy, check=False)

    with ThreadPoolExecutor(20) as ex:
        results = list(ex.map(one, range(20)))
    for r in results:
        assert r.returncode == 0, r.stderr
        assert "Ready" in r.stderr and "Deleted sandbox" in r.stderr, \
            r.stderr
    assert "No sandboxes found." in world.cli("sandbox", "list").stdout or \
        not re.search(r"^c\d\d ", world.cli("sandbox", "list").stdout, re.M)
    assert mine() <= before
    left = os.listdir(os.path.join(world.gwstate, "sandboxes"))
    assert left == [], left
    assert _ip("-n", world.ns, "-o", "link").stdout == links
    assert _netns() <= netns
    # The gateway's mount namespace (ip netns exec gave it its own) and
    # ours: nothing of a sandbox is mounted in either.
    assert _mounts(gw) == mounts_gw
    with open("/proc/self/mountinfo") as f:
        leaked = [ln for ln in f if world.state in ln]
    assert leaked == [], leaked


# --- proxyd dies, the agent stays -------------------------------------


def test_proxyd_killed_is_restarted_agent_keeps_running(world):
    # The agent waits on a fifo in /sandbox, then connects through the
    # proxy to the test server and prints the status code.
    script = ("rm -f /sandbox/go; mkfifo /sandbox/go && echo waiting; "
              "while :; do read x < /sandbox/go; "
              "curl -s -o /dev/null -w 'code=%{http_code}\\n' "
              "http://allowed.test:8080/; done")
    p = subprocess.Popen(world.argv("sandbox", "create", "--name", "px2",
                                    "--policy", world.policy, "--", "sh",
                                    "-c", script),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=world.env)
    out = LogStream(p.stdout)
    LogStream(p.stderr)
    try:
        out.wait_for(r"^waiting$", timeout=TIMEOUT)
        sid = world.get("px2")["id"]
        fifo = os.path.join(world.sbxdir(sid), "sandbox", "go")
        sup = [pid for pid, c in _supervisors().items()
               if sid in c and _comm(pid).startswith("openshell-sand")]
        top = [pid for pid in sup if not any(pid in _children(q)
                                              for q in sup)]
        assert len(top) == 1, sup
        kids = _children(top[0])
        proxyd = [k for k in kids if _comm(k) == "proxyd"]
        assert len(proxyd) == 1, kids
        agent_before = _agent_sh(top[0])
        with open(fifo, "w") as f:
            f.write("go\n")
        out.wait_for(r"^code=200$", timeout=TIMEOUT)
        os.kill(proxyd[0], signal.SIGKILL)
        new = _wait_new_proxyd(top[0], proxyd[0])
        assert new != proxyd[0]
        assert _agent_sh(top[0]) == agent_before
        n = len(out.lines)
        with open(fifo, "w") as f:
            f.write("go\n")
        out.wait_for(r"^code=200$", start=n, timeout=TIMEOUT)
        # The new proxyd has the control socket too, and counts anew.
        r = world.cli("admin", "proxyd", "stats", "-o", "json",
                      "--sandbox", "px2")
        assert json.loads(r.stdout)["allowed"] == 1, r.stdout
    finally:
        world.cli("sandbox", "delete", "px2", check=False)
        try:
            p.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()


def _agent_sh(sup):
    """The agent's sh: a descendant of the supervisor named sh."""
    todo = list(_children(sup))
    while todo:
        pid = todo.pop()
        if _comm(pid) == "sh":
            return pid
        todo += _children(pid)
    raise AssertionError("no agent under %d" % sup)


def _wait_new_proxyd(sup, old):
    """proc.c restarts proxyd after a 250 ms backoff: wait on the
    supervisor's children (bounded)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        new = [k for k in _children(sup) if k != old and
               _comm(k) == "proxyd"]
        if new:
            return new[0]
        time.sleep(0.05)
    raise AssertionError("proxyd was not restarted")


# --- gateway restart --------------------------------------------------


def test_gateway_restart_brings_sandboxes_back(world):
    world.cli("sandbox", "create", "--name", "keep1", "--policy",
              world.policy)
    world.cli("sandbox", "create", "--name", "keep2")
    ids = {n: world.get(n)["id"] for n in ("keep1", "keep2")}
    mark = os.path.join(world.sbxdir(ids["keep1"]), "sandbox", "mark.txt")
    with open(mark, "w") as f:
        f.write("persist\n")
    old = {pid for pid, c in _supervisors().items()
           if any(i in c for i in ids.values())}
    assert old
    r = world.stop()
    assert r.returncode == 0, r.stderr
    assert not (old & set(_supervisors())), "supervisors outlived the gateway"
    world.start()
    for name, sid in ids.items():
        assert world.watch(sid)[-1] == "READY", name
        assert world.get(name)["phase"] == "SANDBOX_PHASE_READY"
    with open(mark) as f:
        assert f.read() == "persist\n"
    new = {pid for pid, c in _supervisors().items()
           if any(i in c for i in ids.values())}
    assert new and not (new & old)
    for n in ids:
        world.delete(n)


def test_gatewayd_restart_readopts_running_sandboxes(world):
    """Only gatewayd dies: the parent's supervisors keep running and
    are announced again (same pid), the record comes back READY."""
    world.cli("sandbox", "create", "--name", "adopt", "--policy",
              world.policy)
    sid = world.get("adopt")["id"]
    sups = {p for p, c in _supervisors().items() if sid in c}
    gw = world.gateway_pid()
    gd = [k for k in _children(gw) if _comm(k) == "gatewayd"]
    assert len(gd) == 1
    os.kill(gd[0], signal.SIGKILL)
    assert world.watch(sid)[-1] == "READY"
    assert {p for p, c in _supervisors().items() if sid in c} == sups
    world.delete("adopt")


# --- --no-keep --------------------------------------------------------


def test_no_keep_deletes(world):
    r = world.cli("sandbox", "create", "--name", "gone", "--no-keep",
                  "--policy", world.policy, "--", "true")
    assert r.returncode == 0
    assert "Deleted sandbox: gone" in r.stderr
    g = world.cli("sandbox", "get", "gone", check=False)
    assert g.returncode != 0 and "not found" in g.stderr
    last = os.path.join(world.root, "config", "openshell", "clusters",
                        "openshell", "last_sandbox")
    assert not os.path.exists(last) or \
        open(last).read().strip() != "gone"


# --- providers and --from ---------------------------------------------


def test_provider_secret_is_a_placeholder_in_the_agent(world):
    world.cli("provider", "create", "--name", "drvprov", "--type", "generic",
              "--credential", "DRV_TOKEN=real-secret-value")
    r = world.cli("sandbox", "create", "--no-keep", "--provider", "drvprov",
                  "--policy", world.policy, "--", "sh", "-c",
                  'echo "t=$DRV_TOKEN"')
    assert r.stdout == "t=openshell:resolve:env:DRV_TOKEN\n", r.stderr
    assert "real-secret-value" not in r.stdout + r.stderr


def test_from_dir_is_the_rootfs(world, tmp_path):
    """--from DIR: the template's image is the absolute directory and the
    supervisor gets --rootfs DIR.  (The host's / serves as the prepared
    root, so that the sandbox runs the same binaries.)"""
    link = tmp_path / "rootfs"
    link.symlink_to("/")
    r = world.cli("sandbox", "create", "--name", "fromdir", "--from",
                  str(link), "--policy", world.policy)
    assert "Ready" in r.stderr, r.stderr
    sb = world.get("fromdir")
    assert sb["spec"]["template"]["image"] == "/"
    sups = [c for c in _supervisors().values() if sb["id"] in c]
    assert sups and all(" --rootfs / " in c for c in sups), sups
    world.delete("fromdir")
