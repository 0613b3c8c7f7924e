"""Mutual TLS as the platform uses it: a caller is known by its certificate, and a
caller reaches the party it asked for or nobody."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from tests.trust.kit import Kit, new_kit
from trust.pki import Party, Role
from trust.tls import expecting, mutual_tls_channel, mutual_tls_server, peer_party

NR, HEALTH = "natural-resources", "health"


class _Echo(HealthServicer):  # type: ignore[misc]  # grpc_health ships no types
    """Health, answering with who called (in the status: SERVING for the worker)."""

    def __init__(self) -> None:
        super().__init__()
        self.callers: list[Party | None] = []

    async def Check(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC's name
        self.callers.append(peer_party(context))
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return new_kit(tmp_path)


async def _serving(kit: Kit, party: str) -> AsyncIterator[tuple[int, _Echo]]:
    server = grpc.aio.server()
    echo = _Echo()
    health_pb2_grpc.add_HealthServicer_to_server(echo, server)
    port = server.add_secure_port("127.0.0.1:0",
                                  mutual_tls_server(kit.party(party, Role.AGENCY)))
    await server.start()
    try:
        yield port, echo
    finally:
        await server.stop(None)


async def _check(kit: Kit, port: int, expect: str) -> grpc.StatusCode:
    credentials = mutual_tls_channel(kit.party("worker", Role.WORKER))
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials,
                                       options=expecting(Role.AGENCY, expect)) as channel:
        try:
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                            timeout=5)
        except grpc.aio.AioRpcError as err:
            return err.code()
    return grpc.StatusCode.OK


async def test_the_callee_knows_the_caller_and_the_caller_its_callee(kit: Kit) -> None:
    async for port, echo in _serving(kit, NR):
        assert await _check(kit, port, NR) is grpc.StatusCode.OK
        assert echo.callers == [Party("worker", Role.WORKER)]


async def test_another_party_cannot_pose_as_the_one_asked_for(kit: Kit) -> None:
    # The health agency's service, with its own valid certificate, on a port where the
    # worker expects natural resources: the handshake fails before anything is sent.
    async for port, echo in _serving(kit, HEALTH):
        assert await _check(kit, port, NR) is grpc.StatusCode.UNAVAILABLE
        assert echo.callers == []
