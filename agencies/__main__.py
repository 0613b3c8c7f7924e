"""The agencies' services: `python -m agencies`.

One agency per process (`SEAMLESS_AGENCY_*`: a container of its own under compose), or,
under the embedded default, every agency of the host in one process (`SEAMLESS_AGENCIES`:
a JSON list of the same settings, one entry per agency). Either way each agency keeps
its own ports, database, key, certificate and roster, so nothing about who is who
changes on the wire; sharing a process spares a host that already shares one data
directory and one operator fifteen interpreters (some 125 MiB each).

An agency's profile (who it is) comes from its own file, so an agency is configured
without the platform's catalog: agencies depend on the contract only. Each agency reads
its own key; the public folder holds the certificates it checks others against.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import signal
from contextlib import AsyncExitStack
from pathlib import Path

from google.protobuf import json_format
from pydantic_settings import BaseSettings, SettingsConfigDict

from agencies.gateway_link import GatewayLink
from agencies.roster import read_seed
from agencies.sender import MailServer
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
    # The agency's evidence store (a directory of its own; a volume under compose).
    evidence_dir: Path | None = None
    # Its mail server for officers' e-mail notifications: smtp://host:port (a relay in
    # the agency's network) or smtps://host:port; none, and e-mail channels are refused.
    smtp_url: str = ""
    mail_from: str = ""


class HostSettings(BaseSettings):
    """Every agency of the host in one process (`seamless up`'s default)."""

    model_config = SettingsConfigDict(env_prefix="SEAMLESS_")

    # A JSON list; each entry holds the fields of AgencySettings (without the prefix).
    agencies: str = ""

    def each(self) -> list[AgencySettings]:
        entries = json.loads(self.agencies)
        if not isinstance(entries, list) or not entries:
            raise ValueError("SEAMLESS_AGENCIES: a JSON list of agencies' settings")
        return [AgencySettings(**entry) for entry in entries]


def load_profile(path: Path) -> agency_pb2.Agency:
    profile = json_format.Parse(path.read_text(encoding="utf-8"), agency_pb2.Agency())
    if not profile.id:
        raise ValueError(f"{path}: the agency profile has no id")
    return profile


async def serve(agencies: list[tuple[AgencySettings, agency_pb2.Agency]]) -> None:
    """Serve every agency given until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with AsyncExitStack() as running:
        for settings, profile in agencies:
            pki = PkiFiles(settings.pki_dir)
            identity = Identity.load(IdentityFiles(settings.identity_dir), pki)
            seed = read_seed(settings.roster_seed_file) if settings.roster_seed_file else []
            ports = await running.enter_async_context(run_server(
                profile=profile, database_url=settings.database_url,
                database_password_file=settings.database_password_file, identity=identity,
                store=CertificateStore.load(pki), port=settings.port,
                desk_port=settings.desk_port, host=settings.host,
                gateway=GatewayLink(settings.gateway_address, identity), roster_seed=seed,
                evidence_dir=settings.evidence_dir,
                mail=MailServer.parse(settings.smtp_url, settings.mail_from)))
            logging.info("%s serving parties on %s:%d, its officers' desk on %s:%d",
                         profile.id, settings.host, ports.parties, settings.host, ports.desk)
        await stop.wait()


def main() -> None:
    private_umask()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    host = HostSettings()
    each = host.each() if host.agencies else [AgencySettings()]  # type: ignore[call-arg]
    agencies = [(settings, load_profile(settings.profile_file)) for settings in each]
    # Spans name their agency (attributes.AGENCY_ID); the service is the process.
    telemetry.setup_tracing(agencies[0][1].id if len(agencies) == 1 else "agencies")
    # Everything loaded so far lives as long as the process: keep the collector from
    # walking it again on every full collection (pauses that showed in latency tails).
    gc.freeze()
    asyncio.run(serve(agencies))
    telemetry.flush()


if __name__ == "__main__":
    main()
