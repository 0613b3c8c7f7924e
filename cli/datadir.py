"""The data directory: where `seamless up` keeps every database, key and certificate and
the addresses of the running platform, and where every other command finds them.

Everything in it is private to its user (folders 0700, files 0600), and each process is
given the path of its own key only.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trust.files import write_private
from trust.pki import IdentityFiles, PkiFiles

DEFAULT = Path(".seamless")
ENDPOINTS = "endpoints.json"
# The demo officers' initial passwords (`seamless up` only; production signs people in
# with passwords nobody else has seen).
DEMO_OFFICERS = "demo-officers.json"


def resolve(explicit: str | None) -> Path:
    """--data-dir, else $SEAMLESS_DATA_DIR, else ./.seamless."""
    chosen = explicit or os.environ.get("SEAMLESS_DATA_DIR") or str(DEFAULT)
    return Path(chosen).absolute()


def pki(data_dir: Path) -> PkiFiles:
    """The public folder: the platform authority's certificate and every one it issued."""
    return PkiFiles(data_dir / "pki")


def authority_key(data_dir: Path) -> Path:
    """The platform authority's key: read by `seamless up` alone, given to no service."""
    return data_dir / "authority" / "ca.key"


def engine_keys(data_dir: Path) -> Path:
    """The keys sealing every payload handed to Temporal: the gateway's and the worker's
    alone (`trust.engine_keys`)."""
    return data_dir / "engine" / "keys.json"


def engine_tls(data_dir: Path) -> Path:
    """The engine's own authority and its holders' folders (`trust.engine_tls`): made
    for a cluster with mutual TLS (docker-compose.yml), not for the dev server."""
    return data_dir / "engine-tls"


def agency_folder(data_dir: Path, agency: str) -> Path:
    return data_dir / "agencies" / agency


def identity(data_dir: Path, party: str) -> IdentityFiles:
    """A party's own key and certificate: the gateway's, the worker's, or an agency's
    (the oversight body's included)."""
    if party in ("gateway", "worker"):
        return IdentityFiles(data_dir / party / "identity")
    return IdentityFiles(agency_folder(data_dir, party) / "identity")


@dataclass
class Endpoints:
    temporal: str
    temporal_ui: str
    # Server TLS, for people; mutual TLS, for the agencies' services.
    gateway: str
    gateway_mtls: str
    # The same services over HTTP/JSON, and the console (a URL).
    http: str
    # Each agency's (and the oversight body's) mutual-TLS port, for the platform's
    # parties, and its officers' desk (server TLS).
    agencies: dict[str, str] = field(default_factory=dict)
    desks: dict[str, str] = field(default_factory=dict)

    def write(self, data_dir: Path) -> None:
        write_private(data_dir / ENDPOINTS, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, data_dir: Path) -> Endpoints:
        path = data_dir / ENDPOINTS
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SystemExit(f"no platform found: {path} does not exist. Start one with "
                             "'seamless up' (or 'make up'), or point --data-dir or "
                             "SEAMLESS_DATA_DIR at its data directory.") from None
        try:
            return cls(**raw)
        except TypeError:
            raise SystemExit(f"{path} was written by an older 'seamless up'; start the "
                             "platform again to rewrite it") from None
