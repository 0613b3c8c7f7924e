"""The sessions a person holds: kept in the person's own config folder, never in the
platform's data directory, one per agency per platform.

`seamless login` signs in at the agency's desk and keeps the session; every other
command acting `--as AGENCY` uses it. On a platform `seamless up` seeded with demo
officers, `--as AGENCY` without a stored session signs in as the agency's duty officer
(its demo password is in the data directory), and does so again when that session ends.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc
from cryptography import x509

from cli import datadir
from cli.provision import DUTY_OFFICER, demo_password
from records.participation import role_of
from seamless.v1 import roster_pb2, roster_pb2_grpc
from trust.files import write_private
from trust.pki import fingerprint
from trust.tls import expecting, server_only_channel

CALL_TIMEOUT_SECONDS = 30.0


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "seamless"


@dataclass(frozen=True)
class Stored:
    agency: str
    officer: str
    session: str
    expires_at: str
    # Signed in by the CLI on the duty officer's behalf (may be done again unasked).
    demo: bool = False

    @property
    def expired(self) -> bool:
        return datetime.fromisoformat(self.expires_at) <= datetime.now(UTC)


def platform_key(data_dir: Path) -> str:
    """Which platform: the fingerprint of its authority's certificate."""
    path = datadir.pki(data_dir).authority
    try:
        return fingerprint(x509.load_pem_x509_certificate(path.read_bytes()))
    except FileNotFoundError:
        raise SystemExit(f"no platform found: {path} does not exist. Start one with "
                         "'seamless up', or point --data-dir or SEAMLESS_DATA_DIR at its "
                         "data directory.") from None


class SessionBook:
    """This person's sessions on one platform."""

    def __init__(self, data_dir: Path) -> None:
        self._platform = platform_key(data_dir)
        self._path = config_dir() / "sessions.json"

    def _all(self) -> dict[str, dict[str, dict[str, object]]]:
        try:
            loaded = json.loads(self._path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def get(self, agency: str) -> Stored | None:
        raw = self._all().get(self._platform, {}).get(agency)
        try:
            stored = Stored(**raw) if isinstance(raw, dict) else None  # type: ignore[arg-type]
        except TypeError:
            return None
        return None if stored is None or stored.expired else stored

    def put(self, stored: Stored) -> None:
        everything = self._all()
        everything.setdefault(self._platform, {})[stored.agency] = asdict(stored)
        write_private(self._path, json.dumps(everything, indent=1))

    def forget(self, agency: str) -> Stored | None:
        everything = self._all()
        raw = everything.get(self._platform, {}).pop(agency, None)
        write_private(self._path, json.dumps(everything, indent=1))
        return Stored(**raw) if isinstance(raw, dict) else None  # type: ignore[arg-type]


def desk_channel(data_dir: Path, agency: str) -> grpc.Channel:
    """A TLS channel to the agency's officers' desk."""
    endpoints = datadir.Endpoints.read(data_dir)
    address = endpoints.desks.get(agency)
    if address is None:
        raise SystemExit(f"no agency {agency!r} runs on this platform")
    authority = datadir.pki(data_dir).authority.read_bytes()
    return grpc.secure_channel(address, server_only_channel(authority),
                               options=expecting(role_of(agency), agency))


def sign_in(data_dir: Path, agency: str, officer: str, password: str, *,
            demo: bool = False, new_password: str = "") -> Stored:
    """Sign in at the agency's desk and keep the session (setting `new_password` for an
    officer whose one-time password must be changed); raises grpc.RpcError."""
    with desk_channel(data_dir, agency) as channel:
        stub = roster_pb2_grpc.RosterServiceStub(channel)  # type: ignore[no-untyped-call]
        reply: roster_pb2.SignInResponse = stub.SignIn(
            roster_pb2.SignInRequest(officer_id=officer, password=password,
                                     new_password=new_password),
            timeout=CALL_TIMEOUT_SECONDS)
    stored = Stored(agency=agency, officer=reply.officer.id, session=reply.session,
                    expires_at=reply.expires_at.ToDatetime(tzinfo=UTC).isoformat(),
                    demo=demo)
    SessionBook(data_dir).put(stored)
    return stored


class Credential:
    """The session a command acting `--as AGENCY` uses."""

    def __init__(self, data_dir: Path, agency: str) -> None:
        self._data_dir = data_dir
        self.agency = agency
        self._stored = SessionBook(data_dir).get(agency)

    @property
    def officer(self) -> str:
        return self._session().officer

    def token(self) -> str:
        return self._session().session

    def _session(self) -> Stored:
        if self._stored is None:
            self._stored = self._demo_sign_in()
        if self._stored is None:
            raise SystemExit(f"no session for {self.agency}: sign in first with 'seamless "
                             f"login --as {self.agency} --officer YOUR-ID'")
        return self._stored

    def renew(self) -> bool:
        """After the session was refused: sign the duty officer in again, if this is
        a demo platform and the session was the CLI's own."""
        if self._stored is not None and not self._stored.demo:
            return False
        self._stored = self._demo_sign_in()
        return self._stored is not None

    def _demo_sign_in(self) -> Stored | None:
        password = demo_password(self._data_dir, self.agency, DUTY_OFFICER)
        if password is None:
            return None
        return sign_in(self._data_dir, self.agency, DUTY_OFFICER, password, demo=True)
