# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Secrets: the handshake secret, a provider credential and the mTLS
key appear nowhere the agent can look (environment, /proc, files)."""

import os
import secrets
import shutil
import tempfile
from pathlib import Path

from sbxsec import agent

PLACEHOLDER = "openshell:resolve:env:PROVIDER_TOKEN"


def make(sandbox, request):
    hs = "hs-" + secrets.token_hex(12)
    pv = "pv-" + secrets.token_hex(12)
    # outside /tmp (the agent's /tmp is its own) and listed read-only
    # in the policy: only the supervisor's --hide keeps it unseen
    gw = Path(tempfile.mkdtemp(prefix="openshell-gw-", dir="/var/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(gw, ignore_errors=True))
    os.chmod(gw, 0o755)
    (gw / "client.key").write_text(f"KEY {hs} {pv}\n")
    os.chmod(gw / "client.key", 0o644)
    sb = sandbox(env={"OPENSHELL_SSH_HANDSHAKE_SECRET": hs,
                      "PROVIDER_TOKEN": pv,
                      "OPENSHELL_TLS_KEY": str(gw / "client.key")},
                 extra=["--credential", "PROVIDER_TOKEN", "--hide", str(gw)])
    sb.policy.write_text(sb.policy.read_text().replace(
        "read_only: [", f"read_only: [{gw}, "))
    return sb, hs, pv, gw


def test_secrets_invisible_to_agent(sandbox, request):
    sb, hs, pv, gw = make(sandbox, request)
    # the probe's own argv must not carry the secrets: reversed here
    rhs, rpv = hs[::-1], pv[::-1]
    out, p = agent(sb, f"""
HS, PV = "{rhs}"[::-1].encode(), "{rpv}"[::-1].encode()
out["env"] = dict(os.environ)
seen = []
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    for f in ("environ", "cmdline"):
        try:
            data = open(f"/proc/{{pid}}/{{f}}", "rb").read()
        except OSError as e:
            seen.append([pid, f, err(e)])
            continue
        seen.append([pid, f, HS in data or PV in data])
out["proc"] = seen
out["pid1_environ"] = openf("/proc/1/environ")
try:
    out["gw"] = os.listdir("{gw}")
except OSError as e:
    out["gw"] = err(e)
out["key"] = openf("{gw}/client.key")
try:
    out["state"] = os.listdir("{sb.state}")
except OSError as e:
    out["state"] = err(e)
hits = []
for top in ("/sandbox", "/tmp", "/dev/shm"):
    for d, _, files in os.walk(top):
        for f in files:
            try:
                b = open(os.path.join(d, f), "rb").read()
            except OSError:
                continue
            if HS in b or PV in b:
                hits.append(os.path.join(d, f))
out["files"] = hits
""")
    env = out["env"]
    assert "OPENSHELL_SSH_HANDSHAKE_SECRET" not in env
    assert "OPENSHELL_TLS_KEY" not in env
    assert env["PROVIDER_TOKEN"] == PLACEHOLDER
    assert not any(hs in v or pv in v for v in env.values())
    assert env["OPENSHELL_SANDBOX"] == "1"
    assert env["HTTPS_PROXY"] == "http://10.200.0.1:3128"
    assert not [s for s in out["proc"] if s[2] is True], out["proc"]
    assert out["pid1_environ"] == "EACCES", out
    assert out["gw"] == "EACCES", out	# an empty mode-0 tmpfs
    assert out["key"] in ("EACCES", "ENOENT"), out
    assert out["state"] in ([], "EACCES", "ENOENT"), out
    assert out["files"] == []
    assert hs not in p.stdout and pv not in p.stdout
    # never logged either
    assert hs not in p.stderr and pv not in p.stderr


def test_supervisor_environ_scrubbed(sandbox, request):
    """Even root on the host reads no secret in the supervisor's
    /proc/<pid>/environ once it has started."""
    sb, hs, pv, _ = make(sandbox, request)
    hold = sb.popen(["/bin/sh", "-c", "echo up; read x"])
    try:
        assert hold.ready == "ready"
        assert hold.stdout.readline().strip() == "up"
        data = open(f"/proc/{hold.pid}/environ", "rb").read()
        assert hs.encode() not in data and pv.encode() not in data
    finally:
        hold.terminate()
        hold.communicate(timeout=30)
