"""The standard gRPC health check, as the CLI and the process supervisor ask it (and
the HTTP port's health page).

The platform's doors for people (the gateway's public port, each agency's officers'
desk) are server TLS: checked with the platform authority's certificate alone, so a
supervisor needs no key of anybody's to see that a service is up.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from trust.pki import PkiFiles
from trust.tls import server_only_channel


def health(address: str, service: str = "", timeout: float = 2.0,
           authority: PkiFiles | None = None,
           expect: list[tuple[str, str]] | None = None) -> str:
    """SERVING, NOT_SERVING, or DOWN with the gRPC code that said so. With `authority`
    the service is reached over TLS and must prove itself with that authority's
    certificate, as the party `expect` names (`trust.tls.expecting`); without, in
    plaintext (the Temporal dev server)."""
    if authority is None:
        channel = grpc.insecure_channel(address)
    else:
        try:
            channel = grpc.secure_channel(
                address, server_only_channel(authority.authority.read_bytes()),
                options=expect or [])
        except FileNotFoundError:
            return "DOWN (no platform authority certificate)"
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service),
                               timeout=timeout)
        except grpc.RpcError as err:
            return f"DOWN ({err.code().name})"
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def http_health(base_url: str, timeout: float = 2.0) -> str:
    """SERVING when the gateway's HTTP port answers its health page."""
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=timeout) as reply:
            return "SERVING" if reply.status == 200 else f"DOWN (HTTP {reply.status})"
    except urllib.error.HTTPError as err:
        return f"DOWN (HTTP {err.code})"
    except OSError as err:
        return f"DOWN ({type(err).__name__})"
