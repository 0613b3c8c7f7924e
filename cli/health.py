"""The standard gRPC health check, as the CLI asks it."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def health(address: str, service: str = "", timeout: float = 2.0) -> str:
    """SERVING, NOT_SERVING, or DOWN with the gRPC code that said so."""
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service),
                               timeout=timeout)
        except grpc.RpcError as err:
            return f"DOWN ({err.code().name})"
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))
