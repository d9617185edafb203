# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The watch and log buses against a real gateway tree (control-plane.md
2.4, 2.5): PushSandboxLogs / GetSandboxLogs with their filters and
buffer_total, WatchSandbox (snapshot first, replay, live lines, deletion,
a slow reader), and log rings that survive a restart of the gateway
(architecture.md 6).  Every wait is on a stream or an RPC, with a
deadline; nothing sleeps."""

import os
import queue
import threading

import grpc
import pytest

from cpfixture import cp  # noqa: F401  (fixture)

import datamodel_pb2 as dm  # noqa: E402
import openshell_pb2 as pb  # noqa: E402
import openshell_pb2_grpc as pbg  # noqa: E402

TIMEOUT = 20
DELETING = dm.SANDBOX_PHASE_DELETING


def stub_of(cp, creds=None):
    return pbg.OpenShellStub(cp.channel(creds))


def create(stub, name):
    return stub.CreateSandbox(pb.CreateSandboxRequest(
        name=name, spec=dm.SandboxSpec()), timeout=TIMEOUT).sandbox


def line(t, level="INFO", msg="", source="", **fields):
    return pb.SandboxLogLine(timestamp_ms=t, level=level, message=msg,
                             target="supervisor", source=source,
                             sandbox_id="forged", fields=fields)


def push(stub, sid, lines, per_batch=100):
    def batches():
        for i in range(0, len(lines), per_batch):
            yield pb.PushSandboxLogsRequest(sandbox_id=sid,
                                            logs=lines[i:i + per_batch])
    return stub.PushSandboxLogs(batches(), timeout=TIMEOUT)


def get_logs(stub, sid, **kw):
    return stub.GetSandboxLogs(pb.GetSandboxLogsRequest(sandbox_id=sid, **kw),
                               timeout=TIMEOUT)


class Reader:
    """Reads a server stream on a thread into a queue, so that a test
    can wait for the next event with a deadline."""

    def __init__(self, call):
        self.call = call
        self.q = queue.Queue()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        try:
            for ev in self.call:
                self.q.put(ev)
            self.q.put(("end", grpc.StatusCode.OK, ""))
        except grpc.RpcError as e:
            self.q.put(("end", e.code(), e.details()))

    def next(self):
        return self.q.get(timeout=TIMEOUT)

    def kind(self):
        ev = self.next()
        return ev[0] if isinstance(ev, tuple) else ev.WhichOneof("payload")


def test_push_then_get_with_filters(cp):
    stub = stub_of(cp)
    sid = create(stub, "logs-a").id
    lines = [line(1000 + i, "INFO", "i%d" % i, k="v") for i in range(5)]
    lines += [line(2000, "DEBUG", "dbg"), line(2001, "WARN", "warn"),
              line(2002, "weird", "odd")]
    assert push(stub, sid, lines) == pb.PushSandboxLogsResponse()

    r = get_logs(stub, sid)
    assert [l.message for l in r.logs] == \
        ["i0", "i1", "i2", "i3", "i4", "dbg", "warn", "odd"]
    assert r.buffer_total == 8
    first = r.logs[0]
    # Pushed lines are the sandbox's own: source and id are forced.
    assert first.source == "sandbox" and first.sandbox_id == sid
    assert first.target == "supervisor" and dict(first.fields) == {"k": "v"}

    # buffer_total counts the lines taken before filtering.
    r = get_logs(stub, sid, lines=3, min_level="info")
    assert [l.message for l in r.logs] == ["warn"]
    assert r.buffer_total == 3
    r = get_logs(stub, sid, since_ms=1003)
    assert [l.message for l in r.logs][:2] == ["i3", "i4"]
    assert r.buffer_total == 8
    # An empty min level keeps unknown levels; a known one drops them.
    assert "odd" in [l.message for l in get_logs(stub, sid).logs]
    assert "odd" not in [l.message for l in
                         get_logs(stub, sid, min_level="TRACE").logs]
    assert list(get_logs(stub, sid, sources=["gateway"]).logs) == []
    assert len(get_logs(stub, sid, sources=["gateway", "sandbox"]).logs) == 8


def test_get_logs_arguments(cp):
    stub = stub_of(cp)
    with pytest.raises(grpc.RpcError) as e:
        get_logs(stub, "")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    r = get_logs(stub, "no-such-sandbox")
    assert list(r.logs) == [] and r.buffer_total == 0


def test_push_batches(cp):
    stub = stub_of(cp)
    sid = create(stub, "logs-b").id
    # Only the first 100 lines of a batch are kept.
    push(stub, sid, [line(i, msg="l%d" % i) for i in range(150)],
         per_batch=150)
    r = get_logs(stub, sid)
    assert len(r.logs) == 100 and r.logs[-1].message == "l99"

    # Batches without a sandbox id are ignored, before and after.
    def batches():
        yield pb.PushSandboxLogsRequest(logs=[line(1, msg="lost")])
        yield pb.PushSandboxLogsRequest(sandbox_id=sid,
                                        logs=[line(2, msg="kept")])
    stub.PushSandboxLogs(batches(), timeout=TIMEOUT)
    msgs = [l.message for l in get_logs(stub, sid).logs]
    assert "kept" in msgs and "lost" not in msgs

    # The ring keeps the last 2000 lines.
    push(stub, sid, [line(10000 + i, msg="r%d" % i) for i in range(2100)])
    r = get_logs(stub, sid)
    assert r.buffer_total == 2000 and r.logs[-1].message == "r2099"
    assert get_logs(stub, sid, lines=7).buffer_total == 7


def test_push_unknown_sandbox(cp):
    stub = stub_of(cp)
    with pytest.raises(grpc.RpcError) as e:
        push(stub, "no-such-sandbox", [line(1)])
    assert e.value.code() == grpc.StatusCode.NOT_FOUND


def test_push_other_sandbox_denied(cp):
    stub = stub_of(cp)
    mine = create(stub, "logs-mine").id
    other = create(stub, "logs-other").id
    sstub = stub_of(cp, cp.client_creds(mine))
    push(sstub, mine, [line(1, msg="own")])
    with pytest.raises(grpc.RpcError) as e:
        push(sstub, other, [line(1, msg="theirs")])
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert list(get_logs(stub, other).logs) == []


def test_watch_arguments(cp):
    stub = stub_of(cp)
    for sid, code in (("", grpc.StatusCode.INVALID_ARGUMENT),
                      ("no-such-sandbox", grpc.StatusCode.NOT_FOUND)):
        r = Reader(stub.WatchSandbox(pb.WatchSandboxRequest(
            id=sid, follow_status=True)))
        ev = r.next()
        assert ev[0] == "end" and ev[1] == code


def test_watch_snapshot_then_delete(cp):
    stub = stub_of(cp)
    sb = create(stub, "watch-a")
    # No follow flag at all: the snapshot still comes first.
    idle = Reader(stub.WatchSandbox(pb.WatchSandboxRequest(id=sb.id)))
    ev = idle.next()
    assert ev.sandbox.id == sb.id
    r = Reader(stub.WatchSandbox(pb.WatchSandboxRequest(
        id=sb.id, follow_status=True, follow_logs=True, follow_events=True)))
    ev = r.next()
    assert not isinstance(ev, tuple), ev
    assert ev.WhichOneof("payload") == "sandbox" and ev.sandbox.name == "watch-a"
    stub.DeleteSandbox(pb.DeleteSandboxRequest(name="watch-a"),
                       timeout=TIMEOUT)
    ev = r.next()
    assert ev.WhichOneof("payload") == "sandbox"
    assert ev.sandbox.phase == DELETING
    ev = r.next()
    assert ev == ("end", grpc.StatusCode.CANCELLED, "stream closed")
    assert idle.q.empty()
    idle.call.cancel()


def test_watch_log_replay_and_live(cp):
    stub = stub_of(cp)
    sid = create(stub, "watch-b").id
    push(stub, sid, [line(100 + i, "INFO", "old%d" % i) for i in range(10)])
    r = Reader(stub.WatchSandbox(pb.WatchSandboxRequest(
        id=sid, follow_logs=True, log_tail_lines=4, log_since_ms=108,
        log_min_level="INFO")))
    assert r.kind() == "sandbox"
    # The last 4 lines, of which those not older than since.
    assert r.next().log.message == "old8"
    assert r.next().log.message == "old9"
    # Live lines: level filtered, since not applied.
    push(stub, sid, [line(1, "DEBUG", "quiet"), line(2, "ERROR", "live1"),
                     line(3, "INFO", "live2")])
    ev = r.next()
    assert ev.log.message == "live1" and ev.log.source == "sandbox"
    assert r.next().log.message == "live2"

    # Tail 0 means 200 lines.
    push(stub, sid, [line(1000 + i, msg="t%d" % i) for i in range(300)])
    r2 = Reader(stub.WatchSandbox(pb.WatchSandboxRequest(
        id=sid, follow_logs=True)))
    assert r2.kind() == "sandbox"
    got = [r2.next().log.message for _ in range(200)]
    assert got[0] == "t100" and got[-1] == "t299"
    r.call.cancel()
    r2.call.cancel()
    ev = r.next()
    while not isinstance(ev, tuple):	# the 300 lines went live to r
        ev = r.next()
    assert ev[1] == grpc.StatusCode.CANCELLED
    stats = cp.admin("logd", "stats", as_json=True)
    assert stats["sandbox_lines"] >= 313


def test_slow_reader_does_not_slow_others(cp):
    stub = stub_of(cp)
    sid = create(stub, "watch-slow").id
    # A reader that never reads, on a channel without BDP window growth.
    slow_ch = grpc.secure_channel(cp.endpoint, cp.creds,
                                  options=[("grpc.http2.bdp_probe", 0)])
    try:
        slow = slow_ch.unary_stream(
            "/openshell.v1.OpenShell/WatchSandbox",
            request_serializer=pb.WatchSandboxRequest.SerializeToString,
            response_deserializer=pb.SandboxStreamEvent.FromString)(
                pb.WatchSandboxRequest(id=sid, follow_logs=True))
        fast = Reader(stub.WatchSandbox(pb.WatchSandboxRequest(
            id=sid, follow_logs=True)))
        assert fast.kind() == "sandbox"
        big = "x" * 4000
        batches = 60		# 24 MB, far beyond every buffer on the way
        for b in range(batches):
            push(stub, sid, [line(b, msg="%s%d" % (big, i))
                             for i in range(100)])
            # The fast reader gets every line of a batch before the next.
            for i in range(100):
                ev = fast.next()
                assert ev.WhichOneof("payload") == "log", ev
        n = 0
        with pytest.raises(grpc.RpcError) as e:
            for _ in slow:
                n += 1
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert e.value.details().startswith("watch stream lagged; dropped")
        assert n < batches * 100
    finally:
        slow_ch.close()


def test_logs_survive_restart(cp):
    stub = stub_of(cp)
    sid = create(stub, "persist").id
    push(stub, sid, [line(5000 + i, "INFO", "p%d" % i, n=str(i))
                     for i in range(2500)])
    before = get_logs(stub, sid)
    assert len(before.logs) == 2000
    assert os.path.exists(os.path.join(cp.state_dir, "logs", sid + ".log"))
    cp.stop()
    cp.start()
    stub = stub_of(cp)
    after = get_logs(stub, sid)
    assert list(after.logs) == list(before.logs)
    r = get_logs(stub, sid, lines=2)
    assert [l.message for l in r.logs] == ["p2498", "p2499"]
    assert dict(r.logs[1].fields) == {"n": "2499"}
    # Deleting the sandbox drops its ring, on disk too.
    stub.DeleteSandbox(pb.DeleteSandboxRequest(name="persist"),
                       timeout=TIMEOUT)
    assert list(get_logs(stub, sid).logs) == []


def test_bus_daemon_restarts(cp):
    """A restarted logd reloads its rings and ends the streams that
    lived in the old one (UNAVAILABLE); a restarted gatewayd finds both
    buses working, large frames included."""
    import signal
    stub = stub_of(cp)
    sid = create(stub, "restarts").id
    push(stub, sid, [line(i, msg="a" * 1000) for i in range(100)])
    r = Reader(stub.WatchSandbox(pb.WatchSandboxRequest(
        id=sid, follow_logs=True, log_tail_lines=1)))
    assert r.kind() == "sandbox" and r.kind() == "log"
    mark = cp.log.mark()
    os.kill(cp.pid_of("logd"), signal.SIGKILL)
    assert r.next()[:2] == ("end", grpc.StatusCode.UNAVAILABLE)
    cp.log.wait_for(r"logd: running .*restart 1", start=mark)
    assert len(get_logs(stub, sid).logs) == 100
    mark = cp.log.mark()
    os.kill(cp.pid_of("gatewayd"), signal.SIGKILL)
    cp.log.wait_for(r"gatewayd: running .*restart 1", start=mark)
    cp.close_channels()
    stub = stub_of(cp)
    push(stub, sid, [line(i, msg="b" * 1000) for i in range(100)])
    assert len(get_logs(stub, sid).logs) == 200
    r = Reader(stub.WatchSandbox(pb.WatchSandboxRequest(
        id=sid, follow_status=True)))
    assert r.kind() == "sandbox"
    stub.DeleteSandbox(pb.DeleteSandboxRequest(name="restarts"),
                       timeout=TIMEOUT)
    assert r.next().sandbox.phase == DELETING
    assert r.next() == ("end", grpc.StatusCode.CANCELLED, "stream closed")
