"""`seamless up`: start the whole platform under one process manager (honcho).

Temporal's dev server (SQLite file in the data directory), one service per agency, the
case worker and the gateway. Ctrl-C stops them all; starting again finds every case,
clock and inbox where it was, because all state lives in the data directory.
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

from google.protobuf import json_format
from honcho.manager import Manager

from cli.datadir import Endpoints
from cli.health import health
from gateway import credentials
from workflows import search
from workflows.catalog_loader import load_catalog
from workflows.to_proto import agency_to_proto

BIN = Path(sys.executable).parent
READY_WAIT_SECONDS = 180.0


@dataclass(frozen=True)
class Ports:
    temporal: int = 7233
    temporal_ui: int = 8233
    gateway: int = 50051
    # Agencies listen on consecutive ports from here, in directory order.
    agency_base: int = 50101


def _sqlite_url(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def prepare(data_dir: Path, ports: Ports, host: str = "127.0.0.1") -> Endpoints:
    """Credentials, agency profiles and the endpoints file; idempotent."""
    catalog = load_catalog()
    directory = catalog.directory
    credentials.ensure_credentials(
        data_dir, [*(a.id for a in directory.agencies), credentials.OVERSIGHT])
    agencies: dict[str, str] = {}
    for offset, agency in enumerate(directory.agencies):
        profile = agency_to_proto(agency)
        folder = data_dir / "agencies" / agency.id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "profile.json").write_text(
            json_format.MessageToJson(profile, ensure_ascii=False), encoding="utf-8")
        agencies[agency.id] = f"{host}:{ports.agency_base + offset}"
    endpoints = Endpoints(temporal=f"{host}:{ports.temporal}",
                          temporal_ui=f"http://{host}:{ports.temporal_ui}",
                          gateway=f"{host}:{ports.gateway}", agencies=agencies)
    endpoints.write(data_dir)
    return endpoints


def _temporal_command(data_dir: Path, ports: Ports, host: str) -> list[str]:
    database = data_dir / "temporal" / "temporal.db"
    database.parent.mkdir(parents=True, exist_ok=True)
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
    addresses = json.dumps(endpoints.agencies)
    common = {"SEAMLESS_TEMPORAL_ADDRESS": endpoints.temporal,
              "SEAMLESS_AGENCY_ADDRESSES": addresses, "PYTHONUNBUFFERED": "1"}
    table: dict[str, tuple[list[str], dict[str, str]]] = {
        "temporal": (_temporal_command(data_dir, ports, host), {}),
    }
    for agency, address in endpoints.agencies.items():
        folder = data_dir / "agencies" / agency
        table[agency] = ([python, "-m", "agencies"], {
            "PYTHONUNBUFFERED": "1",
            "SEAMLESS_AGENCY_PROFILE_FILE": str(folder / "profile.json"),
            "SEAMLESS_AGENCY_DATABASE_URL": _sqlite_url(folder / "agency.db"),
            "SEAMLESS_AGENCY_HOST": host,
            "SEAMLESS_AGENCY_PORT": address.rpartition(":")[2],
            "SEAMLESS_AGENCY_GATEWAY_ADDRESS": endpoints.gateway,
            "SEAMLESS_AGENCY_TOKEN_FILE": str(credentials.token_path(data_dir, agency))})
    ledger = _sqlite_url(data_dir / "ledger" / "ledger.db")
    table["worker"] = ([python, "-m", "workflows"], {
        **common, "SEAMLESS_LEDGER_DATABASE_URL": ledger})
    table["gateway"] = ([python, "-m", "gateway"], {
        **common, "SEAMLESS_GATEWAY_HOST": host,
        "SEAMLESS_GATEWAY_PORT": str(ports.gateway),
        "SEAMLESS_TOKEN_HASHES_FILE": str(data_dir / credentials.HASHES_FILE),
        "SEAMLESS_LEDGER_DATABASE_URL": ledger})
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
        if _listening(endpoints.gateway) and health(endpoints.gateway) == "SERVING":
            print(f"\nSeamless is up.\n  gateway      {endpoints.gateway}\n"  # noqa: T201
                  f"  Temporal UI  {endpoints.temporal_ui}\n  data         {data_dir}\n"
                  f"  try: seamless --data-dir {shlex.quote(str(data_dir))} agencies\n",
                  flush=True)
            return
        time.sleep(0.5)
    print(f"\nthe gateway did not become healthy within {READY_WAIT_SECONDS:.0f} s; "  # noqa: T201
          "see the output above", flush=True)


def up(data_dir: Path, ports: Ports, host: str = "127.0.0.1") -> int:
    endpoints = prepare(data_dir, ports, host)
    manager = Manager()
    for name, (command, extra) in processes(data_dir, ports, endpoints, host).items():
        manager.add_process(name, shlex.join(command), env={**os.environ, **extra})
    threading.Thread(target=_announce_when_ready, args=(endpoints, data_dir),
                     daemon=True).start()
    manager.loop()
    return int(manager.returncode or 0)
