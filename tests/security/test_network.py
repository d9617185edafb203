# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Egress from the agent: everything but the proxy fails, and fast."""

from sbxsec import HOST_TCP, HOST_UDP, TESTNET_HOST, TESTNET_SELF, \
    agent, log_lines

FAST = 2.0	# s: a refusal, never a timeout


def test_direct_tcp_fails_fast(sandbox, world):
    before = log_lines(world.testlog) + log_lines(world.hostlog)
    out, _ = agent(sandbox(), f"""
out["testnet"] = [tcp("{TESTNET_HOST}", p) for p in (7, 8080, 8081)]
out["host_self"] = tcp("{TESTNET_SELF}", {HOST_TCP})
out["host_lo"] = tcp("127.0.0.1", {HOST_TCP})
out["proxy_other_port"] = tcp("10.200.0.1", 22)
""")
    for r, dt in out["testnet"] + [out["host_self"]]:
        assert r == "ENETUNREACH" and dt < FAST, out
    # the agent's loopback is its own: the host's listener is not there
    assert out["host_lo"][0] == "ECONNREFUSED", out
    assert out["proxy_other_port"][0] == "ECONNREFUSED", out
    assert out["proxy_other_port"][1] < FAST
    assert log_lines(world.testlog) + log_lines(world.hostlog) == before


def test_udp_icmp_fail(sandbox, world):
    before = log_lines(world.testlog) + log_lines(world.hostlog)
    out, _ = agent(sandbox(), f"""
out["udp_testnet"] = udp("{TESTNET_HOST}", 5353)
out["udp_host"] = udp("{TESTNET_SELF}", {HOST_UDP})
out["udp_proxy"] = udp("10.200.0.1", 53)
out["icmp_dgram"] = sock(socket.AF_INET, socket.SOCK_DGRAM,
    socket.IPPROTO_ICMP)
out["icmp_raw"] = sock(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
out["packet"] = sock(17, socket.SOCK_RAW)
""")
    assert out["udp_testnet"] == "ENETUNREACH", out
    assert out["udp_host"] == "ENETUNREACH", out
    # nothing listens there: refused or silence, never an answer
    assert out["udp_proxy"] in ("ECONNREFUSED", "TimeoutError", "timeout"), out
    assert out["icmp_dgram"] in ("EACCES", "EPERM", "ENETUNREACH"), out
    assert out["icmp_raw"] in ("EPERM", "EACCES"), out
    assert out["packet"] == "EPERM", out
    assert log_lines(world.testlog) + log_lines(world.hostlog) == before


def test_ipv6_fails_fast(sandbox, world):
    before = log_lines(world.hostlog)
    out, _ = agent(sandbox(), f"""
out["doc"] = tcp("2001:db8::1", 80, socket.AF_INET6)
out["mapped"] = tcp("::ffff:{TESTNET_HOST}", 8080, socket.AF_INET6)
out["udp6"] = udp("2001:db8::1", 53, socket.AF_INET6)
out["addrs"] = open("/proc/net/if_inet6").read().split()
""")
    assert out["doc"][0] == "ENETUNREACH" and out["doc"][1] < FAST, out
    assert out["mapped"][0] == "ENETUNREACH", out
    assert out["udp6"] == "ENETUNREACH", out
    # only ::1 on lo: no link-local address on the veth
    assert [a for a in out["addrs"] if len(a) == 32] == \
        ["00000000000000000000000000000001"], out
    assert log_lines(world.hostlog) == before


def test_dns_fails(sandbox, world):
    before = log_lines(world.testlog)
    out, _ = agent(sandbox(), f"""
try:
    socket.getaddrinfo("allowed.test", 80)
    out["gai"] = "resolved"
except socket.gaierror as e:
    out["gai"] = e.errno
out["dns_testnet"] = udp("{TESTNET_HOST}", 53)
out["dns_proxy"] = udp("10.200.0.1", 53)
out["dns_tcp"] = tcp("{TESTNET_HOST}", 53)
""")
    assert out["gai"] != "resolved", out
    assert out["dns_testnet"] == "ENETUNREACH", out
    assert out["dns_proxy"] != "answered", out
    assert out["dns_tcp"][0] == "ENETUNREACH", out
    assert log_lines(world.testlog) == before


def test_other_sandbox_unreachable(sandbox, world, tmp_path):
    """B listens on its 10.200.0.2:9000; A's 10.200.0.2 is A itself."""
    b = sandbox(state=tmp_path / "b")
    hold = b.popen(["/usr/bin/python3", "-c", """
import socket, sys
s = socket.socket()
s.bind(("10.200.0.2", 9000))
s.listen(1)
print("listening", flush=True)
s.settimeout(20)
try:
    c, peer = s.accept()
    print("LEAK", peer, flush=True)
except OSError:
    print("nobody", flush=True)
"""])
    try:
        assert hold.ready == "ready"
        assert hold.stdout.readline().strip() == "listening"
        out, _ = agent(sandbox(state=tmp_path / "a"), """
out["b_agent"] = tcp("10.200.0.2", 9000)
out["neighbour"] = tcp("10.200.0.3", 9000, timeout=4)
""")
        assert out["b_agent"][0] == "ECONNREFUSED", out
        assert out["neighbour"][0] != "connected", out
    finally:
        hold.terminate()
        rest, _ = hold.communicate(timeout=30)
    assert "LEAK" not in rest
