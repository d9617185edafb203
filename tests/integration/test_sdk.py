# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The Python SDK (sdk/python/openshell, assembled in $BUILD/python)
against a real openshell-gateway started by cpfixture.

The client is built the way a user builds it: a cluster config directory
(active_cluster, clusters/<name>/metadata.json, clusters/<name>/mtls/)
in a temporary XDG_CONFIG_HOME, then SandboxClient.from_active_cluster().
Every assertion is on what the gateway answers, including the exact
error texts of control-plane.md §1.3."""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import grpc
import pytest

from cpfixture import control_plane

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("OPENSHELL_BUILD", os.path.join(REPO, "build"))
PYDIR = os.path.join(BUILD, "python")

if not os.path.isfile(os.path.join(PYDIR, "openshell", "_proto",
                                   "openshell_pb2.py")):
    pytest.skip("the SDK is not built (make sdk)", allow_module_level=True)
sys.path.insert(0, PYDIR)

import openshell  # noqa: E402
from openshell import (  # noqa: E402
    AlreadyExistsError, FailedPreconditionError, InvalidArgumentError,
    NotFoundError, OpenShellError, SandboxClient, SandboxError,
    UnimplementedError)
from openshell._proto import datamodel_pb2, openshell_pb2  # noqa: E402
from openshell._proto import sandbox_pb2  # noqa: E402

CLUSTER = "sdktest"
PETNAME = re.compile(r"^[a-z]+-[a-z]+$")
PROVISIONING = datamodel_pb2.SANDBOX_PHASE_PROVISIONING
DELETING = datamodel_pb2.SANDBOX_PHASE_DELETING


@pytest.fixture(scope="module")
def gateway():
    """One gateway for the module (cpfixture's ControlPlane); tests
    use fresh names so they do not see each other's objects."""
    with control_plane() as gw:
        yield gw


def _write_cluster(home, name, gw):
    """The config layout of issue3-design: what `gateway start` writes."""
    d = os.path.join(home, "openshell", "clusters", name)
    mtls = os.path.join(d, "mtls")
    os.makedirs(mtls, mode=0o700)
    pki = os.path.join(gw.state_dir, "pki")
    for src, dst in (("ca.crt", "ca.crt"), ("admin.crt", "tls.crt"),
                     ("admin.key", "tls.key")):
        shutil.copyfile(os.path.join(pki, src), os.path.join(mtls, dst))
    os.chmod(os.path.join(mtls, "tls.key"), 0o600)
    meta = {"name": name,
            "gateway_endpoint": "https://127.0.0.1:%d" % gw.port,
            "is_remote": False, "gateway_port": gw.port,
            "auth_mode": "mtls", "state_dir": gw.state_dir}
    with open(os.path.join(d, "metadata.json"), "w") as f:
        json.dump(meta, f, indent=2)
    with open(os.path.join(home, "openshell", "active_cluster"), "w") as f:
        f.write(name + "\n")


@pytest.fixture
def config_home(gateway, tmp_path, monkeypatch):
    home = str(tmp_path / "xdg-config")
    _write_cluster(home, CLUSTER, gateway)
    monkeypatch.setenv("XDG_CONFIG_HOME", home)
    monkeypatch.delenv("OPENSHELL_GATEWAY", raising=False)
    return home


@pytest.fixture
def client(config_home):
    c = SandboxClient.from_active_cluster()
    yield c
    c.close()


@pytest.fixture
def sandbox(client):
    """A fresh sandbox (PROVISIONING: no compute driver yet)."""
    ref = client.create()
    yield ref
    try:
        client.delete(ref.name)
    except NotFoundError:
        pass


def _rpc_fails(exc_info, cls, code, text):
    e = exc_info.value
    assert type(e) is cls
    assert isinstance(e, SandboxError) and isinstance(e, grpc.RpcError)
    assert e.code() == code
    assert e.details() == text and str(e) == text


# Packaging and configuration


def test_package_imports_alone():
    """make puts a self-contained package in $BUILD/python: a clean
    interpreter imports it and its stubs with nothing else on the path."""
    code = ("import openshell, sys; from openshell._proto import "
            "openshell_pb2_grpc, inference_pb2_grpc; "
            "print(' '.join(sorted(openshell.__all__)))")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "PYTHONPATH": PYDIR}
    out = subprocess.run([sys.executable, "-c", code], env=env,
                         capture_output=True, text=True, check=True).stdout
    names = set(out.split())
    for n in ("TlsConfig", "SandboxRef", "ExecChunk", "ExecResult",
              "SandboxError", "SandboxSession", "SandboxClient",
              "ClusterInferenceConfig", "InferenceRouteClient", "Sandbox",
              "OpenShellError", "NotFoundError", "UnimplementedError"):
        assert n in names


def test_from_active_cluster(config_home, gateway):
    c = SandboxClient.from_active_cluster()
    assert c.cluster_name == CLUSTER
    assert c.endpoint == "127.0.0.1:%d" % gateway.port
    c.close()


def test_cluster_selection_order(config_home, gateway, monkeypatch):
    """Argument, then OPENSHELL_GATEWAY, then active_cluster."""
    clusters = os.path.join(config_home, "openshell", "clusters")
    shutil.copytree(os.path.join(clusters, CLUSTER),
                    os.path.join(clusters, "other"))
    with open(os.path.join(config_home, "openshell", "active_cluster"),
              "w") as f:
        f.write("missing\n")
    with pytest.raises(openshell.ConfigError):
        SandboxClient.from_active_cluster()
    monkeypatch.setenv("OPENSHELL_GATEWAY", "other")
    c = SandboxClient.from_active_cluster()
    assert c.cluster_name == "other"
    assert c.health().status == openshell_pb2.SERVICE_STATUS_HEALTHY
    c.close()
    c = SandboxClient.from_active_cluster(CLUSTER)
    assert c.cluster_name == CLUSTER
    c.close()


def test_no_certificate_is_unavailable(gateway):
    """The port demands mTLS: a plaintext client gets no answer."""
    c = SandboxClient("127.0.0.1:%d" % gateway.port, timeout=5)
    with pytest.raises(OpenShellError) as ei:
        c.health()
    assert ei.value.code() in (grpc.StatusCode.UNAVAILABLE,
                               grpc.StatusCode.INTERNAL,
                               grpc.StatusCode.UNKNOWN)
    c.close()


def test_foreign_certificate_is_unavailable(gateway, pki, tmp_path):
    """A client certificate from another CA fails the handshake."""
    ca = tmp_path / "gw-ca.crt"
    ca.write_bytes(gateway.ca)
    tls = openshell.TlsConfig(str(ca), pki.foreign_cert, pki.foreign_key)
    with SandboxClient("https://" + gateway.endpoint, tls=tls,
                       timeout=5) as c:
        assert c.endpoint == gateway.endpoint
        with pytest.raises(openshell.UnavailableError):
            c.health()


def test_sandbox_identity_is_refused_admin_rpcs(gateway, tmp_path):
    """A client certificate whose CN is not openshell-admin (a sandbox's
    identity) reaches Health but gets PermissionDeniedError for the
    admin RPCs."""
    crt, key = gateway.client_cert("00000000-0000-4000-8000-00000000beef")
    paths = {}
    for name, data in (("ca.crt", gateway.ca), ("tls.crt", crt),
                       ("tls.key", key)):
        paths[name] = str(tmp_path / name)
        with open(paths[name], "wb") as f:
            f.write(data)
    tls = openshell.TlsConfig(paths["ca.crt"], paths["tls.crt"],
                              paths["tls.key"])
    with SandboxClient(gateway.endpoint, tls=tls, timeout=10) as c:
        assert c.health().status == openshell_pb2.SERVICE_STATUS_HEALTHY
        with pytest.raises(openshell.PermissionDeniedError) as ei:
            c.list()
        assert ei.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(openshell.PermissionDeniedError):
            c.create_provider("sneaky", "generic", {"K": "v"})


# Health and sandboxes


def test_health(client):
    h = client.health()
    assert h.status == openshell_pb2.SERVICE_STATUS_HEALTHY
    assert h.version


def test_sandbox_round_trip(client):
    ref = client.create()
    assert PETNAME.match(ref.name), ref.name
    assert ref.id and ref.phase == PROVISIONING
    assert isinstance(ref.sandbox, datamodel_pb2.Sandbox)
    got = client.get(ref.name)
    assert got == ref and got.id == ref.id
    assert ref.id in client.list_ids()
    listed = [r for r in client.list() if r.id == ref.id]
    assert listed and listed[0].name == ref.name
    assert listed[0].sandbox.created_at_ms > 0
    assert client.delete(ref.name) is True
    client.wait_deleted(ref.name, timeout_seconds=10)
    with pytest.raises(NotFoundError):
        client.get(ref.name)
    assert ref.id not in client.list_ids()


def test_create_with_name_and_spec(client):
    spec = datamodel_pb2.SandboxSpec(log_level="debug",
                                     environment={"A": "1"})
    ref = client.create(spec, name="named-box")
    try:
        assert ref.name == "named-box"
        got = client.get("named-box").sandbox
        assert got.spec.environment["A"] == "1"
        assert got.spec.log_level == "debug"
    finally:
        client.delete("named-box")


def test_sandbox_errors(client, sandbox):
    with pytest.raises(NotFoundError) as ei:
        client.get("no-such-box")
    _rpc_fails(ei, NotFoundError, grpc.StatusCode.NOT_FOUND,
               "sandbox not found")
    with pytest.raises(InvalidArgumentError) as ei:
        client.get("")
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(AlreadyExistsError) as ei:
        client.create(name=sandbox.name)
    _rpc_fails(ei, AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS,
               "sandbox '%s' already exists" % sandbox.name)
    with pytest.raises(NotFoundError):
        client.delete("no-such-box")
    spec = datamodel_pb2.SandboxSpec(providers=["nope"])
    with pytest.raises(FailedPreconditionError) as ei:
        client.create(spec)
    _rpc_fails(ei, FailedPreconditionError,
               grpc.StatusCode.FAILED_PRECONDITION,
               "provider 'nope' not found")
    with pytest.raises(InvalidArgumentError):
        client.create(name="x" * 254)


def test_list_pagination(client):
    refs = [client.create() for _ in range(3)]
    try:
        listed = client.list(limit=1000)
        ids = [r.id for r in listed]
        # Row creation time, then name: creates within one millisecond
        # come back in name order, not in the order they were made.
        keys = [(r.sandbox.created_at_ms, r.name) for r in listed]
        assert keys == sorted(keys) and all(k[0] > 0 for k in keys)
        mine = [i for i in ids if i in {r.id for r in refs}]
        assert sorted(mine) == sorted(r.id for r in refs)
        start = ids.index(mine[0])
        assert client.list_ids(limit=1, offset=start + 1) == [mine[1]]
        assert client.list_ids(limit=2, offset=start) == mine[:2]
        assert client.list_ids(limit=1, offset=10**6) == []
    finally:
        for r in refs:
            client.delete(r.name)


# Providers


def test_provider_crud_and_redaction(client):
    p = client.create_provider("sdk-openai", "openai",
                               {"OPENAI_API_KEY": "sk-secret",
                                "EXTRA": "e"},
                               {"OPENAI_BASE_URL": "mock://sdk"})
    try:
        assert p.id and p.name == "sdk-openai" and p.type == "openai"
        assert dict(p.credentials) == {"OPENAI_API_KEY": "REDACTED",
                                       "EXTRA": "REDACTED"}
        assert dict(p.config) == {"OPENAI_BASE_URL": "mock://sdk"}
        got = client.get_provider("sdk-openai")
        assert got.id == p.id and got.credentials["EXTRA"] == "REDACTED"
        assert "sdk-openai" in [x.name for x in client.list_providers()]

        # merge: upsert one key, delete another, config untouched
        u = client.update_provider("sdk-openai",
                                   credentials={"NEW": "n", "EXTRA": ""})
        assert dict(u.credentials) == {"OPENAI_API_KEY": "REDACTED",
                                       "NEW": "REDACTED"}
        assert dict(u.config) == {"OPENAI_BASE_URL": "mock://sdk"}
        u = client.update_provider("sdk-openai", type="OpenAI",
                                   config={"K": "v"})
        assert sorted(u.credentials) == ["NEW", "OPENAI_API_KEY"]
        assert dict(u.config) == {"OPENAI_BASE_URL": "mock://sdk",
                                  "K": "v"}
        assert u.type == "openai" and u.id == p.id

        with pytest.raises(InvalidArgumentError) as ei:
            client.update_provider("sdk-openai", type="anthropic")
        _rpc_fails(ei, InvalidArgumentError,
                   grpc.StatusCode.INVALID_ARGUMENT,
                   "provider type cannot be changed; delete and recreate "
                   "the provider")
        with pytest.raises(AlreadyExistsError) as ei:
            client.create_provider("sdk-openai", "openai", {"K": "v"})
        _rpc_fails(ei, AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS,
                   "provider already exists")
        with pytest.raises(NotFoundError):
            client.update_provider("sdk-missing", credentials={"K": "v"})
        with pytest.raises(InvalidArgumentError):
            client.create_provider("sdk-empty", "openai", {})
    finally:
        assert client.delete_provider("sdk-openai") is True
    assert client.delete_provider("sdk-openai") is False
    with pytest.raises(NotFoundError):
        client.get_provider("sdk-openai")


def test_provider_generated_name(client):
    p = client.create_provider("", "generic", {"TOKEN": "t"})
    try:
        assert re.match(r"^[a-z]{6}$", p.name), p.name
    finally:
        client.delete_provider(p.name)


# Logs and watch


def _lines(msgs, level="INFO"):
    now = int(time.time() * 1000)
    return [openshell_pb2.SandboxLogLine(timestamp_ms=now, level=level,
                                         target="sdk.test", message=m)
            for m in msgs]


def test_push_then_read_logs(client, sandbox):
    client.push_logs(sandbox.id, _lines(["one", "two"]) +
                     _lines(["three"], level="DEBUG") + ["four"])
    logs = client.logs(sandbox.id)
    mine = [x for x in logs if x.source == "sandbox"]
    assert [x.message for x in mine] == ["one", "two", "three", "four"]
    assert all(x.sandbox_id == sandbox.id for x in mine)
    assert logs.buffer_total >= 4
    tail = client.logs(sandbox.id, lines=2)
    assert [x.message for x in tail] == ["three", "four"]
    info = client.logs(sandbox.id, sources=["sandbox"], min_level="INFO")
    assert [x.message for x in info] == ["one", "two", "four"]


def test_push_logs_batches(client, sandbox):
    """The server keeps only 100 lines per message; the SDK batches so
    that every line of a long iterator arrives, in order."""
    client.push_logs(sandbox.id, ("line %d" % i for i in range(250)))
    got = client.logs(sandbox.id, lines=2000, sources=["sandbox"])
    assert [x.message for x in got] == ["line %d" % i for i in range(250)]


def test_logs_since(client, sandbox):
    old = openshell_pb2.SandboxLogLine(timestamp_ms=1000, level="INFO",
                                       message="old")
    new = openshell_pb2.SandboxLogLine(timestamp_ms=5000, level="INFO",
                                       message="new")
    client.push_logs(sandbox.id, [old, new])
    got = client.logs(sandbox.id, since_ms=2000, sources=["sandbox"])
    assert [x.message for x in got] == ["new"]


def test_push_logs_unknown_sandbox(client):
    with pytest.raises(NotFoundError):
        client.push_logs("00000000-0000-4000-8000-000000000000",
                         _lines(["x"]))


def test_watch_snapshot_first(client, sandbox):
    with client.watch(sandbox.id, timeout=30) as stream:
        first = next(stream)
        assert first.WhichOneof("payload") == "sandbox"
        assert first.sandbox.id == sandbox.id
        assert first.sandbox.name == sandbox.name


def test_watch_follows_logs(client, sandbox):
    with client.watch(sandbox.id, follow_status=False, follow_logs=True,
                      timeout=30) as stream:
        assert next(stream).WhichOneof("payload") == "sandbox"
        client.push_logs(sandbox.id, _lines(["live-line"]))
        for ev in stream:
            if (ev.WhichOneof("payload") == "log"
                    and ev.log.message == "live-line"):
                assert ev.log.source == "sandbox"
                break


def test_watch_replays_then_follows(client, sandbox):
    """follow_logs replays the ring's tail after the snapshot, in push
    order, then delivers new lines live."""
    client.push_logs(sandbox.id, _lines(["r1", "r2", "r3"]))
    with client.watch(sandbox.id, follow_status=False, follow_logs=True,
                      log_tail_lines=2, log_sources=["sandbox"],
                      timeout=30) as stream:
        assert next(stream).WhichOneof("payload") == "sandbox"
        assert [next(stream).log.message for _ in range(2)] == ["r2", "r3"]
        client.push_logs(sandbox.id, _lines(["r4"]))
        ev = next(stream)
        assert ev.WhichOneof("payload") == "log" and ev.log.message == "r4"


def test_watch_follows_status(client, sandbox):
    """A new policy revision re-sends the snapshot; deleting the sandbox
    sends DELETING (or ends the stream) and then ends it."""
    with client.watch(sandbox.id, timeout=30) as stream:
        assert next(stream).sandbox.spec.HasField("policy") is False
        client.set_policy(sandbox.name, _policy(["/usr"]))
        ev = next(stream)
        assert ev.WhichOneof("payload") == "sandbox"
        assert list(ev.sandbox.spec.policy.filesystem.read_only) == ["/usr"]
        client.delete(sandbox.name)
        try:
            rest = list(stream)
        except openshell.CancelledError:
            rest = []
        assert all(e.sandbox.phase == DELETING for e in rest)


def test_watch_deadline(client, sandbox):
    """With no follow flag the stream stays open after the snapshot; the
    call's own deadline ends it as DeadlineExceededError."""
    stream = client.watch(sandbox.id, follow_status=False, timeout=1)
    assert next(stream).WhichOneof("payload") == "sandbox"
    with pytest.raises(openshell.DeadlineExceededError):
        next(stream)


def test_watch_errors(client):
    with pytest.raises(InvalidArgumentError):
        next(client.watch("", timeout=10))
    with pytest.raises(NotFoundError):
        next(client.watch("00000000-0000-4000-8000-000000000000",
                          timeout=10))


# Policies


def _policy(read_only):
    return sandbox_pb2.SandboxPolicy(
        filesystem=sandbox_pb2.FilesystemPolicy(
            include_workdir=True, read_only=read_only,
            read_write=["/sandbox", "/tmp"]),
        landlock=sandbox_pb2.LandlockPolicy(compatibility="best_effort"),
        process=sandbox_pb2.ProcessPolicy(run_as_user="sandbox",
                                          run_as_group="sandbox"))


def test_provider_environment_and_config(client):
    """The admin may read a sandbox's raw provider environment (only
    keys that are valid env names) and its effective config."""
    client.create_provider("sdk-env", "generic",
                           {"API_TOKEN": "raw-secret", "bad-key": "x"})
    try:
        ref = client.create(datamodel_pb2.SandboxSpec(providers=["sdk-env"]))
        try:
            assert client.provider_environment(ref.id) == \
                {"API_TOKEN": "raw-secret"}
            assert "raw-secret" not in str(client.get(ref.name).sandbox)
            cfg = client.sandbox_config(ref.id)
            assert isinstance(cfg, sandbox_pb2.GetSandboxConfigResponse)
        finally:
            client.delete(ref.name)
        with pytest.raises(NotFoundError):
            client.provider_environment(ref.id)
    finally:
        client.delete_provider("sdk-env")


def test_policy_revisions(client, sandbox):
    r1 = client.set_policy(sandbox.name, _policy(["/usr"]))
    assert r1.version >= 1 and r1.policy_hash
    same = client.set_policy(sandbox.name, _policy(["/usr"]))
    assert (same.version, same.policy_hash) == (r1.version, r1.policy_hash)
    r2 = client.set_policy(sandbox.name, _policy(["/usr", "/lib"]))
    assert r2.version == r1.version + 1 and r2.policy_hash != r1.policy_hash
    st = client.policy_status(sandbox.name)
    assert st.revision.version == r2.version
    assert list(st.revision.policy.filesystem.read_only) == ["/usr", "/lib"]
    assert client.policy_status(sandbox.name, r1.version) \
        .revision.version == r1.version
    revs = client.list_policies(sandbox.name)
    assert [r.version for r in revs][:2] == [r2.version, r1.version]
    with pytest.raises(NotFoundError):
        client.policy_status("no-such-box")


# Inference


def test_inference_route(client):
    inf = openshell.InferenceRouteClient.from_sandbox_client(client)
    client.create_provider("sdk-llm", "openai", {"OPENAI_API_KEY": "sk-x"},
                           {"OPENAI_BASE_URL": "mock://sdk-openai"})
    try:
        cfg = inf.set_cluster("sdk-llm", "gpt-test")
        assert isinstance(cfg, openshell.ClusterInferenceConfig)
        assert (cfg.provider_name, cfg.model_id) == ("sdk-llm", "gpt-test")
        assert cfg.version >= 1
        got = inf.get_cluster()
        assert (got.provider_name, got.model_id, got.version) == \
            ("sdk-llm", "gpt-test", cfg.version)
        again = inf.set_cluster("sdk-llm", "gpt-other", no_verify=True)
        assert again.version == cfg.version + 1
        route = [r for r in inf.bundle().routes
                 if r.name == "inference.local"][0]
        assert (route.base_url, route.api_key, route.model_id) == \
            ("mock://sdk-openai", "sk-x", "gpt-other")
        assert route.provider_type == "openai"
        with pytest.raises(InvalidArgumentError):
            inf.get_cluster("no-such-route")
        with pytest.raises(FailedPreconditionError):
            inf.set_cluster("sdk-missing", "m")
    finally:
        client.delete_provider("sdk-llm")


def test_inference_system_route_not_configured(client):
    inf = openshell.InferenceRouteClient.from_sandbox_client(client)
    with pytest.raises(NotFoundError) as ei:
        inf.get_cluster("sandbox-system")
    assert ei.value.details().startswith(
        "inference route 'sandbox-system' is not configured")


# Exec and the Sandbox context manager


def test_exec_needs_a_ready_sandbox(client, sandbox):
    """This gateway runs without a compute driver, so the sandbox never
    becomes READY: ExecSandbox refuses with FAILED_PRECONDITION and the
    SDK raises its typed error (the happy path runs against real
    sandboxes in test_ssh_sandbox.py)."""
    with pytest.raises(FailedPreconditionError) as ei:
        client.exec(sandbox.id, ["echo", "hi"])
    assert ei.value.code() == grpc.StatusCode.FAILED_PRECONDITION


class _Multiplier:
    def __init__(self, factor):
        self.factor = factor

    def multiply(self, a, b):
        return self.factor * a * b


def _greet(name, punct="!"):
    import platform
    return "hello %s%s %s" % (name, punct, bool(platform.python_version()))


def _fail():
    raise RuntimeError("deliberate failure")


def _run_payload(fn, args=(), kwargs=None):
    """What exec_python sends, run by a local python3 as the sandbox
    would run it: the bootstrap one-liner with the payload in env."""
    from openshell import pyfunc
    env = dict(os.environ)
    env[pyfunc.ENV] = pyfunc.encode(fn, args, kwargs, "source")
    assert "\n" not in pyfunc.BOOTSTRAP and "\r" not in pyfunc.BOOTSTRAP
    return subprocess.run([sys.executable, "-c", pyfunc.BOOTSTRAP],
                          env=env, capture_output=True, text=True)


def test_exec_python_payload():
    r = _run_payload(_Multiplier(1).multiply, (6, 7))
    assert (r.returncode, r.stdout) == (0, "42\n")
    r = _run_payload(_greet, ("sandbox",), {"punct": "?"})
    assert r.stdout == "hello sandbox? True\n"
    r = _run_payload(_fail)
    assert r.returncode != 0
    assert "RuntimeError" in r.stderr and "deliberate failure" in r.stderr
    with pytest.raises(TypeError):
        _run_payload(lambda: 1)


def test_sandbox_context_cleans_up(config_home, client):
    """Sandbox() creates, waits for READY and, when that fails, deletes
    what it created before raising."""
    before = set(client.list_ids(limit=1000))
    with pytest.raises(openshell.DeadlineExceededError):
        with openshell.Sandbox(ready_timeout_seconds=0):
            pass
    left = [r for r in client.list(limit=1000) if r.id not in before]
    assert all(r.phase == DELETING for r in left)


def test_sessions(client, sandbox):
    sess = client.get_session(sandbox.name)
    assert isinstance(sess, openshell.SandboxSession)
    assert (sess.id, sess.name) == (sandbox.id, sandbox.name)
    assert sess.refresh() == sandbox
    new = client.create_session()
    assert PETNAME.match(new.name)
    assert new.delete() is True
    with pytest.raises(NotFoundError):
        new.refresh()


def test_sandbox_attach_unknown(config_home):
    with pytest.raises(NotFoundError):
        with openshell.Sandbox(sandbox="no-such-box"):
            pass


def test_raw_stub_shares_messages(client):
    """client.stub is the generated OpenShellStub on the same channel,
    so SDK and raw calls mix."""
    resp = client.stub.Health(openshell_pb2.HealthRequest(), timeout=10)
    assert resp.status == openshell_pb2.SERVICE_STATUS_HEALTHY
