# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""openshell-sandbox in gateway mode against a real gateway (issue 4,
wave 3): the startup fetch with the sandbox's own certificate, the
agent's output and proxyd's events in GetSandboxLogs, the "agent
exited" line, ReportPolicyStatus for the startup policy, for a live
update (LOADED) and for one only the sandbox side rejects (FAILED, the
previous one staying active), provider secrets as placeholders, and a
sandbox certificate that cannot call admin RPCs.

Runs as root (the supervisor makes namespaces).  Synchronisation is the
--ready-fd line and bounded polls of RPCs; nothing leaves the machine:
the agent's one connection is denied by policy before any DNS.
"""

import os
import select
import signal
import subprocess
import tempfile
import time

import pytest

from cpfixture import cp  # noqa: F401  (fixture)
from gatewaytree import binary, wait_gone

import grpc
import datamodel_pb2
import openshell_pb2
import openshell_pb2_grpc
import sandbox_pb2

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the supervisor runs as root")

SECRET = "s3cr3t-gwm-7f1e9c0d"
DEADLINE = 20
LOADED = openshell_pb2.POLICY_STATUS_LOADED
FAILED = openshell_pb2.POLICY_STATUS_FAILED
AGENT = ("echo hello; echo oops >&2; echo \"tok=$MY_TOKEN\"; "
         "curl -s -p -o /dev/null -x http://10.200.0.1:3128 "
         "http://unlisted.example/; exit 3")


def base_policy(hosts=("allowed.test",), broken=False):
    p = sandbox_pb2.SandboxPolicy(version=1)
    p.filesystem.include_workdir = True
    p.filesystem.read_only.extend(["/usr", "/lib", "/etc", "/var/log",
                                   "/proc", "/dev/urandom"])
    p.filesystem.read_write.extend(["/sandbox", "/tmp", "/dev/null"])
    p.landlock.compatibility = "best_effort"
    p.process.run_as_user = "sandbox"
    p.process.run_as_group = "sandbox"
    for h in hosts:
        r = p.network_policies[h]
        r.name = h
        ep = r.endpoints.add(host=h, port=8080)
        if broken:
            # L7 without rules or access: only the sandbox's L7
            # validation refuses it.
            ep.protocol = "rest"
        r.binaries.add(path="/usr/bin/curl")
    return p


def poll(fn, what, sup=None, deadline=DEADLINE):
    """fn() until it returns something true, for at most deadline s."""
    end = time.monotonic() + deadline
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for %s\n%s" % (
                what, sup.stderr() if sup else ""))
        time.sleep(0.1)


def read_ready(fd, deadline=DEADLINE):
    buf = b""
    end = time.monotonic() + deadline
    while not buf.endswith(b"\n"):
        left = end - time.monotonic()
        r, _, _ = select.select([fd], [], [], max(left, 0))
        if not r:
            raise AssertionError("no ready line")
        chunk = os.read(fd, 256)
        if not chunk:
            break
        buf += chunk
    return buf.decode()


class Supervisor:
    def __init__(self, cp, sb, tmp):
        crt, key = cp.client_cert(sb.id)
        tls = os.path.join(tmp, "tls")
        os.makedirs(tls, mode=0o700)
        for name, data in (("ca.crt", cp.ca), ("tls.crt", crt),
                           ("tls.key", key)):
            with open(os.path.join(tls, name), "wb") as f:
                f.write(data)
        self.crt, self.key = crt, key
        self.out = open(os.path.join(tmp, "stdout"), "w+b")
        self.err = open(os.path.join(tmp, "stderr"), "w+b")
        rfd, wfd = os.pipe()
        env = dict(os.environ)
        env["OPENSHELL_POLICY_POLL_INTERVAL_SECS"] = "1"
        env.pop("OPENSHELL_LIBEXEC", None)
        self.proc = subprocess.Popen(
            [binary("bin", "openshell-sandbox"), "-d",
             "--sandbox-id", sb.id, "--name", sb.name,
             "--endpoint", "https://" + cp.endpoint,
             "--tls-ca", os.path.join(tls, "ca.crt"),
             "--tls-cert", os.path.join(tls, "tls.crt"),
             "--tls-key", os.path.join(tls, "tls.key"),
             "--state-dir", os.path.join(tmp, "state"),
             "--ready-fd", str(wfd), "--", "sh", "-c", AGENT],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err,
            env=env, pass_fds=(wfd,))
        os.close(wfd)
        try:
            self.ready = read_ready(rfd)
        finally:
            os.close(rfd)

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def stdout(self):
        self.out.seek(0)
        return self.out.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def world(cp):  # noqa: F811
    stub = openshell_pb2_grpc.OpenShellStub(cp.channel())
    stub.CreateProvider(openshell_pb2.CreateProviderRequest(
        provider=datamodel_pb2.Provider(
            name="gwm-prov", type="generic", credentials={"MY_TOKEN": SECRET},
            config={"credential_hosts": "api.example.test"})))
    spec = datamodel_pb2.SandboxSpec(providers=["gwm-prov"])
    spec.policy.CopyFrom(base_policy())
    sb = stub.CreateSandbox(openshell_pb2.CreateSandboxRequest(
        name="gwm", spec=spec)).sandbox
    tmp = tempfile.mkdtemp(prefix="openshell-gwm-")
    sup = Supervisor(cp, sb, tmp)
    try:
        yield cp, stub, sb, sup
    finally:
        sup.stop()
        subprocess.run(["rm", "-rf", tmp])


def logs(stub, sb):
    return list(stub.GetSandboxLogs(openshell_pb2.GetSandboxLogsRequest(
        sandbox_id=sb.id, sources=["sandbox"])).logs)


def line(stub, sb, pred):
    return [l for l in logs(stub, sb) if pred(l)]


def status(stub, sb, version=0):
    return stub.GetSandboxPolicyStatus(
        openshell_pb2.GetSandboxPolicyStatusRequest(name=sb.name,
                                                    version=version))


def update(stub, sb, pol):
    req = openshell_pb2.UpdateConfigRequest(name=sb.name)
    req.policy.CopyFrom(pol)
    return stub.UpdateConfig(req)


def test_gateway_mode(world):
    cp, stub, sb, sup = world
    assert sup.ready.startswith("ready landlock="), (sup.ready,
                                                     sup.stderr())
    assert " seccomp=mode=filter" in sup.ready, sup.ready

    # The agent's output, one pushed line per line, and its exit.
    exited = poll(lambda: line(stub, sb, lambda l:
                               l.message == "agent exited"), "agent exited", sup)
    assert exited[0].fields["exit_code"] == "3"
    assert exited[0].source == "sandbox"
    hello = line(stub, sb, lambda l: l.message == "hello")
    assert hello and hello[0].target == "agent"
    assert hello[0].fields["stream"] == "stdout"
    oops = line(stub, sb, lambda l: l.message == "oops")
    assert oops and oops[0].fields["stream"] == "stderr"
    # ... relayed unchanged to the supervisor's own stdout and stderr.
    assert "hello\n" in sup.stdout()
    assert "oops\n" in sup.stderr()
    # The agent sees a placeholder; the secret is nowhere in the logs.
    assert line(stub, sb, lambda l: l.message ==
                "tok=openshell:resolve:env:MY_TOKEN"), logs(stub, sb)
    every = stub.GetSandboxLogs(openshell_pb2.GetSandboxLogsRequest(
        sandbox_id=sb.id)).logs
    assert all(SECRET not in str(l) for l in every)
    assert SECRET not in sup.stderr() and SECRET not in sup.stdout()
    # bound to the provider's credential_hosts (generic: none by default)
    assert "credential placeholders: 1, host-bound" in sup.stderr()
    assert "bound to no host" not in sup.stderr(), sup.stderr()

    # proxyd's decision for the agent's connection, pushed by the parent.
    deny = poll(lambda: line(stub, sb, lambda l:
                             l.message in ("CONNECT", "FORWARD") and
                             l.fields["dst_host"] == "unlisted.example"),
                "proxyd's deny event", sup)
    assert deny[0].fields["action"] == "deny", deny[0]
    assert deny[0].fields["binary"] == "/usr/bin/curl", deny[0]

    # Gateway mode: the supervisor outlives its agent.
    assert sup.proc.poll() is None

    # The startup policy, reported LOADED.
    st = poll(lambda: (lambda s: s if s.revision.status == LOADED and
                       s.active_version == s.revision.version else None)(
                           status(stub, sb)), "startup policy LOADED")
    first = st.revision.version

    # A live update: LOADED within a few poll intervals.
    v2 = update(stub, sb, base_policy(("allowed.test", "other.test"))).version
    assert v2 > first
    poll(lambda: status(stub, sb, v2).revision.status == LOADED,
         "version %d LOADED" % v2, sup)
    assert status(stub, sb).active_version == v2

    # One only the sandbox's validation refuses: FAILED, v2 stays.
    v3 = update(stub, sb, base_policy(("allowed.test",), broken=True)).version
    assert v3 > v2
    rev = poll(lambda: (lambda r: r if r.status == FAILED else None)(
        status(stub, sb, v3).revision), "version %d FAILED" % v3, sup)
    assert "protocol requires rules or access" in rev.load_error, rev
    assert status(stub, sb).active_version == v2
    assert "keeping the previous one" in sup.stderr()

    # gatewayd dies and comes back: the supervisor reconnects (with
    # backoff) and goes on polling, reporting and pushing.
    pid = cp.pid_of("gatewayd")
    mark = cp.log.mark()
    os.kill(pid, signal.SIGKILL)
    assert not wait_gone([pid])
    cp.log.wait_for(r"^gateway: restarted gatewayd", start=mark)
    cp.close_channels()
    stub = openshell_pb2_grpc.OpenShellStub(cp.channel())
    v4 = update(stub, sb, base_policy(("allowed.test", "third.test"))).version
    assert v4 > v3
    poll(lambda: status(stub, sb, v4).revision.status == LOADED,
         "version %d LOADED after a gatewayd restart" % v4, sup)
    poll(lambda: line(stub, sb, lambda l: l.message == "policy reloaded"
                      and l.fields["version"] == str(v4)),
         "the reload line pushed after the restart", sup)

    # The sandbox's certificate is not an admin's.
    creds = grpc.ssl_channel_credentials(
        root_certificates=cp.ca, private_key=sup.key,
        certificate_chain=sup.crt)
    sstub = openshell_pb2_grpc.OpenShellStub(cp.channel(creds))
    for call, req in ((sstub.ListProviders,
                       openshell_pb2.ListProvidersRequest()),
                      (sstub.ListSandboxes,
                       openshell_pb2.ListSandboxesRequest())):
        with pytest.raises(grpc.RpcError) as ei:
            call(req)
        assert ei.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # SIGTERM ends it, with the agent's status.
    assert sup.stop() == 3, sup.stderr()
    # Sanitizer builds report into its stderr.
    assert "Sanitizer" not in sup.stderr() and \
        "runtime error" not in sup.stderr(), sup.stderr()
