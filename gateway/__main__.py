"""The gateway process: `python -m gateway` (started by `seamless up`)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.credentials import load_hashes
from gateway.server import run_server
from observability import telemetry
from observability.ledger import open_ledger
from workflows.catalog_loader import DEFAULT_CATALOG, load_catalog
from workflows.client import TASK_QUEUE
from workflows.connect import connect


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEAMLESS_")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = TASK_QUEUE
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 50051
    # The digests of the callers' tokens (written by `seamless up`).
    token_hashes_file: Path
    agency_addresses: dict[str, str]
    catalog_dir: Path = DEFAULT_CATALOG
    # The ledger the worker appends to: OversightService reads it.
    ledger_database_url: str


async def serve(settings: GatewaySettings) -> None:
    hashes = load_hashes(settings.token_hashes_file)
    catalog = load_catalog(settings.catalog_dir)
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with run_server(client=client, catalog=catalog, token_hashes=hashes,
                          agency_addresses=settings.agency_addresses,
                          task_queue=settings.task_queue,
                          ledger_engine=open_ledger(settings.ledger_database_url),
                          port=settings.gateway_port,
                          host=settings.gateway_host) as port:
        logging.info("gateway serving on %s:%d", settings.gateway_host, port)
        await stop.wait()


def main() -> None:
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
