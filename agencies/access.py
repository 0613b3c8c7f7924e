"""Who may call what on an agency's service: one table, checked before any handler runs.

Parties are known by their certificate (the agency's mutual-TLS port): only the worker
delivers, withdraws and notifies; only the gateway checks sessions and relays an
officer's inbox request. People are known by a session this agency signed and still
holds (its officers' desk, server TLS), with the role the table asks for.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NoReturn

import grpc
from opentelemetry import trace
from sqlalchemy import Engine
from sqlmodel import Session

from agencies import roster
from observability import attributes
from trust.guard import Context, Guard, bearer
from trust.pki import CertificateStore, Party, Role
from trust.sessions import OfficerRole, SessionError, verify_session
from trust.sessions import Session as SignedSession
from trust.tls import peer_party

_AGENCY = "/seamless.v1.AgencyService/"
_ROSTER = "/seamless.v1.RosterService/"
_NOTIFY = "/seamless.v1.NotificationService/"


@dataclass(frozen=True)
class Access:
    """Who may call a method: a party of a role, and/or a signed-in officer."""

    party: Role | None = None
    # An officer's session of this agency is required (relayed by `party`, if set).
    session: bool = False
    role: OfficerRole | None = None
    anyone: bool = False
    # Officers call it at the desk, or this party relays their call with their session
    # (the gateway, for the console's sign-out).
    relayed_by: Role | None = None


ACCESS: dict[str, Access] = {
    _AGENCY + "DeliverTask": Access(party=Role.WORKER),
    _AGENCY + "WithdrawTask": Access(party=Role.WORKER),
    _AGENCY + "ReceiveNotice": Access(party=Role.WORKER),
    _AGENCY + "ListInbox": Access(party=Role.GATEWAY, session=True),
    _AGENCY + "ListNotices": Access(party=Role.GATEWAY, session=True),
    _AGENCY + "DescribeAgency": Access(anyone=True),
    _AGENCY + "ActOnTask": Access(session=True, role=OfficerRole.OFFICER),
    # Evidence: an officer's upload, relayed by the gateway with the officer's session;
    # fetches and lists for the gateway, which has checked who may see the files.
    _AGENCY + "StoreEvidence": Access(party=Role.GATEWAY, session=True,
                                      role=OfficerRole.OFFICER),
    _AGENCY + "FetchEvidence": Access(party=Role.GATEWAY),
    _AGENCY + "ListEvidence": Access(party=Role.GATEWAY),
    _AGENCY + "ListCustody": Access(party=Role.GATEWAY),
    _ROSTER + "SignIn": Access(anyone=True),
    _ROSTER + "SignOut": Access(session=True, relayed_by=Role.GATEWAY),
    _ROSTER + "CheckSession": Access(party=Role.GATEWAY),
    _ROSTER + "ListOfficers": Access(session=True, role=OfficerRole.HEAD),
    _ROSTER + "AddOfficer": Access(session=True, role=OfficerRole.HEAD),
    _ROSTER + "DisableOfficer": Access(session=True, role=OfficerRole.HEAD),
    _ROSTER + "ResetPassword": Access(session=True, role=OfficerRole.HEAD),
    _ROSTER + "ChangePassword": Access(session=True),
    # Notifications (agencies.notify_service): each officer keeps its own channels, the
    # heads the agency's webhooks, its duty roster, and read its outbox; at the desk, or
    # from the console through the gateway, with the officer's session.
    _NOTIFY + "ListSubscriptions": Access(session=True, relayed_by=Role.GATEWAY),
    _NOTIFY + "AddEmail": Access(session=True, relayed_by=Role.GATEWAY),
    _NOTIFY + "RemoveSubscription": Access(session=True, relayed_by=Role.GATEWAY),
    _NOTIFY + "ListDutyShifts": Access(session=True, relayed_by=Role.GATEWAY),
    _NOTIFY + "AddWebhook": Access(session=True, role=OfficerRole.HEAD,
                                   relayed_by=Role.GATEWAY),
    _NOTIFY + "AddDutyShift": Access(session=True, role=OfficerRole.HEAD,
                                     relayed_by=Role.GATEWAY),
    _NOTIFY + "ListOutbox": Access(session=True, role=OfficerRole.HEAD,
                                   relayed_by=Role.GATEWAY),
}


@dataclass(frozen=True)
class AgencyCaller:
    party: Party | None = None
    # This agency's officer, with the roles the roster gives them now.
    session: SignedSession | None = None
    roles: frozenset[OfficerRole] = frozenset()

    @property
    def officer(self) -> str:
        return self.session.officer if self.session is not None else ""


_CALLER: ContextVar[AgencyCaller] = ContextVar("seamless_agency_caller")


def caller() -> AgencyCaller:
    """Who is calling (set before the handler runs)."""
    return _CALLER.get()


class AgencyAccess:
    def __init__(self, agency: str, engine: Engine, store: CertificateStore) -> None:
        self._agency = agency
        self._engine = engine
        self._store = store

    def guard(self) -> Guard[AgencyCaller]:
        return Guard(self._identify, _CALLER)

    async def _identify(self, method: str, context: Context) -> AgencyCaller:
        trace.get_current_span().set_attribute(attributes.AGENCY_ID, self._agency)
        access = ACCESS.get(method)
        if access is None:
            await _refuse(context, grpc.StatusCode.PERMISSION_DENIED,
                          f"{method} is not served to anyone")
        party = peer_party(context, self._store)
        if access.anyone:
            return AgencyCaller(party=party)
        if access.party is not None:
            if party is None:
                await _refuse(context, grpc.StatusCode.UNAUTHENTICATED,
                              f"only the {access.party.value} calls this, over mutual TLS "
                              "with its certificate")
            elif party.role is not access.party:
                await _refuse(context, grpc.StatusCode.PERMISSION_DENIED,
                              f"the {party} may not call this; only the "
                              f"{access.party.value} does")
        elif party is not None and party.role is not access.relayed_by:
            await _refuse(context, grpc.StatusCode.PERMISSION_DENIED,
                          "this is for officers signed in at the agency's desk, not for "
                          f"the {party}")
        if not access.session:
            return AgencyCaller(party=party)
        session, roles = await self._officer(context)
        if access.role is not None and access.role not in roles:
            await _refuse(context, grpc.StatusCode.PERMISSION_DENIED,
                          f"officer {session.officer} of {self._agency} lacks the role "
                          f"{access.role.value} this needs")
        return AgencyCaller(party=party, session=session, roles=roles)

    async def _officer(self, context: Context
                       ) -> tuple[SignedSession, frozenset[OfficerRole]]:
        token = bearer(context)
        if not token:
            await _refuse(context, grpc.StatusCode.UNAUTHENTICATED,
                          "sign in first: send 'authorization: Bearer <session>'")
        now = datetime.now(UTC)
        try:
            session = verify_session(token, self._store, now=now)
        except SessionError as err:
            await _refuse(context, grpc.StatusCode.UNAUTHENTICATED, str(err))
        if session.agency != self._agency:
            await _refuse(context, grpc.StatusCode.UNAUTHENTICATED,
                          f"the session was issued by {session.agency}, not {self._agency}")

        def check() -> roster.Standing:
            with Session(self._engine) as db:
                return roster.standing(session=db, agency=self._agency,
                                       session_id=session.session_id,
                                       officer_id=session.officer, now=now)

        standing = await asyncio.to_thread(check)
        if not standing.active:
            await _refuse(context, grpc.StatusCode.UNAUTHENTICATED,
                          f"the session no longer stands: {standing.reason}; sign in again")
        return session, standing.roles


async def _refuse(context: Context, code: grpc.StatusCode, message: str) -> NoReturn:
    await context.abort(code, message)
    raise AssertionError("unreachable: abort raises")
