# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The config RPCs of control-plane.md §1.3/§2.6 against a real
openshell-gateway (cpfixture), with raw grpcio stubs: policy revisions
and their hash, ReportPolicyStatus, the validation texts, the global
policy lock, settings keys, and GetSandboxProviderEnvironment.

Every assertion is on what the gateway answers (status code and text,
message fields).  Sandboxes and providers get fresh names per test so
that the tests can share one gateway."""

import itertools
import os

import grpc
import pytest

from cpfixture import control_plane

import datamodel_pb2  # noqa: E402  (cpfixture put the stubs on sys.path)
import openshell_pb2  # noqa: E402
import openshell_pb2_grpc  # noqa: E402
import sandbox_pb2  # noqa: E402

LOADED = openshell_pb2.POLICY_STATUS_LOADED
FAILED = openshell_pb2.POLICY_STATUS_FAILED
PENDING = openshell_pb2.POLICY_STATUS_PENDING
SUPERSEDED = openshell_pb2.POLICY_STATUS_SUPERSEDED
SRC_SANDBOX = sandbox_pb2.POLICY_SOURCE_SANDBOX
SRC_GLOBAL = sandbox_pb2.POLICY_SOURCE_GLOBAL

_seq = itertools.count()


def fresh(prefix):
    return "%s-%d-%d" % (prefix, os.getpid(), next(_seq))


@pytest.fixture(scope="module")
def gw():
    with control_plane() as g:
        yield g


@pytest.fixture(scope="module")
def stub(gw):
    return openshell_pb2_grpc.OpenShellStub(gw.channel())


def policy(ro=("/usr", "/lib"), rw=("/sandbox", "/tmp"), workdir=True,
           compat="best_effort", user="sandbox", group="sandbox",
           rules=None, filesystem=True):
    p = sandbox_pb2.SandboxPolicy(version=1)
    if filesystem:
        p.filesystem.include_workdir = workdir
        p.filesystem.read_only.extend(ro)
        p.filesystem.read_write.extend(rw)
    if compat is not None:
        p.landlock.compatibility = compat
    if user is not None:
        p.process.run_as_user = user
        p.process.run_as_group = group
    for key, host in (rules or {}).items():
        r = p.network_policies[key]
        r.name = key
        ep = r.endpoints.add(host=host, port=443)
        ep.rules.add().allow.CopyFrom(sandbox_pb2.L7Allow(
            method="GET", path="/**",
            query={"q": sandbox_pb2.L7QueryMatcher(glob="a*"),
                   "r": sandbox_pb2.L7QueryMatcher(any=["x", "y"])}))
        ep.allowed_ips.append("10.0.0.1")
        r.binaries.add(path="/usr/bin/curl")
    return p


def create(stub, pol=None, providers=()):
    spec = datamodel_pb2.SandboxSpec(providers=list(providers))
    if pol is not None:
        spec.policy.CopyFrom(pol)
    sb = stub.CreateSandbox(openshell_pb2.CreateSandboxRequest(
        name=fresh("cfg"), spec=spec)).sandbox
    assert sb.id and sb.name
    return sb


def config(stub, sb):
    return stub.GetSandboxConfig(
        sandbox_pb2.GetSandboxConfigRequest(sandbox_id=sb.id))


def update(stub, name="", pol=None, **kw):
    req = openshell_pb2.UpdateConfigRequest(name=name, **kw)
    if pol is not None:
        req.policy.CopyFrom(pol)
    return stub.UpdateConfig(req)


def revisions(stub, sb=None, **kw):
    return list(stub.ListSandboxPolicies(openshell_pb2.ListSandboxPoliciesRequest(
        name=sb.name if sb else "", **kw)).revisions)


def status(stub, sb=None, version=0, glob=False):
    return stub.GetSandboxPolicyStatus(
        openshell_pb2.GetSandboxPolicyStatusRequest(
            name=sb.name if sb else "", version=version, **{"global": glob}))


def report(stub, sb_id, version, st, err=""):
    return stub.ReportPolicyStatus(openshell_pb2.ReportPolicyStatusRequest(
        sandbox_id=sb_id, version=version, status=st, load_error=err))


def fails(code, text, fn, *a, **kw):
    with pytest.raises(grpc.RpcError) as ei:
        fn(*a, **kw)
    assert ei.value.code() == code, ei.value.details()
    if text is not None:
        assert ei.value.details() == text
    return ei.value.details()


@pytest.fixture
def no_global(stub):
    """Tests that touch the global policy remove it again."""
    yield
    update(stub, setting_key="policy", delete_setting=True,
           **{"global": True})


# ---- revisions and the hash ----

def test_lazy_revision_one_then_numbering_and_noop(stub):
    sb = create(stub, policy(rules={"one": "a.example.com"}))
    c = config(stub, sb)
    assert c.version == 1
    assert c.policy_source == SRC_SANDBOX
    assert c.global_policy_version == 0
    assert len(c.policy_hash) == 64
    assert c.policy.network_policies["one"].endpoints[0].host == \
        "a.example.com"
    revs = revisions(stub, sb)
    assert [(r.version, r.status) for r in revs] == [(1, LOADED)]

    p2 = policy(rules={"one": "a.example.com", "two": "b.example.com"})
    r2 = update(stub, sb.name, p2)
    assert r2.version == 2 and r2.settings_revision == 0
    again = update(stub, sb.name, p2)
    assert (again.version, again.policy_hash) == (2, r2.policy_hash)
    assert [(r.version, r.status) for r in revisions(stub, sb)] == \
        [(2, PENDING), (1, SUPERSEDED)]
    r3 = update(stub, sb.name, policy(rules={"three": "c.example.com"}))
    assert r3.version == 3
    revs = revisions(stub, sb)
    assert [r.version for r in revs] == [3, 2, 1]
    assert [r.status for r in revs] == [PENDING, SUPERSEDED, SUPERSEDED]
    assert all(not r.HasField("policy") for r in revs)
    c3 = config(stub, sb)
    assert (c3.version, c3.policy_hash) == (3, r3.policy_hash)
    assert c3.config_revision != c.config_revision


def test_hash_is_stable(stub):
    p = policy(rules={"k1": "x.example.com", "k2": "y.example.com"})
    sb = create(stub, p)
    a, b = config(stub, sb), config(stub, sb)
    assert a.policy_hash == b.policy_hash
    assert a.config_revision == b.config_revision != 0
    # Re-sending the baseline is a no-op on version 1 with that hash.
    r = update(stub, sb.name, p)
    assert (r.version, r.policy_hash) == (1, a.policy_hash)
    # The same policy gives the same hash in another sandbox too.
    other = create(stub, p)
    assert config(stub, other).policy_hash == a.policy_hash
    st = status(stub, sb, 1)
    assert st.revision.policy_hash == a.policy_hash
    assert st.revision.policy == config(stub, sb).policy


def test_no_policy_signal_and_backfill(stub):
    sb = create(stub)
    c = config(stub, sb)
    assert c.version == 0 and c.policy_hash == ""
    assert not c.HasField("policy")
    fails(grpc.StatusCode.NOT_FOUND,
          "no policy revision found for this sandbox", status, stub, sb)
    # The supervisor syncs its policy: it becomes the baseline.
    r = update(stub, sb.name, policy(user="", group=""))
    assert r.version == 1
    got = stub.GetSandbox(openshell_pb2.GetSandboxRequest(name=sb.name))
    assert got.sandbox.spec.policy.process.run_as_user == "sandbox"
    assert list(got.sandbox.spec.policy.filesystem.read_only) == \
        ["/usr", "/lib"]
    fails(grpc.StatusCode.INVALID_ARGUMENT,
          "filesystem read_only path '/lib' cannot be removed on a live "
          "sandbox", update, stub, sb.name, policy(ro=("/usr",)))
    c = config(stub, sb)
    assert c.version == 1 and c.policy_hash == r.policy_hash


# ---- ReportPolicyStatus ----

def test_report_loaded_and_failed(stub):
    sb = create(stub, policy())
    config(stub, sb)
    v2 = update(stub, sb.name, policy(rules={"a": "a.example.com"})).version
    report(stub, sb.id, v2, LOADED)
    st = status(stub, sb)
    assert st.active_version == 2
    assert st.revision.version == 2 and st.revision.status == LOADED
    assert st.revision.loaded_at_ms > 0
    assert st.revision.policy.network_policies["a"].name == "a"
    assert [r.status for r in revisions(stub, sb)].count(LOADED) == 1

    v3 = update(stub, sb.name, policy(rules={"b": "b.example.com"})).version
    report(stub, sb.id, v3, FAILED, "engine: bad host")
    st = status(stub, sb, v3)
    assert st.revision.status == FAILED
    assert st.revision.load_error == "engine: bad host"
    assert st.active_version == 2
    got = stub.GetSandbox(openshell_pb2.GetSandboxRequest(name=sb.name))
    assert got.sandbox.current_policy_version == 2

    v4 = update(stub, sb.name, policy(rules={"c": "c.example.com"})).version
    report(stub, sb.id, v4, LOADED)
    revs = revisions(stub, sb)
    assert [r.status for r in revs].count(LOADED) == 1
    assert revs[0].version == 4 and revs[0].status == LOADED
    assert status(stub, sb).active_version == 4


def test_report_validation(stub):
    sb = create(stub, policy())
    config(stub, sb)
    bad = grpc.StatusCode.INVALID_ARGUMENT
    fails(bad, "sandbox_id is required", report, stub, "", 1, LOADED)
    fails(bad, "version is required", report, stub, sb.id, 0, LOADED)
    fails(bad, "status must be LOADED or FAILED", report, stub, sb.id, 1,
          PENDING)
    fails(grpc.StatusCode.NOT_FOUND, "policy revision not found", report,
          stub, sb.id, 99, LOADED)


# ---- validation texts (§2.6) ----

def test_live_update_checks(stub):
    sb = create(stub, policy())
    bad = grpc.StatusCode.INVALID_ARGUMENT
    fails(bad, "filesystem read_only path '/usr' cannot be removed on a "
          "live sandbox", update, stub, sb.name, policy(ro=("/lib",)))
    fails(bad, "filesystem read_write path '/tmp' cannot be removed on a "
          "live sandbox", update, stub, sb.name, policy(rw=("/sandbox",)))
    fails(bad, "filesystem include_workdir cannot be changed on a live "
          "sandbox", update, stub, sb.name, policy(workdir=False))
    fails(bad, "filesystem policy cannot be removed on a live sandbox",
          update, stub, sb.name, policy(filesystem=False))
    fails(bad, "landlock policy cannot be changed on a live sandbox "
          "(applied at startup)", update, stub, sb.name,
          policy(compat="hard_requirement"))
    fails(bad, "process policy cannot be changed on a live sandbox "
          "(applied at startup)", update, stub, sb.name,
          policy(user="root"))
    # Immutability is checked before safety (e2e relies on the order).
    fails(bad, "filesystem read_only path '/lib' cannot be removed on a "
          "live sandbox", update, stub, sb.name,
          policy(ro=("/usr", "/x/../etc")))
    fails(bad, "policy contains unsafe content: path contains '..' "
          "traversal component: /usr/../etc", update, stub, sb.name,
          policy(ro=("/usr", "/lib", "/usr/../etc")))
    fails(bad, "policy contains unsafe content: read-write path is overly "
          "broad: /", update, stub, sb.name,
          policy(rw=("/sandbox", "/tmp", "/")))
    # Growing the filesystem is fine.  Nobody asked for the config
    # yet, so there is no lazy revision 1: this update is version 1.
    assert update(stub, sb.name, policy(ro=("/usr", "/lib", "/opt"))) \
        .version == 1


def test_safety_texts_on_global_policy(stub, no_global):
    fails(grpc.StatusCode.INVALID_ARGUMENT,
          "policy contains unsafe content: run_as_user must be 'sandbox', "
          "got 'root'; run_as_group must be 'sandbox', got 'root'",
          update, stub, pol=policy(user="root", group="root"),
          **{"global": True})
    fails(grpc.StatusCode.INVALID_ARGUMENT,
          "policy contains unsafe content: path must be absolute (start "
          "with '/'): relative", update, stub,
          pol=policy(ro=("relative",)), **{"global": True})


def test_update_request_shape(stub):
    sb = create(stub, policy())
    bad = grpc.StatusCode.INVALID_ARGUMENT
    fails(bad, "policy and setting_key cannot be set in the same request",
          update, stub, sb.name, policy(), setting_key="x")
    fails(bad, "either policy or setting_key must be provided", update,
          stub, sb.name, setting_key="  ")
    fails(bad, "name is required for sandbox-scoped updates", update, stub,
          "", policy())
    fails(grpc.StatusCode.NOT_FOUND, "sandbox not found", update, stub,
          "no-such-sandbox", policy())
    fails(bad, "delete_setting cannot be combined with policy payload",
          update, stub, pol=policy(), delete_setting=True,
          **{"global": True})


# ---- global policy and settings ----

def test_global_policy_lock(stub, no_global):
    sb = create(stub, policy())
    own = config(stub, sb)
    g = policy(rules={"global": "g.example.com"})
    r1 = update(stub, pol=g, **{"global": True})
    assert r1.version >= 1 and len(r1.policy_hash) == 64
    r2 = update(stub, pol=g, **{"global": True})
    assert (r2.version, r2.policy_hash, r2.settings_revision) == \
        (r1.version, r1.policy_hash, r1.settings_revision)

    c = config(stub, sb)
    assert c.policy_source == SRC_GLOBAL
    assert c.global_policy_version == r1.version
    assert c.policy_hash == r1.policy_hash
    assert c.version == 1
    assert "global" in c.policy.network_policies
    assert c.config_revision != own.config_revision
    fails(grpc.StatusCode.FAILED_PRECONDITION,
          "policy is managed globally; delete global policy before sandbox "
          "policy update", update, stub, sb.name,
          policy(rules={"x": "x.example.com"}))
    st = status(stub, glob=True)
    assert st.active_version == 0
    assert (st.revision.version, st.revision.status) == (r1.version, LOADED)
    assert st.revision.loaded_at_ms > 0
    gl = revisions(stub, **{"global": True})
    assert gl[0].version == r1.version
    assert [r.status for r in gl].count(LOADED) == 1
    gc = stub.GetGatewayConfig(sandbox_pb2.GetGatewayConfigRequest())
    assert "policy" not in gc.settings
    assert gc.settings_revision == r1.settings_revision

    d = update(stub, setting_key="policy", delete_setting=True,
               **{"global": True})
    assert d.deleted and d.settings_revision == r1.settings_revision + 1
    assert status(stub, glob=True).revision.status == SUPERSEDED
    assert config(stub, sb).policy_source == SRC_SANDBOX
    assert update(stub, sb.name, policy(rules={"x": "x.example.com"})) \
        .version == 2
    # The same global policy again is a new, loaded revision.
    r3 = update(stub, pol=g, **{"global": True})
    assert r3.version == r1.version + 1
    assert r3.policy_hash == r1.policy_hash
    assert status(stub, glob=True).revision.status == LOADED


def test_global_policy_none(stub):
    fails(grpc.StatusCode.NOT_FOUND, "no global policy revision found",
          status, stub, None, 12345, True)


def test_setting_keys(stub):
    sb = create(stub, policy())
    bad = grpc.StatusCode.INVALID_ARGUMENT
    val = sandbox_pb2.SettingValue(string_value="v")
    fails(bad, "unknown setting key 'log_level'. Allowed keys: ", update,
          stub, setting_key="log_level", setting_value=val,
          **{"global": True})
    fails(bad, "unknown setting key 'foo'. Allowed keys: ", update, stub,
          sb.name, setting_key="foo", setting_value=val)
    fails(bad, "reserved key 'policy' must be set via the policy field",
          update, stub, setting_key="policy", setting_value=val,
          **{"global": True})
    fails(bad, "reserved key 'policy' must be set via policy commands",
          update, stub, sb.name, setting_key="policy", setting_value=val)
    # Deleting an unknown sandbox key removes nothing.
    r = update(stub, sb.name, setting_key="foo", delete_setting=True)
    assert not r.deleted and r.settings_revision == 0
    assert len(config(stub, sb).settings) == 0


# ---- GetSandboxProviderEnvironment ----

def provider(stub, creds):
    name = fresh("prov")
    stub.CreateProvider(openshell_pb2.CreateProviderRequest(
        provider=datamodel_pb2.Provider(name=name, type="generic",
                                        credentials=creds)))
    return name


def env(stub, sb_id, s=None):
    return dict((s or stub).GetSandboxProviderEnvironment(
        openshell_pb2.GetSandboxProviderEnvironmentRequest(
            sandbox_id=sb_id)).environment)


def test_provider_environment(stub):
    p1 = provider(stub, {"API_KEY": "sk-raw-1", "bad-key": "x",
                         "_OK9": "y", "9BAD": "z"})
    p2 = provider(stub, {"API_KEY": "sk-other", "SECOND": "two"})
    sb = create(stub, providers=(p1, p2))
    assert env(stub, sb.id) == {"API_KEY": "sk-raw-1", "_OK9": "y",
                                "SECOND": "two"}
    sb2 = create(stub, providers=(p2, p1))
    assert env(stub, sb2.id)["API_KEY"] == "sk-other"
    assert env(stub, create(stub).id) == {}
    fails(grpc.StatusCode.NOT_FOUND, "sandbox not found", env, stub,
          "00000000-0000-4000-8000-000000000000")


def test_provider_credential_hosts(stub):
    """Our extension: each key's host globs, by provider type, or the
    provider's config key credential_hosts; generic binds to nothing."""
    def typed(ptype, creds, config=None):
        name = fresh("prov")
        stub.CreateProvider(openshell_pb2.CreateProviderRequest(
            provider=datamodel_pb2.Provider(name=name, type=ptype,
                                            credentials=creds,
                                            config=config or {})))
        return name
    ps = (typed("claude", {"ANTHROPIC_API_KEY": "a"}),
          typed("github", {"GITHUB_TOKEN": "g"}),
          typed("generic", {"PLAIN": "p"}),
          typed("openai", {"OPENAI_API_KEY": "o"},
                {"credential_hosts": "llm.internal.test,*.llm.test"}))
    sb = create(stub, providers=ps)
    r = stub.GetSandboxProviderEnvironment(
        openshell_pb2.GetSandboxProviderEnvironmentRequest(sandbox_id=sb.id))
    assert dict(r.credential_hosts) == {
        "ANTHROPIC_API_KEY": "api.anthropic.com",
        "GITHUB_TOKEN": "api.github.com,github.com,*.githubusercontent.com",
        "PLAIN": "",
        "OPENAI_API_KEY": "llm.internal.test,*.llm.test",
    }
    assert set(r.environment) == set(r.credential_hosts)


def test_provider_environment_missing_provider(stub):
    p = provider(stub, {"K": "v"})
    sb = create(stub, providers=(p,))
    stub.DeleteProvider(openshell_pb2.DeleteProviderRequest(name=p))
    fails(grpc.StatusCode.FAILED_PRECONDITION, "provider '%s' not found" % p,
          env, stub, sb.id)


# ---- a sandbox's own identity ----

def test_sandbox_identity(gw, stub, no_global):
    p = provider(stub, {"TOKEN": "t"})
    mine = create(stub, policy(), providers=(p,))
    other = create(stub, policy(), providers=(p,))
    s = openshell_pb2_grpc.OpenShellStub(gw.channel(gw.client_creds(mine.id)))
    denied = grpc.StatusCode.PERMISSION_DENIED
    assert config(s, mine).version == 1
    fails(denied, None, config, s, other)
    assert env(stub, mine.id, s) == {"TOKEN": "t"}
    fails(denied, None, env, stub, other.id, s)
    r = update(s, mine.name, policy(rules={"n": "n.example.com"}))
    assert r.version == 2
    report(s, mine.id, 2, LOADED)
    fails(denied, None, report, s, other.id, 1, LOADED)
    fails(denied, None, update, s, other.name, policy())
    fails(denied, None, update, s, pol=policy(), **{"global": True})
    fails(denied, None, update, s, mine.name, setting_key="foo",
          delete_setting=True)
    fails(denied, None, status, s, mine)
    fails(denied, None, revisions, s, mine)


def test_list_paging(stub):
    sb = create(stub, policy())
    config(stub, sb)
    for host in ("a", "b", "c", "d"):
        update(stub, sb.name, policy(rules={host: host + ".example.com"}))
    assert [r.version for r in revisions(stub, sb)] == [5, 4, 3, 2, 1]
    assert [r.version for r in revisions(stub, sb, limit=2)] == [5, 4]
    assert [r.version for r in revisions(stub, sb, limit=2, offset=3)] == \
        [2, 1]
    fails(grpc.StatusCode.NOT_FOUND, "sandbox not found", revisions, stub,
          datamodel_pb2.Sandbox(name="nope"))


def test_watch_sees_policy_changes(stub):
    sb = create(stub, policy())
    config(stub, sb)
    stream = stub.WatchSandbox(openshell_pb2.WatchSandboxRequest(
        id=sb.id, follow_status=True), timeout=15)
    first = next(stream)
    assert first.sandbox.id == sb.id
    assert first.sandbox.current_policy_version == 0
    v = update(stub, sb.name, policy(rules={"w": "w.example.com"})).version
    report(stub, sb.id, v, LOADED)
    seen = []
    for ev in stream:
        seen.append(ev.sandbox.current_policy_version)
        if ev.sandbox.current_policy_version == v:
            break
    stream.cancel()
    assert seen[-1] == v
