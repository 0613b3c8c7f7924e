"""A gateway in front of a real worker and real agency services, in this process, on
the session's Temporal dev server: fast enough to check every RPC from every side."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.message import Message
from sqlalchemy import Engine
from temporalio.client import Client

from agencies.server import run_server as run_agency
from gateway import credentials
from gateway.errors import error_info
from gateway.server import run_server as run_gateway
from observability import telemetry
from observability.ledger import open_ledger
from seamless.v1 import case_pb2, case_service_pb2_grpc, oversight_pb2_grpc
from workflows.agency_activities import AgencyActivities
from workflows.catalog_loader import Catalog
from workflows.ledger_activities import LedgerActivities
from workflows.to_proto import agency_to_proto
from workflows.worker import build_worker

NO_CREDENTIAL = ""
WRONG_CREDENTIAL = "not-a-token"


@dataclass
class Failure:
    code: grpc.StatusCode
    message: str
    reason: str
    metadata: dict[str, str]


class Gateway:
    def __init__(self, address: str, tokens: dict[str, str], ledger: Engine) -> None:
        self._channel = grpc.aio.insecure_channel(address)
        self.stub = case_service_pb2_grpc.CaseServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self.oversight = oversight_pb2_grpc.OversightServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self.tokens = tokens
        self.ledger = ledger  # the database the worker appends to

    def _metadata(self, caller: str) -> tuple[tuple[str, str], ...]:
        if caller == NO_CREDENTIAL:
            return ()
        return (("authorization", f"Bearer {self.tokens.get(caller, caller)}"),)

    async def export(self, request: Message, caller: str) -> bytes:
        chunks = self.oversight.ExportEventLog(request, metadata=self._metadata(caller),
                                               timeout=30)
        return b"".join([chunk.data async for chunk in chunks])

    async def call(self, method: str, request: Message, caller: str) -> Any:
        """Call as `caller` (an agency, NO_CREDENTIAL or WRONG_CREDENTIAL); a CaseService
        or an OversightService method."""
        stub = self.stub if hasattr(self.stub, method) else self.oversight
        return await getattr(stub, method)(request, metadata=self._metadata(caller),
                                           timeout=30)

    async def fails(self, method: str, request: Message, caller: str) -> Failure:
        try:
            await self.call(method, request, caller)
        except grpc.aio.AioRpcError as err:
            info = error_info(err)
            return Failure(err.code(), err.details() or "", info.reason if info else "",
                           dict(info.metadata) if info else {})
        raise AssertionError(f"{method} as {caller or 'nobody'} succeeded")

    async def close(self) -> None:
        await self._channel.close(grace=None)


@asynccontextmanager
async def running_gateway(client: Client, catalog: Catalog, root: Path
                          ) -> AsyncIterator[Gateway]:
    directory = catalog.directory
    identities = [*(a.id for a in directory.agencies), credentials.OVERSIGHT]
    table = credentials.ensure_credentials(root, identities)
    tokens = {identity: credentials.read_token(root, identity) for identity in identities}
    queue = f"gateway-{uuid.uuid4()}"
    # Traced as in production: context travels in Temporal headers from the gateway into
    # the workflow, its activities and the agencies.
    client = await Client.connect(client.service_client.config.target_host,
                                  namespace=client.namespace,
                                  interceptors=[telemetry.temporal_interceptor()])
    async with AsyncExitStack() as stack:
        addresses: dict[str, str] = {}
        for agency in directory.agencies:
            port = await stack.enter_async_context(run_agency(
                profile=agency_to_proto(agency),
                database_url=f"sqlite:///{root / (agency.id + '.db')}"))
            addresses[agency.id] = f"127.0.0.1:{port}"
        agencies = AgencyActivities(addresses)
        stack.push_async_callback(agencies.close)
        ledger_engine = open_ledger(f"sqlite:///{root / 'ledger.db'}")
        stack.callback(ledger_engine.dispose)
        ledger = LedgerActivities(ledger_engine)
        worker = build_worker(client, task_queue=queue, activities=[
            agencies.deliver_task, agencies.withdraw_task, agencies.send_notice,
            ledger.record_case_events])
        await stack.enter_async_context(worker)
        port = await stack.enter_async_context(run_gateway(
            client=client, catalog=catalog, token_hashes=table, agency_addresses=addresses,
            task_queue=queue, ledger_engine=ledger_engine))
        gateway = Gateway(f"127.0.0.1:{port}", tokens, ledger_engine)
        stack.push_async_callback(gateway.close)
        yield gateway


def task_of(case: case_pb2.Case, assignee: str) -> case_pb2.Task:
    return next(t for t in case.tasks if t.assignee == assignee)
