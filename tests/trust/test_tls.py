"""Mutual TLS as the platform uses it: a caller is known by its certificate, and a
caller reaches the party it asked for or nobody."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from tests.trust.kit import Kit, new_kit
from trust.authority import retire_key
from trust.pki import CertificateStore, Identity, Party, Role
from trust.statements import Signer, StatementError, StatementType, verify
from trust.tls import expecting, mutual_tls_channel, mutual_tls_server, peer_party

NR, HEALTH = "natural-resources", "health"


class _Echo(HealthServicer):  # type: ignore[misc]  # grpc_health ships no types
    """Health, answering with who called (in the status: SERVING for the worker)."""

    def __init__(self, store: CertificateStore) -> None:
        super().__init__()
        self.store = store
        self.callers: list[Party | None] = []

    async def Check(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC's name
        self.callers.append(peer_party(context, self.store))
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return new_kit(tmp_path)


async def _serving(kit: Kit, party: str) -> AsyncIterator[tuple[int, _Echo]]:
    server = grpc.aio.server()
    echo = _Echo(kit.store())
    health_pb2_grpc.add_HealthServicer_to_server(echo, server)
    port = server.add_secure_port("127.0.0.1:0",
                                  mutual_tls_server(kit.party(party, Role.AGENCY)))
    await server.start()
    try:
        yield port, echo
    finally:
        await server.stop(None)


async def _check(kit: Kit, port: int, expect: str, caller: Identity | None = None
                 ) -> grpc.StatusCode:
    credentials = mutual_tls_channel(caller or kit.party("worker", Role.WORKER))
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


async def test_a_retired_key_is_nobody_in_a_handshake_and_in_what_it_signs_later(
        kit: Kit) -> None:
    worker = kit.party("worker", Role.WORKER)
    old_signer = Signer(worker)
    before = old_signer.sign(StatementType.COMMAND, {"n": 1},
                             at=datetime.now(UTC) - timedelta(minutes=5))
    kid = retire_key(kit.pki, kit.authority_key, kit.files("worker"),
                     Party("worker", Role.WORKER))
    assert kid == worker.kid
    store = kit.store()
    assert store.retired(kid)
    # Presented now, nothing it signed holds, whatever date it bears (a stolen key signs
    # any date); of record (the ledger's proofs), what it signed before still holds.
    with pytest.raises(StatementError, match="retired"):
        verify(before, store, StatementType.COMMAND, roles=(Role.WORKER,))
    assert verify(before, store, StatementType.COMMAND, roles=(Role.WORKER,),
                  of_record=True).signer == Party("worker", Role.WORKER)
    with pytest.raises(StatementError, match="not valid"):
        verify(old_signer.sign(StatementType.COMMAND, {"n": 2}, at=datetime.now(UTC)),
               store, StatementType.COMMAND, roles=(Role.WORKER,), of_record=True)
    # A handshake with the old key is still a CA-issued certificate, and the callee
    # takes it for nobody; the new key is the worker.
    renewed = Identity.load(kit.files("worker"), kit.pki)
    async for port, echo in _serving(kit, NR):
        assert await _check(kit, port, NR, caller=worker) is grpc.StatusCode.OK
        assert await _check(kit, port, NR, caller=renewed) is grpc.StatusCode.OK
        assert echo.callers == [None, Party("worker", Role.WORKER)]
