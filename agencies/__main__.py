"""One agency's service process: `python -m agencies` (started by `seamless up`).

The agency's profile (who it is) comes from its own file, so an agency is configured
without the platform's catalog: agencies depend on the contract only.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from pathlib import Path

from google.protobuf import json_format
from pydantic_settings import BaseSettings, SettingsConfigDict

from agencies.gateway_link import GatewayLink
from agencies.server import run_server
from observability import telemetry
from seamless.v1 import agency_pb2


class AgencySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEAMLESS_AGENCY_")

    # JSON of a seamless.v1.Agency: id, names, jurisdictions, capabilities.
    profile_file: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int
    # Where officers' actions go, and this agency's own credential for it.
    gateway_address: str
    token_file: Path


def load_profile(path: Path) -> agency_pb2.Agency:
    profile = json_format.Parse(path.read_text(encoding="utf-8"), agency_pb2.Agency())
    if not profile.id:
        raise ValueError(f"{path}: the agency profile has no id")
    return profile


async def serve(settings: AgencySettings, profile: agency_pb2.Agency) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    gateway = GatewayLink(settings.gateway_address, settings.token_file)
    async with run_server(profile=profile, database_url=settings.database_url,
                          port=settings.port, host=settings.host, gateway=gateway) as port:
        logging.info("%s serving on %s:%d", profile.id, settings.host, port)
        await stop.wait()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = AgencySettings()  # type: ignore[call-arg]  # read from the env
    profile = load_profile(settings.profile_file)
    telemetry.setup_tracing(profile.id)
    # Everything loaded so far lives as long as the process: keep the collector from
    # walking it again on every full collection (pauses that showed in latency tails).
    gc.freeze()
    asyncio.run(serve(settings, profile))
    telemetry.flush()


if __name__ == "__main__":
    main()
