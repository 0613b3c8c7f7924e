"""The gateway's gRPC server: CaseService behind bearer authentication, plus the open
health and reflection services."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine
from temporalio.client import Client

from gateway.auth import BearerAuth
from gateway.oversight import OversightService
from gateway.service import CaseService
from observability import telemetry
from seamless.v1 import case_service_pb2, case_service_pb2_grpc, oversight_pb2, oversight_pb2_grpc
from workflows.catalog_loader import Catalog

SERVICE_NAME = case_service_pb2.DESCRIPTOR.services_by_name["CaseService"].full_name
OVERSIGHT_SERVICE_NAME = \
    oversight_pb2.DESCRIPTOR.services_by_name["OversightService"].full_name
# Every request is a few fields of text; anything near this is a mistake or an attack
# and gets RESOURCE_EXHAUSTED before it is parsed.
MAX_REQUEST_BYTES = 64 * 1024


@asynccontextmanager
async def run_server(*, client: Client, catalog: Catalog, token_hashes: Mapping[str, str],
                     agency_addresses: Mapping[str, str], task_queue: str,
                     ledger_engine: Engine, port: int = 0, host: str = "127.0.0.1"
                     ) -> AsyncIterator[int]:
    """Serve the gateway until the block ends; yields the bound port (0 picks one)."""
    server = grpc.aio.server(
        # Tracing first, so calls refused by authentication are traced too.
        interceptors=[*telemetry.grpc_server_interceptors(), BearerAuth(token_hashes)],
        options=[("grpc.max_receive_message_length", MAX_REQUEST_BYTES)])
    service = CaseService(client=client, catalog=catalog, task_queue=task_queue,
                          agency_addresses=agency_addresses)
    case_service_pb2_grpc.add_CaseServiceServicer_to_server(  # type: ignore[no-untyped-call]
        service, server)
    oversight_pb2_grpc.add_OversightServiceServicer_to_server(  # type: ignore[no-untyped-call]
        OversightService(ledger_engine=ledger_engine, catalog=catalog), server)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, OVERSIGHT_SERVICE_NAME,
         health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server)
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    await health.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    await health.set(OVERSIGHT_SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    try:
        yield bound
    finally:
        await health.enter_graceful_shutdown()
        await server.stop(grace=5)
        await service.close()
