# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Generated protobuf and gRPC modules (copied here by the build).

protoc writes cross-file imports by bare name (``import datamodel_pb2``),
so each module is also registered under its bare name before the next
one is loaded.  A bare module somebody imported first (for instance from
the build's python/proto directory) is reused rather than loaded again:
loading the same .proto twice would register it twice in the default
descriptor pool and give two incompatible sets of message classes."""

import importlib
import sys

_MODULES = (
    "sandbox_pb2", "datamodel_pb2", "openshell_pb2", "inference_pb2",
    "openshell_pb2_grpc", "inference_pb2_grpc",
)


def _load(name):
    mod = sys.modules.get(name)
    if mod is None:
        mod = importlib.import_module("." + name, __name__)
        sys.modules[name] = mod
    else:
        sys.modules[__name__ + "." + name] = mod
    return mod


for _name in _MODULES:
    globals()[_name] = _load(_name)

del _name
__all__ = list(_MODULES)
