# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""A large policy reaches proxyd: the supervisor's channel to proxyd
takes frames up to 4 MiB (the default 16 KiB frame would drop it)."""

NRULES = 2000


def test_large_policy_loaded(sandbox):
    rules = "".join("""  filler%d:
    name: filler%d
    endpoints:
      - { host: host%d.filler.test, port: 443 }
    binaries:
      - { path: /usr/bin/curl }
""" % (i, i, i) for i in range(NRULES))
    rules += """  testhost:
    name: testhost
    endpoints:
      - { host: allowed.test, port: 8080, allowed_ips: [203.0.113.0/24] }
    binaries:
      - { path: /usr/bin/curl }
"""
    assert len(rules) > 200 * 1024
    sb = sandbox(network=rules, extra=["-d"])
    p = sb.run(["/usr/bin/curl", "-s", "-p", "-x", "http://10.200.0.1:3128",
                "--noproxy", "", "-m", "20", "-o", "/dev/null", "-w",
                "%{http_connect}", "http://allowed.test:8080/"], timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "200", (p.stdout, p.stderr[-2000:])
    assert "policy loaded: %d network rules" % (NRULES + 1) in p.stderr, \
        p.stderr[-2000:]
