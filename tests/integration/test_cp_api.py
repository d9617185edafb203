# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The control plane's gRPC API against a real gateway tree (issue 3):
Health, sandbox and provider CRUD, cluster inference, the method table,
per-RPC authorization, key file modes and durability across a gatewayd
crash.  Raw grpcio stubs; the `cp` fixture is in cpfixture.py."""

import http.server
import json
import os
import re
import signal
import socket
import stat
import threading

import grpc
import pytest

from cpfixture import cp  # noqa: F401  (fixture)
from gatewaytree import wait_gone

import datamodel_pb2 as dm
import inference_pb2 as inf
import inference_pb2_grpc as infg
import openshell_pb2 as pb
import openshell_pb2_grpc as pbg
import sandbox_pb2 as sbx

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                  r"[0-9a-f]{12}$")
PETNAME = re.compile(r"^[a-z]+-[a-z]+$")
TIMEOUT = 10


def stub(cp, creds=None):
    return pbg.OpenShellStub(cp.channel(creds))


def err(fn, req):
    with pytest.raises(grpc.RpcError) as e:
        fn(req, timeout=TIMEOUT)
    return e.value.code(), e.value.details()


def create(s, name="", **spec):
    return s.CreateSandbox(pb.CreateSandboxRequest(
        name=name, spec=dm.SandboxSpec(**spec)), timeout=TIMEOUT).sandbox


def provider(name, ptype="openai", creds=None, config=None):
    return dm.Provider(name=name, type=ptype,
                       credentials=creds or {"OPENAI_API_KEY": "sk-1"},
                       config=config or {})


def closed_port():
    """A local TCP port with no listener (bound, never listening)."""
    sk = socket.socket()
    sk.bind(("127.0.0.1", 0))
    port = sk.getsockname()[1]
    CLOSED.append(sk)      # kept bound so nobody else takes it
    return port


CLOSED = []


class Upstream:
    """A local inference endpoint: answers from a script of status
    codes and records each request (path, headers, JSON body)."""

    def __init__(self, codes):
        self.codes = list(codes)
        self.requests = []
        up = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(n) or b"{}")
                up.requests.append((self.path, dict(self.headers), body))
                code = up.codes.pop(0) if up.codes else 500
                data = b'{"ok":true}'
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_health(cp):
    r = stub(cp).Health(pb.HealthRequest(), timeout=TIMEOUT)
    assert r.status == pb.SERVICE_STATUS_HEALTHY
    assert r.version


def test_sandbox_create_get_delete(cp):
    s = stub(cp)
    sb = create(s)
    assert PETNAME.match(sb.name), sb.name
    assert UUID.match(sb.id)
    assert sb.phase == dm.SANDBOX_PHASE_PROVISIONING
    assert sb.spec.template.image            # default image filled in
    assert sb.created_at_ms == 0
    got = s.GetSandbox(pb.GetSandboxRequest(name=sb.name),
                       timeout=TIMEOUT).sandbox
    assert got.id == sb.id and got.created_at_ms == 0
    named = create(s, "alpha", environment={"A": "1"})
    assert named.name == "alpha" and named.spec.environment["A"] == "1"
    assert err(s.CreateSandbox, pb.CreateSandboxRequest(
        name="alpha", spec=dm.SandboxSpec())) == (
        grpc.StatusCode.ALREADY_EXISTS, "sandbox 'alpha' already exists")
    r = s.DeleteSandbox(pb.DeleteSandboxRequest(name="alpha"),
                        timeout=TIMEOUT)
    assert r.deleted
    assert err(s.GetSandbox, pb.GetSandboxRequest(name="alpha")) == (
        grpc.StatusCode.NOT_FOUND, "sandbox not found")
    assert err(s.DeleteSandbox, pb.DeleteSandboxRequest(name="alpha"))[0] \
        == grpc.StatusCode.NOT_FOUND
    assert err(s.GetSandbox, pb.GetSandboxRequest())[0] == \
        grpc.StatusCode.INVALID_ARGUMENT


def test_generated_names_never_collide(cp):
    """Names the gateway picks come from 1600 pairs: with hundreds
    taken a pick often collides, and must be picked again, not refused
    (without the retry some 28 of these 300 fail)."""
    s = stub(cp)
    names = [create(s).name for _ in range(300)]
    assert len(set(names)) == 300
    assert all(PETNAME.match(n) for n in names)


def test_sandbox_list_pagination(cp):
    s = stub(cp)
    names = ["sb-%02d" % i for i in range(12)]
    for n in names:
        create(s, n)
    r = s.ListSandboxes(pb.ListSandboxesRequest(), timeout=TIMEOUT)
    assert [x.name for x in r.sandboxes] == names
    assert all(x.created_at_ms > 0 for x in r.sandboxes)
    r = s.ListSandboxes(pb.ListSandboxesRequest(limit=5, offset=10),
                        timeout=TIMEOUT)
    assert [x.name for x in r.sandboxes] == names[10:]
    r = s.ListSandboxes(pb.ListSandboxesRequest(limit=100000),
                        timeout=TIMEOUT)
    assert len(r.sandboxes) == 12


def test_sandbox_limits_and_providers(cp):
    s = stub(cp)
    assert err(s.CreateSandbox, pb.CreateSandboxRequest(name="x")) == (
        grpc.StatusCode.INVALID_ARGUMENT, "spec is required")
    code, msg = err(s.CreateSandbox, pb.CreateSandboxRequest(
        name="n" * 254, spec=dm.SandboxSpec()))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "name" in msg
    code, msg = err(s.CreateSandbox, pb.CreateSandboxRequest(
        spec=dm.SandboxSpec(environment={"K%d" % i: "v"
                                         for i in range(129)})))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "environment" in msg
    code, msg = err(s.CreateSandbox, pb.CreateSandboxRequest(
        spec=dm.SandboxSpec(environment={"K": "v" * 8193})))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    code, msg = err(s.CreateSandbox, pb.CreateSandboxRequest(
        spec=dm.SandboxSpec(providers=["p%d" % i for i in range(33)])))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "providers" in msg
    code, msg = err(s.CreateSandbox, pb.CreateSandboxRequest(
        spec=dm.SandboxSpec(template=dm.SandboxTemplate(image="i" * 1025))))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "image" in msg
    assert err(s.CreateSandbox, pb.CreateSandboxRequest(
        spec=dm.SandboxSpec(providers=["nope"]))) == (
        grpc.StatusCode.FAILED_PRECONDITION, "provider 'nope' not found")
    s.CreateProvider(pb.CreateProviderRequest(provider=provider("oa")),
                     timeout=TIMEOUT)
    sb = create(s, "withp", providers=["oa"])
    assert list(sb.spec.providers) == ["oa"]
    assert s.ListSandboxes(pb.ListSandboxesRequest(),
                           timeout=TIMEOUT).sandboxes[0].name == "withp"


def test_sandbox_policy_safety(cp):
    s = stub(cp)
    pol = sbx.SandboxPolicy(
        version=1,
        process=sbx.ProcessPolicy(run_as_user="root"),
        filesystem=sbx.FilesystemPolicy(read_only=["/usr", "/a/../etc"],
                                        read_write=["/"]))
    code, msg = err(s.CreateSandbox, pb.CreateSandboxRequest(
        spec=dm.SandboxSpec(policy=pol)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert msg.startswith("policy contains unsafe content: ")
    assert "run_as_user must be 'sandbox', got 'root'" in msg
    assert "path contains '..' traversal component" in msg
    assert "read-write path is overly broad" in msg
    ok = create(s, "safe", policy=sbx.SandboxPolicy(
        version=1, filesystem=sbx.FilesystemPolicy(read_only=["/usr"],
                                                   read_write=["/tmp"])))
    assert ok.spec.policy.process.run_as_user == "sandbox"
    assert ok.spec.policy.process.run_as_group == "sandbox"


def test_provider_crud_redacted(cp):
    s = stub(cp)
    p = s.CreateProvider(pb.CreateProviderRequest(provider=provider(
        "prov", creds={"OPENAI_API_KEY": "sk-secret", "B": "b"},
        config={"OPENAI_BASE_URL": "mock://x"})), timeout=TIMEOUT).provider
    assert UUID.match(p.id)
    assert dict(p.credentials) == {"OPENAI_API_KEY": "REDACTED",
                                   "B": "REDACTED"}
    assert dict(p.config) == {"OPENAI_BASE_URL": "mock://x"}
    assert err(s.CreateProvider, pb.CreateProviderRequest(
        provider=provider("prov"))) == (grpc.StatusCode.ALREADY_EXISTS,
                                        "provider already exists")
    anon = s.CreateProvider(pb.CreateProviderRequest(provider=provider("")),
                            timeout=TIMEOUT).provider
    assert re.match(r"^[a-z]{6}$", anon.name)
    assert err(s.CreateProvider, pb.CreateProviderRequest(
        provider=dm.Provider(name="t", type="  ",
                             credentials={"K": "v"})))[0] == \
        grpc.StatusCode.INVALID_ARGUMENT
    assert err(s.CreateProvider, pb.CreateProviderRequest(
        provider=dm.Provider(name="t", type="openai")))[0] == \
        grpc.StatusCode.INVALID_ARGUMENT
    g = s.GetProvider(pb.GetProviderRequest(name="prov"),
                      timeout=TIMEOUT).provider
    assert g.credentials["OPENAI_API_KEY"] == "REDACTED"
    assert err(s.GetProvider, pb.GetProviderRequest(name="zz")) == (
        grpc.StatusCode.NOT_FOUND, "provider not found")
    lst = s.ListProviders(pb.ListProvidersRequest(), timeout=TIMEOUT)
    assert sorted(x.name for x in lst.providers) == sorted(["prov",
                                                            anon.name])
    assert all(v == "REDACTED" for x in lst.providers
               for v in x.credentials.values())
    # merge: upsert, empty value deletes, empty map untouched
    u = s.UpdateProvider(pb.UpdateProviderRequest(provider=dm.Provider(
        name="prov", credentials={"B": "", "C": "c"})),
        timeout=TIMEOUT).provider
    assert u.id == p.id and u.type == "openai"
    assert sorted(u.credentials) == ["C", "OPENAI_API_KEY"]
    assert dict(u.config) == {"OPENAI_BASE_URL": "mock://x"}
    u = s.UpdateProvider(pb.UpdateProviderRequest(provider=dm.Provider(
        name="prov", type="OpenAI", config={"X": "1"})),
        timeout=TIMEOUT).provider
    assert dict(u.config) == {"OPENAI_BASE_URL": "mock://x", "X": "1"}
    assert err(s.UpdateProvider, pb.UpdateProviderRequest(
        provider=dm.Provider(name="prov", type="anthropic"))) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "provider type cannot be changed; delete and recreate the provider")
    assert err(s.UpdateProvider, pb.UpdateProviderRequest(
        provider=dm.Provider(name="zz")))[0] == grpc.StatusCode.NOT_FOUND
    assert s.DeleteProvider(pb.DeleteProviderRequest(name="prov"),
                            timeout=TIMEOUT).deleted
    assert not s.DeleteProvider(pb.DeleteProviderRequest(name="prov"),
                                timeout=TIMEOUT).deleted


def test_inference_mock(cp):
    s = stub(cp)
    i = infg.InferenceStub(cp.channel())
    assert err(i.GetClusterInference, inf.GetClusterInferenceRequest())[0] \
        == grpc.StatusCode.NOT_FOUND
    b = i.GetInferenceBundle(inf.GetInferenceBundleRequest(),
                             timeout=TIMEOUT)
    assert len(b.routes) == 0 and len(b.revision) == 16
    s.CreateProvider(pb.CreateProviderRequest(provider=provider(
        "mock", creds={"OPENAI_API_KEY": "sk-raw"},
        config={"OPENAI_BASE_URL": "mock://upstream/v1"})), timeout=TIMEOUT)
    r = i.SetClusterInference(inf.SetClusterInferenceRequest(
        provider_name="mock", model_id="m1"), timeout=TIMEOUT)
    assert (r.route_name, r.version, r.validation_performed) == \
        ("inference.local", 1, True)
    assert r.validated_endpoints[0].url == \
        "mock://upstream/v1/chat/completions"
    r = i.SetClusterInference(inf.SetClusterInferenceRequest(
        provider_name="mock", model_id="m2", timeout_secs=7),
        timeout=TIMEOUT)
    assert r.version == 2
    g = i.GetClusterInference(inf.GetClusterInferenceRequest(
        route_name="inference.local"), timeout=TIMEOUT)
    assert (g.provider_name, g.model_id, g.version, g.timeout_secs) == \
        ("mock", "m2", 2, 7)
    b = i.GetInferenceBundle(inf.GetInferenceBundleRequest(),
                             timeout=TIMEOUT)
    assert [x.name for x in b.routes] == ["inference.local"]
    rt = b.routes[0]
    assert (rt.base_url, rt.api_key, rt.model_id, rt.provider_type) == \
        ("mock://upstream/v1", "sk-raw", "m2", "openai")
    assert "openai_chat_completions" in rt.protocols
    assert b.generated_at_ms > 0
    assert err(i.SetClusterInference, inf.SetClusterInferenceRequest(
        provider_name="mock", model_id="m", route_name="other"))[0] == \
        grpc.StatusCode.INVALID_ARGUMENT
    assert err(i.SetClusterInference, inf.SetClusterInferenceRequest(
        provider_name="none", model_id="m"))[0] == \
        grpc.StatusCode.FAILED_PRECONDITION
    # An upstream that does not answer fails verification with the hint
    # (a local port nobody listens on: tests never leave the host).
    s.CreateProvider(pb.CreateProviderRequest(provider=provider(
        "real", ptype="anthropic", creds={"ANTHROPIC_API_KEY": "k"},
        config={"ANTHROPIC_BASE_URL": "http://127.0.0.1:%d/v1"
                % closed_port()})), timeout=TIMEOUT)
    code, msg = err(i.SetClusterInference, inf.SetClusterInferenceRequest(
        provider_name="real", model_id="c", route_name="sandbox-system"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "retry with '--no-verify'" in msg
    r = i.SetClusterInference(inf.SetClusterInferenceRequest(
        provider_name="real", model_id="c", route_name="sandbox-system",
        no_verify=True), timeout=TIMEOUT)
    assert not r.validation_performed
    b2 = i.GetInferenceBundle(inf.GetInferenceBundleRequest(),
                              timeout=TIMEOUT)
    assert [x.name for x in b2.routes] == ["inference.local",
                                           "sandbox-system"]
    assert b2.routes[1].protocols == ["anthropic_messages",
                                      "model_discovery"]
    assert b2.revision != b.revision
    s.DeleteProvider(pb.DeleteProviderRequest(name="real"), timeout=TIMEOUT)
    assert err(i.GetInferenceBundle, inf.GetInferenceBundleRequest())[0] == \
        grpc.StatusCode.FAILED_PRECONDITION


def test_unimplemented(cp):
    s = stub(cp)
    assert err(s.SubmitPolicyAnalysis, pb.SubmitPolicyAnalysisRequest()) == (
        grpc.StatusCode.UNIMPLEMENTED,
        "SubmitPolicyAnalysis is not implemented yet")
    assert err(s.GetDraftHistory, pb.GetDraftHistoryRequest(name="x"))[0] \
        == grpc.StatusCode.UNIMPLEMENTED


def test_authorization(cp, tmp_path):
    admin = stub(cp)
    sb = create(admin, "mine")
    other = create(admin, "theirs")
    # No client certificate: the TLS layer refuses.
    anon = grpc.ssl_channel_credentials(root_certificates=cp.ca)
    with pytest.raises(grpc.RpcError) as e:
        stub(cp, anon).Health(pb.HealthRequest(), timeout=TIMEOUT)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    # A certificate from another CA: refused too.
    fdir = tmp_path / "foreign"
    fdir.mkdir()
    import subprocess
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=foreign-ca", "-keyout", "ca.key", "-out",
                    "ca.crt", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                   cwd=fdir, check=True, capture_output=True)
    crt, key = cp.client_cert("openshell-admin", ca_dir=str(fdir))
    foreign = grpc.ssl_channel_credentials(
        root_certificates=cp.ca, private_key=key, certificate_chain=crt)
    with pytest.raises(grpc.RpcError) as e:
        stub(cp, foreign).Health(pb.HealthRequest(), timeout=TIMEOUT)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    # A sandbox's certificate: supervisor RPCs on its own sandbox only.
    s = stub(cp, cp.client_creds(sb.id))
    assert s.Health(pb.HealthRequest(), timeout=TIMEOUT).status == \
        pb.SERVICE_STATUS_HEALTHY
    assert err(s.CreateSandbox, pb.CreateSandboxRequest(
        spec=dm.SandboxSpec())) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "permission denied: CreateSandbox is not allowed for this client")
    assert err(s.ListProviders, pb.ListProvidersRequest())[0] == \
        grpc.StatusCode.PERMISSION_DENIED
    code, msg = err(s.GetSandboxConfig,
                    sbx.GetSandboxConfigRequest(sandbox_id=other.id))
    assert code == grpc.StatusCode.PERMISSION_DENIED, msg
    assert msg == ("permission denied: GetSandboxConfig is not allowed "
                   "for this client")
    code, _ = err(s.GetSandboxProviderEnvironment,
                  pb.GetSandboxProviderEnvironmentRequest(
                      sandbox_id=other.id))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    b = infg.InferenceStub(cp.channel(cp.client_creds(sb.id)))
    assert b.GetInferenceBundle(inf.GetInferenceBundleRequest(),
                                timeout=TIMEOUT).revision
    # An unknown CN is a sandbox id that owns nothing.
    u = stub(cp, cp.client_creds("no-such-sandbox"))
    assert err(u.GetSandbox, pb.GetSandboxRequest(name="mine"))[0] == \
        grpc.StatusCode.PERMISSION_DENIED


def test_key_modes(cp):
    for name in ("ca.key", "admin.key", "server.key",
                 "ssh-handshake.secret"):
        mode = stat.S_IMODE(os.stat(os.path.join(cp.pki, name)).st_mode)
        assert mode == 0o600, (name, oct(mode))
    assert stat.S_IMODE(os.stat(cp.pki).st_mode) == 0o700
    with open(os.path.join(cp.pki, "ssh-handshake.secret")) as f:
        assert re.match(r"^[0-9a-f]{64}$", f.read().strip())


def test_durable_across_gatewayd_crash(cp):
    s = stub(cp)
    names = ["keep-%d" % i for i in range(8)]
    for n in names:
        create(s, n)
    pid = cp.pid_of("gatewayd")
    mark = cp.log.mark()
    os.kill(pid, signal.SIGKILL)
    assert not wait_gone([pid])
    cp.log.wait_for(r"^gateway: restarted gatewayd", start=mark)
    cp.close_channels()
    s = stub(cp)
    r = s.ListSandboxes(pb.ListSandboxesRequest(), timeout=TIMEOUT)
    assert [x.name for x in r.sandboxes] == names
    assert cp.pid_of("gatewayd") != pid


def test_restart_keeps_state_and_pki(cp):
    s = stub(cp)
    create(s, "persist")
    with open(os.path.join(cp.pki, "ca.crt"), "rb") as f:
        ca = f.read()
    cp.stop()
    cp.start()
    assert cp.ca == ca
    got = stub(cp).GetSandbox(pb.GetSandboxRequest(name="persist"),
                              timeout=TIMEOUT)
    assert got.sandbox.name == "persist"


def test_check_mode(tmp_path):
    from gatewaytree import binary
    import subprocess
    gw = binary("bin", "openshell-gateway")
    r = subprocess.run([gw, "-n", "--state-dir", str(tmp_path / "s")],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0 and r.stdout.strip() == "configuration OK"
    r = subprocess.run([gw, "-n", "--state-dir", str(tmp_path / "s"),
                        "--tls-cert", "/nonexistent", "--tls-key",
                        "/nonexistent", "--tls-client-ca", "/nonexistent"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode != 0 and "configuration OK" not in r.stdout
    r = subprocess.run([gw, "-n", "--state-dir", str(tmp_path / "s")],
                       capture_output=True, text=True, timeout=TIMEOUT,
                       env=dict(os.environ, OPENSHELL_SERVER_PORT="99999"))
    assert r.returncode != 0


def test_message_size_limits(cp):
    s = stub(cp)
    big = sbx.SandboxPolicy(version=1, filesystem=sbx.FilesystemPolicy(
        read_only=["/p%05d/%s" % (i, "x" * 1000) for i in range(300)]))
    code, msg = err(s.CreateSandbox, pb.CreateSandboxRequest(
        spec=dm.SandboxSpec(policy=big)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "policy" in msg
    huge = dm.SandboxSpec(environment={"K%d" % i: "v" * 8000
                                       for i in range(140)})
    code, _ = err(s.CreateSandbox, pb.CreateSandboxRequest(spec=huge))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert s.Health(pb.HealthRequest(), timeout=TIMEOUT).version


def test_inference_probe_local_upstream(cp):
    s = stub(cp)
    i = infg.InferenceStub(cp.channel())
    up = Upstream([200, 400, 200, 401])
    try:
        s.CreateProvider(pb.CreateProviderRequest(provider=provider(
            "local", creds={"OPENAI_API_KEY": "sk-probe"},
            config={"OPENAI_BASE_URL": "http://127.0.0.1:%d/v1/"
                    % up.port})), timeout=TIMEOUT)
        r = i.SetClusterInference(inf.SetClusterInferenceRequest(
            provider_name="local", model_id="gpt-x"), timeout=TIMEOUT)
        assert r.validation_performed and r.version == 1
        assert r.validated_endpoints[0].url == \
            "http://127.0.0.1:%d/v1/chat/completions" % up.port
        assert r.validated_endpoints[0].protocol == "openai_chat_completions"
        path, headers, body = up.requests[0]
        assert path == "/v1/chat/completions"
        assert headers["Authorization"] == "Bearer sk-probe"
        assert body["model"] == "gpt-x"
        assert body["max_completion_tokens"] == 1
        # 400 to max_completion_tokens: retried once with max_tokens.
        r = i.SetClusterInference(inf.SetClusterInferenceRequest(
            provider_name="local", model_id="gpt-x"), timeout=TIMEOUT)
        assert r.version == 2
        assert up.requests[2][2].get("max_tokens") == 1
        code, msg = err(i.SetClusterInference,
                        inf.SetClusterInferenceRequest(
                            provider_name="local", model_id="gpt-y"))
        assert code == grpc.StatusCode.FAILED_PRECONDITION
        assert "HTTP 401" in msg and "retry with '--no-verify'" in msg
        g = i.GetClusterInference(inf.GetClusterInferenceRequest(),
                                  timeout=TIMEOUT)
        assert (g.model_id, g.version) == ("gpt-x", 2)
    finally:
        up.close()
