# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Python SDK for an OpenShell gateway.

    from openshell import SandboxClient
    with SandboxClient.from_active_cluster() as c:
        print(c.health().version)
        ref = c.create()

Generated messages and stubs: openshell._proto (openshell_pb2,
datamodel_pb2, sandbox_pb2, inference_pb2, *_pb2_grpc)."""

from .client import CallStream, SandboxClient
from .config import ClusterConfig, load_cluster
from .errors import (AbortedError, AlreadyExistsError, CancelledError,
                     ConfigError, DeadlineExceededError,
                     FailedPreconditionError, InternalError,
                     InvalidArgumentError, NotFoundError, OpenShellError,
                     PermissionDeniedError, ResourceExhaustedError,
                     SandboxError, UnavailableError, UnimplementedError,
                     from_rpc_error)
from .inference import InferenceRouteClient
from .models import (ClusterInferenceConfig, ExecChunk, ExecResult,
                     LogLines, SandboxRef, TlsConfig)
from .sandbox import Sandbox, SandboxSession

__all__ = [
    "TlsConfig", "SandboxRef", "ExecChunk", "ExecResult", "SandboxError",
    "SandboxSession", "SandboxClient", "ClusterInferenceConfig",
    "InferenceRouteClient", "Sandbox",
    "OpenShellError", "NotFoundError", "AlreadyExistsError",
    "InvalidArgumentError", "PermissionDeniedError",
    "FailedPreconditionError", "UnavailableError", "ResourceExhaustedError",
    "DeadlineExceededError", "UnimplementedError", "InternalError",
    "CancelledError", "AbortedError", "ConfigError", "from_rpc_error",
    "CallStream", "LogLines", "ClusterConfig", "load_cluster",
]
