"""RosterService: the agency's officers sign in, and its heads keep the roster.

Who may call each method is settled before the handler runs (`agencies.access`); the
handlers check the request's own fields and turn roster refusals into statuses.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Engine
from sqlmodel import Session

from agencies import roster
from agencies.access import caller
from agencies.models import Officer
from agencies.sign_in_guard import (
    CLIENT_ADDRESS_HEADER,
    MAX_ADDRESS,
    SignInGuard,
    peer_address,
)
from seamless.v1 import roster_pb2 as pb
from seamless.v1 import roster_pb2_grpc
from trust import passwords
from trust.pki import Role
from trust.sessions import OfficerRole, issue
from trust.statements import Signer

T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]
# Officer ids are what people type and what the ledger records: short, plain, stable.
_OFFICER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAX_NAME = 200
MAX_REASON = 1000
# Password hashing is deliberately slow; at most this many at once, so a flood of
# sign-ins cannot take the threads deliveries and session checks need.
PASSWORD_WORK_AT_ONCE = 2
_ROLE_OF = {pb.OFFICER_ROLE_OFFICER: OfficerRole.OFFICER,
            pb.OFFICER_ROLE_DISPATCHER: OfficerRole.DISPATCHER,
            pb.OFFICER_ROLE_HEAD: OfficerRole.HEAD}
ROLE_VALUE = {role: value for value, role in _ROLE_OF.items()}


def role_values(roles: frozenset[OfficerRole]) -> list[pb.OfficerRole]:
    return [ROLE_VALUE[r] for r in sorted(roles)]


def officer_to_proto(officer: Officer) -> pb.Officer:
    created = Timestamp()
    created.FromDatetime(roster.as_utc(officer.created_at))
    return pb.Officer(id=officer.officer_id, name=officer.name,
                      roles=role_values(roster.roles_of(officer)), disabled=officer.disabled,
                      disabled_reason=officer.disabled_reason, created_at=created)


def new_password() -> str:
    return secrets.token_urlsafe(15)


async def _invalid(context: Context, message: str) -> NoReturn:
    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, message)
    raise AssertionError("unreachable: abort raises")


async def _check_officer_id(context: Context, officer_id: str) -> None:
    if not _OFFICER_ID.match(officer_id):
        await _invalid(context, "officer_id: 1 to 64 of a-z, 0-9, '.', '_' and '-', "
                                "starting with a letter or digit")


async def _check_password(context: Context, field: str, password: str) -> None:
    problem = passwords.password_problem(password)
    if problem is not None:
        await _invalid(context, f"{field}: {problem}")


PASSWORD_MUST_CHANGE = ("the password must be changed at the first sign-in: sign in "
                        "again giving a new password of your own (seamless login asks "
                        "for one)")


def _client_address(context: Context) -> str:
    """Whom a sign-in comes from: the connection's address, or, relayed by the gateway
    (by its certificate), the address the gateway names."""
    party = caller().party  # as the access guard found it, retired keys refused
    if party is not None and party.role is Role.GATEWAY:
        named = dict(context.invocation_metadata() or ()).get(CLIENT_ADDRESS_HEADER, "")
        if named:
            return str(named)[:MAX_ADDRESS]
    return peer_address(context.peer())


class RosterService(roster_pb2_grpc.RosterServiceServicer):
    def __init__(self, agency: str, engine: Engine, signer: Signer) -> None:
        self._agency = agency
        self._engine = engine
        self._signer = signer
        self._password_work = asyncio.Semaphore(PASSWORD_WORK_AT_ONCE)
        self._guard = SignInGuard()

    async def _hash(self, password: str) -> str:
        async with self._password_work:
            return await asyncio.to_thread(passwords.hash_password, password)

    async def _signed_in(self, officer_id: str, password: str, now: datetime) -> Officer:
        """The officer whose password this is (raises roster.RosterRefused)."""
        async with self._password_work:
            return await self._in_session(lambda s: roster.sign_in(
                session=s, agency=self._agency, officer_id=officer_id, password=password,
                now=now))

    async def _in_session(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with Session(self._engine) as session:
                return work(session)
        return await asyncio.to_thread(run)

    async def _roster(self, context: Context, work: Callable[[Session], T]) -> T:
        """Roster work, its refusals answered with a status (nothing changed)."""
        try:
            return await self._in_session(work)
        except roster.RosterRefused as refused:
            code = (grpc.StatusCode.NOT_FOUND if refused.not_found
                    else grpc.StatusCode.FAILED_PRECONDITION)
            await context.abort(code, str(refused))
            raise AssertionError("unreachable: abort raises") from None

    async def SignIn(self, request: pb.SignInRequest, context: Context) -> pb.SignInResponse:
        if not request.officer_id or not request.password:
            await _invalid(context, "officer_id and password are required")
        now = datetime.now(UTC)
        officer_id, address = request.officer_id[:64], _client_address(context)
        held = self._guard.held(address, officer_id)
        if held is not None:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, held.message)
        self._guard.attempt(address, officer_id)  # (no await since the check above)
        try:
            officer = await self._signed_in(officer_id, request.password, now)
        except roster.RosterRefused as refused:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(refused))
        self._guard.signed_in(address, officer_id)
        if officer.must_change_password:
            officer = await self._first_password(context, officer, request, now)
        token, session = issue(self._signer, officer=officer.officer_id,
                               roles=roster.roles_of(officer), now=now)
        await self._in_session(lambda s: roster.record_session(
            session=s, agency=self._agency, officer_id=officer.officer_id,
            session_id=session.session_id, issued_at=now, expires_at=session.expires_at))
        expires = Timestamp()
        expires.FromDatetime(session.expires_at)
        return pb.SignInResponse(session=token, agency=self._agency,
                                 officer=officer_to_proto(officer), expires_at=expires)

    async def _first_password(self, context: Context, officer: Officer,
                              request: pb.SignInRequest, now: datetime) -> Officer:
        """An officer signing in with a one-time password sets their own as they do."""
        if not request.new_password:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, PASSWORD_MUST_CHANGE)
        if request.new_password == request.password:
            await _invalid(context, "new_password: choose a password other than the "
                                    "one-time password")
        await _check_password(context, "new_password", request.new_password)
        digest = await self._hash(request.new_password)
        await self._roster(context, lambda s: roster.set_password(
            session=s, agency=self._agency, officer_id=officer.officer_id,
            password_hash=digest, now=now))
        return await self._in_session(lambda s: roster.find(
            session=s, agency=self._agency, officer_id=officer.officer_id)) or officer

    async def SignOut(self, request: pb.SignOutRequest, context: Context
                      ) -> pb.SignOutResponse:
        session = caller().session
        assert session is not None  # the access table asks for one
        await self._in_session(lambda s: roster.end_session(
            session=s, agency=self._agency, session_id=session.session_id,
            now=datetime.now(UTC), reason="signed out"))
        return pb.SignOutResponse()

    async def CheckSession(self, request: pb.CheckSessionRequest, context: Context
                           ) -> pb.CheckSessionResponse:
        standing = await self._in_session(lambda s: roster.standing(
            session=s, agency=self._agency, session_id=request.session_id[:64],
            officer_id=request.officer_id[:64], now=datetime.now(UTC)))
        return pb.CheckSessionResponse(active=standing.active,
                                       roles=role_values(standing.roles),
                                       reason=standing.reason)

    async def ListOfficers(self, request: pb.ListOfficersRequest, context: Context
                           ) -> pb.ListOfficersResponse:
        rows = await self._in_session(lambda s: roster.officers(session=s,
                                                                agency=self._agency))
        return pb.ListOfficersResponse(officers=[officer_to_proto(o) for o in rows])

    async def AddOfficer(self, request: pb.AddOfficerRequest, context: Context
                         ) -> pb.AddOfficerResponse:
        await _check_officer_id(context, request.officer_id)
        if not request.name.strip() or len(request.name) > MAX_NAME:
            await _invalid(context, f"name: required, at most {MAX_NAME} characters")
        roles = frozenset(_ROLE_OF[r] for r in request.roles if r in _ROLE_OF)
        if not roles or len(roles) != len(set(request.roles)):
            await _invalid(context, "roles: one or more of OFFICER, DISPATCHER, HEAD")
        generated = "" if request.password else new_password()
        await _check_password(context, "password", request.password or generated)
        digest = await self._hash(request.password or generated)
        officer = await self._roster(context, lambda s: roster.add_officer(
            session=s, agency=self._agency, officer_id=request.officer_id,
            name=request.name.strip(), roles=roles, password_hash=digest))
        return pb.AddOfficerResponse(officer=officer_to_proto(officer),
                                     initial_password=generated)

    async def DisableOfficer(self, request: pb.DisableOfficerRequest, context: Context
                             ) -> pb.DisableOfficerResponse:
        await _check_officer_id(context, request.officer_id)
        if not request.reason.strip() or len(request.reason) > MAX_REASON:
            await _invalid(context, f"reason: required, at most {MAX_REASON} characters")
        officer, ended = await self._roster(context, lambda s: roster.disable(
            session=s, agency=self._agency, officer_id=request.officer_id,
            reason=request.reason.strip(), now=datetime.now(UTC)))
        return pb.DisableOfficerResponse(officer=officer_to_proto(officer),
                                         sessions_ended=ended)

    async def ResetPassword(self, request: pb.ResetPasswordRequest, context: Context
                            ) -> pb.ResetPasswordResponse:
        await _check_officer_id(context, request.officer_id)
        generated = "" if request.password else new_password()
        await _check_password(context, "password", request.password or generated)
        digest = await self._hash(request.password or generated)
        ended = await self._roster(context, lambda s: roster.set_password(
            session=s, agency=self._agency, officer_id=request.officer_id,
            password_hash=digest, now=datetime.now(UTC), one_time=True))
        return pb.ResetPasswordResponse(new_password=generated, sessions_ended=ended)

    async def ChangePassword(self, request: pb.ChangePasswordRequest, context: Context
                             ) -> pb.ChangePasswordResponse:
        session = caller().session
        assert session is not None  # the access table asks for one
        await _check_password(context, "new_password", request.new_password)
        now = datetime.now(UTC)
        try:
            await self._signed_in(session.officer, request.current_password, now)
        except roster.RosterRefused as refused:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                f"current_password: {refused}")
        digest = await self._hash(request.new_password)
        ended = await self._roster(context, lambda s: roster.set_password(
            session=s, agency=self._agency, officer_id=session.officer,
            password_hash=digest, now=now, keep_session=session.session_id))
        return pb.ChangePasswordResponse(sessions_ended=ended)
