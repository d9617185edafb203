# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""create -> READY latency of the local compute driver, against
`bwrap --unshare-all true` in the same run (issue 4: p50 <= 50 ms).

    sandbox_bench.py PROTO_DIR MTLS_DIR PORT [N]

Runs inside the gateway's network namespace (bench/sandbox/run.sh).
A sample is CreateSandbox to the first READY snapshot of a WatchSandbox
opened right after it; each sandbox is deleted (outside the timing)
before the next."""

import os
import subprocess
import sys
import time

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import datamodel_pb2 as dm  # noqa: E402
import openshell_pb2 as pb  # noqa: E402
import openshell_pb2_grpc as pg  # noqa: E402

READY = dm.SANDBOX_PHASE_READY


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def stub(mtls, port):
    rd = lambda n: open(os.path.join(mtls, n), "rb").read()
    creds = grpc.ssl_channel_credentials(rd("ca.crt"), rd("tls.key"),
                                         rd("tls.crt"))
    return pg.OpenShellStub(grpc.secure_channel("127.0.0.1:" + port, creds))


def one(s, name):
    t0 = time.monotonic()
    sb = s.CreateSandbox(pb.CreateSandboxRequest(
        name=name, spec=dm.SandboxSpec()), timeout=30).sandbox
    req = pb.WatchSandboxRequest(id=sb.id, follow_status=True,
                                 stop_on_terminal=True)
    for ev in s.WatchSandbox(req, timeout=30):
        if ev.WhichOneof("payload") == "sandbox" and \
                ev.sandbox.phase == READY:
            break
    else:
        raise SystemExit("%s never became READY" % name)
    dt = time.monotonic() - t0
    s.DeleteSandbox(pb.DeleteSandboxRequest(name=name), timeout=30)
    try:
        for _ in s.WatchSandbox(pb.WatchSandboxRequest(
                id=sb.id, follow_status=True), timeout=30):
            pass
    except grpc.RpcError:
        pass
    return dt * 1000


def bwrap():
    t0 = time.monotonic()
    subprocess.run(["bwrap", "--unshare-all", "--ro-bind", "/", "/",
                    "--dev", "/dev", "--proc", "/proc", "true"], check=True)
    return (time.monotonic() - t0) * 1000


def main():
    s = stub(sys.argv[2], sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    one(s, "bench-warm")
    ours = [one(s, "bench-%02d" % i) for i in range(n)]
    ref = [bwrap() for _ in range(n)]
    for label, v in (("sandbox create->READY", ours),
                     ("bwrap --unshare-all true", ref)):
        print("%-26s p50 %7.1f ms  p95 %7.1f ms  (n=%d)"
              % (label, pct(v, 50), pct(v, 95), n))
    print("ratio p50 %.2fx  target p50 <= 50 ms: %s"
          % (pct(ours, 50) / pct(ref, 50),
             "met" if pct(ours, 50) <= 50 else "NOT met"))


main()
