# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The openshell CLI against a real gateway (control-plane.md §5).

`openshell gateway start --port 0` runs openshell-gateway in temporary
XDG config/state directories and writes the client configuration; the
suite then drives every command of the control-plane issue and checks
its output and exit status.  What the CLI cannot create yet (sandboxes,
log lines, policy status reports: later issues) is set up through raw
grpcio stubs with the admin bundle the CLI wrote."""

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile

import pytest

from conftest import BUILD

TIMEOUT = 90
HASH12 = re.compile(r"^[0-9a-f]{12}$")

POLICY_A = """\
version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib]
  read_write: [/sandbox, /tmp]
landlock:
  compatibility: best_effort
process:
  run_as_user: sandbox
  run_as_group: sandbox
network_policies:
  github:
    name: github
    endpoints:
      - host: api.github.com
        port: 443
    binaries:
      - path: /usr/bin/curl
"""

POLICY_B = POLICY_A.replace("api.github.com", "github.com")
POLICY_C = POLICY_A.replace("api.github.com", "gitlab.com")


def _bin(name):
    path = os.path.join(str(BUILD), "bin", name)
    if not os.access(path, os.X_OK):
        pytest.skip("%s is not built" % path)
    return path


class Cli:
    """Runs `openshell` with this suite's XDG directories."""

    def __init__(self, root):
        self.root = str(root)
        # Control sockets live under the state dir: keep it short.
        self.state = tempfile.mkdtemp(prefix="oscli")
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("OPENSHELL_") and k != "OPENSHELL_BUILD":
                del self.env[k]
        self.env.update(HOME=self.root,
                        XDG_CONFIG_HOME=os.path.join(self.root, "config"),
                        XDG_STATE_HOME=self.state,
                        # records only: test_sandbox_lifecycle.py runs
                        # real sandboxes
                        OPENSHELL_COMPUTE_DRIVER="none")
        self.bin = _bin("openshell")
        _bin("openshell-gateway")

    def __call__(self, *args, check=True, env=None, timeout=TIMEOUT):
        e = dict(self.env)
        e.update(env or {})
        r = subprocess.run([self.bin] + [str(a) for a in args],
                           capture_output=True, text=True, env=e,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        if check:
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r

    def json(self, *args):
        return json.loads(self(*args, "-o", "json").stdout)

    @property
    def config(self):
        return os.path.join(self.root, "config", "openshell")

    def cluster(self, name="openshell"):
        return os.path.join(self.config, "clusters", name)

    def cleanup(self):
        shutil.rmtree(self.state, ignore_errors=True)


def skip_unimplemented(r):
    """A later piece of this issue: skip until the gateway has it."""
    if "is not implemented yet" in r.stderr:
        pytest.skip(r.stderr.strip())


def _grpc_channel(cli, name="openshell"):
    grpc = pytest.importorskip("grpc")
    d = os.path.join(cli.cluster(name), "mtls")
    md = json.load(open(os.path.join(cli.cluster(name), "metadata.json")))
    read = lambda n: open(os.path.join(d, n), "rb").read()
    creds = grpc.ssl_channel_credentials(
        root_certificates=read("ca.crt"), private_key=read("tls.key"),
        certificate_chain=read("tls.crt"))
    return grpc.secure_channel("127.0.0.1:%d" % md["gateway_port"], creds)


class Admin:
    """Raw stubs for what the CLI of this issue cannot do itself."""

    def __init__(self, cli):
        import openshell_pb2
        import openshell_pb2_grpc
        import datamodel_pb2
        self.pb = openshell_pb2
        self.dm = datamodel_pb2
        self.channel = _grpc_channel(cli)
        self.stub = openshell_pb2_grpc.OpenShellStub(self.channel)

    def create_sandbox(self, name, policy=None):
        spec = self.dm.SandboxSpec()
        if policy is not None:
            spec.policy.CopyFrom(policy)
        r = self.stub.CreateSandbox(self.pb.CreateSandboxRequest(
            name=name, spec=spec), timeout=30)
        return r.sandbox

    def push_logs(self, sandbox_id, lines):
        import grpc
        req = self.pb.PushSandboxLogsRequest(sandbox_id=sandbox_id)
        for ln in lines:
            req.logs.add(sandbox_id=sandbox_id, **ln)
        try:
            self.stub.PushSandboxLogs(iter([req]), timeout=30)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.UNIMPLEMENTED:
                pytest.skip(e.details())
            raise

    def report(self, sandbox_id, version, status, error=""):
        self.stub.ReportPolicyStatus(self.pb.ReportPolicyStatusRequest(
            sandbox_id=sandbox_id, version=version,
            status=self.pb.PolicyStatus.Value(status), load_error=error),
            timeout=30)


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    """A gateway started by the CLI, shared by the module; stopped by
    the CLI at the end (which must succeed)."""
    cli = Cli(tmp_path_factory.mktemp("cli"))
    r = cli("gateway", "start", "--port", "0")
    m = re.search(r"^✓ Gateway openshell ready at https://127\.0\.0\.1:(\d+)$",
                  r.stdout, re.M)
    assert m, r.stdout
    cli.port = int(m.group(1))
    try:
        yield cli
    finally:
        r = cli("gateway", "stop", check=False)
        cli.cleanup()
        assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def admin(gw):
    a = Admin(gw)
    yield a
    a.channel.close()


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


# --- gateway start / status / info -------------------------------------


def test_gateway_start_writes_client_config(gw):
    d = gw.cluster()
    for p in (gw.config, os.path.join(gw.config, "clusters"), d,
              os.path.join(d, "mtls")):
        assert _mode(p) == 0o700, p
    assert _mode(os.path.join(d, "mtls", "tls.key")) == 0o600
    for n in ("ca.crt", "tls.crt"):
        assert open(os.path.join(d, "mtls", n)).read().startswith(
            "-----BEGIN CERTIFICATE-----")
    md = json.load(open(os.path.join(d, "metadata.json")))
    assert md["name"] == "openshell"
    assert md["gateway_endpoint"] == "https://127.0.0.1:%d" % gw.port
    assert md["gateway_port"] == gw.port
    assert md["is_remote"] is False
    assert md["auth_mode"] == "mtls"
    assert md["state_dir"] == os.path.join(
        os.path.realpath(gw.state), "openshell", "clusters", "openshell")
    active = open(os.path.join(gw.config, "active_cluster")).read()
    assert active.strip() == "openshell"


def test_gateway_start_again_is_a_noop(gw):
    r = gw("gateway", "start", "--port", "0")
    assert "already running" in r.stdout
    assert "https://127.0.0.1:%d" % gw.port in r.stdout


def test_status_connected(gw):
    r = gw("status")
    assert "Gateway: openshell" in r.stdout
    assert "Server:  https://127.0.0.1:%d" % gw.port in r.stdout
    assert "Status:  Connected" in r.stdout
    assert re.search(r"^Version: \S+", r.stdout, re.M)
    j = gw.json("status")
    assert j["status"] == "Connected" and j["gateway"] == "openshell"


def test_gateway_info_and_status(gw):
    r = gw("gateway", "info")
    assert "Endpoint:  https://127.0.0.1:%d" % gw.port in r.stdout
    assert gw.json("gateway", "info")["gateway_port"] == gw.port
    j = gw.json("gateway", "status")
    assert j["running"] is True and j["pid"] > 1


def test_gateway_endpoint_flag_and_env(gw):
    ep = "https://127.0.0.1:%d/" % gw.port
    r = gw("--gateway-endpoint", ep, "status")
    assert "Status:  Connected" in r.stdout
    r = gw("status", env={"OPENSHELL_GATEWAY": "openshell"})
    assert "Status:  Connected" in r.stdout
    r = gw("-g", "nosuch", "status", check=False)
    assert r.returncode != 0 and "nosuch" in r.stderr


# --- sandbox list / get / delete ---------------------------------------


def test_sandbox_list_get_delete(gw, admin):
    r = gw("sandbox", "list")
    assert r.stdout == "No sandboxes found.\n"
    assert gw.json("sandbox", "list").get("sandboxes", []) == []
    sb = admin.create_sandbox("cli-sb-one")
    r = gw("sandbox", "list")
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "NAMESPACE", "CREATED", "PHASE"]
    row = [ln for ln in lines if ln.startswith("cli-sb-one ")]
    assert row and re.search(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\s+PROVISIONING$", row[0])
    assert "cli-sb-one" in gw("sandbox", "list", "--names").stdout.split()
    assert sb.id in gw("sandbox", "list", "--ids").stdout.split()
    names = [s["name"] for s in gw.json("sandbox", "list")["sandboxes"]]
    assert "cli-sb-one" in names

    r = gw("sandbox", "get", "cli-sb-one")
    assert "Id:        %s" % sb.id in r.stdout
    assert "Name:      cli-sb-one" in r.stdout
    assert "Phase:     PROVISIONING" in r.stdout
    j = gw.json("sandbox", "get", "cli-sb-one")
    assert j["id"] == sb.id and j["phase"] == "SANDBOX_PHASE_PROVISIONING"

    r = gw("sandbox", "delete", "cli-sb-one", "cli-sb-none")
    assert "✓ Deleted sandbox cli-sb-one" in r.stdout
    assert "! Sandbox cli-sb-none not found" in r.stdout


def test_sandbox_get_shows_policy_yaml(gw, admin):
    import sandbox_pb2 as sp
    pol = sp.SandboxPolicy(version=1)
    pol.filesystem.read_only.append("/usr")
    pol.network_policies["gh"].name = "gh"
    pol.network_policies["gh"].endpoints.add(host="api.github.com", port=443)
    pol.network_policies["gh"].binaries.add(path="/usr/bin/curl")
    admin.create_sandbox("cli-sb-pol", pol)
    r = gw("sandbox", "get", "cli-sb-pol")
    head, _, yaml = r.stdout.partition("Policy:\n")
    assert "Name:      cli-sb-pol" in head
    assert all(ln.startswith("  ") for ln in yaml.splitlines())
    assert "api.github.com" in yaml and "/usr/bin/curl" in yaml
    j = gw.json("sandbox", "get", "cli-sb-pol")
    ep = j["spec"]["policy"]["networkPolicies"]["gh"]["endpoints"][0]
    assert ep["host"] == "api.github.com" and ep["port"] == 443
    gw("sandbox", "delete", "cli-sb-pol")


def test_sandbox_name_defaults_to_last_used(gw, admin):
    admin.create_sandbox("cli-sb-last")
    path = os.path.join(gw.cluster(), "last_sandbox")
    with open(path, "w") as f:
        f.write("cli-sb-last\n")
    r = gw("sandbox", "get")
    assert "→ Using sandbox 'cli-sb-last' (last used)" in r.stderr
    assert "Name:      cli-sb-last" in r.stdout
    gw("sandbox", "delete", "cli-sb-last")
    assert not os.path.exists(path), "deleting it forgets it"
    r = gw("sandbox", "get", check=False)
    assert r.returncode != 0 and r.stderr.startswith("openshell: ")


def test_unknown_sandbox_is_one_line_on_stderr(gw):
    r = gw("sandbox", "get", "no-such-sandbox", check=False)
    assert r.returncode != 0
    assert r.stdout == ""
    assert r.stderr.startswith("openshell: ")
    assert len(r.stderr.strip().splitlines()) == 1
    assert "not found" in r.stderr


# --- providers ----------------------------------------------------------


def test_provider_crud(gw):
    env = {"CLI_TEST_SECRET": "s3cret-from-env"}
    r = gw("provider", "create", "--name", "cli-prov", "--type", "openai",
           "--credential", "OPENAI_API_KEY=sk-123", "--credential",
           "CLI_TEST_SECRET", "--config", "OPENAI_BASE_URL=mock://here",
           env=env)
    assert r.stdout == "✓ Created provider cli-prov\n"
    j = gw.json("provider", "get", "cli-prov")
    assert j["name"] == "cli-prov" and j["type"] == "openai"
    assert j["credentials"] == {"OPENAI_API_KEY": "REDACTED",
                                "CLI_TEST_SECRET": "REDACTED"}
    assert j["config"] == {"OPENAI_BASE_URL": "mock://here"}
    r = gw("provider", "get", "cli-prov")
    assert "Type:        openai" in r.stdout
    assert "sk-123" not in r.stdout and "s3cret" not in r.stdout

    r = gw("provider", "list")
    row = [ln.split() for ln in r.stdout.splitlines()
           if ln.startswith("cli-prov ")]
    assert r.stdout.splitlines()[0].split() == [
        "NAME", "TYPE", "CREDENTIAL_KEYS", "CONFIG_KEYS"]
    assert row == [["cli-prov", "openai", "2", "1"]]
    assert "cli-prov" in gw("provider", "list", "--names").stdout.split()
    names = [p["name"] for p in gw.json("provider", "list")["providers"]]
    assert "cli-prov" in names

    r = gw("provider", "update", "cli-prov", "--from-existing",
           "--config", "EXTRA=1", env={"OPENAI_API_KEY": "sk-new"})
    assert r.stdout == "✓ Updated provider cli-prov\n"
    j = gw.json("provider", "get", "cli-prov")
    assert set(j["credentials"]) == {"OPENAI_API_KEY", "CLI_TEST_SECRET"}
    assert j["config"] == {"OPENAI_BASE_URL": "mock://here", "EXTRA": "1"}

    r = gw("provider", "delete", "cli-prov", "cli-prov-none")
    assert "✓ Deleted provider cli-prov" in r.stdout
    assert "! Provider cli-prov-none not found" in r.stdout
    r = gw("provider", "get", "cli-prov", check=False)
    assert r.returncode != 0 and "not found" in r.stderr


def test_provider_from_existing_discovers_env(gw):
    r = gw("provider", "create", "--name", "cli-gh", "--type", "gh",
           "--from-existing", env={"GH_TOKEN": "ghp_x", "GITHUB_TOKEN": ""})
    assert r.returncode == 0
    j = gw.json("provider", "get", "cli-gh")
    assert j["type"] == "github" and list(j["credentials"]) == ["GH_TOKEN"]
    gw("provider", "delete", "cli-gh")


@pytest.mark.parametrize("args,env,text", [
    (["--type", "bogus", "--credential", "K=v"], {}, "unknown provider type"),
    (["--type", "nvidia", "--from-existing"], {"NVIDIA_API_KEY": ""},
     "no local credentials"),
    (["--type", "openai", "--credential", "CLI_UNSET_VAR"], {},
     "CLI_UNSET_VAR is not set"),
    (["--type", "openai"], {}, "--credential or --from-existing"),
])
def test_provider_create_errors(gw, args, env, text):
    r = gw("provider", "create", "--name", "cli-bad", *args, env=env,
           check=False)
    assert r.returncode != 0 and r.stdout == ""
    assert r.stderr.startswith("openshell: ") and text in r.stderr


# --- policies -----------------------------------------------------------


def _policy_file(tmp_path, text, name="policy.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


SUBMITTED = re.compile(r"^✓ Policy version (\d+) submitted \(hash: ([0-9a-f]{12})\)$")


def test_policy_set_get_list(gw, admin, tmp_path):
    admin.create_sandbox("cli-pol")
    f = _policy_file(tmp_path, POLICY_A)
    r = gw("policy", "set", "cli-pol", "--policy", f)
    m = SUBMITTED.match(r.stdout.strip())
    assert m, r.stdout
    v = int(m.group(1))
    r = gw("policy", "set", "cli-pol", "--policy", f)
    assert r.stdout.strip() == "· Policy unchanged (version %d, hash: %s)" % (
        v, m.group(2))

    r = gw("policy", "get", "cli-pol")
    assert "Version: %d" % v in r.stdout
    assert "Status:  PENDING" in r.stdout
    assert re.search(r"^Hash:    %s" % m.group(2), r.stdout, re.M)
    r = gw("policy", "get", "cli-pol", "--full")
    head, _, yaml = r.stdout.partition("---\n")
    assert "api.github.com" in yaml
    j = gw.json("policy", "get", "cli-pol")
    assert j["revision"]["version"] == v
    assert j["revision"]["status"] == "POLICY_STATUS_PENDING"

    f2 = _policy_file(tmp_path, POLICY_B, "b.yaml")
    m2 = SUBMITTED.match(gw("policy", "set", "cli-pol", "--policy",
                            f2).stdout.strip())
    assert m2 and int(m2.group(1)) == v + 1
    r = gw("policy", "get", "cli-pol", "--rev", str(v))
    assert "Version: %d" % v in r.stdout
    r = gw("policy", "list", "cli-pol")
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["VERSION", "HASH", "STATUS", "CREATED",
                                "ERROR"]
    versions = [int(ln.split()[0]) for ln in lines[1:]]
    assert versions == [v + 1, v]
    assert all(HASH12.match(ln.split()[1]) for ln in lines[1:])
    revs = gw.json("policy", "list", "cli-pol", "--limit", "1")["revisions"]
    assert [x["version"] for x in revs] == [v + 1]


def test_policy_set_wait(gw, admin, tmp_path):
    sb = admin.create_sandbox("cli-pol-wait")
    fa = _policy_file(tmp_path, POLICY_A)
    # Nobody reports: --wait gives up with 124.
    r = gw("policy", "set", "cli-pol-wait", "--policy", fa, "--wait",
           "--timeout", "2", check=False)
    assert r.returncode == 124, (r.stdout, r.stderr)
    v = int(SUBMITTED.match(r.stdout.splitlines()[0]).group(1))
    assert "timed out" in r.stderr
    # Loaded: the same policy again waits on that version, exit 0.
    admin.report(sb.id, v, "POLICY_STATUS_LOADED")
    r = gw("policy", "set", "cli-pol-wait", "--policy", fa, "--wait",
           "--timeout", "5")
    assert "Policy unchanged" in r.stdout and "loaded" in r.stdout
    # Failed: exit 1.
    fc = _policy_file(tmp_path, POLICY_C, "c.yaml")
    r = gw("policy", "set", "cli-pol-wait", "--policy", fc)
    v2 = int(SUBMITTED.match(r.stdout.strip()).group(1))
    admin.report(sb.id, v2, "POLICY_STATUS_FAILED", "bad rule")
    r = gw("policy", "set", "cli-pol-wait", "--policy", fc, "--wait",
           "--timeout", "5", check=False)
    assert r.returncode == 1 and "bad rule" in r.stdout


def test_policy_errors(gw, tmp_path):
    f = _policy_file(tmp_path, "version: 1\nnetwork_policies: [oops\n")
    r = gw("policy", "set", "whatever", "--policy", f, check=False)
    assert r.returncode != 0 and r.stderr.startswith("openshell: ")
    f = _policy_file(tmp_path, POLICY_A, "ok.yaml")
    r = gw("policy", "set", "no-such-sandbox", "--policy", f, check=False)
    assert r.returncode != 0 and "not found" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# --- logs ---------------------------------------------------------------


def test_logs_format_and_filters(gw, admin):
    sb = admin.create_sandbox("cli-logs")
    admin.push_logs(sb.id, [
        dict(timestamp_ms=1700000000123, level="INFO", target="proxy",
             message="allowed", source="sandbox",
             fields={"port": "443", "host": "api.github.com"}),
        dict(timestamp_ms=1700000001005, level="WARN", target="proxy",
             message="denied", source="sandbox", fields={}),
    ])
    r = gw("logs", "cli-logs")
    lines = r.stdout.splitlines()
    assert ("[1700000000.123] [sandbox] [INFO ] [proxy] allowed "
            "host=api.github.com port=443") in lines
    assert "[1700000001.005] [sandbox] [WARN ] [proxy] denied" in lines
    r = gw("logs", "cli-logs", "--level", "warn", "--source", "sandbox")
    assert [ln for ln in r.stdout.splitlines() if "[sandbox]" in ln] == [
        "[1700000001.005] [sandbox] [WARN ] [proxy] denied"]
    r = gw("logs", "cli-logs", "--source", "gateway")
    assert "[sandbox]" not in r.stdout
    j = gw.json("logs", "cli-logs", "--source", "sandbox")
    assert [x["message"] for x in j["logs"]] == ["allowed", "denied"]
    assert j["logs"][0]["timestampMs"] == "1700000000123"


class LineReader:
    """Lines from a child's stdout with a deadline (select, no sleep)."""

    def __init__(self, f):
        self.fd = f.fileno()
        self.buf = b""

    def readline(self, timeout=TIMEOUT):
        import select
        import time
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            assert left > 0, "no line within %s s: %r" % (timeout, self.buf)
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                chunk = os.read(self.fd, 4096)
                assert chunk, "EOF: %r" % self.buf
                self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode() + "\n"


def test_logs_tail_follows(gw, admin):
    sb = admin.create_sandbox("cli-tail")
    admin.push_logs(sb.id, [dict(timestamp_ms=1700000000001, level="INFO",
                                 target="t", message="first",
                                 source="sandbox")])
    p = subprocess.Popen([gw.bin, "logs", "cli-tail", "--tail", "--source",
                          "sandbox"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=gw.env)
    try:
        out = LineReader(p.stdout)
        assert out.readline() == \
            "[1700000000.001] [sandbox] [INFO ] [t] first\n"
        admin.push_logs(sb.id, [dict(timestamp_ms=1700000000002,
                                     level="ERROR", target="t",
                                     message="second", source="sandbox")])
        assert out.readline() == \
            "[1700000000.002] [sandbox] [ERROR] [t] second\n"
    finally:
        p.kill()
        p.wait()
        p.stdout.close()


# --- inference ----------------------------------------------------------


def test_inference_set_get_update(gw):
    gw("provider", "create", "--name", "cli-inf", "--type", "openai",
       "--credential", "OPENAI_API_KEY=sk-1", "--config",
       "OPENAI_BASE_URL=mock://upstream")
    r = gw("inference", "get", "--system", check=False)
    skip_unimplemented(r)
    assert "sandbox-system:\n  Not configured" in r.stdout
    r = gw("inference", "set", "--provider", "cli-inf", "--model", "m-1",
           "--no-verify")
    assert "Provider: cli-inf" in r.stdout and "Model:    m-1" in r.stdout
    r = gw("inference", "get")
    assert "inference.local:\n  Provider: cli-inf\n  Model:    m-1" in r.stdout
    r = gw("inference", "update", "--model", "m-2", "--no-verify")
    assert "Model:    m-2" in r.stdout
    j = gw.json("inference", "get")
    assert j["inference.local"]["modelId"] == "m-2"
    r = gw("inference", "update", check=False)
    assert r.returncode != 0 and "at least one" in r.stderr


# --- no gateway, stop ---------------------------------------------------


def test_no_active_gateway(tmp_path):
    cli = Cli(tmp_path)
    cli.cleanup()
    for args in (["status"], ["sandbox", "list"], ["provider", "list"]):
        r = cli(*args, check=False)
        assert r.returncode != 0 and r.stdout == ""
        assert r.stderr.startswith("openshell: No active gateway")


def test_help_per_command(tmp_path):
    """-h, --help or help after a command prints its forms on stdout
    and needs no gateway; after "--" it belongs to the command run."""
    cli = Cli(tmp_path)
    cli.cleanup()
    r = cli("sandbox", "--help")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("usage: openshell sandbox create [--name N]")
    assert "       openshell sandbox exec [name] [--tty]" in r.stdout
    assert len(lines) == 9 and r.stderr == ""
    assert cli("sandbox", "list", "-h").stdout == \
        "usage: openshell sandbox list [--limit N] [--offset N] " \
        "[--ids|--names]\n"
    r = cli("provider", "create", "--help")
    assert r.stdout.startswith("usage: openshell provider create --name N "
                               "--type T (--credential K[=V]... | "
                               "--from-existing)")
    assert cli("status", "help").stdout == "usage: openshell status\n"
    r = cli("sandbox", "exec", "x", "--", "echo", "--help", check=False)
    assert r.returncode != 0 and r.stdout == ""
    assert r.stderr.startswith("openshell: No active gateway")


@pytest.fixture
def cli(tmp_path):
    c = Cli(tmp_path)
    yield c
    for name in ("gw2", "gw3"):
        c("gateway", "stop", "--name", name, check=False)
    c.cleanup()


def test_gateway_stop_and_failed_start(cli):
    r = cli("gateway", "start", "--name", "gw2", "--port", "0")
    assert r.stdout.startswith("✓ Gateway gw2 ready at https://127.0.0.1:")
    j = cli.json("gateway", "status", "--name", "gw2")
    pid = j["pid"]
    r = cli("gateway", "stop", "--name", "gw2")
    assert r.stdout == "✓ Gateway gw2 stopped\n"
    assert not os.path.exists("/proc/%d/status" % pid) or \
        "zombie" in open("/proc/%d/status" % pid).read()
    assert cli.json("gateway", "status", "--name", "gw2")["running"] is False
    r = cli("status", check=False)
    assert r.returncode != 0 and "Disconnected" in r.stdout
    assert r.stderr.startswith("openshell: ")
    # A gateway that cannot start: its stderr is shown, exit non-zero.
    r = cli("gateway", "start", "--name", "gw3", "--port", "0",
            "--bind", "203.0.113.1", check=False)
    assert r.returncode != 0
    assert "before it was ready" in r.stderr
