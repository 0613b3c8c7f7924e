"""`seamless up`: start the whole platform under one process manager (honcho).

Temporal's dev server (SQLite file in the data directory), one service per agency and
one for the oversight body, the case worker and the gateway. Ctrl-C stops them all;
starting again finds every case, clock and inbox where it was, because all state lives
in the data directory. Each process is given its own key and no other.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from honcho.manager import Manager

from cli import datadir
from cli.datadir import Endpoints
from cli.health import health
from cli.provision import bodies, provision
from observability.participation import OVERSIGHT
from trust.files import private_dir, private_umask
from trust.pki import Role
from trust.tls import expecting
from workflows import search
from workflows.catalog_loader import load_catalog

BIN = Path(sys.executable).parent
READY_WAIT_SECONDS = 180.0


@dataclass(frozen=True)
class Ports:
    temporal: int = 7233
    temporal_ui: int = 8233
    # People (server TLS) and the agencies' services (mutual TLS).
    gateway: int = 50051
    gateway_mtls: int = 50052
    # People again, over HTTP: the HTTP/JSON API and the console.
    gateway_http: int = 8080
    # Agencies (then the oversight body) listen on consecutive ports from here, in
    # directory order: for the platform's parties, and for their officers' desks.
    agency_base: int = 50101
    desk_base: int = 50201


def _sqlite_url(path: Path) -> str:
    private_dir(path.parent)
    return f"sqlite:///{path}"


def prepare(data_dir: Path, ports: Ports, host: str = "127.0.0.1") -> Endpoints:
    """Identities, demo officers, agency profiles and the endpoints file; idempotent."""
    catalog = load_catalog()
    provision(data_dir, catalog, hosts=(host,))
    agencies: dict[str, str] = {}
    desks: dict[str, str] = {}
    for offset, (profile, _role) in enumerate(bodies(catalog)):
        agencies[profile.id] = f"{host}:{ports.agency_base + offset}"
        desks[profile.id] = f"{host}:{ports.desk_base + offset}"
    endpoints = Endpoints(temporal=f"{host}:{ports.temporal}",
                          temporal_ui=f"http://{host}:{ports.temporal_ui}",
                          gateway=f"{host}:{ports.gateway}",
                          gateway_mtls=f"{host}:{ports.gateway_mtls}",
                          http=f"http://{host}:{ports.gateway_http}",
                          agencies=agencies, desks=desks)
    endpoints.write(data_dir)
    return endpoints


def _temporal_command(data_dir: Path, ports: Ports, host: str) -> list[str]:
    database = data_dir / "temporal" / "temporal.db"
    private_dir(database.parent)
    return [str(BIN / "temporal"), "server", "start-dev", "--db-filename", str(database),
            "--ip", host, "--port", str(ports.temporal), "--ui-port", str(ports.temporal_ui),
            "--ui-disable-news-fetch", "--log-level", "warn",
            # Several times faster than SQLite's defaults (see CONVENTIONS.md).
            "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
            *search.dev_server_args()]


def processes(data_dir: Path, ports: Ports, endpoints: Endpoints,
              host: str = "127.0.0.1") -> dict[str, tuple[list[str], dict[str, str]]]:
    """Every process of the platform: name -> (command, extra environment)."""
    python = sys.executable
    pki = str(datadir.pki(data_dir).root)
    deliverable = {a: address for a, address in endpoints.agencies.items() if a != OVERSIGHT}
    table: dict[str, tuple[list[str], dict[str, str]]] = {
        "temporal": (_temporal_command(data_dir, ports, host), {}),
    }
    for agency, address in endpoints.agencies.items():
        folder = datadir.agency_folder(data_dir, agency)
        table[agency] = ([python, "-m", "agencies"], {
            "PYTHONUNBUFFERED": "1",
            "SEAMLESS_AGENCY_PROFILE_FILE": str(folder / "profile.json"),
            "SEAMLESS_AGENCY_DATABASE_URL": _sqlite_url(folder / "agency.db"),
            "SEAMLESS_AGENCY_HOST": host,
            "SEAMLESS_AGENCY_PORT": address.rpartition(":")[2],
            "SEAMLESS_AGENCY_DESK_PORT": endpoints.desks[agency].rpartition(":")[2],
            "SEAMLESS_AGENCY_GATEWAY_ADDRESS": endpoints.gateway_mtls,
            "SEAMLESS_AGENCY_IDENTITY_DIR": str(datadir.identity(data_dir, agency).root),
            "SEAMLESS_AGENCY_PKI_DIR": pki,
            "SEAMLESS_AGENCY_ROSTER_SEED_FILE": str(folder / "roster-seed.json")})
    ledger = _sqlite_url(data_dir / "ledger" / "ledger.db")
    # Kept apart from the ledger: what would cut the ledger short must not reach it too.
    witness = _sqlite_url(data_dir / "witness" / "witness.db")
    table["worker"] = ([python, "-m", "workflows"], {
        "SEAMLESS_TEMPORAL_ADDRESS": endpoints.temporal, "PYTHONUNBUFFERED": "1",
        "SEAMLESS_AGENCY_ADDRESSES": json.dumps(deliverable),
        "SEAMLESS_LEDGER_DATABASE_URL": ledger, "SEAMLESS_WITNESS_DATABASE_URL": witness,
        "SEAMLESS_IDENTITY_DIR": str(datadir.identity(data_dir, "worker").root),
        "SEAMLESS_PKI_DIR": pki})
    table["gateway"] = ([python, "-m", "gateway"], {
        "SEAMLESS_TEMPORAL_ADDRESS": endpoints.temporal, "PYTHONUNBUFFERED": "1",
        "SEAMLESS_AGENCY_ADDRESSES": json.dumps(endpoints.agencies),
        "SEAMLESS_GATEWAY_HOST": host, "SEAMLESS_GATEWAY_PORT": str(ports.gateway),
        "SEAMLESS_GATEWAY_MTLS_PORT": str(ports.gateway_mtls),
        "SEAMLESS_GATEWAY_HTTP_PORT": str(ports.gateway_http),
        "SEAMLESS_LEDGER_DATABASE_URL": ledger, "SEAMLESS_WITNESS_DATABASE_URL": witness,
        "SEAMLESS_GATEWAY_DATABASE_URL": _sqlite_url(data_dir / "gateway" / "gateway.db"),
        "SEAMLESS_IDENTITY_DIR": str(datadir.identity(data_dir, "gateway").root),
        "SEAMLESS_PKI_DIR": pki})
    # Without a collector, every process writes its spans as OTLP-JSON lines here.
    for name, (_command, extra) in table.items():
        if name != "temporal":
            extra["SEAMLESS_TRACES_FILE"] = str(traces_file(data_dir, name))
    return table


def traces_file(data_dir: Path, process: str) -> Path:
    return data_dir / "traces" / f"{process}.otlp.jsonl"


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return True
    except OSError:
        return False


def _announce_when_ready(endpoints: Endpoints, data_dir: Path) -> None:
    give_up = time.monotonic() + READY_WAIT_SECONDS
    while time.monotonic() < give_up:
        # A plain socket first: gRPC must not start in this process while the process
        # manager is still forking the platform's processes.
        if _listening(endpoints.gateway) and health(
                endpoints.gateway, authority=datadir.pki(data_dir),
                expect=expecting(Role.GATEWAY)) == "SERVING":
            print(f"\nSeamless is up.\n  console      {endpoints.http}/\n"  # noqa: T201
                  f"  HTTP API     {endpoints.http}/seamless.v1.CaseService/…\n"
                  f"  gateway      {endpoints.gateway} (gRPC)\n"
                  f"  Temporal UI  {endpoints.temporal_ui}\n  data         {data_dir}\n"
                  f"  try: seamless --data-dir {shlex.quote(str(data_dir))} agencies\n",
                  flush=True)
            return
        time.sleep(0.5)
    print(f"\nthe gateway did not become healthy within {READY_WAIT_SECONDS:.0f} s; "  # noqa: T201
          "see the output above", flush=True)


def up(data_dir: Path, ports: Ports, host: str = "127.0.0.1") -> int:
    # Everything the platform's processes create is private, the Temporal server's
    # database included: they inherit this.
    private_umask()
    endpoints = prepare(data_dir, ports, host)
    manager = Manager()
    for name, (command, extra) in processes(data_dir, ports, endpoints, host).items():
        manager.add_process(name, shlex.join(command), env={**os.environ, **extra})
    threading.Thread(target=_announce_when_ready, args=(endpoints, data_dir),
                     daemon=True).start()
    manager.loop()
    return int(manager.returncode or 0)
