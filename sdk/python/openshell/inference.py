# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""InferenceRouteClient: the gateway's openshell.inference.v1.Inference
service (the cluster-wide inference routes)."""

import grpc

from ._proto import inference_pb2, inference_pb2_grpc
from .errors import from_rpc_error
from .models import ClusterInferenceConfig

ROUTE_DEFAULT = "inference.local"
ROUTE_SYSTEM = "sandbox-system"


def _config(resp):
    return ClusterInferenceConfig(resp.provider_name, resp.model_id,
                                  resp.version, resp.route_name,
                                  resp.timeout_secs)


class InferenceRouteClient:
    """Sets and reads an inference route.  route_name "" is the default
    route inference.local; "sandbox-system" the other one."""

    def __init__(self, channel, timeout=30.0):
        self._stub = inference_pb2_grpc.InferenceStub(channel)
        self._timeout = timeout

    @classmethod
    def from_sandbox_client(cls, client):
        """A client sharing the SandboxClient's channel."""
        return cls(client.channel, timeout=client._timeout)

    @classmethod
    def from_active_cluster(cls, cluster=None, timeout=30.0):
        from .client import SandboxClient
        return cls.from_sandbox_client(
            SandboxClient.from_active_cluster(cluster, timeout))

    @property
    def stub(self):
        return self._stub

    def _unary(self, rpc, request, timeout):
        try:
            return getattr(self._stub, rpc)(request, timeout=timeout)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None

    def set_cluster(self, provider_name, model_id, no_verify=False,
                    route_name="", timeout_secs=0):
        """SetClusterInference; unless no_verify the gateway probes the
        provider's endpoint first, so the deadline allows for its 30 s."""
        req = inference_pb2.SetClusterInferenceRequest(
            provider_name=provider_name, model_id=model_id,
            route_name=route_name, no_verify=no_verify,
            timeout_secs=timeout_secs)
        resp = self._unary("SetClusterInference", req,
                           self._timeout + (0 if no_verify else 30))
        return _config(resp)

    def get_cluster(self, route_name=""):
        req = inference_pb2.GetClusterInferenceRequest(route_name=route_name)
        return _config(self._unary("GetClusterInference", req,
                                   self._timeout))

    def bundle(self):
        """GetInferenceBundleResponse: the resolved routes (with their
        raw API keys)."""
        return self._unary("GetInferenceBundle",
                           inference_pb2.GetInferenceBundleRequest(),
                           self._timeout)
