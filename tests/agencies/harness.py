"""One agency's service over real gRPC and TLS, on its own SQLite database, with the
parties that call it: the worker and the gateway (mutual TLS), another agency, and an
officer signed in at its desk."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc

from agencies.roster import SeedEntry
from agencies.sender import MailServer
from agencies.server import run_server
from seamless.v1 import (
    agency_pb2,
    agency_pb2_grpc,
    notify_pb2_grpc,
    roster_pb2,
    roster_pb2_grpc,
)
from tests.trust.kit import Kit, new_kit
from trust.passwords import hash_password
from trust.pki import Role
from trust.sessions import OfficerRole
from trust.tls import expecting, mutual_tls_channel, server_only_channel

AGENCY = "emergency-management"
PROFILE = agency_pb2.Agency(id=AGENCY, name_zh="区应急管理局",
                            name_en="Emergency Management Bureau",
                            jurisdictions=["pinggu"], capabilities=["work-safety"])
PASSWORD = "correct horse battery"
# The roster the service starts with: a head, and an officer with no other role.
HEAD, OFFICER = "chen.head", "li.officer"
_HASH = hash_password(PASSWORD)
# A first head the operator added with a one-time password (PASSWORD), to be changed.
FIRST_HEAD = "wu.first-head"
ROSTER = (SeedEntry(HEAD, "Chen, head of the bureau", frozenset(OfficerRole), _HASH),
          SeedEntry(OFFICER, "Li, field officer", frozenset({OfficerRole.OFFICER}), _HASH),
          SeedEntry(FIRST_HEAD, "Wu, first head", frozenset({OfficerRole.HEAD}), _HASH,
                    must_change_password=True))


@dataclass
class Agency:
    kit: Kit
    parties: str
    desk_address: str
    channels: list[grpc.aio.Channel]

    def _open(self, address: str, credentials: grpc.ChannelCredentials) -> grpc.aio.Channel:
        channel = grpc.aio.secure_channel(address, credentials,
                                          options=expecting(Role.AGENCY, AGENCY))
        self.channels.append(channel)
        return channel

    def as_party(self, party: str, role: Role) -> agency_pb2_grpc.AgencyServiceStub:
        """AgencyService as `party` calls it, over mutual TLS with its certificate."""
        channel = self._open(self.parties, mutual_tls_channel(self.kit.party(party, role)))
        return agency_pb2_grpc.AgencyServiceStub(channel)  # type: ignore[no-untyped-call]

    def roster_as_party(self, party: str, role: Role) -> roster_pb2_grpc.RosterServiceStub:
        channel = self._open(self.parties, mutual_tls_channel(self.kit.party(party, role)))
        return roster_pb2_grpc.RosterServiceStub(channel)  # type: ignore[no-untyped-call]

    @property
    def desk_channel(self) -> grpc.aio.Channel:
        authority = self.kit.pki.authority.read_bytes()
        return self._open(self.desk_address, server_only_channel(authority))

    @property
    def worker(self) -> agency_pb2_grpc.AgencyServiceStub:
        return self.as_party("worker", Role.WORKER)

    @property
    def desk(self) -> agency_pb2_grpc.AgencyServiceStub:
        return agency_pb2_grpc.AgencyServiceStub(self.desk_channel)  # type: ignore[no-untyped-call]

    @property
    def notify(self) -> notify_pb2_grpc.NotificationServiceStub:
        return notify_pb2_grpc.NotificationServiceStub(self.desk_channel)  # type: ignore[no-untyped-call]

    @property
    def roster(self) -> roster_pb2_grpc.RosterServiceStub:
        return roster_pb2_grpc.RosterServiceStub(self.desk_channel)  # type: ignore[no-untyped-call]

    async def sign_in(self, officer: str = HEAD, password: str = PASSWORD
                      ) -> tuple[tuple[str, str]]:
        """The `authorization` metadata of a fresh session of `officer`."""
        reply = await self.roster.SignIn(roster_pb2.SignInRequest(officer_id=officer,
                                                                  password=password))
        return (("authorization", f"Bearer {reply.session}"),)

    async def inbox(self, **request: object) -> list[agency_pb2.InboxItem]:
        """The inbox as the gateway relays an officer's request for it."""
        response = await self.as_party("gateway", Role.GATEWAY).ListInbox(
            agency_pb2.ListInboxRequest(**request),  # type: ignore[arg-type]
            metadata=await self.sign_in(OFFICER))
        return list(response.items)


@asynccontextmanager
async def running_agency(root: Path, kit: Kit | None = None, *, database_url: str = "",
                         mail: MailServer | None = None) -> AsyncIterator[Agency]:
    """The agency's service on `database_url` (by default an SQLite file under `root`),
    sending its e-mail through `mail`."""
    kit = kit or new_kit(root / "platform")
    identity = kit.party(AGENCY, Role.AGENCY)
    for party, role in (("worker", Role.WORKER), ("gateway", Role.GATEWAY),
                        ("health", Role.AGENCY)):
        kit.party(party, role)
    async with run_server(profile=PROFILE,
                          database_url=database_url or f"sqlite:///{root / 'agency.db'}",
                          identity=identity, store=kit.store(), roster_seed=ROSTER,
                          mail=mail) as ports:
        agency = Agency(kit, f"127.0.0.1:{ports.parties}", f"127.0.0.1:{ports.desk}", [])
        try:
            yield agency
        finally:
            for channel in agency.channels:
                await channel.close(grace=None)
