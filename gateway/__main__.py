"""The gateway process: `python -m gateway` (started by `seamless up`)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from pathlib import Path

from pydantic_settings import SettingsConfigDict
from sqlalchemy import Engine

from gateway.case_numbers import open_case_numbers
from gateway.engine_clock import EngineClock
from gateway.server import run_server
from observability import telemetry
from observability.ledger import read_ledger
from observability.witness import read_witness
from records import participation
from trust.files import private_umask
from trust.pki import CertificateStore, Identity, IdentityFiles, PkiFiles, Role
from trust.statements import Signer
from workflows.catalog_loader import DEFAULT_CATALOG, load_catalog
from workflows.client import TASK_QUEUE
from workflows.connect import TemporalSettings, connect
from workflows.seals import Sealer


class GatewaySettings(TemporalSettings):
    model_config = SettingsConfigDict(env_prefix="SEAMLESS_")

    task_queue: str = TASK_QUEUE
    gateway_host: str = "127.0.0.1"
    # Server TLS, for people; mutual TLS, for the agencies' services.
    gateway_port: int = 50051
    gateway_mtls_port: int = 50052
    # HTTP: the services as HTTP/JSON, and the console.
    gateway_http_port: int = 8080
    # The proxies in front of the HTTP port whose X-Forwarded-For names the client
    # (comma-separated addresses or networks); none by default.
    gateway_trusted_proxies: str = ""
    # The origins of the Temporal UI allowed to ask the engine's codec endpoint
    # (comma-separated; `seamless up` sets its own UI's).
    gateway_codec_ui_origins: str = ""
    # Open311 as its clients reach it (https://city.example/open311/v2): discovery's url
    # and where reporters' photos are published. By default the address it is bound to.
    gateway_open311_public_url: str = ""
    # The gateway's own key and certificate; the platform's public certificates.
    identity_dir: Path
    pki_dir: Path
    # The agencies' (and the oversight body's) mutual-TLS ports, as JSON.
    agency_addresses: dict[str, str]
    catalog_dir: Path = DEFAULT_CATALOG
    # The ledger the worker appends to, and the worker's checkpoints of it: oversight
    # reads both, and may not write either (`records`).
    ledger_database_url: str
    witness_database_url: str
    # The gateway's own: the case numbers it has given out.
    gateway_database_url: str
    # The passwords of database URLs that name a user, each read from a file (a secret).
    ledger_database_password_file: Path | None = None
    witness_database_password_file: Path | None = None
    gateway_database_password_file: Path | None = None


def records(settings: GatewaySettings) -> tuple[Engine, Engine]:
    """The ledger (with its gap store) and the worker's checkpoints, opened so that the
    databases refuse the gateway's writes: a flaw anywhere in the gateway, the one part
    facing the network, cannot alter the record it serves. The worker owns both and
    migrates them (`seamless up` migrates every database before any process starts);
    the gateway waits for that rather than migrating."""
    return (read_ledger(settings.ledger_database_url,
                        password_file=settings.ledger_database_password_file),
            read_witness(settings.witness_database_url,
                         password_file=settings.witness_database_password_file))


async def serve(settings: GatewaySettings) -> None:
    # First, while SIGTERM still ends the process at once: this may wait for the worker.
    ledger_engine, witness_engine = records(settings)
    catalog = load_catalog(settings.catalog_dir)
    pki = PkiFiles(settings.pki_dir)
    identity = Identity.load(IdentityFiles(settings.identity_dir), pki, expect=Role.GATEWAY)
    # Every command the gateway sends to a case goes sealed with its key, once its
    # clock is one the engine will believe.
    engine_clock = EngineClock(settings.temporal_namespace, settings.task_queue)
    client = await connect(settings, interceptors=[
        Sealer(Signer(identity), before_sealing=engine_clock.check)])
    engine_clock.client = client
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    issuers = [*(a.id for a in catalog.directory.agencies), participation.OVERSIGHT]
    async with run_server(client=client, catalog=catalog, identity=identity,
                          store=CertificateStore.load(pki),
                          agency_addresses=settings.agency_addresses,
                          session_issuers=issuers, task_queue=settings.task_queue,
                          ledger_engine=ledger_engine, witness_engine=witness_engine,
                          numbers_engine=open_case_numbers(
                              settings.gateway_database_url,
                              password_file=settings.gateway_database_password_file),
                          port=settings.gateway_port, mtls_port=settings.gateway_mtls_port,
                          http_port=settings.gateway_http_port,
                          host=settings.gateway_host,
                          trusted_proxies=settings.gateway_trusted_proxies,
                          codec_ui_origins=settings.gateway_codec_ui_origins,
                          open311_public_url=settings.gateway_open311_public_url) as ports:
        logging.info("gateway serving people on %s:%d (gRPC) and http://%s:%d (HTTP/JSON "
                     "and the console), agencies on %s:%d", settings.gateway_host,
                     ports.public, settings.gateway_host, ports.http,
                     settings.gateway_host, ports.agencies)
        await stop.wait()


def main() -> None:
    private_umask()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    telemetry.setup_tracing("gateway")
    # Everything loaded so far lives as long as the process: keep the collector from
    # walking it again on every full collection (pauses that showed in latency tails).
    gc.freeze()
    asyncio.run(serve(GatewaySettings()))  # type: ignore[call-arg]  # read from the env
    telemetry.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # see workflows/__main__.py: the Temporal client at interpreter exit


if __name__ == "__main__":
    main()
