"""The gateway's lines to the agencies' services (mutual TLS, as the gateway).

Two uses: asking the agency that issued a session whether it still stands (a person's
calls ask at most once a second: see STANDING_SECONDS), and relaying an officer's inbox
request to the officer's own agency, with the officer's session, so the agency checks
its own officer too. The agency's data stays with the agency; the gateway only relays.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from typing import Any

import grpc
from google.protobuf.message import Message

from agencies.sign_in_guard import CLIENT_ADDRESS_HEADER
from observability import telemetry
from records.participation import role_of
from seamless.v1 import (
    agency_pb2,
    agency_pb2_grpc,
    notify_pb2_grpc,
    roster_pb2,
    roster_pb2_grpc,
)
from trust.pki import Identity
from trust.sessions import OfficerRole, Session
from trust.tls import expecting, mutual_tls_channel

CHECK_TIMEOUT_SECONDS = 5.0
INBOX_TIMEOUT_SECONDS = 10.0
# An evidence file's whole transfer (25 MiB over a slow line takes a while).
EVIDENCE_TIMEOUT_SECONDS = 600.0
# Argon2id at the agency, at most two at a time: a queue of sign-ins takes a while.
SIGN_IN_TIMEOUT_SECONDS = 15.0
# How long the gateway takes an agency's word that a session stands: a person busy with
# many calls a second costs the agency one question a second, and an officer signed out
# or disabled is refused within this long. Fail closed: a session the agency said no to
# is never remembered, and once the word is older the agency is asked again (an agency
# that does not answer then means the call is refused, as before).
STANDING_SECONDS = 1.0
# Sessions remembered at once; the least recently used are forgotten first.
MAX_REMEMBERED = 10_000
_ROLE_OF = {roster_pb2.OFFICER_ROLE_OFFICER: OfficerRole.OFFICER,
            roster_pb2.OFFICER_ROLE_DISPATCHER: OfficerRole.DISPATCHER,
            roster_pb2.OFFICER_ROLE_HEAD: OfficerRole.HEAD}


class SessionUnconfirmed(Exception):
    """The issuing agency could not be asked about a session."""


class Standing:
    def __init__(self, active: bool, roles: frozenset[OfficerRole], reason: str) -> None:
        self.active, self.roles, self.reason = active, roles, reason


class AgencyLinks:
    def __init__(self, addresses: Mapping[str, str], identity: Identity) -> None:
        self._addresses = dict(addresses)
        self._credentials = mutual_tls_channel(identity)
        self._channels: dict[str, grpc.aio.Channel] = {}
        # (agency, session id, officer) -> (until when, the agency's word that it stands)
        self._standing: OrderedDict[tuple[str, str, str], tuple[float, Standing]] = \
            OrderedDict()

    def _channel(self, agency: str) -> grpc.aio.Channel | None:
        address = self._addresses.get(agency)
        if address is None:
            return None
        channel = self._channels.get(agency)
        if channel is None:
            channel = self._channels[agency] = grpc.aio.secure_channel(
                address, self._credentials, options=expecting(role_of(agency), agency),
                interceptors=telemetry.grpc_client_interceptors())
        return channel

    def has_service(self, agency: str) -> bool:
        return agency in self._addresses

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close(grace=None)

    async def check_session(self, session: Session) -> Standing:
        """Whether the session stands and the officer's roles now, as its agency says
        (its word kept STANDING_SECONDS)."""
        key = (session.agency, session.session_id, session.officer)
        now = time.monotonic()
        remembered = self._standing.pop(key, None)
        if remembered is not None and remembered[0] > now:
            self._standing[key] = remembered
            return remembered[1]
        standing = await self._ask(session)
        if standing.active:
            self._standing[key] = (now + STANDING_SECONDS, standing)
            if len(self._standing) > MAX_REMEMBERED:
                self._standing.popitem(last=False)
        return standing

    async def _ask(self, session: Session) -> Standing:
        channel = self._channel(session.agency)
        if channel is None:
            raise SessionUnconfirmed(f"{session.agency} has no service on this platform to "
                                     "confirm its sessions")
        stub = roster_pb2_grpc.RosterServiceStub(channel)  # type: ignore[no-untyped-call]
        try:
            answer = await stub.CheckSession(roster_pb2.CheckSessionRequest(
                session_id=session.session_id, officer_id=session.officer),
                timeout=CHECK_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as err:
            raise SessionUnconfirmed(
                f"{session.agency}'s service, which keeps its officers' sessions, is not "
                f"answering ({err.code().name}); try again shortly") from None
        roles = frozenset(_ROLE_OF[r] for r in answer.roles if r in _ROLE_OF)
        return Standing(answer.active, roles, answer.reason)

    def _roster(self, agency: str) -> roster_pb2_grpc.RosterServiceStub:
        """The agency's roster service; KeyError for an agency without a service."""
        channel = self._channel(agency)
        if channel is None:
            raise KeyError(agency)
        return roster_pb2_grpc.RosterServiceStub(channel)  # type: ignore[no-untyped-call]

    async def sign_in(self, agency: str, officer_id: str, password: str, *,
                      client_address: str, new_password: str = ""
                      ) -> roster_pb2.SignInResponse:
        """An officer's sign-in, relayed to their agency (the console's sign-in form),
        naming the client it comes from (the agency slows guessing per address).
        Raises grpc.aio.AioRpcError as the agency answered; KeyError for an agency
        without a service."""
        answer: roster_pb2.SignInResponse = await self._roster(agency).SignIn(
            roster_pb2.SignInRequest(officer_id=officer_id, password=password,
                                     new_password=new_password),
            metadata=((CLIENT_ADDRESS_HEADER, client_address),),
            timeout=SIGN_IN_TIMEOUT_SECONDS)
        return answer

    async def sign_out(self, agency: str, session: str) -> None:
        """Ends the session at its agency at once (the console's sign-out)."""
        await self._roster(agency).SignOut(
            roster_pb2.SignOutRequest(), metadata=(("authorization", f"Bearer {session}"),),
            timeout=CHECK_TIMEOUT_SECONDS)
        # Forget the agency's word on its sessions: this one no longer stands.
        for key in [k for k in self._standing if k[0] == agency]:
            del self._standing[key]

    async def list_notices(self, agency: str, session: str,
                           request: agency_pb2.AgencyServiceListNoticesRequest
                           ) -> agency_pb2.AgencyServiceListNoticesResponse:
        """Raises grpc.aio.AioRpcError as the agency answered; KeyError for an agency
        without a service."""
        channel = self._channel(agency)
        if channel is None:
            raise KeyError(agency)
        stub = agency_pb2_grpc.AgencyServiceStub(channel)  # type: ignore[no-untyped-call]
        answer: agency_pb2.AgencyServiceListNoticesResponse = await stub.ListNotices(
            request, metadata=(("authorization", f"Bearer {session}"),),
            timeout=INBOX_TIMEOUT_SECONDS)
        return answer

    # ----- evidence (agencies.evidence): the holder keeps the files ----------------------

    def _stub(self, agency: str) -> agency_pb2_grpc.AgencyServiceStub:
        channel = self._channel(agency)
        if channel is None:
            raise KeyError(agency)
        return agency_pb2_grpc.AgencyServiceStub(channel)  # type: ignore[no-untyped-call]

    async def store_evidence(self, agency: str, session: str,
                             parts: AsyncIterator[agency_pb2.StoreEvidenceRequest]
                             ) -> agency_pb2.StoreEvidenceResponse:
        """An officer's upload, streamed to the officer's own agency with their session.
        Raises grpc.aio.AioRpcError as the agency answered; KeyError as list_notices."""
        answer: agency_pb2.StoreEvidenceResponse = await self._stub(agency).StoreEvidence(
            parts, metadata=(("authorization", f"Bearer {session}"),),
            timeout=EVIDENCE_TIMEOUT_SECONDS)
        return answer

    def fetch_evidence(self, holder: str, request: agency_pb2.FetchEvidenceRequest
                       ) -> AsyncIterator[agency_pb2.FetchEvidenceResponse]:
        """The file from its holder, for a viewer the caller has found may see it."""
        call: AsyncIterator[agency_pb2.FetchEvidenceResponse] = \
            self._stub(holder).FetchEvidence(request, timeout=EVIDENCE_TIMEOUT_SECONDS)
        return call

    async def list_evidence(self, holder: str, case_id: str
                            ) -> agency_pb2.ListEvidenceResponse:
        answer: agency_pb2.ListEvidenceResponse = await self._stub(holder).ListEvidence(
            agency_pb2.ListEvidenceRequest(case_id=case_id), timeout=INBOX_TIMEOUT_SECONDS)
        return answer

    async def list_custody(self, holder: str, case_id: str) -> agency_pb2.ListCustodyResponse:
        answer: agency_pb2.ListCustodyResponse = await self._stub(holder).ListCustody(
            agency_pb2.ListCustodyRequest(case_id=case_id), timeout=INBOX_TIMEOUT_SECONDS)
        return answer

    async def notifications(self, agency: str, session: str, method: str,
                            request: Message) -> Any:
        """An officer's NotificationService call (the console's notifications page),
        relayed to their agency with their session: the agency decides. Raises
        grpc.aio.AioRpcError as the agency answered; KeyError as list_notices."""
        channel = self._channel(agency)
        if channel is None:
            raise KeyError(agency)
        stub = notify_pb2_grpc.NotificationServiceStub(channel)  # type: ignore[no-untyped-call]
        return await getattr(stub, method)(
            request, metadata=(("authorization", f"Bearer {session}"),),
            timeout=INBOX_TIMEOUT_SECONDS)
