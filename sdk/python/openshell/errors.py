# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Exceptions: one class per gRPC status the gateway uses.

Every exception is an OpenShellError, which is also a grpc.RpcError
with code() and details(), so code written against raw stubs (catching
grpc.RpcError and looking at code()) keeps working.  SandboxError is
the name the reference SDK raises; it is the same class."""

import grpc


class OpenShellError(grpc.RpcError):
    """An error from the gateway or from the SDK itself.

    status is the grpc.StatusCode (None for errors raised locally, e.g.
    a bad configuration), message the server's text unchanged."""

    status = None

    def __init__(self, message="", status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def code(self):
        return self.status

    def details(self):
        return self.message

    def __str__(self):
        if self.message:
            return self.message
        return self.status.name if self.status is not None else ""

    def __repr__(self):
        name = self.status.name if self.status is not None else None
        return "%s(%r, status=%s)" % (type(self).__name__, self.message,
                                      name)


SandboxError = OpenShellError


class ConfigError(OpenShellError):
    """No usable cluster configuration (active cluster, metadata, certs)."""


class NotFoundError(OpenShellError):
    status = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(OpenShellError):
    status = grpc.StatusCode.ALREADY_EXISTS


class InvalidArgumentError(OpenShellError):
    status = grpc.StatusCode.INVALID_ARGUMENT


class PermissionDeniedError(OpenShellError):
    status = grpc.StatusCode.PERMISSION_DENIED


class FailedPreconditionError(OpenShellError):
    status = grpc.StatusCode.FAILED_PRECONDITION


class UnavailableError(OpenShellError):
    status = grpc.StatusCode.UNAVAILABLE


class ResourceExhaustedError(OpenShellError):
    status = grpc.StatusCode.RESOURCE_EXHAUSTED


class DeadlineExceededError(OpenShellError):
    status = grpc.StatusCode.DEADLINE_EXCEEDED


class UnimplementedError(OpenShellError):
    status = grpc.StatusCode.UNIMPLEMENTED


class InternalError(OpenShellError):
    status = grpc.StatusCode.INTERNAL


class CancelledError(OpenShellError):
    status = grpc.StatusCode.CANCELLED


class AbortedError(OpenShellError):
    status = grpc.StatusCode.ABORTED


_BY_STATUS = {cls.status: cls for cls in (
    NotFoundError, AlreadyExistsError, InvalidArgumentError,
    PermissionDeniedError, FailedPreconditionError, UnavailableError,
    ResourceExhaustedError, DeadlineExceededError, UnimplementedError,
    InternalError, CancelledError, AbortedError)}


def from_rpc_error(err):
    """The typed exception for a grpc.RpcError (or a call that failed)."""
    if isinstance(err, OpenShellError):
        return err
    try:
        status = err.code()
        message = err.details() or ""
    except AttributeError:
        return OpenShellError(str(err), grpc.StatusCode.UNKNOWN)
    cls = _BY_STATUS.get(status, OpenShellError)
    return cls(message, status)
