# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The security suite's world: nothing here can leave the machine.

For the whole run the suite makes two network namespaces of its own:

    osbsec-<pid>  "the host": where openshell-sandbox runs (through
                  `ip netns exec`), with lo and a veth 203.0.113.1/24;
                  listeners on 0.0.0.0 (host services a sandbox must
                  not reach)
    osbth-<pid>   "the test host": the veth peer 203.0.113.10/24
                  (TEST-NET-3) with TCP/HTTP and UDP listeners

No other link and no default route exist in either, so even a broken
sandbox can reach nothing but these listeners; each listener logs every
connection, so a leak is seen.  Needs root; skipped otherwise.
"""

import os
import shutil
from types import SimpleNamespace

import pytest

from sbxsec import PROXYD, SANDBOX, TRY, TESTNET_HOST, TESTNET_SELF, \
    TCP_PORTS, UDP_PORTS, HOST_TCP, HOST_UDP, Sandbox, _ip, _start_listener
# Re-exported: pytest keeps one module named "conftest" when suites run
# together, so modules that say "from conftest import ..." (here or in
# tests/integration) may get this one.  New code imports from sbxsec.
from sbxsec import ROOT, BUILD, HERE, PY, BASE_POLICY, ALLOW_CURL, \
    agent, log_lines  # noqa: F401


def _reap_stale():
    """Namespaces of an earlier run that was killed before its cleanup."""
    for line in _ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        for prefix in ("osbsec-", "osbth-"):
            if name.startswith(prefix) and name[len(prefix):].isdigit() \
                    and not os.path.exists(f"/proc/{name[len(prefix):]}"):
                _ip("netns", "del", name, check=False)


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the security suite runs as root")
    for b in (SANDBOX, TRY, PROXYD):
        if not os.access(b, os.X_OK):
            pytest.skip(f"{b} not built")
    if shutil.which("ip") is None:
        pytest.skip("iproute2 missing")
    _reap_stale()
    pid = os.getpid()
    ns, th = f"osbsec-{pid}", f"osbth-{pid}"
    d = tmp_path_factory.mktemp("world")
    _ip("netns", "add", ns)
    _ip("netns", "add", th)
    procs = []
    try:
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", th, "link", "set", "lo", "up")
        _ip("-n", ns, "link", "add", "tn0", "type", "veth", "peer", "name",
            "tn1", "netns", th)
        _ip("-n", ns, "addr", "add", f"{TESTNET_SELF}/24", "dev", "tn0")
        _ip("-n", th, "addr", "add", f"{TESTNET_HOST}/24", "dev", "tn1")
        _ip("-n", ns, "link", "set", "tn0", "up")
        _ip("-n", th, "link", "set", "tn1", "up")
        w = SimpleNamespace(ns=ns, th=th, dir=d,
                            testlog=d / "testhost.log",
                            hostlog=d / "host.log")
        w.testlog.touch()
        w.hostlog.touch()
        procs.append(_start_listener(th, w.testlog, TESTNET_HOST,
                                     TCP_PORTS, UDP_PORTS))
        procs.append(_start_listener(ns, w.hostlog, "0.0.0.0",
                                     [HOST_TCP], [HOST_UDP]))
        procs.append(_start_listener(ns, w.hostlog, "::",
                                     [HOST_TCP], [HOST_UDP]))
        hosts = d / "hosts"
        hosts.write_text(f"{TESTNET_HOST} allowed.test denied.test\n")
        w.hosts = hosts
        yield w
    finally:
        for p in procs:
            p.kill()
            p.wait()
        _ip("netns", "del", ns, check=False)
        _ip("netns", "del", th, check=False)


@pytest.fixture
def sandbox(world, tmp_path):
    def make(**kw):
        return Sandbox(world, tmp_path, **kw)
    return make


