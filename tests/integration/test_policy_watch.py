# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""How a supervisor hears of a new policy revision at once (issue 6
point 5, gateway side): a sandbox's certificate may WatchSandbox its
own sandbox's status, and nothing more; a stored revision of its policy,
of the global policy, and the release of the global policy each send
it a snapshot.  Every wait is on the stream, with a deadline."""

import grpc
import pytest

from cpfixture import cp  # noqa: F401  (fixture)
from test_buses import Reader, create, stub_of

import openshell_pb2 as pb  # noqa: E402
import sandbox_pb2 as sbx  # noqa: E402

TIMEOUT = 20


def policy(host):
    p = sbx.SandboxPolicy(version=1)
    p.filesystem.read_only.extend(["/usr"])
    p.process.run_as_user = "sandbox"
    p.process.run_as_group = "sandbox"
    r = p.network_policies["n"]
    r.name = "n"
    r.endpoints.add(host=host, port=443)
    r.binaries.add(path="/usr/bin/curl")
    return p


def update(stub, name=None, pol=None, **kw):
    req = pb.UpdateConfigRequest(name=name or "", **kw)
    if pol is not None:
        req.policy.CopyFrom(pol)
    return stub.UpdateConfig(req, timeout=TIMEOUT)


def watch(stub, sid, **kw):
    kw.setdefault("follow_status", True)
    return Reader(stub.WatchSandbox(pb.WatchSandboxRequest(id=sid, **kw)))


def snapshot(r, sid):
    ev = r.next()
    assert not isinstance(ev, tuple), ev
    assert ev.WhichOneof("payload") == "sandbox" and ev.sandbox.id == sid
    return ev.sandbox


def test_sandbox_watches_only_itself(cp):
    stub = stub_of(cp)
    mine = create(stub, "watch-mine")
    other = create(stub, "watch-other")
    s = stub_of(cp, cp.client_creds(mine.id))
    denied = grpc.StatusCode.PERMISSION_DENIED
    for sid, kw in ((other.id, {}), ("no-such-sandbox", {}),
                    (mine.id, {"follow_logs": True}),
                    (mine.id, {"follow_events": True})):
        ev = watch(s, sid, **kw).next()
        assert ev[0] == "end" and ev[1] == denied, (sid, kw, ev)
        assert ev[2] == ("permission denied: WatchSandbox is not allowed "
                         "for this client")
    # Its own status: the snapshot, then one per revision stored.
    r = watch(s, mine.id)
    assert snapshot(r, mine.id).name == "watch-mine"
    v = update(stub, mine.name, policy("a.example.com")).version
    snapshot(r, mine.id)
    # A no-op update stores nothing and says nothing; the next one does.
    assert update(stub, mine.name, policy("a.example.com")).version == v
    assert update(stub, mine.name, policy("b.example.com")).version == v + 1
    snapshot(r, mine.id)
    assert r.q.empty()
    r.call.cancel()
    # The admin still watches anything, logs and events included.
    a = watch(stub, other.id, follow_logs=True, follow_events=True)
    snapshot(a, other.id)
    a.call.cancel()


def test_global_policy_notifies_every_sandbox(cp):
    stub = stub_of(cp)
    sbs = [create(stub, "watch-g%d" % i) for i in range(3)]
    readers = [watch(stub_of(cp, cp.client_creds(sb.id)), sb.id)
               for sb in sbs]
    for sb, r in zip(sbs, readers):
        snapshot(r, sb.id)
    update(stub, pol=policy("g.example.com"), **{"global": True})
    for sb, r in zip(sbs, readers):
        snapshot(r, sb.id)
    # The same global policy again changes nothing: no snapshot ...
    update(stub, pol=policy("g.example.com"), **{"global": True})
    # ... while releasing it changes every sandbox's policy back.
    assert update(stub, setting_key="policy", delete_setting=True,
                  **{"global": True}).deleted
    for sb, r in zip(sbs, readers):
        snapshot(r, sb.id)
        assert r.q.empty()
        r.call.cancel()
