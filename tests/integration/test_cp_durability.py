# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Durability of the control plane (issue 3, Acceptance): during a
burst of writes from several threads (CreateSandbox, CreateProvider,
PushSandboxLogs), SIGKILL the gateway parent (then start the whole
tree again on the same state directory) or one of its children
(gatewayd, watchd, logd: the parent restarts it).  Afterwards every
write the server acknowledged is there (GetSandbox, GetProvider) and
the acknowledged log lines are still readable (GetSandboxLogs).

Waits are on the --ready-fd line, on the parent's "restarted <svc>"
line and on RPCs with deadlines; nothing sleeps to synchronise."""

import os
import signal
import threading
import time

import grpc
import pytest

from cpfixture import cp  # noqa: F401  (fixture)
from gatewaytree import child_pids, wait_gone

import datamodel_pb2 as dm  # noqa: E402
import openshell_pb2 as pb  # noqa: E402
import openshell_pb2_grpc as pbg  # noqa: E402

TIMEOUT = 20        # overall deadline for one wait
CALL = 3            # deadline of one RPC of the burst
BEFORE = 10         # acknowledged writes of each kind before the kill
LOG_PUSHES = 150    # bound per log thread: 4 lines each, under the ring
# What a call may end with while the server is being killed: the
# connection goes (UNAVAILABLE, CANCELLED), the restart takes longer
# than one call's deadline, or the log bus is restarting (UNAVAILABLE).
TRANSIENT = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
             grpc.StatusCode.CANCELLED)


class Burst:
    """Writer threads.  Each records a write only once the server has
    acknowledged it; a failed call (the server is being killed) is
    retried under a fresh name on a fresh channel, which points at the
    endpoint of the moment (a restarted tree listens on a new port)."""

    def __init__(self, cp, log_sandboxes):
        self.cp = cp
        self.endpoint = cp.endpoint
        self.creds = cp.creds
        self.stop = threading.Event()
        self.cond = threading.Condition()
        self.sandboxes = {}         # name -> id
        self.providers = {}         # name -> type
        self.lines = {sid: [] for sid in log_sandboxes}
        self.acks = {"sandbox": 0, "provider": 0, "logs": 0}
        self.errors = []            # unexpected status codes
        self.transient = {}         # status code -> count
        self.threads = []
        for t in range(2):
            self._spawn(self._sandboxes, t)
        self._spawn(self._providers, 0)
        for t, sid in enumerate(log_sandboxes):
            self._spawn(self._logs, t, sid)

    def _spawn(self, fn, *args):
        th = threading.Thread(target=self._loop, args=(fn,) + args,
                              daemon=True)
        self.threads.append(th)
        th.start()

    def _loop(self, fn, tid, *args):
        ch = None
        seq = 0
        while not self.stop.is_set():
            if ch is None:
                ch = grpc.secure_channel(self.endpoint, self.creds)
                stub = pbg.OpenShellStub(ch)
            seq += 1
            try:
                if fn(stub, tid, seq, *args) is False:
                    break
            except grpc.RpcError as e:
                with self.cond:
                    if e.code() in TRANSIENT:
                        self.transient[e.code()] = \
                            self.transient.get(e.code(), 0) + 1
                    else:
                        self.errors.append((fn.__name__, e.code(),
                                            e.details()))
                ch.close()
                ch = None
        if ch is not None:
            ch.close()

    def _ack(self, kind):
        with self.cond:
            self.acks[kind] += 1
            self.cond.notify_all()

    def _sandboxes(self, stub, tid, seq):
        name = "dur-%d-%d" % (tid, seq)
        sb = stub.CreateSandbox(pb.CreateSandboxRequest(
            name=name, spec=dm.SandboxSpec()), timeout=CALL,
            wait_for_ready=True).sandbox
        with self.cond:
            self.sandboxes[name] = sb.id
        self._ack("sandbox")

    def _providers(self, stub, tid, seq):
        name = "prov-%d-%d" % (tid, seq)
        stub.CreateProvider(pb.CreateProviderRequest(provider=dm.Provider(
            name=name, type="openai",
            credentials={"OPENAI_API_KEY": "sk-%d" % seq})),
            timeout=CALL, wait_for_ready=True)
        with self.cond:
            self.providers[name] = "openai"
        self._ack("provider")

    def _logs(self, stub, tid, seq, sid):
        if seq > LOG_PUSHES:
            return False
        msgs = ["L%d-%d-%d" % (tid, seq, i) for i in range(4)]

        def batches():
            for half in (msgs[:2], msgs[2:]):
                yield pb.PushSandboxLogsRequest(sandbox_id=sid, logs=[
                    pb.SandboxLogLine(timestamp_ms=1000 + seq, level="INFO",
                                      target="durability", message=m)
                    for m in half])
        stub.PushSandboxLogs(batches(), timeout=CALL, wait_for_ready=True)
        with self.cond:
            self.lines[sid] += msgs
        self._ack("logs")

    def counts(self):
        with self.cond:
            return dict(self.acks)

    def wait_acks(self, base, more, timeout=TIMEOUT):
        """Until every kind has `more` acknowledgements beyond base
        (the log threads may have reached their bound: then any)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                short = [k for k in self.acks
                         if self.acks[k] < base.get(k, 0) + more and
                         not (k == "logs" and self._logs_done())]
                if not short:
                    return
                left = deadline - time.monotonic()
                assert left > 0, ("burst stalled", short, self.acks,
                                  self.errors)
                self.cond.wait(left)

    def _logs_done(self):
        return all(len(v) >= 4 * LOG_PUSHES for v in self.lines.values())

    def retarget(self, endpoint, creds):
        self.endpoint = endpoint
        self.creds = creds

    def finish(self):
        self.stop.set()
        for th in self.threads:
            th.join(timeout=TIMEOUT)
            assert not th.is_alive(), "a writer thread hangs"
        assert not self.errors, self.errors


def call_ok(fn, req, timeout=TIMEOUT):
    """The first successful answer of fn within timeout (the server may
    still be coming back); each try has its own deadline and waits for
    the channel to connect."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        try:
            return fn(req, timeout=max(0.1, min(CALL, left)),
                      wait_for_ready=True)
        except grpc.RpcError as e:
            if e.code() not in (grpc.StatusCode.UNAVAILABLE,
                                grpc.StatusCode.DEADLINE_EXCEEDED) or \
                    time.monotonic() >= deadline:
                raise


def verify(cp, burst):
    ch = grpc.secure_channel(cp.endpoint, cp.creds)
    try:
        s = pbg.OpenShellStub(ch)
        call_ok(s.Health, pb.HealthRequest())
        missing = []
        for name, sid in sorted(burst.sandboxes.items()):
            try:
                got = s.GetSandbox(pb.GetSandboxRequest(name=name),
                                   timeout=TIMEOUT).sandbox
                if got.id != sid:
                    missing.append((name, "id", sid, got.id))
            except grpc.RpcError as e:
                missing.append((name, e.code()))
        for name, ptype in sorted(burst.providers.items()):
            try:
                got = s.GetProvider(pb.GetProviderRequest(name=name),
                                    timeout=TIMEOUT).provider
                if got.type != ptype or \
                        dict(got.credentials) != {"OPENAI_API_KEY":
                                                  "REDACTED"}:
                    missing.append((name, "provider", got))
            except grpc.RpcError as e:
                missing.append((name, e.code()))
        for sid, acked in burst.lines.items():
            r = s.GetSandboxLogs(pb.GetSandboxLogsRequest(
                sandbox_id=sid, lines=2000, sources=["sandbox"]),
                timeout=TIMEOUT)
            have = {l.message for l in r.logs}
            lost = [m for m in acked if m not in have]
            if lost:
                # which pushes (thread-seq) lost lines
                pushes = sorted({m.rsplit("-", 1)[0] for m in lost})
                missing.append(("log lines of %s" % sid, len(lost), "of",
                                len(acked), pushes))
        assert not missing, missing
        assert burst.sandboxes and burst.providers
        assert all(burst.lines.values())
    finally:
        ch.close()


def log_sandboxes(cp, n=2):
    ch = grpc.secure_channel(cp.endpoint, cp.creds)
    try:
        s = pbg.OpenShellStub(ch)
        return [s.CreateSandbox(pb.CreateSandboxRequest(
            name="logs-%d" % i, spec=dm.SandboxSpec()),
            timeout=TIMEOUT).sandbox.id for i in range(n)]
    finally:
        ch.close()


@pytest.mark.parametrize("service", ["gatewayd", "watchd", "logd"])
def test_child_sigkill_during_burst(cp, service):
    burst = Burst(cp, log_sandboxes(cp))
    try:
        burst.wait_acks({}, BEFORE)
        pid = cp.pid_of(service)
        mark = cp.log.mark()
        os.kill(pid, signal.SIGKILL)
        cp.log.wait_for(r"^gateway: restarted %s \(pid (\d+)" % service,
                        start=mark)
        assert not wait_gone([pid])
        # The burst goes on against the restarted child.
        burst.wait_acks(burst.counts(), 3)
    finally:
        burst.finish()
    assert cp.pid_of(service) != pid
    verify(cp, burst)


def test_parent_sigkill_during_burst(cp):
    burst = Burst(cp, log_sandboxes(cp))
    try:
        burst.wait_acks({}, BEFORE)
        pids = child_pids(cp.proc.pid)
        cp.proc.kill()
        cp.proc.wait(timeout=TIMEOUT)
        # The children go with the parent; the tree starts again on
        # the same state directory (a new ephemeral port).
        assert wait_gone(pids) == []
        cp.close_channels()
        cp.start()
        burst.retarget(cp.endpoint, cp.creds)
        burst.wait_acks(burst.counts(), 3)
    finally:
        burst.finish()
    verify(cp, burst)


def test_repeated_kills_during_burst(cp):
    """One burst, children killed one after the other (gatewayd three
    times, so its restart backs off), the burst resuming after each."""
    burst = Burst(cp, log_sandboxes(cp))
    try:
        burst.wait_acks({}, BEFORE)
        for service in ("gatewayd", "logd", "gatewayd", "watchd",
                        "gatewayd"):
            pid = cp.pid_of(service)
            mark = cp.log.mark()
            os.kill(pid, signal.SIGKILL)
            cp.log.wait_for(r"^gateway: restarted %s \(pid " % service,
                            start=mark)
            burst.wait_acks(burst.counts(), 2)
    finally:
        burst.finish()
    verify(cp, burst)
    assert cp.admin("gatewayd", "stats", as_json=True)["restarts"] == 3
