# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Inference routing (sandbox.md §6): an agent's HTTPS requests to
inference.local are terminated by routerd and sent to the cluster's
inference route with the provider's real key, which the agent never
sees.

The gateway, its sandboxes and the model backends run in the network
namespace of test_sandbox_lifecycle's World (loopback only).  The agent
is curl in a sandbox made by `openshell sandbox create`; a backend is
tests/integration/inference_backend.py, which writes down every request
it gets.
"""

import json
import os
import signal
import socket
import subprocess
import time

import pytest

from gatewaytree import BUILD, LogStream
from test_sandbox_lifecycle import PY, World, _children, _comm, \
    _supervisors

HERE = os.path.dirname(os.path.abspath(__file__))
CURL = "curl -sS --max-time 30"
SEP = "@@"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    for b in (("bin", "openshell-sandbox"), ("libexec", "openshell",
                                             "routerd")):
        assert os.access(os.path.join(BUILD, *b), os.X_OK), b
    w = World(str(tmp_path_factory.mktemp("inf")))
    try:
        w.start()
        yield w
    finally:
        w.close()


class Backend:
    """inference_backend.py on 127.0.0.1 in the world's namespace."""

    def __init__(self, world, root):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = os.path.join(root, "backend.log")
        open(self.log, "w").close()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", world.ns, PY,
             os.path.join(HERE, "inference_backend.py"), "127.0.0.1",
             str(self.port), self.log], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        self.url = "http://127.0.0.1:%d/v1" % self.port

    def requests(self):
        with open(self.log) as f:
            return [json.loads(ln) for ln in f if ln.strip()]

    def close(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def backend(world, tmp_path):
    b = Backend(world, str(tmp_path))
    yield b
    b.close()


def route(world, name, base, model, key="sk-real-route-key",
          ptype="openai", verify=True):
    """A provider and the cluster's inference route to it."""
    world.cli("provider", "delete", name, check=False)
    var = "ANTHROPIC" if ptype == "anthropic" else "OPENAI"
    world.cli("provider", "create", "--name", name, "--type", ptype,
              "--credential", "%s_API_KEY=%s" % (var, key),
              "--config", "%s_BASE_URL=%s" % (var, base))
    world.cli("inference", "set", "--provider", name, "--model", model,
              *([] if verify else ["--no-verify"]))


def agent(world, *cmds):
    """Runs the commands in one fresh sandbox; their outputs, split."""
    script = ("; echo %s; " % SEP).join(cmds)
    r = world.cli("sandbox", "create", "--no-keep", "--policy",
                  world.policy, "--", "sh", "-c", script, check=False)
    assert r.returncode == 0, (r.stdout, r.stderr)
    return [x.strip() for x in r.stdout.split(SEP)], r


def post(path, body, *extra):
    return "%s -X POST -H 'content-type: application/json' %s -d '%s' " \
        "https://inference.local%s" % (CURL, " ".join(extra),
                                        json.dumps(body), path)


def test_mock_route_serves_inference_local(world):
    route(world, "inf-mock", "mock://e2e-managed-openai", "mock-model-1",
          key="sk-mock-secret")
    out, r = agent(
        world,
        "%s https://inference.local/v1/models" % CURL,
        post("/v1/chat/completions",
             {"model": "client-model",
              "messages": [{"role": "user", "content": "hi"}]}, "-i"),
        post("/v1/messages", {"model": "m", "max_tokens": 1},
             "-w ' %{http_code}'"),
        "%s -w ' %%{http_code}' 'https://inference.local/v1/chat/x?a=1'"
        % CURL,
        "%s -o /dev/null https://other.test/ || echo refused" % CURL)
    models = json.loads(out[0])
    assert "mock-model-1" in json.dumps(models)
    # curl -i shows the proxy's answer to its CONNECT first.
    text = out[1].replace("\r\n", "\n")
    proxy, _, text = text.partition("\n\n")
    assert proxy == "HTTP/1.1 200 Connection Established"
    head, _, body = text.partition("\n\n")
    assert head.startswith("HTTP/1.1 200"), out[1]
    assert "x-openshell-mock: true" in head.lower()
    assert json.loads(body)["model"] == "mock-model-1"
    # An anthropic call with only an openai route, then a path that is
    # not inference: refused by the router with its JSON errors.
    body, code = out[2].rsplit(" ", 1)
    assert code == "400"
    assert json.loads(body) == {
        "error": "no compatible inference route available"}
    body, code = out[3].rsplit(" ", 1)
    assert code == "403"
    assert json.loads(body) == {"error": "connection not allowed by policy"}
    # Other hosts are not intercepted: the policy refuses them.
    assert out[4].endswith("refused")
    assert "sk-mock-secret" not in r.stdout + r.stderr


def test_real_backend_gets_the_key_the_agent_never_sees(world, backend):
    route(world, "inf-http", backend.url, "route-model")
    before = len(backend.requests())     # the gateway's probe
    out, r = agent(
        world,
        # (spelt so that the command line, which the agent's
        # environment carries, does not contain the key)
        'env | grep -c "sk-real-route-$(echo key)"',
        post("/v1/chat/completions",
             {"model": "client-model", "messages": []},
             "-H 'Authorization: Bearer agent-fake'",
             "-H 'x-api-key: agent-fake'"),
        post("/v1/chat/completions",
             {"model": "client-model", "messages": [], "stream": True},
             "-N"),
        "%s https://inference.local/v1/models" % CURL)
    assert out[0] == "0"
    assert json.loads(out[1]) == {"echo_model": "route-model",
                                  "path": "/v1/chat/completions"}
    events = [ln for ln in out[2].splitlines() if ln]
    assert events == ['data: {"n": 0}', 'data: {"n": 1}',
                      'data: {"n": 2}', "data: [DONE]"]
    assert json.loads(out[3])["path"] == "/v1/models"
    got = backend.requests()[before:]
    assert [(q["method"], q["path"]) for q in got] == [
        ("POST", "/v1/chat/completions"), ("POST", "/v1/chat/completions"),
        ("GET", "/v1/models")]
    first = got[0]
    assert first["headers"]["authorization"] == "Bearer sk-real-route-key"
    assert "x-api-key" not in first["headers"]
    assert first["headers"]["host"] == "127.0.0.1:%d" % backend.port
    assert json.loads(first["body"])["model"] == "route-model"
    assert "sk-real-route-key" not in r.stdout + r.stderr


def test_backend_errors_reach_the_agent_as_such(world, backend):
    route(world, "inf-err", backend.url, "m")
    out, _ = agent(
        world,
        "%s -w ' %%{http_code}' https://inference.local/v1/models/teapot"
        % CURL,
        "%s https://inference.local/v1/models/broken; echo \" exit=$?\""
        % CURL)
    body, code = out[0].rsplit(" ", 1)
    assert code == "418"
    assert json.loads(body)["path"] == "/v1/models/teapot"
    # The backend broke off mid-body: the agent must see a truncated
    # response, not a clean end (the reference ends it cleanly).
    assert out[1].startswith("0123456789")
    assert not out[1].endswith("exit=0"), out[1]


def test_unreachable_backend_is_503(world):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    route(world, "inf-down", "http://127.0.0.1:%d/v1" % port, "m",
          verify=False)
    out, _ = agent(world, "%s -w ' %%{http_code}' "
                   "https://inference.local/v1/models" % CURL)
    body, code = out[0].rsplit(" ", 1)
    assert code == "503"
    assert json.loads(body) == {"error": "inference service unavailable"}


def test_router_logs_and_counts_each_request(world):
    route(world, "inf-mock2", "mock://e2e", "mock-model-2", key="sk-mock-2")
    try:
        r = world.cli("sandbox", "create", "--name", "infkeep", "--policy",
                      world.policy, "--", "sh", "-c",
                      "%s https://inference.local/v1/models >/dev/null; "
                      "%s https://inference.local/nope >/dev/null" %
                      (CURL, CURL))
        assert r.returncode == 0, r.stderr
        st = json.loads(world.cli("admin", "routerd", "stats", "-o", "json",
                                  "--sandbox", "infkeep").stdout)
        assert st["requests_routed"] == 1 and st["requests_denied"] == 1
        assert st["tunnels_total"] == 2 and st["enabled"] == "yes"
        # The lines travel to the gateway on their own: follow them.
        p = subprocess.Popen(world.argv("logs", "infkeep", "--tail", "-n",
                                        "500"), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=world.env)
        try:
            out = LogStream(p.stdout)
            out.wait_for(r"inference routed .*path=/v1/models "
                         r".*protocol=model_discovery")
            out.wait_for(r"inference denied .*path=/nope")
        finally:
            p.kill()
            p.wait()
        assert "sk-mock" not in "\n".join(out.lines)
    finally:
        world.cli("sandbox", "delete", "infkeep", check=False)


def test_route_change_reaches_a_running_sandbox(world):
    """The supervisor fetches the bundle again every 5 s: a new model
    serves the next requests of a sandbox that is already running."""
    route(world, "inf-a", "mock://a", "model-a")
    models = "%s https://inference.local/v1/models" % CURL
    try:
        world.cli("sandbox", "create", "--name", "infref", "--policy",
                  world.policy, "--", "true")
        ex = ("sandbox", "exec", "infref", "--", "sh", "-c", models)
        assert "model-a" in world.cli(*ex).stdout
        world.cli("inference", "set", "--provider", "inf-a", "--model",
                  "model-b")
        deadline = time.monotonic() + 30
        seen = ""
        while "model-b" not in seen and time.monotonic() < deadline:
            seen = world.cli(*ex).stdout
        assert "model-b" in seen and "model-a" not in seen, seen
    finally:
        world.cli("sandbox", "delete", "infref", check=False)


def test_routerd_killed_is_restarted_with_its_routes(world):
    """routerd dies: inference.local fails closed meanwhile, and the
    restarted routerd gets the routes and proxyd's tunnels again."""
    route(world, "inf-k", "mock://k", "model-k")
    try:
        world.cli("sandbox", "create", "--name", "infkill", "--policy",
                  world.policy, "--", "true")
        sid = world.get("infkill")["id"]
        sup = [p for p, c in _supervisors().items()
               if sid in c and _comm(p).startswith("openshell-sand")]
        assert len(sup) == 1
        old = [k for k in _children(sup[0]) if _comm(k) == "routerd"]
        assert len(old) == 1
        os.kill(old[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        st = {}
        while st.get("enabled") != "yes" and time.monotonic() < deadline:
            r = world.cli("admin", "routerd", "stats", "-o", "json",
                          "--sandbox", "infkill", check=False)
            st = json.loads(r.stdout) if r.returncode == 0 else {}
        assert st.get("enabled") == "yes" and st["tunnels_total"] == 0
        new = [k for k in _children(sup[0]) if _comm(k) == "routerd"]
        assert new and new != old
        out = world.cli("sandbox", "exec", "infkill", "--", "sh", "-c",
                        "%s https://inference.local/v1/models" % CURL)
        assert "model-k" in out.stdout
    finally:
        world.cli("sandbox", "delete", "infkill", check=False)
