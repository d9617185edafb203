# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Plain value types returned by the SDK."""

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class TlsConfig:
    """Paths of the PEM files for mutual TLS."""

    ca_path: str
    cert_path: str
    key_path: str

    def read(self):
        """(ca, cert, key) as bytes, for grpc.ssl_channel_credentials."""
        out = []
        for path in (self.ca_path, self.cert_path, self.key_path):
            with open(path, "rb") as f:
                out.append(f.read())
        return tuple(out)


@dataclass(frozen=True)
class SandboxRef:
    """A sandbox as the SDK hands it out.  phase is the SandboxPhase
    number; sandbox is the full datamodel Sandbox message (not compared,
    not shown)."""

    id: str
    name: str
    namespace: str
    phase: int
    sandbox: Optional[Any] = field(default=None, compare=False, repr=False)

    @classmethod
    def from_proto(cls, sb):
        return cls(sb.id, sb.name, sb.namespace, int(sb.phase), sb)


@dataclass(frozen=True)
class ExecChunk:
    """A piece of a command's output; stream is "stdout" or "stderr"."""

    stream: str
    data: bytes


@dataclass(frozen=True)
class ExecResult:
    """A finished command: its exit code and its output decoded as UTF-8
    (undecodable bytes replaced)."""

    exit_code: int
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class ClusterInferenceConfig:
    """The configured inference route (provider and model by name)."""

    provider_name: str
    model_id: str
    version: int
    route_name: str = ""
    timeout_secs: int = 0


class LogLines(list):
    """The lines of GetSandboxLogs, oldest first; buffer_total is the
    number of ring entries considered before filtering."""

    buffer_total = 0
