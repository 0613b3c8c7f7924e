"""The gateway's servers: CaseService and OversightService behind authentication, plus
the open health and reflection services.

It listens three times: the public gRPC port (server TLS) for people, each call carrying
a signed session; the mutual-TLS port for the agencies' services, forwarding their
officers' signed acts; the HTTP port for people too, serving the same services as
HTTP/JSON (`gateway.http_api`) beside the console. All serve the same services through
the same handlers and checks.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from sqlalchemy import Engine
from temporalio.client import Client

from gateway.admission import Admission, AdmissionLimits
from gateway.agency_links import AgencyLinks
from gateway.auth import Authenticator
from gateway.case_numbers import CaseNumbers
from gateway.case_refs import CaseRefs
from gateway.case_service import CaseService
from gateway.codec_endpoint import PREFIX as CODEC_PREFIX
from gateway.codec_endpoint import codec_app
from gateway.console import console_app
from gateway.console.web import Keys
from gateway.evidence_http import MAX_UPLOAD_BYTES, EvidenceDoor, evidence_app
from gateway.evidence_http import PREFIX as EVIDENCE_PREFIX
from gateway.http_api import Operations, connect_apps
from gateway.http_server import ASGIApp, BodyLimit, ByPrefix, Dispatch, serve_http
from gateway.open311.app import PREFIX as OPEN311_PREFIX
from gateway.open311.app import open311_app
from gateway.open311.keys import ApiKeys
from gateway.oversight_service import OversightService
from gateway.reports.intake import Intake
from gateway.reports.report_service import ReportService
from gateway.reports.store import ReportStore
from observability import telemetry
from seamless.v1 import (
    case_service_pb2,
    case_service_pb2_grpc,
    oversight_pb2,
    oversight_pb2_grpc,
    report_pb2,
    report_pb2_grpc,
)
from trust import tls
from trust.pki import CertificateStore, Identity
from workflows import reconcile
from workflows.catalog_loader import Catalog
from workflows.dispatch_catalog import load_dispatch_catalog
from workflows.envelopes import EnvelopeCodec

SERVICE_NAME = case_service_pb2.DESCRIPTOR.services_by_name["CaseService"].full_name
OVERSIGHT_SERVICE_NAME = \
    oversight_pb2.DESCRIPTOR.services_by_name["OversightService"].full_name
REPORT_SERVICE_NAME = report_pb2.DESCRIPTOR.services_by_name["ReportService"].full_name
# Every request is a few fields of text; anything near this is a mistake or an attack
# and gets RESOURCE_EXHAUSTED before it is parsed.
MAX_REQUEST_BYTES = 64 * 1024
# What the HTTP port reads of any body at most, whatever its headers say.
MAX_HTTP_BODY_BYTES = 4 * MAX_REQUEST_BYTES


@dataclass(frozen=True)
class GatewayPorts:
    # Server TLS: people, with a signed session.
    public: int
    # Mutual TLS: the agencies' services.
    agencies: int
    # HTTP: the same services as HTTP/JSON (Connect), and the console.
    http: int


@asynccontextmanager
async def run_server(*, client: Client, catalog: Catalog, identity: Identity,
                     store: CertificateStore, agency_addresses: Mapping[str, str],
                     session_issuers: Collection[str], task_queue: str,
                     ledger_engine: Engine, numbers_engine: Engine,
                     witness_engine: Engine | None = None, limits: AdmissionLimits | None = None,
                     port: int = 0, mtls_port: int = 0, http_port: int = 0,
                     host: str = "127.0.0.1", trusted_proxies: str = "",
                     codec_ui_origins: str = "", open311_public_url: str = ""
                     ) -> AsyncIterator[GatewayPorts]:
    """Serve the gateway until the block ends; yields the bound ports (0 picks one).

    `agency_addresses` are the agencies' (and the oversight body's) mutual-TLS ports;
    `session_issuers` the ids whose signed sessions are accepted; `witness_engine` holds
    the worker's checkpoints of the ledger, which the ledger's audit checks it against;
    `numbers_engine` the gateway's own table of case numbers; `limits` what one identity
    may use of the gateway (`gateway.admission`); `trusted_proxies` the addresses (or
    networks) of the proxies in front of the HTTP port whose X-Forwarded-For is believed
    (none by default: a client's address is the connection's); `codec_ui_origins` the
    origins of the Temporal UI whose browsers may ask the engine's codec endpoint
    (`gateway.codec_endpoint`) to open payloads for oversight staff; `open311_public_url`
    Open311's address as its clients reach it (else the one it is bound to)."""
    links = AgencyLinks(agency_addresses, identity)
    numbers = CaseNumbers(numbers_engine, catalog.calendar.tz)
    refs = CaseRefs(client, numbers)
    intake = Intake(client=client, catalog=catalog, dispatch=load_dispatch_catalog(catalog),
                    store=ReportStore(numbers_engine, catalog.calendar.tz), numbers=numbers,
                    task_queue=task_queue)
    admission = Admission(limits)
    authenticator = Authenticator(store=store, links=links, issuers=session_issuers,
                                  admission=admission)
    server = grpc.aio.server(
        # Tracing first, so calls refused by authentication are traced too.
        interceptors=[*telemetry.grpc_server_interceptors(), authenticator.guard()],
        options=[("grpc.max_receive_message_length", MAX_REQUEST_BYTES), tls.EXCLUSIVE_PORT])
    case_service = CaseService(client=client, catalog=catalog, task_queue=task_queue,
                               links=links, store=store, numbers=numbers, refs=refs,
                               ledger=ledger_engine)
    oversight_service = OversightService(
        ledger_engine=ledger_engine, catalog=catalog, store=store,
        witness_engine=witness_engine, refs=refs,
        engine_check=functools.partial(reconcile.reconcile, client, ledger_engine,
                                       task_queue=task_queue))
    report_service = ReportService(client=client, intake=intake, refs=refs,
                                   ledger=ledger_engine)
    case_service_pb2_grpc.add_CaseServiceServicer_to_server(  # type: ignore[no-untyped-call]
        case_service, server)
    report_pb2_grpc.add_ReportServiceServicer_to_server(  # type: ignore[no-untyped-call]
        report_service, server)
    oversight_pb2_grpc.add_OversightServiceServicer_to_server(  # type: ignore[no-untyped-call]
        oversight_service, server)
    operations = Operations(case_service=case_service, oversight_service=oversight_service,
                            report_service=report_service, identify=authenticator.identify,
                            admission=admission)
    open311 = open311_app(intake, ApiKeys(numbers_engine), ledger=ledger_engine,
                          catalog=catalog, public_url=open311_public_url)
    # Every route's body bounded as it arrives, a ceiling above every route's own bound:
    # each route refuses a body over its bound in its own words (Connect's
    # RESOURCE_EXHAUSTED, sign-in's 4 KiB), having read at most this much.
    mounts: list[tuple[str, ASGIApp]] = []
    if isinstance(client.data_converter.payload_codec, EnvelopeCodec):
        mounts.append((CODEC_PREFIX, codec_app(
            client.data_converter.payload_codec, authenticator.identify,
            ui_origins=[o.strip() for o in codec_ui_origins.split(",") if o.strip()])))
    keys = Keys()
    evidence = EvidenceDoor(authenticator=authenticator, links=links, refs=refs,
                            ledger=ledger_engine, coordinator=catalog.directory.coordinator,
                            keys=keys)
    http_app = ByPrefix(
        # Evidence files stream through with a bound of their own (a file, not a form);
        # Open311 bounds its own (a form, or a form with a reporter's photo).
        EVIDENCE_PREFIX, BodyLimit(evidence_app(evidence), max_bytes=MAX_UPLOAD_BYTES),
        ByPrefix(OPEN311_PREFIX, open311, BodyLimit(
            Dispatch(connect_apps(operations, read_max_bytes=MAX_REQUEST_BYTES),
                     mounts=mounts,
                     console=console_app(operations=operations, links=links, store=store,
                                         catalog=catalog, dispatch=intake.dispatch,
                                         keys=keys, evidence=evidence, ledger=ledger_engine)),
            max_bytes=MAX_HTTP_BODY_BYTES, declared=False)))
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, OVERSIGHT_SERVICE_NAME, REPORT_SERVICE_NAME,
         health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server)
    public = server.add_secure_port(f"{host}:{port}", tls.server_tls(identity))
    agencies = server.add_secure_port(f"{host}:{mtls_port}", tls.mutual_tls_server(identity))
    await server.start()
    for name in ("", SERVICE_NAME, OVERSIGHT_SERVICE_NAME, REPORT_SERVICE_NAME):
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    routing = asyncio.create_task(intake.keep_routing())
    try:
        async with serve_http(http_app, host, http_port,
                              trusted_proxies=trusted_proxies) as http:
            yield GatewayPorts(public=public, agencies=agencies, http=http)
    finally:
        routing.cancel()
        await health.enter_graceful_shutdown()
        await server.stop(grace=5)
        await links.close()
