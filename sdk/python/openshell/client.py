# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""SandboxClient: the gateway's openshell.v1.OpenShell service.

Every method raises the typed exceptions of openshell.errors (mapped
from the gRPC status, with the server's text unchanged).  Unary calls
carry the client's timeout as their deadline; streams carry none unless
given one."""

import sys
import time

import grpc
from google.protobuf import json_format

from . import pyfunc
from ._proto import datamodel_pb2, openshell_pb2, openshell_pb2_grpc
from ._proto import sandbox_pb2
from .config import load_cluster, split_endpoint
from .errors import (DeadlineExceededError, NotFoundError, SandboxError,
                     from_rpc_error)
from .models import ExecChunk, ExecResult, LogLines, SandboxRef

PHASE_READY = datamodel_pb2.SANDBOX_PHASE_READY
PHASE_ERROR = datamodel_pb2.SANDBOX_PHASE_ERROR
PUSH_BATCH = 100        # the server keeps at most 100 lines per message
POLL_SECONDS = 1.0


class CallStream:
    """A server-streaming call as an iterator of response messages.
    Errors surface as typed exceptions while iterating; cancel() (or
    leaving a with block) ends the call and the iteration quietly."""

    def __init__(self, call):
        self._call = call
        self._cancelled = False

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._call)
        except grpc.RpcError as e:
            if self._cancelled and e.code() == grpc.StatusCode.CANCELLED:
                raise StopIteration from None
            raise from_rpc_error(e) from None

    def cancel(self):
        self._cancelled = True
        self._call.cancel()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cancel()
        return False


def _message(cls, value):
    """A protobuf message from a message, a dict (JSON field names or
    proto names) or None (empty)."""
    if value is None:
        return cls()
    if isinstance(value, dict):
        return json_format.ParseDict(value, cls())
    return value


def _log_line(line):
    if isinstance(line, openshell_pb2.SandboxLogLine):
        return line
    if isinstance(line, str):
        return openshell_pb2.SandboxLogLine(
            timestamp_ms=int(time.time() * 1000), level="INFO",
            message=line)
    return _message(openshell_pb2.SandboxLogLine, line)


def _command(command):
    if isinstance(command, str):
        return ["sh", "-c", command]
    return list(command)


class SandboxClient:
    """A connection to one gateway.

    endpoint is "host:port" (a URL's scheme is dropped); with tls (a TlsConfig) the channel is
    mutual TLS, without it plaintext.  timeout is the deadline in
    seconds of each unary call."""

    def __init__(self, endpoint, tls=None, timeout=30.0, cluster_name=None):
        if "://" in endpoint:
            endpoint = split_endpoint(endpoint)[1]
        self.endpoint = endpoint
        self.cluster_name = cluster_name
        self._timeout = timeout
        if tls is None:
            self._channel = grpc.insecure_channel(endpoint)
        else:
            ca, cert, key = tls.read()
            creds = grpc.ssl_channel_credentials(
                root_certificates=ca, private_key=key,
                certificate_chain=cert)
            self._channel = grpc.secure_channel(endpoint, creds)
        self._stub = openshell_pb2_grpc.OpenShellStub(self._channel)

    @classmethod
    def from_active_cluster(cls, cluster=None, timeout=30.0):
        """A client for the named cluster, else $OPENSHELL_GATEWAY, else
        the one in $XDG_CONFIG_HOME/openshell/active_cluster."""
        cfg = load_cluster(cluster)
        return cls(cfg.endpoint, tls=cfg.tls, timeout=timeout,
                   cluster_name=cfg.name)

    @property
    def channel(self):
        return self._channel

    @property
    def stub(self):
        """The raw OpenShellStub on this client's channel."""
        return self._stub

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _unary(self, rpc, request, timeout=None):
        method = getattr(self._stub, rpc)
        try:
            return method(request, timeout=timeout or self._timeout)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None

    # Health

    def health(self):
        """HealthResponse (status SERVICE_STATUS_HEALTHY, version)."""
        return self._unary("Health", openshell_pb2.HealthRequest())

    # Sandboxes

    def create(self, spec=None, name=None):
        """Creates a sandbox (the server picks a name when none is
        given); returns its SandboxRef."""
        req = openshell_pb2.CreateSandboxRequest(
            spec=_message(datamodel_pb2.SandboxSpec, spec), name=name or "")
        sb = self._unary("CreateSandbox", req).sandbox
        if not sb.id:
            raise SandboxError("gateway returned a sandbox without an id")
        return SandboxRef.from_proto(sb)

    def create_session(self, spec=None, name=None):
        from .sandbox import SandboxSession
        return SandboxSession(self, self.create(spec, name))

    def get(self, name):
        req = openshell_pb2.GetSandboxRequest(name=name)
        return SandboxRef.from_proto(self._unary("GetSandbox", req).sandbox)

    def get_session(self, name):
        from .sandbox import SandboxSession
        return SandboxSession(self, self.get(name))

    def list(self, limit=100, offset=0):
        req = openshell_pb2.ListSandboxesRequest(limit=limit, offset=offset)
        resp = self._unary("ListSandboxes", req)
        return [SandboxRef.from_proto(sb) for sb in resp.sandboxes]

    def list_ids(self, limit=100, offset=0):
        return [ref.id for ref in self.list(limit, offset)]

    def delete(self, name):
        """DeleteSandbox; True if the gateway deleted something."""
        req = openshell_pb2.DeleteSandboxRequest(name=name)
        return self._unary("DeleteSandbox", req).deleted

    def wait_ready(self, name, timeout_seconds=300):
        """Polls GetSandbox every second until the sandbox is READY
        (returns its ref); ERROR raises SandboxError, the deadline
        DeadlineExceededError."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            ref = self.get(name)
            if ref.phase == PHASE_READY:
                return ref
            if ref.phase == PHASE_ERROR:
                raise SandboxError("sandbox '%s' is in phase ERROR" % name)
            if time.monotonic() >= deadline:
                raise DeadlineExceededError(
                    "sandbox '%s' was not ready within %gs"
                    % (name, timeout_seconds))
            time.sleep(POLL_SECONDS)

    def wait_deleted(self, name, timeout_seconds=60):
        """Polls GetSandbox every second until it answers NOT_FOUND."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                self.get(name)
            except NotFoundError:
                return
            if time.monotonic() >= deadline:
                raise DeadlineExceededError(
                    "sandbox '%s' was not deleted within %gs"
                    % (name, timeout_seconds))
            time.sleep(POLL_SECONDS)

    # Exec

    def exec_stream(self, sandbox_id, command, workdir=None, env=None,
                    stdin=None, timeout_seconds=None):
        """Runs command (a list, or a string for sh -c) in the sandbox;
        yields ExecChunk objects as output arrives, then one ExecResult
        with the exit code and the whole output."""
        req = openshell_pb2.ExecSandboxRequest(
            sandbox_id=sandbox_id, command=_command(command),
            workdir=workdir or "", environment=dict(env or {}),
            timeout_seconds=int(timeout_seconds or 0),
            stdin=stdin.encode() if isinstance(stdin, str) else stdin or b"")
        deadline = None
        if timeout_seconds:
            deadline = timeout_seconds + self._timeout
        try:
            call = self._stub.ExecSandbox(req, timeout=deadline)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        return self._exec_events(CallStream(call))

    @staticmethod
    def _exec_events(stream):
        out, err = [], []
        for ev in stream:
            kind = ev.WhichOneof("payload")
            if kind == "stdout":
                out.append(ev.stdout.data)
                yield ExecChunk("stdout", ev.stdout.data)
            elif kind == "stderr":
                err.append(ev.stderr.data)
                yield ExecChunk("stderr", ev.stderr.data)
            elif kind == "exit":
                yield ExecResult(
                    ev.exit.exit_code,
                    b"".join(out).decode("utf-8", "replace"),
                    b"".join(err).decode("utf-8", "replace"))
                return
        raise SandboxError("exec stream ended without an exit status")

    def exec(self, sandbox_id, command, workdir=None, env=None, stdin=None,
             timeout_seconds=None, stream_output=False):
        """exec_stream run to the end; with stream_output the output is
        copied to this process's stdout/stderr as it arrives."""
        for item in self.exec_stream(sandbox_id, command, workdir, env,
                                     stdin, timeout_seconds):
            if isinstance(item, ExecResult):
                return item
            if stream_output:
                f = sys.stdout if item.stream == "stdout" else sys.stderr
                f.write(item.data.decode("utf-8", "replace"))
                f.flush()
        raise SandboxError("exec stream ended without an exit status")

    def exec_python(self, sandbox_id, fn, args=(), kwargs=None,
                    workdir=None, env=None, timeout_seconds=None,
                    stream_output=False, python="python3",
                    serializer="auto"):
        """Calls fn(*args, **kwargs) inside the sandbox (see pyfunc);
        a result other than None is printed to stdout."""
        environment = dict(env or {})
        environment[pyfunc.ENV] = pyfunc.encode(fn, args, kwargs, serializer)
        return self.exec(sandbox_id, [python, "-c", pyfunc.BOOTSTRAP],
                         workdir, environment, None, timeout_seconds,
                         stream_output)

    # Providers

    def create_provider(self, name, type, credentials, config=None):
        """CreateProvider; the reply's credential values are REDACTED."""
        prov = datamodel_pb2.Provider(name=name or "", type=type,
                                      credentials=dict(credentials or {}),
                                      config=dict(config or {}))
        req = openshell_pb2.CreateProviderRequest(provider=prov)
        return self._unary("CreateProvider", req).provider

    def get_provider(self, name):
        req = openshell_pb2.GetProviderRequest(name=name)
        return self._unary("GetProvider", req).provider

    def list_providers(self, limit=100, offset=0):
        req = openshell_pb2.ListProvidersRequest(limit=limit, offset=offset)
        return list(self._unary("ListProviders", req).providers)

    def update_provider(self, name, type="", credentials=None, config=None):
        """UpdateProvider: each given key is upserted, an empty value
        deletes the key, an empty or absent map leaves it alone."""
        prov = datamodel_pb2.Provider(name=name, type=type or "",
                                      credentials=dict(credentials or {}),
                                      config=dict(config or {}))
        req = openshell_pb2.UpdateProviderRequest(provider=prov)
        return self._unary("UpdateProvider", req).provider

    def delete_provider(self, name):
        req = openshell_pb2.DeleteProviderRequest(name=name)
        return self._unary("DeleteProvider", req).deleted

    # Policies and configuration

    def set_policy(self, name, policy):
        """UpdateConfig with a sandbox policy (a SandboxPolicy or a dict
        in its JSON form); returns UpdateConfigResponse (version,
        policy_hash).  An identical policy returns the same version."""
        req = openshell_pb2.UpdateConfigRequest(
            name=name, policy=_message(sandbox_pb2.SandboxPolicy, policy))
        return self._unary("UpdateConfig", req)

    def set_global_policy(self, policy):
        req = openshell_pb2.UpdateConfigRequest(
            policy=_message(sandbox_pb2.SandboxPolicy, policy))
        setattr(req, "global", True)
        return self._unary("UpdateConfig", req)

    def policy_status(self, name, version=0):
        """GetSandboxPolicyStatusResponse for revision version (0 =
        latest): revision (with the full policy) and active_version."""
        req = openshell_pb2.GetSandboxPolicyStatusRequest(name=name,
                                                          version=version)
        return self._unary("GetSandboxPolicyStatus", req)

    def list_policies(self, name, limit=50, offset=0):
        """Policy revisions, newest first (policy left empty)."""
        req = openshell_pb2.ListSandboxPoliciesRequest(
            name=name, limit=limit, offset=offset)
        return list(self._unary("ListSandboxPolicies", req).revisions)

    def sandbox_config(self, sandbox_id):
        """GetSandboxConfigResponse: the effective policy and settings."""
        req = sandbox_pb2.GetSandboxConfigRequest(sandbox_id=sandbox_id)
        return self._unary("GetSandboxConfig", req)

    def gateway_config(self):
        req = sandbox_pb2.GetGatewayConfigRequest()
        return self._unary("GetGatewayConfig", req)

    def provider_environment(self, sandbox_id):
        """The raw provider credentials of a sandbox, as an env dict."""
        req = openshell_pb2.GetSandboxProviderEnvironmentRequest(
            sandbox_id=sandbox_id)
        resp = self._unary("GetSandboxProviderEnvironment", req)
        return dict(resp.environment)

    # Logs and watch

    def logs(self, sandbox_id, lines=200, since_ms=0, sources=None,
             min_level=""):
        """The last lines log lines of a sandbox, oldest first, as a
        LogLines list (with buffer_total)."""
        req = openshell_pb2.GetSandboxLogsRequest(
            sandbox_id=sandbox_id, lines=lines, since_ms=since_ms,
            sources=list(sources or []), min_level=min_level or "")
        resp = self._unary("GetSandboxLogs", req)
        out = LogLines(resp.logs)
        out.buffer_total = resp.buffer_total
        return out

    def push_logs(self, sandbox_id, lines, timeout=None):
        """Streams lines (SandboxLogLine messages, dicts, or strings
        logged at INFO) to PushSandboxLogs in batches of 100."""
        def requests():
            batch = []
            for line in lines:
                batch.append(_log_line(line))
                if len(batch) == PUSH_BATCH:
                    yield openshell_pb2.PushSandboxLogsRequest(
                        sandbox_id=sandbox_id, logs=batch)
                    batch = []
            if batch:
                yield openshell_pb2.PushSandboxLogsRequest(
                    sandbox_id=sandbox_id, logs=batch)
        try:
            self._stub.PushSandboxLogs(requests(),
                                       timeout=timeout or self._timeout)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None

    def watch(self, sandbox_id, follow_status=True, follow_logs=False,
              follow_events=False, log_tail_lines=0, stop_on_terminal=False,
              log_since_ms=0, log_sources=None, log_min_level="",
              timeout=None):
        """WatchSandbox as a CallStream of SandboxStreamEvent messages:
        the sandbox snapshot first, then the followed events.  The
        stream stays open until cancel(), the end of a with block,
        stop_on_terminal, or the sandbox's deletion."""
        req = openshell_pb2.WatchSandboxRequest(
            id=sandbox_id, follow_status=follow_status,
            follow_logs=follow_logs, follow_events=follow_events,
            log_tail_lines=log_tail_lines, stop_on_terminal=stop_on_terminal,
            log_since_ms=log_since_ms, log_sources=list(log_sources or []),
            log_min_level=log_min_level or "")
        try:
            call = self._stub.WatchSandbox(req, timeout=timeout)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        return CallStream(call)
