"""One agency's service process: `python -m agencies` (started by `seamless up`).

The agency's profile (who it is) comes from its own file, so an agency is configured
without the platform's catalog: agencies depend on the contract only. It reads its own
key and no other; the public folder holds the certificates it checks others against.
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
from agencies.roster import read_seed
from agencies.server import run_server
from observability import telemetry
from seamless.v1 import agency_pb2
from trust.files import private_umask
from trust.pki import CertificateStore, Identity, IdentityFiles, PkiFiles


class AgencySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEAMLESS_AGENCY_")

    # JSON of a seamless.v1.Agency: id, names, jurisdictions, capabilities.
    profile_file: Path
    database_url: str
    # The password of a database URL that names a user, read from a file (a secret).
    database_password_file: Path | None = None
    host: str = "127.0.0.1"
    # Mutual TLS, for the platform's parties (the worker, the gateway).
    port: int
    # Server TLS, where the agency's officers sign in and act on the inbox.
    desk_port: int
    # Where officers' acts go (the gateway's mutual-TLS port).
    gateway_address: str
    # This agency's key and certificate; the platform's public certificates.
    identity_dir: Path
    pki_dir: Path
    # Officers to add when the roster lacks them (the demo officers, a first head).
    roster_seed_file: Path | None = None


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
    pki = PkiFiles(settings.pki_dir)
    identity = Identity.load(IdentityFiles(settings.identity_dir), pki)
    seed = read_seed(settings.roster_seed_file) if settings.roster_seed_file else []
    gateway = GatewayLink(settings.gateway_address, identity)
    async with run_server(profile=profile, database_url=settings.database_url,
                          database_password_file=settings.database_password_file,
                          identity=identity, store=CertificateStore.load(pki),
                          port=settings.port, desk_port=settings.desk_port,
                          host=settings.host, gateway=gateway, roster_seed=seed) as ports:
        logging.info("%s serving parties on %s:%d, its officers' desk on %s:%d", profile.id,
                     settings.host, ports.parties, settings.host, ports.desk)
        await stop.wait()


def main() -> None:
    private_umask()
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
