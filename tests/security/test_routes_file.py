# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Inference routes from a file, for a supervisor without a gateway
(--inference-routes, sandbox.md §6.3).  The backend is the test host's
listener on 203.0.113.10:8080, which answers "port 8080" and logs each
connection; the policy allows the agent nothing there: routes are the
operator's, the agent only reaches them through inference.local.  The
key comes from the supervisor's environment and must not be in the
agent's."""

import json
import subprocess

import pytest

from sbxsec import HERE, PY, TESTNET_HOST, log_lines, make_pki

ROUTES = """routes:
  - name: testhost
    endpoint: http://203.0.113.10:8080/v1
    model: file-model
    protocols: [" OpenAI_Chat_Completions ", model_discovery]
    api_key_env: ROUTES_TEST_KEY
  - name: mocked
    endpoint: mock://m
    model: mock-m
    provider_type: anthropic
    protocols: [anthropic_messages]
    api_key: sk-inline
"""

CURL = "curl -sS --max-time 30"


def test_routes_file_serves_inference_local(sandbox, world, tmp_path):
    f = tmp_path / "routes.yaml"
    f.write_text(ROUTES)
    sb = sandbox(extra=["--inference-routes", str(f)],
                 env={"ROUTES_TEST_KEY": "sk-from-env"})
    before = log_lines(world.testlog)
    p = sb.run(["sh", "-c", "; echo @@; ".join([
        "%s -X POST -d '{}' https://inference.local/v1/chat/completions"
        % CURL,
        "%s -X POST -d '{}' https://inference.local/v1/messages" % CURL,
        "%s -w ' %%{http_code}' http://203.0.113.10:8080/" % CURL,
        'env | grep -c "sk-from-$(echo env)"; true'])])
    assert p.returncode == 0, p.stderr
    out = [x.strip() for x in p.stdout.split("@@")]
    assert out[0] == "port 8080"
    assert json.loads(out[1])["model"] == "mock-m"
    # The agent itself may not go there: the proxy says 403.
    assert out[2] == "403"
    assert out[3] == "0"
    assert len(log_lines(world.testlog)) == len(before) + 1
    assert "inference routed" in p.stderr and "route=testhost" in p.stderr


def test_routes_file_errors_are_fatal(sandbox, tmp_path):
    f = tmp_path / "routes.yaml"
    f.write_text("routes:\n  - {name: r1, endpoint: mock://x, model: m, "
                 "protocols: [model_discovery], api_key_env: UNSET_X}\n")
    p = sandbox(extra=["--inference-routes", str(f)]).run(["true"])
    assert p.returncode != 0
    assert "--inference-routes: route r1: no api_key" in p.stderr



@pytest.fixture
def tls_backend(world, tmp_path):
    """tls_server.py on 203.0.113.10:8444 with a certificate for that
    address from a test CA; it serves www/v1/models."""
    d = tmp_path
    make_pki(d, "IP:" + TESTNET_HOST)
    (d / "www" / "v1").mkdir(parents=True)
    (d / "www" / "v1" / "models").write_text("models-over-tls\n")
    p = subprocess.Popen(["ip", "netns", "exec", world.th, PY,
                          str(HERE / "tls_server.py"), TESTNET_HOST, "8444",
                          str(d / "srv.pem"), str(d / "srv.key"),
                          str(d / "www")], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        routes = d / "routes.yaml"
        routes.write_text("routes:\n  - {name: tls, endpoint: 'https://%s:"
                          "8444', model: m, protocols: [model_discovery], "
                          "api_key: k}\n" % TESTNET_HOST)
        yield d, routes
    finally:
        p.kill()
        p.wait()


def test_https_backend_is_verified(sandbox, tls_backend):
    """The backend's certificate must verify: against --upstream-ca it
    does; without it the route is unavailable (503), not trusted."""
    d, routes = tls_backend
    get = ["sh", "-c", "%s -w ' %%{http_code}' "
           "https://inference.local/v1/models" % CURL]
    p = sandbox(extra=["--inference-routes", str(routes), "--upstream-ca",
                       str(d / "ca.pem")]).run(get)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["models-over-tls", "200"]
    p = sandbox(extra=["--inference-routes", str(routes)]).run(get)
    assert p.returncode == 0, p.stderr
    body, code = p.stdout.rsplit(" ", 1)
    assert code == "503"
    assert json.loads(body) == {"error": "inference service unavailable"}
