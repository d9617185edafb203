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

from sbxsec import log_lines

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
