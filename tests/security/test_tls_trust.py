# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""TLS trust for every runtime with no configuration (issue 6 points 2
and 4): a local HTTPS server in the test host whose certificate is
signed by a test CA given to the supervisor as --upstream-ca; a policy
with protocol rest, read-only, on that host.  From inside the sandbox,
with nothing but the environment the supervisor set: curl, python3
(urllib and requests), git (dumb HTTP) and node reach it through the
proxy's TLS termination; POST is denied with the JSON body; the merged
bundle holds the system roots and the sandbox CA; the host's bundle is
untouched; credentials go only to the hosts they are bound to."""

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from sbxsec import HERE, PY, TESTNET_HOST, make_pki

PORT = 8443
HOST = "tls.test"
URL = "https://%s:%d" % (HOST, PORT)
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PH = "openshell:resolve:env:"

NETWORK = """  tlstest:
    name: tlstest
    endpoints:
      - host: %s
        port: %d
        protocol: rest
        enforcement: enforce
        access: read-only
        allowed_ips: [203.0.113.0/24]
    binaries:
      - { path: "/usr/bin/*" }
      - { path: "/usr/lib/git-core/*" }
""" % (HOST, PORT)


def _make_repo(d):
    """A bare repository served over dumb HTTP (update-server-info)."""
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t",
               HOME=str(d))
    work = d / "work"
    work.mkdir()
    git = ["git", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q", str(work)], check=True, env=env)
    (work / "README").write_text("hi\n")
    subprocess.run(["git", "-C", str(work), "add", "README"], check=True,
                   env=env)
    subprocess.run(["git", "-C", str(work), "commit", "-qm", "one"],
                   check=True, env=env)
    www = d / "www"
    www.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(work),
                    str(www / "repo.git")], check=True, env=env)
    subprocess.run(["git", "-C", str(www / "repo.git"), "update-server-info"],
                   check=True, env=env)
    return www


@pytest.fixture(scope="module")
def tls(world, tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    make_pki(d, "DNS:" + HOST)
    www = _make_repo(d)
    p = subprocess.Popen(["ip", "netns", "exec", world.th, PY,
                          str(HERE / "tls_server.py"), TESTNET_HOST,
                          str(PORT), str(d / "srv.pem"), str(d / "srv.key"),
                          str(www)], stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        p.kill()
        pytest.fail("tls_server.py did not start")
    hosts = d / "hosts"
    hosts.write_text("%s %s other.test\n" % (TESTNET_HOST, HOST))
    yield d, hosts
    p.kill()
    p.wait()


@pytest.fixture
def tsb(sandbox, tls):
    d, hosts = tls

    def make(**kw):
        extra = ["-d", "--hosts-file", str(hosts), "--upstream-ca",
                 str(d / "ca.pem")] + kw.pop("extra", [])
        return sandbox(network=NETWORK, extra=extra, **kw)
    return make


def _run(sb, script, timeout=120):
    p = sb.run(["/bin/sh", "-c", script], timeout=timeout)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert "lost child: proxyd" not in p.stderr, p.stderr
    return p


def _results(p):
    out = {}
    for line in p.stdout.splitlines():
        k, _, v = line.partition(" ")
        out[k] = v
    return out


def _ncerts(text):
    return text.count("-----BEGIN CERTIFICATE-----")


PYURLLIB = r"""
import urllib.request
r = urllib.request.urlopen("%s/", timeout=20)
print("urllib", r.status, r.read().decode().strip())
""" % URL

PYREQUESTS = r"""
import requests
r = requests.get("%s/", timeout=20)
print("requests", r.status_code, r.text.strip())
""" % URL

# Node 20 ignores HTTPS_PROXY: the tunnel by hand from the environment's
# proxy URL, TLS over it with node's default trust (no `ca' option), so
# that only NODE_EXTRA_CA_CERTS can make the sandbox CA trusted.
NODE = r"""
const http = require('http'), tls = require('tls');
const px = new URL(process.env.HTTPS_PROXY);
const u = new URL('%s/');
const req = http.request({ host: px.hostname, port: px.port,
  method: 'CONNECT', path: u.hostname + ':' + u.port });
req.on('connect', (res, sock) => {
  const s = tls.connect({ socket: sock, servername: u.hostname }, () => {
    s.write('GET / HTTP/1.1\r\nHost: ' + u.host + '\r\n' +
      'Connection: close\r\n\r\n');
  });
  let b = '';
  s.on('data', (c) => b += c);
  s.on('end', () => console.log('node',
    b.split('\r\n')[0].split(' ')[1], b.split('\r\n\r\n')[1].trim()));
  s.on('error', (e) => console.log('node error', e.code || e.message));
});
req.on('error', (e) => console.log('node error', e.code || e.message));
req.end();
""" % URL


def _scripts(sb, tmp):
    for name, text in (("get_urllib.py", PYURLLIB), ("get_requests.py", PYREQUESTS),
                       ("get.js", NODE)):
        f = Path(tmp) / name
        f.write_text(text)
        sb.install(f, name, mode=0o644)


def test_runtimes_trust_the_sandbox_ca(tsb, tmp_path):
    before = hashlib.sha256(SYSTEM_BUNDLE.read_bytes()).hexdigest()
    sb = tsb()
    _scripts(sb, tmp_path)
    script = """
echo "curl $(curl -s -m 20 -o /dev/null -w '%%{http_code}' %(url)s/)"
echo "post $(curl -s -m 20 -X POST -d x %(url)s/ | tr -d '\\n')"
echo "postcode $(curl -s -m 20 -o /dev/null -w '%%{http_code}' -X POST -d x \
    %(url)s/)"
%(py)s /sandbox/get_urllib.py
%(py)s /sandbox/get_requests.py
echo "git $(git ls-remote %(url)s/repo.git 2>&1 | grep -c refs/heads/main)"
[ -x /usr/bin/node ] && /usr/bin/node /sandbox/get.js
echo "env $SSL_CERT_FILE $REQUESTS_CA_BUNDLE $CURL_CA_BUNDLE \
$GIT_SSL_CAINFO $NODE_EXTRA_CA_CERTS"
echo "bundle $(grep -c 'BEGIN CERTIFICATE' /etc/openshell-tls/ca-bundle.pem)"
echo "system $(grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt)"
echo "ca $(grep -c 'BEGIN CERTIFICATE' /etc/openshell-tls/openshell-ca.pem)"
echo "cacn $(openssl x509 -noout -subject \
    -in /etc/openshell-tls/openshell-ca.pem | tr -d ' ')"
echo "lastcn $(awk '/BEGIN CERT/{c=""} {c=c $0 "\\n"} END{printf "%%s", c}' \
    /etc/ssl/certs/ca-certificates.crt | openssl x509 -noout -subject | \
    tr -d ' ')"
echo "write $( (echo x >>/etc/ssl/certs/ca-certificates.crt) 2>/dev/null \
    && echo yes || echo no)"
""" % {"url": URL, "py": PY}
    p = _run(sb, script)
    r = _results(p)
    assert r["curl"] == "200", (p.stdout, p.stderr)
    assert r["postcode"] == "403", p.stdout
    body = json.loads(r["post"])
    assert body["error"] == "policy_denied", body
    assert r["urllib"] == "200 hello", p.stdout
    assert r["requests"] == "200 hello", p.stdout
    assert r["git"] == "1", (p.stdout, p.stderr)
    if os.access("/usr/bin/node", os.X_OK):
        assert r["node"] == "200 hello", (p.stdout, p.stderr)
    bundle = "/etc/openshell-tls/ca-bundle.pem"
    assert r["env"].split() == [bundle] * 4 + [
        "/etc/openshell-tls/openshell-ca.pem"], p.stdout
    nsys = _ncerts(SYSTEM_BUNDLE.read_text())
    assert nsys > 0
    assert int(r["bundle"]) == nsys + 1, p.stdout
    assert int(r["system"]) == nsys + 1, p.stdout
    assert r["ca"] == "1", p.stdout
    assert "OpenShellSandboxCA" in r["cacn"], p.stdout
    assert "OpenShellSandboxCA" in r["lastcn"], p.stdout
    assert r["write"] == "no", p.stdout
    # the host's own bundle never changes
    assert hashlib.sha256(SYSTEM_BUNDLE.read_bytes()).hexdigest() == before
    assert _ncerts(SYSTEM_BUNDLE.read_text()) == nsys
    assert "TLS: sandbox CA installed" in p.stderr, p.stderr


def test_credentials_bound_to_hosts(tsb):
    sb = tsb(env={"PROVIDER_TOKEN": "tok-bound-123456",
                  "OTHER_TOKEN": "tok-other-654321"},
             extra=["--credential", "PROVIDER_TOKEN=tls.test",
                    "--credential", "OTHER_TOKEN=other.test, *.other.test"])
    p = _run(sb, """
echo "env $PROVIDER_TOKEN $OTHER_TOKEN"
echo "bound $(curl -s -m 20 -H "Authorization: Bearer $PROVIDER_TOKEN" \
    %(url)s/echo | tr '\\r\\n' '  ')"
echo "unbound $(curl -s -m 20 -o /dev/null -w '%%{http_code}' \
    -H "Authorization: Bearer $OTHER_TOKEN" %(url)s/echo)"
""" % {"url": URL})
    r = _results(p)
    assert r["env"] == "%sPROVIDER_TOKEN %sOTHER_TOKEN" % (PH, PH), p.stdout
    assert "Authorization: Bearer tok-bound-123456" in r["bound"], p.stdout
    assert PH not in r["bound"]
    assert r["unbound"] == "500", p.stdout
    assert any("placeholder not resolvable for this host" in l and
               "dst_host=%s" % HOST in l for l in p.stderr.splitlines()), \
        p.stderr
    # the logs never carry a secret (stdout has the upstream's echo)
    for s in ("tok-bound-123456", "tok-other-654321"):
        assert s not in p.stderr
    assert "tok-other-654321" not in p.stdout


def test_credential_without_hosts_is_never_sent(tsb):
    sb = tsb(env={"PROVIDER_TOKEN": "tok-nohost-999"},
             extra=["--credential", "PROVIDER_TOKEN"])
    p = _run(sb, """
echo "code $(curl -s -m 20 -o /dev/null -w '%%{http_code}' \
    -H "Authorization: Bearer $PROVIDER_TOKEN" %(url)s/echo)"
""" % {"url": URL})
    assert _results(p)["code"] == "500", p.stdout
    assert "credential PROVIDER_TOKEN is bound to no host" in p.stderr
    assert "tok-nohost-999" not in p.stderr


RESTART = r"""
import subprocess, sys
def ca():
    return open("/etc/openshell-tls/openshell-ca.pem").read()
def get():
    return subprocess.run(["curl", "-s", "-m", "20", "-o", "/dev/null",
                           "-w", "%%{http_code}", "%s/"],
                          capture_output=True, text=True).stdout
first = ca()
print("before", get(), flush=True)
sys.stdin.readline()                  # the test restarted proxyd
second = ca()
bundle = open("/etc/ssl/certs/ca-certificates.crt").read()
print("changed", first != second and second.count("BEGIN") == 1)
print("inbundle", bundle.endswith(second) or bundle.endswith(second + "\n"))
print("after", get(), flush=True)
""" % URL


def test_restarted_proxyd_new_ca_rewritten_in_place(tsb, tmp_path):
    sb = tsb()
    f = Path(tmp_path) / "restart.py"
    f.write_text(RESTART)
    sb.install(f, "restart.py", mode=0o644)
    p = sb.popen([PY, "/sandbox/restart.py"], stdin=True)
    try:
        assert p.ready == "ready"
        assert p.stdout.readline().split() == ["before", "200"]
        kids = subprocess.run(["pgrep", "-P", str(p.pid), "-x", "proxyd"],
                              capture_output=True, text=True).stdout.split()
        assert len(kids) == 1, kids
        installed = 0
        os.kill(int(kids[0]), 9)
        for line in p.stderr:
            if "TLS: sandbox CA installed" in line:
                installed += 1
                if installed == 2:
                    break
        assert installed == 2
        p.stdin.write("go\n")
        p.stdin.flush()
        out = _results(SimpleOut(p.stdout.read()))
        assert out["changed"] == "True", out
        assert out["inbundle"] == "True", out
        assert out["after"] == "200", out
    finally:
        p.kill()
        p.wait()


class SimpleOut:
    def __init__(self, text):
        self.stdout = text
