"""A gateway in front of a real worker and real agency services, in this process, on
the session's Temporal dev server: fast enough to check every RPC from every side.

Everything is provisioned as `seamless up` provisions it (the platform's authority, each
party's certificate, the demo officers), every hop is TLS as in production, and callers
are officers signed in at their agency's desk.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx
from google.protobuf import json_format, message_factory
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from sqlalchemy import Engine
from temporalio.client import Client

from agencies.gateway_link import GatewayLink
from agencies.roster import read_seed
from agencies.server import run_server as run_agency
from cli import datadir
from cli.provision import DUTY_OFFICER, bodies, demo_password, first_head, provision
from gateway.admission import AdmissionLimits, Share
from gateway.case_numbers import open_case_numbers
from gateway.errors import error_info
from gateway.server import run_server as run_gateway
from observability import telemetry
from observability.ledger import open_ledger, read_ledger
from observability.witness import Witness, keep_witness, open_witness, read_witness
from records.participation import OVERSIGHT, role_of
from seamless.v1 import (
    agency_pb2_grpc,
    case_pb2,
    case_service_pb2,
    case_service_pb2_grpc,
    oversight_pb2,
    oversight_pb2_grpc,
    report_pb2,
    report_pb2_grpc,
    roster_pb2,
    roster_pb2_grpc,
)
from tests.ports import free_ports
from trust.pki import CertificateStore, Identity, Role
from trust.statements import Signer, StatementType
from trust.tls import expecting, server_only_channel
from workflows.agency_activities import AgencyActivities
from workflows.catalog_loader import Catalog
from workflows.ledger_activities import LedgerActivities
from workflows.seals import Sealer, SealVerifier
from workflows.worker import build_worker

# A connection per request: the server closes a connection idle for its keep-alive (5 s)
# and a client reusing it at that instant reads nothing (httpx.ReadError), as a busy CI
# machine found.
FRESH_CONNECTIONS = httpx.Limits(max_keepalive_connections=0)

NO_CREDENTIAL = ""
WRONG_CREDENTIAL = "not-a-token"
# The two transports people call the gateway on: gRPC, and HTTP/JSON (Connect).
TRANSPORTS = ("grpc", "http")
SERVICES = (case_service_pb2.DESCRIPTOR.services_by_name["CaseService"],
            oversight_pb2.DESCRIPTOR.services_by_name["OversightService"],
            report_pb2.DESCRIPTOR.services_by_name["ReportService"])


@dataclass
class Failure:
    code: grpc.StatusCode
    message: str
    reason: str
    metadata: dict[str, str]



# The agency and id of the first head `running_gateway` adds as an operator would.
FIRST_HEAD_AGENCY, FIRST_HEAD = "jinhaihu-township", "wu.first-head"


class Gateway:
    # The first head's one-time password (to be changed at their first sign-in).
    first_head_password = ""

    def __init__(self, root: Path, address: str, mtls_address: str, desks: dict[str, str],
                 ledger: Engine, http_url: str) -> None:
        self.root = root
        self.address = address
        self.mtls_address = mtls_address
        self.http_url = http_url
        self.http = httpx.AsyncClient(base_url=http_url, timeout=30, limits=FRESH_CONNECTIONS)
        self.authority = datadir.pki(root).authority.read_bytes()
        self._channel = grpc.aio.secure_channel(address, server_only_channel(self.authority),
                                                options=expecting(Role.GATEWAY))
        self.stub = case_service_pb2_grpc.CaseServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self.oversight = oversight_pb2_grpc.OversightServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self.reports = report_pb2_grpc.ReportServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self.desks = desks
        self.ledger = ledger  # the database the worker appends to
        self.witness: Witness | None = None
        self.witness_engine: Engine | None = None
        self.client: Client | None = None
        self.task_queue = ""
        self.numbers_engine: Engine | None = None
        # Sessions by caller: an agency (its duty officer) or "officer@agency".
        self.sessions: dict[str, str] = {}

    def identity(self, party: str) -> Identity:
        """A party's identity as provisioned (for tests that play that party)."""
        return Identity.load(datadir.identity(self.root, party), datadir.pki(self.root))

    def desk(self, agency: str) -> grpc.aio.Channel:
        return grpc.aio.secure_channel(self.desks[agency],
                                       server_only_channel(self.authority),
                                       options=expecting(role_of(agency), agency))

    async def sign_in(self, agency: str, officer: str = DUTY_OFFICER,
                      password: str | None = None) -> str:
        """A fresh session of a demo officer, signed in at the agency's desk."""
        password = password or demo_password(self.root, agency, officer)
        assert password is not None
        async with self.desk(agency) as channel:
            reply = await roster_pb2_grpc.RosterServiceStub(channel).SignIn(  # type: ignore[no-untyped-call]
                roster_pb2.SignInRequest(officer_id=officer, password=password), timeout=30)
        session: str = reply.session
        return session

    async def session(self, caller: str) -> str:
        """The session of `caller`: an agency's duty officer, or "officer@agency"."""
        if caller not in self.sessions:
            officer, _, agency = caller.rpartition("@")
            self.sessions[caller] = await self.sign_in(agency, officer or DUTY_OFFICER)
        return self.sessions[caller]

    async def _metadata(self, caller: str) -> tuple[tuple[str, str], ...]:
        if caller == NO_CREDENTIAL:
            return ()
        token = WRONG_CREDENTIAL if caller == WRONG_CREDENTIAL else await self.session(caller)
        return (("authorization", f"Bearer {token}"),)

    async def export(self, request: Message, caller: str) -> bytes:
        chunks = self.oversight.ExportEventLog(request, metadata=await self._metadata(caller),
                                               timeout=30)
        return b"".join([chunk.data async for chunk in chunks])

    async def call(self, method: str, request: Message, caller: str,
                   transport: str = "grpc") -> Any:
        """Call as `caller` (an agency's duty officer, "officer@agency", NO_CREDENTIAL or
        WRONG_CREDENTIAL); a CaseService or an OversightService method, over gRPC or
        as a plain HTTP/JSON post (what curl sends)."""
        if transport == "http":
            return await self.post(method, request, caller)
        stub = next(s for s in (self.stub, self.oversight, self.reports) if hasattr(s, method))
        return await getattr(stub, method)(request, metadata=await self._metadata(caller),
                                           timeout=30)

    async def fails(self, method: str, request: Message, caller: str,
                    transport: str = "grpc") -> Failure:
        try:
            await self.call(method, request, caller, transport)
        except grpc.aio.AioRpcError as err:
            return failure(err)
        except HttpFailure as err:
            return err.failure
        raise AssertionError(f"{method} as {caller or 'nobody'} succeeded over {transport}")

    async def post(self, method: str, request: Message, caller: str) -> Any:
        service, output = _method(method)
        reply = await self.http.post(
            f"/{service}/{method}", content=json_format.MessageToJson(request),
            headers={"content-type": "application/json", **dict(await self._metadata(caller))})
        if reply.status_code != 200:
            raise HttpFailure(http_failure(reply))
        return json_format.Parse(reply.content, output())

    async def act(self, agency: str, request: Message, caller: str = "") -> Any:
        """ActOnTask at the agency's desk, as its duty officer (or `caller`)."""
        async with self.desk(agency) as channel:
            stub = agency_pb2_grpc.AgencyServiceStub(channel)  # type: ignore[no-untyped-call]
            return await stub.ActOnTask(request, metadata=await self._metadata(
                caller or agency), timeout=30)

    async def close(self) -> None:
        await self._channel.close(grace=None)
        await self.http.aclose()


def _method(name: str) -> tuple[str, type[Message]]:
    for service in SERVICES:
        if name in service.methods_by_name:
            output = message_factory.GetMessageClass(service.methods_by_name[name].output_type)
            return service.full_name, output
    raise KeyError(name)


class HttpFailure(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def http_failure(reply: httpx.Response) -> Failure:
    """A Connect error body as the Failure a gRPC status would give."""
    body = reply.json()
    info = error_details_pb2.ErrorInfo()
    for detail in body.get("details", []):
        if detail["type"] == info.DESCRIPTOR.full_name:
            info.ParseFromString(base64.b64decode(detail["value"] + "=="))
    code = grpc.StatusCode[body["code"].upper().replace("CANCELED", "CANCELLED")]
    return Failure(code, body.get("message", ""), info.reason, dict(info.metadata))


def failure(err: grpc.aio.AioRpcError) -> Failure:
    info = error_info(err)
    return Failure(err.code(), err.details() or "", info.reason if info else "",
                   dict(info.metadata) if info else {})


# A test session sends a whole suite's calls through a handful of identities, far
# faster than any person: their pace is raised. Calls in flight and whole-ledger jobs
# keep the production bounds (tests/gateway/test_owasp.py tries them; the pace is tried
# in test_admission.py).
TEST_LIMITS = AdmissionLimits(person=Share(rate=10_000.0, burst=10_000, in_flight=64))


@asynccontextmanager
async def running_gateway(client: Client, catalog: Catalog, root: Path
                          ) -> AsyncIterator[Gateway]:
    provision(root, catalog, demo_officers=True)
    # A first head the operator added (production's way in), with a one-time password.
    first_head_password = first_head(root, catalog, f"{FIRST_HEAD_AGENCY}:{FIRST_HEAD}")
    pki = datadir.pki(root)
    store = CertificateStore.load(pki)

    def identity(party: str) -> Identity:
        return Identity.load(datadir.identity(root, party), pki)

    queue = f"gateway-{uuid.uuid4()}"
    gateway_identity = identity("gateway")
    # Traced as in production: context travels in Temporal headers from the gateway into
    # the workflow, its activities and the agencies; and the gateway seals its commands.
    traced = Client(client.service_client, namespace=client.namespace,
                    interceptors=[telemetry.temporal_interceptor()])
    sealed = Client(client.service_client, namespace=client.namespace,
                    interceptors=[telemetry.temporal_interceptor(),
                                  Sealer(Signer(gateway_identity))])
    gateway_port, gateway_mtls = free_ports(2)
    async with AsyncExitStack() as stack:
        addresses: dict[str, str] = {}
        desks: dict[str, str] = {}
        for profile, _role in bodies(catalog):
            folder = datadir.agency_folder(root, profile.id)
            agency_identity = identity(profile.id)
            agency_ports = await stack.enter_async_context(run_agency(
                profile=profile, database_url=f"sqlite:///{root / (profile.id + '.db')}",
                identity=agency_identity, store=store,
                gateway=GatewayLink(f"127.0.0.1:{gateway_mtls}", agency_identity),
                roster_seed=read_seed(folder / "roster-seed.json"),
                evidence_dir=root / "evidence" / profile.id))
            addresses[profile.id] = f"127.0.0.1:{agency_ports.parties}"
            desks[profile.id] = f"127.0.0.1:{agency_ports.desk}"
        deliverable = {a: address for a, address in addresses.items() if a != OVERSIGHT}
        agencies = AgencyActivities(deliverable, identity("worker"), store)
        stack.push_async_callback(agencies.close)
        ledger_engine = open_ledger(f"sqlite:///{root / 'ledger.db'}")
        stack.callback(ledger_engine.dispose)
        numbers_engine = open_case_numbers(f"sqlite:///{root / 'gateway.db'}")
        stack.callback(numbers_engine.dispose)
        witness_engine = open_witness(f"sqlite:///{root / 'witness.db'}")
        stack.callback(witness_engine.dispose)
        # The gateway reads both as its process does: the databases refuse its writes.
        gateway_ledger = read_ledger(f"sqlite:///{root / 'ledger.db'}")
        stack.callback(gateway_ledger.dispose)
        gateway_witness = read_witness(f"sqlite:///{root / 'witness.db'}")
        stack.callback(gateway_witness.dispose)
        worker_signer = Signer(identity("worker"))
        witness = Witness(witness_engine, ledger_engine, lambda claims, at: worker_signer.sign(
            StatementType.CHECKPOINT, claims, at=at))
        ledger = LedgerActivities(ledger_engine, witness)
        # Checkpoints as the worker process takes them, only more often.
        stop_witness = asyncio.Event()
        witnessing = asyncio.create_task(keep_witness(witness, stop_witness,
                                                      timedelta(seconds=1)))

        async def last_checkpoint() -> None:
            stop_witness.set()
            await witnessing
        stack.push_async_callback(last_checkpoint)
        worker = build_worker(traced, task_queue=queue, activities=[
            agencies.deliver_task, agencies.withdraw_task, agencies.send_notice,
            ledger.record_case_events], seals=SealVerifier(store))
        await stack.enter_async_context(worker)
        ports = await stack.enter_async_context(run_gateway(
            client=sealed, catalog=catalog, identity=gateway_identity, store=store,
            agency_addresses=addresses, session_issuers=list(addresses), task_queue=queue,
            ledger_engine=gateway_ledger, witness_engine=gateway_witness,
            numbers_engine=numbers_engine, limits=TEST_LIMITS, port=gateway_port,
            # As if a proxy on this host named each client: the throttles' tests play
            # clients of their own (a gateway trusting no proxy is tested apart).
            mtls_port=gateway_mtls, trusted_proxies="127.0.0.1"))
        gateway = Gateway(root, f"127.0.0.1:{ports.public}", f"127.0.0.1:{ports.agencies}",
                          desks, ledger_engine, f"http://127.0.0.1:{ports.http}")
        gateway.first_head_password = first_head_password
        gateway.witness, gateway.witness_engine = witness, witness_engine
        # What the gateway was built with, for tests that build a second door beside it.
        gateway.client, gateway.task_queue = sealed, queue
        gateway.numbers_engine = numbers_engine
        stack.push_async_callback(gateway.close)
        yield gateway


def task_of(case: case_pb2.Case, assignee: str) -> case_pb2.Task:
    return next(t for t in case.tasks if t.assignee == assignee)
