# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The proxy as the agent sees it (sandbox.md §2, §7.3, §9; G5, G8, G9,
G10): real openshell-sandbox runs in the suite's world, curl and python
inside the agent, the test host 203.0.113.10 behind the proxy.

Every run passes -d so that proxyd's log lines (CONNECT / FORWARD /
"... blocked:") arrive on the supervisor's stderr, and a hosts file of
its own (the last --hosts-file wins) naming the test host and one
address of every special-purpose class."""

import json
import os
import subprocess
from pathlib import Path

import pytest

# Not imported from conftest: with tests/integration in the same run,
# "conftest" may name the other directory's module.
HERE = Path(__file__).resolve().parent
PY = "/usr/bin/python3"
TESTNET_HOST = "203.0.113.10"
CURL = "/usr/bin/curl"
ECHO_PORT = 8090
PH = "openshell:resolve:env:"
FORBIDDEN = "HTTP/1.1 403 Forbidden\r\n\r\n"

NETWORK = """  proxytest:
    name: proxytest
    endpoints:
      - { host: allowed.test, port: 8080, allowed_ips: [203.0.113.0/24] }
      - { host: allowed.test, port: 8082, allowed_ips: [203.0.113.0/24] }
      - { host: allowed.test, port: %d, allowed_ips: [203.0.113.0/24] }
      - { host: plain.test, port: 8080 }
      - { host: 127.0.0.1, port: 8080 }
      - { host: 169.254.169.254, port: 80 }
      - { host: "**.ssrf.test", port: 8080 }
      - { host: subnet.test, port: 3128, allowed_ips: [0.0.0.0/0] }
    binaries:
      - { path: /usr/bin/curl }
  lender:
    name: lender
    endpoints:
      - { host: allowed.test, port: 8080, allowed_ips: [203.0.113.0/24] }
    binaries:
      - { path: /sandbox/lender }
""" % ECHO_PORT

# A few representative addresses of each special-purpose class (G8).
SPECIAL = {
    "thisnet": "0.1.2.3", "private10": "10.1.2.3", "cgn": "100.64.1.1",
    "loopback": "127.0.0.53", "metadata": "169.254.169.254",
    "private172": "172.20.0.1", "ietf": "192.0.0.8", "testnet1": "192.0.2.7",
    "private192": "192.168.1.1", "bench": "198.18.0.5",
    "testnet2": "198.51.100.7", "testnet3": "203.0.113.10",
    "multicast": "224.0.0.251", "reserved": "240.0.0.1",
    "broadcast": "255.255.255.255", "v6loop": "::1",
    "v4mapped": "::ffff:10.0.0.1", "nat64": "64:ff9b::a9fe:a9fe",
    "sixtofour": "2002:c0a8:101::1", "v6ula": "fd00::1",
    "v6linklocal": "fe80::1", "v6sitelocal": "fec0::1",
    "v6doc": "2001:db8::1", "v6mcast": "ff02::1",
}


@pytest.fixture(scope="module")
def echo(world):
    p = subprocess.Popen(["ip", "netns", "exec", world.th, PY,
                          str(HERE / "proxy_echo.py"), TESTNET_HOST,
                          str(ECHO_PORT)], stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        p.kill()
        pytest.fail("proxy_echo.py did not start")
    yield
    p.kill()
    p.wait()


@pytest.fixture
def psb(sandbox, world, tmp_path, echo):
    hosts = Path(tmp_path) / "proxy-hosts"
    lines = ["%s allowed.test denied.test plain.test" % TESTNET_HOST,
             "10.200.0.1 subnet.test"]
    lines += ["%s %s.ssrf.test" % (a, n) for n, a in SPECIAL.items()]
    hosts.write_text("\n".join(lines) + "\n")

    def make(**kw):
        extra = ["-d", "--hosts-file", str(hosts)] + kw.pop("extra", [])
        return sandbox(network=NETWORK, extra=extra, **kw)
    make.hosts = hosts
    return make


def run(sb, cmd, timeout=120):
    p = sb.run(cmd, timeout=timeout)
    assert p.returncode == 0, p.stderr
    # proxyd served to the end; sanitizers (SAN=1 builds) said nothing
    assert "lost child: proxyd" not in p.stderr, p.stderr
    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr
    return p


def sh(sb, script, timeout=120):
    return run(sb, ["/bin/sh", "-c", script], timeout)


def results(p):
    """Lines "name value" of the agent's stdout as a dict."""
    out = {}
    for line in p.stdout.splitlines():
        k, _, v = line.partition(" ")
        out[k] = v
    return out


def logs(p, pattern):
    return [l for l in p.stderr.splitlines() if pattern in l]


CURL_FUNCS = """
X="-x http://10.200.0.1:3128 --noproxy '' -s -m 20"
conn() { echo "$1 $(eval curl $X -p -o /dev/null -w '%{http_connect}' $3 "$2")"; }
fwd() { echo "$1 $(eval curl $X -o /dev/null -w '%{http_code}' $3 "$2")"; }
body() { echo "$1 $(eval curl $X $3 "$2" | tr '\\r\\n' '  ')"; }
"""


def test_connect_outcomes(psb):
    sb = psb()
    script = CURL_FUNCS + """
conn allowed http://allowed.test:8080/
body tunnel http://allowed.test:8080/ -p
conn unlisted http://denied.test:8080/
conn wrongport http://allowed.test:8081/
conn loopback http://127.0.0.1:8080/
conn metadata http://169.254.169.254/
conn testnet_no_allowed_ips http://plain.test:8080/
conn sandbox_subnet http://subnet.test:3128/
conn refused http://allowed.test:8082/
"""
    script += "".join("conn ssrf_%s http://%s.ssrf.test:8080/\n" % (n, n)
                      for n in SPECIAL)
    p = sh(sb, script)
    r = results(p)
    assert r["allowed"] == "200", p.stdout
    assert r["tunnel"].strip() == "port 8080", p.stdout
    for k in ("unlisted", "wrongport", "loopback", "metadata",
              "testnet_no_allowed_ips", "sandbox_subnet"):
        assert r[k] == "403", (k, p.stdout)
    for n in SPECIAL:
        assert r["ssrf_" + n] == "403", (n, p.stdout, p.stderr)
    assert r["refused"] == "502", p.stdout     # G10

    allow = [l for l in logs(p, "CONNECT ") if "action=allow" in l]
    assert any("dst_host=allowed.test" in l and "dst_port=8080" in l and
               "binary=/usr/bin/curl" in l and "policy=proxytest" in l
               for l in allow), p.stderr
    deny = [l for l in logs(p, "CONNECT ") if "action=deny" in l]
    assert any("dst_host=denied.test" in l and "binary=/usr/bin/curl" in l
               and "policy=-" in l and "not in policy" in l
               for l in deny), p.stderr
    blocked = logs(p, "CONNECT blocked:")
    for n in SPECIAL:
        assert any("dst_host=%s.ssrf.test" % n in l for l in blocked), n
    assert any("always-blocked" in l and "dst_host=127.0.0.1" in l
               for l in blocked), p.stderr
    assert any("always-blocked" in l and "dst_host=subnet.test" in l
               for l in blocked), p.stderr


def test_forward_outcomes(psb):
    sb = psb()
    p = sh(sb, CURL_FUNCS + """
fwd allowed http://allowed.test:8080/
body echo http://allowed.test:%d/x?y=1
fwd unlisted http://denied.test:8080/
fwd refused http://allowed.test:8082/
fwd metadata http://169.254.169.254/
""" % ECHO_PORT)
    r = results(p)
    assert r["allowed"] == "200", p.stdout
    assert r["echo"].startswith("GET /x?y=1 HTTP/1.1"), p.stdout
    assert "Via: 1.1 openshell-sandbox" in r["echo"]
    assert "Connection: close" in r["echo"]
    assert "Proxy-Connection" not in r["echo"]
    assert r["unlisted"] == "403", p.stdout
    assert r["refused"] == "502", p.stdout
    assert r["metadata"] == "403", p.stdout
    fw = logs(p, "FORWARD ")
    assert any("action=allow" in l and "method=GET" in l and
               "dst_host=allowed.test" in l and "binary=/usr/bin/curl" in l
               for l in fw), p.stderr
    assert any("action=deny" in l and "dst_host=denied.test" in l and
               "reason=" in l for l in fw), p.stderr


RAW = r"""
import json, socket
def ask(req):
    s = socket.create_connection(("10.200.0.1", 3128), timeout=20)
    s.sendall(req)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out.decode("latin-1")
out = {}
out["connect"] = ask(b"CONNECT allowed.test:8080 HTTP/1.1\r\n\r\n")
out["v6"] = ask(b"CONNECT [::1]:8080 HTTP/1.1\r\n\r\n")
out["badtarget"] = ask(b"CONNECT nocolon HTTP/1.1\r\n\r\n")
out["https"] = ask(b"GET https://allowed.test/ HTTP/1.1\r\n\r\n")
out["forward"] = ask(b"GET http://allowed.test:8080/ HTTP/1.1\r\n\r\n")
print(json.dumps(out))
"""


def test_wrong_binary_and_raw_outcomes(psb):
    sb = psb()
    p = run(sb, [PY, "-c", RAW])
    out = json.loads(p.stdout.strip().splitlines()[-1])
    # python3 is not in the policy: bare 403 for CONNECT and forward
    assert out["connect"] == FORBIDDEN
    assert out["forward"] == FORBIDDEN
    assert out["v6"] == FORBIDDEN                # parsed (G10), denied
    assert out["badtarget"] == ""
    head, _, body = out["https"].partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 400 ")
    cl = [h for h in head.split("\r\n") if h.lower().startswith(
        "content-length:")]
    assert int(cl[0].split(":")[1]) == len(body.encode())       # G9
    deny = [l for l in logs(p, "CONNECT ") if "action=deny" in l]
    assert any("binary=/usr/bin/python3" in l and
               "dst_host=allowed.test" in l and
               "not allowed in policy" in l for l in deny), p.stderr


def test_placeholders_in_forward_headers(psb):
    sb = psb(env={"PROVIDER_TOKEN": "tok-1234567890"},
             extra=["--credential", "PROVIDER_TOKEN=allowed.test"])
    p = sh(sb, CURL_FUNCS + """
echo "env $PROVIDER_TOKEN"
body ok http://allowed.test:%d/ "-H 'Authorization: Bearer $PROVIDER_TOKEN'"
fwd unknown http://allowed.test:%d/ \
    "-H 'X-Token: %sNOPE'"
""" % (ECHO_PORT, ECHO_PORT, PH))
    r = results(p)
    assert r["env"] == PH + "PROVIDER_TOKEN", p.stdout
    assert "Authorization: Bearer tok-1234567890" in r["ok"], p.stdout
    assert PH not in r["ok"]
    assert r["unknown"] == "500", p.stdout
    assert "tok-1234567890" not in p.stderr


LENDER = r"""
import array, json, os, socket, subprocess, sys
keep = sys.argv[1] == "keep"
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
child = subprocess.Popen(["/sandbox/lender", "-c", '''
import array, socket, sys
c = socket.socket(fileno=int(sys.argv[1]))
s = socket.create_connection(("10.200.0.1", 3128))
c.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                    array.array("i", [s.fileno()]))])
c.recv(1)                         # until the borrower is done
''', str(b.fileno())], pass_fds=(b.fileno(),),
    env=dict(os.environ, PYTHONHOME="/usr"))
b.close()
msg, anc, _, _ = a.recvmsg(1, socket.CMSG_LEN(4))
fd = array.array("i", anc[0][2])[0]
s = socket.socket(fileno=fd)
if not keep:
    a.send(b"x")                  # the lender closes its copy and exits
    child.wait()
s.settimeout(20)
s.sendall(b"CONNECT allowed.test:8080 HTTP/1.1\r\n\r\n")
out = b""
while True:
    d = s.recv(100)
    if not d:
        break
    out += d
if keep:
    a.send(b"x")
    child.wait()
print(json.dumps({"reply": out.decode("latin-1")}))
"""


@pytest.mark.parametrize("mode", ["keep", "handover"])
def test_borrowed_socket_denied(psb, mode):
    # /sandbox/lender (a copy of python3) is allowed; it connects to the
    # proxy and passes the socket to its parent, python3, which is not.
    # Still held by both: "socket shared between processes"; handed
    # over: judged as python3.  Either way no identity is lent (G5).
    sb = psb()
    sb.install("/usr/bin/python3", "lender")
    p = run(sb, [PY, "-c", LENDER, mode])
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["reply"] == FORBIDDEN, p.stderr
    deny = [l for l in logs(p, "CONNECT ") if "action=deny" in l and
            "dst_host=allowed.test" in l]
    assert deny, p.stderr
    if mode == "keep":
        assert any("socket shared between processes" in l
                   for l in deny), p.stderr
    else:
        assert any("binary=/usr/bin/python3" in l for l in deny), p.stderr


SYMLINKED = """  viasymlink:
    name: viasymlink
    endpoints:
      - { host: allowed.test, port: 8080, allowed_ips: [203.0.113.0/24] }
    binaries:
      - { path: /usr/bin/python3 }
  agentlink:
    name: agentlink
    endpoints:
      - { host: allowed.test, port: 8082, allowed_ips: [203.0.113.0/24] }
    binaries:
      - { path: /sandbox/mypython }
"""

CONNECT_STATUS = """
import socket, sys
for port in sys.argv[1:]:
    s = socket.create_connection(('10.200.0.1', 3128))
    s.sendall(b'CONNECT allowed.test:%s HTTP/1.1\\r\\n\\r\\n' % port.encode())
    print(port, s.recv(100).decode().split('\\r\\n')[0].split()[1])
"""


@pytest.mark.skipif(not os.path.islink(PY), reason="python3 is no symlink")
def test_binary_symlink_in_policy(sandbox, psb, tmp_path):
    # The policy names /usr/bin/python3, a symlink; the kernel reports
    # the running image, /usr/bin/python3.11: still allowed.  A symlink
    # in /sandbox (the agent's, as if left by an earlier run) is not
    # followed, so it grants nothing to what it points at.
    sb = sandbox(network=SYMLINKED, extra=["-d", "--hosts-file",
                                           str(psb.hosts)])
    sb.sbxdir().mkdir(parents=True, exist_ok=True)
    os.symlink(os.path.realpath(PY), sb.sbxdir() / "mypython")
    p = run(sb, [PY, "-c", CONNECT_STATUS, "8080", "8082"])
    assert results(p) == {"8080": "200", "8082": "403"}, p.stdout
    real = os.path.realpath(PY)
    assert ("policy viasymlink: binary %s is %s" % (PY, real)) in p.stderr
    assert "binary /sandbox/mypython is" not in p.stderr
    deny = [l for l in logs(p, "CONNECT ") if "action=deny" in l]
    assert any("binary=%s" % real in l and "dst_port=8082" in l
               for l in deny), p.stderr


def test_lender_alone_is_allowed(psb):
    # The control for the test above: the lender's own CONNECT passes.
    sb = psb()
    sb.install("/usr/bin/python3", "lender")
    code = ("import socket; s = socket.create_connection(('10.200.0.1', "
            "3128)); s.sendall(b'CONNECT allowed.test:8080 HTTP/1.1\\r\\n"
            "\\r\\n'); print(s.recv(100).decode().split('\\r\\n')[0])")
    p = sh(sb, "PYTHONHOME=/usr /sandbox/lender -c \"%s\"" % code)
    assert p.stdout.strip() == "HTTP/1.1 200 Connection Established", \
        p.stderr
