"""The platform under fuzz, as the fuzzer reaches it: its doors, its callers' sessions,
the databases the oracle reads (the ledger, the gateway's own), the case engine, the
log where a failure's traceback lands, and how to tell its parts are still up.

`from_harness` adapts the gateway tests' in-process platform (`tests.gateway.harness`);
`bench.fuzz` builds one over the processes of `seamless up`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import Engine, create_engine
from temporalio.client import Client

from cli import datadir
from cli.provision import demo_password
from gateway.open311.keys import MAX_PER_MINUTE, ApiKeys
from records.participation import role_of
from seamless.v1 import roster_pb2, roster_pb2_grpc
from tests.gateway.harness import Gateway
from trust.pki import Identity, Role
from trust.tls import expecting, server_only_channel


class LogTap:
    """Where the platform's failures are written: `mark()` now, `since(mark)` what was
    written after it."""

    def mark(self) -> int:
        raise NotImplementedError

    def since(self, mark: int) -> str:
        raise NotImplementedError


class RecordTap(logging.Handler, LogTap):
    """This process's log records (the harness runs the gateway in the test's process)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def mark(self) -> int:
        return len(self.lines)

    def since(self, mark: int) -> str:
        return "\n".join(self.lines[mark:])


class FileTap(LogTap):
    """The log files of separate processes."""

    def __init__(self, paths: list[Path]) -> None:
        self._paths = paths

    def _sizes(self) -> list[int]:
        return [p.stat().st_size if p.exists() else 0 for p in self._paths]

    def mark(self) -> int:
        # One int for all files: each size in its own 40 bits (logs stay far smaller).
        return sum(size << (40 * i) for i, size in enumerate(self._sizes()))

    def since(self, mark: int) -> str:
        texts = []
        for i, path in enumerate(self._paths):
            start = (mark >> (40 * i)) & ((1 << 40) - 1)
            if path.exists():
                with path.open("rb") as log:
                    log.seek(start)
                    text = log.read().decode("utf-8", "replace").strip()
                if text:
                    texts.append(f"--- {path.name}\n{text}")
        return "\n".join(texts)


@dataclass
class Target:
    root: Path  # the data directory: certificates, identities, demo passwords
    public: str  # the gateway's public gRPC port (server TLS)
    mtls: str  # its mutual-TLS port, for agencies' services
    http_url: str
    desks: dict[str, str]  # each agency's officers' desk (server TLS)
    ledger: Engine
    gateway_db: Engine
    temporal: Client
    coordinator: str
    logs: LogTap
    # Names of the parts that are down (processes gone, or a port not answering).
    down: Callable[[], Awaitable[list[str]]]
    # Each agency's own database: its inbox, notices and findings.
    agency_databases: dict[str, Engine] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    open311_key: str = ""

    @property
    def authority(self) -> bytes:
        return datadir.pki(self.root).authority.read_bytes()

    def identity(self, party: str) -> Identity:
        return Identity.load(datadir.identity(self.root, party), datadir.pki(self.root))

    def desk_channel(self, agency: str) -> grpc.aio.Channel:
        return grpc.aio.secure_channel(self.desks[agency], server_only_channel(self.authority),
                                       options=expecting(role_of(agency), agency))

    async def sign_in(self, callers: list[str]) -> None:
        """A session for each "officer@agency", signed in at the agency's desk with its
        demo password."""
        for caller in callers:
            if caller in self.sessions:
                continue
            officer, _, agency = caller.partition("@")
            password = demo_password(self.root, agency, officer)
            async with self.desk_channel(agency) as channel:
                stub = roster_pb2_grpc.RosterServiceStub(channel)  # type: ignore[no-untyped-call]
                reply = await stub.SignIn(roster_pb2.SignInRequest(
                    officer_id=officer, password=password or ""), timeout=30)
            self.sessions[caller] = reply.session

    def add_open311_key(self) -> None:
        """A key of the highest rate, so the fuzzer's posts are judged, not rate-limited
        (a name of its own: a platform keeps the keys of earlier runs)."""
        self.open311_key = ApiKeys(self.gateway_db).add(f"fuzz-{uuid.uuid4().hex[:8]}",
                                                        per_minute=MAX_PER_MINUTE)


async def serving(address: str, authority: bytes, options: list[tuple[str, str]]) -> bool:
    """Whether a gRPC server answers its health check."""
    try:
        async with grpc.aio.secure_channel(address, server_only_channel(authority),
                                           options=options) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=10)
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
    except grpc.aio.AioRpcError:
        return False


async def unanswered(target: Target) -> list[str]:
    """The doors of `target` that no longer answer: the gateway's gRPC and HTTP ports,
    every agency's desk."""
    found = []
    authority = target.authority
    if not await serving(target.public, authority, expecting(Role.GATEWAY)):
        found.append("gateway (gRPC)")
    try:
        async with httpx.AsyncClient(base_url=target.http_url, timeout=10) as http:
            if (await http.get("/healthz")).status_code != 200:
                found.append("gateway (HTTP)")
    except httpx.HTTPError:
        found.append("gateway (HTTP)")
    for agency, address in target.desks.items():
        if not await serving(address, authority, expecting(role_of(agency), agency)):
            found.append(f"{agency} (desk)")
    return found


def from_harness(gw: Gateway, tap: RecordTap) -> Target:
    """The in-process platform of `tests.gateway.harness`. Its parts share the test's
    process, so "down" means a port that no longer answers."""
    assert gw.client is not None and gw.numbers_engine is not None
    # The public port's address; a harness that keeps only its channel to it, that
    # channel's target.
    channel: Any = vars(gw)["_channel"]
    public = str(getattr(gw, "address", "") or channel._channel.target.decode())

    async def down() -> list[str]:
        return await unanswered(target)

    target = Target(root=gw.root, public=public, mtls=gw.mtls_address, http_url=gw.http_url,
                    desks=dict(gw.desks), ledger=gw.ledger, gateway_db=gw.numbers_engine,
                    temporal=gw.client, coordinator="command-center", logs=tap, down=down,
                    agency_databases={a: create_engine(f"sqlite:///{gw.root / (a + '.db')}")
                                      for a in gw.desks})
    return target
