"""An agency's roster: signing in, sessions that end at once, and what only heads do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from agencies.roster import SIGN_IN_REFUSED
from agencies.sign_in_guard import (
    CLIENT_ADDRESS_HEADER,
    PAIR_FAILURES,
    SLOW_AFTER,
    SignInGuard,
)
from seamless.v1 import roster_pb2 as pb
from tests.agencies.harness import (
    AGENCY,
    FIRST_HEAD,
    HEAD,
    OFFICER,
    PASSWORD,
    Agency,
    running_agency,
)
from trust.pki import Role
from trust.sessions import OfficerRole, verify_session


@pytest.fixture
async def agency(tmp_path: Path, database_url: str) -> AsyncIterator[Agency]:
    async with running_agency(tmp_path, database_url=database_url) as running:
        yield running


async def _refused(call: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call  # type: ignore[misc]
    return refused.value


async def _standing(agency: Agency, metadata: tuple[tuple[str, str]]) -> bool:
    session = verify_session(metadata[0][1].removeprefix("Bearer "), agency.kit.store(),
                             now=datetime.now(UTC))
    answer = await agency.roster_as_party("gateway", Role.GATEWAY).CheckSession(
        pb.CheckSessionRequest(session_id=session.session_id, officer_id=session.officer))
    return bool(answer.active)


async def test_a_signed_in_officer_holds_a_session_the_agency_signed(agency: Agency) -> None:
    reply = await agency.roster.SignIn(pb.SignInRequest(officer_id=OFFICER,
                                                        password=PASSWORD))
    session = verify_session(reply.session, agency.kit.store(), now=datetime.now(UTC))
    assert (session.agency, session.officer, session.roles) == (
        AGENCY, OFFICER, frozenset({OfficerRole.OFFICER}))
    assert reply.expires_at.ToDatetime(tzinfo=UTC) == session.expires_at


async def test_a_wrong_officer_and_a_wrong_password_are_refused_alike(agency: Agency) -> None:
    wrong_password = await _refused(agency.roster.SignIn(pb.SignInRequest(
        officer_id=OFFICER, password="not the password")))
    no_such_officer = await _refused(agency.roster.SignIn(pb.SignInRequest(
        officer_id="nobody", password=PASSWORD)))
    for refusal in (wrong_password, no_such_officer):
        assert (refusal.code(), refusal.details()) == (grpc.StatusCode.UNAUTHENTICATED,
                                                       SIGN_IN_REFUSED)


async def test_guesses_sent_all_at_once_are_held_as_they_arrive(agency: Agency) -> None:
    guesses = [agency.roster.SignIn(pb.SignInRequest(officer_id=OFFICER, password="guess"))
               for _ in range(3 * PAIR_FAILURES)]
    answers = await asyncio.gather(*(_refused(g) for g in guesses))
    codes = [answer.code() for answer in answers]
    # Only the first few are judged at all; the rest are held before any hashing.
    assert codes.count(grpc.StatusCode.UNAUTHENTICATED) == PAIR_FAILURES
    assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 2 * PAIR_FAILURES


async def test_guessing_from_one_address_is_held_and_the_officer_still_signs_in_elsewhere(
        agency: Agency) -> None:
    guesses = [agency.roster.SignIn(pb.SignInRequest(officer_id=OFFICER, password="guess"))
               for _ in range(PAIR_FAILURES)]
    await asyncio.gather(*(_refused(g) for g in guesses))
    # This address may not try this officer for a while, even with the right password,
    # and is told how long; an id that does not exist is held alike.
    held = await _refused(agency.roster.SignIn(pb.SignInRequest(officer_id=OFFICER,
                                                                password=PASSWORD)))
    assert held.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"too many failed sign-ins for {OFFICER} from your address" in (held.details() or "")
    for _ in range(PAIR_FAILURES):
        await _refused(agency.roster.SignIn(pb.SignInRequest(officer_id="nobody",
                                                             password="guess")))
    nobody = await _refused(agency.roster.SignIn(pb.SignInRequest(officer_id="nobody",
                                                                  password="guess")))
    assert nobody.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    # Another officer is not held up by it.
    await agency.sign_in(HEAD)
    # The officer, at their own desk (another address, as the gateway relays it), signs
    # in: slowed down after the failures, never locked out.
    relay = agency.roster_as_party("gateway", Role.GATEWAY)

    async def from_their_desk() -> pb.SignInResponse:
        answer: pb.SignInResponse = await relay.SignIn(
            pb.SignInRequest(officer_id=OFFICER, password=PASSWORD),
            metadata=((CLIENT_ADDRESS_HEADER, "10.1.2.3"),))
        return answer
    try:
        signed = await from_their_desk()
    except grpc.aio.AioRpcError as slowed:
        assert slowed.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert f"several failed sign-ins for {OFFICER}; try again in" in (slowed.details() or "")
        await asyncio.sleep(2.0 ** (PAIR_FAILURES - SLOW_AFTER) + 0.2)
        signed = await from_their_desk()
    assert signed.officer.id == OFFICER


def test_the_guard_doubles_the_wait_on_one_officer_from_many_addresses() -> None:
    guard = SignInGuard()
    for n in range(SLOW_AFTER + 3):
        guard.attempt(f"10.0.0.{n}", OFFICER, now=100.0)
    held = guard.held("10.9.9.9", OFFICER, now=101.0)
    assert held is not None and 6.5 < held.wait_seconds <= 7.0  # 2**3 after the last
    assert guard.held("10.9.9.9", OFFICER, now=108.5) is None
    assert guard.held("10.9.9.9", "someone-else", now=101.0) is None
    for n in range(SLOW_AFTER + 40):
        guard.attempt(f"10.0.1.{n}", OFFICER, now=200.0)
    longest = guard.held("10.9.9.9", OFFICER, now=200.0)
    assert longest is not None and longest.wait_seconds == 30.0
    guard.signed_in("10.9.9.9", OFFICER)
    assert guard.held("10.9.9.9", OFFICER, now=200.0) is None


async def test_a_first_head_sets_their_own_password_at_the_first_sign_in(
        agency: Agency) -> None:
    asked = await _refused(agency.roster.SignIn(pb.SignInRequest(
        officer_id=FIRST_HEAD, password=PASSWORD)))
    assert asked.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "must be changed at the first sign-in" in (asked.details() or "")
    same = await _refused(agency.roster.SignIn(pb.SignInRequest(
        officer_id=FIRST_HEAD, password=PASSWORD, new_password=PASSWORD)))
    assert same.code() is grpc.StatusCode.INVALID_ARGUMENT
    # A wrong one-time password sets nothing, however good the new one.
    wrong = await _refused(agency.roster.SignIn(pb.SignInRequest(
        officer_id=FIRST_HEAD, password="not the one-time one",
        new_password="a password of my own")))
    assert wrong.code() is grpc.StatusCode.UNAUTHENTICATED
    signed = await agency.roster.SignIn(pb.SignInRequest(
        officer_id=FIRST_HEAD, password=PASSWORD, new_password="a password of my own"))
    assert signed.officer.id == FIRST_HEAD and signed.session
    # From now on their own password signs them in, plainly; the one-time one does not.
    await agency.sign_in(FIRST_HEAD, "a password of my own")
    old = await _refused(agency.roster.SignIn(pb.SignInRequest(
        officer_id=FIRST_HEAD, password=PASSWORD)))
    assert old.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_signing_out_ends_the_session_at_once(agency: Agency) -> None:
    officer = await agency.sign_in(OFFICER)
    assert await _standing(agency, officer)
    await agency.roster.SignOut(pb.SignOutRequest(), metadata=officer)
    assert not await _standing(agency, officer)
    refused = await _refused(agency.roster.SignOut(pb.SignOutRequest(), metadata=officer))
    assert refused.code() is grpc.StatusCode.UNAUTHENTICATED


async def _choose_own(agency: Agency, officer: str, one_time: str) -> None:
    """A password a head gave is one-time: it signs in only by choosing one's own."""
    refused = await _refused(agency.roster.SignIn(pb.SignInRequest(
        officer_id=officer, password=one_time)))
    assert refused.code() is grpc.StatusCode.FAILED_PRECONDITION
    await agency.roster.SignIn(pb.SignInRequest(officer_id=officer, password=one_time,
                                                new_password="known to me alone"))
    await agency.sign_in(officer, "known to me alone")


async def test_a_head_adds_an_officer_who_chooses_their_own_password(
        agency: Agency) -> None:
    head = await agency.sign_in(HEAD)
    added = await agency.roster.AddOfficer(pb.AddOfficerRequest(
        officer_id="zhao.new", name="Zhao, new dispatcher",
        roles=[pb.OFFICER_ROLE_DISPATCHER]), metadata=head)
    assert added.initial_password and added.officer.roles == [pb.OFFICER_ROLE_DISPATCHER]
    await _choose_own(agency, "zhao.new", added.initial_password)
    # A password the head typed is one-time too: the head does not keep knowing it.
    typed = await agency.roster.AddOfficer(pb.AddOfficerRequest(
        officer_id="qian.new", name="Qian", roles=[pb.OFFICER_ROLE_OFFICER],
        password="the head typed this"), metadata=head)
    assert not typed.initial_password
    await _choose_own(agency, "qian.new", "the head typed this")
    listed = await agency.roster.ListOfficers(pb.ListOfficersRequest(), metadata=head)
    assert [o.id for o in listed.officers] == ["chen.head", "li.officer", "qian.new",
                                              "wu.first-head", "zhao.new"]
    again = await _refused(agency.roster.AddOfficer(pb.AddOfficerRequest(
        officer_id="zhao.new", name="Zhao", roles=[pb.OFFICER_ROLE_HEAD]), metadata=head))
    assert again.code() is grpc.StatusCode.FAILED_PRECONDITION


async def test_only_a_head_keeps_the_roster(agency: Agency) -> None:
    officer = await agency.sign_in(OFFICER)
    for method, request in (
            ("ListOfficers", pb.ListOfficersRequest()),
            ("AddOfficer", pb.AddOfficerRequest(officer_id="mallory", name="M",
                                                roles=[pb.OFFICER_ROLE_HEAD])),
            ("DisableOfficer", pb.DisableOfficerRequest(officer_id=HEAD, reason="coup")),
            ("ResetPassword", pb.ResetPasswordRequest(officer_id=HEAD))):
        refused = await _refused(getattr(agency.roster, method)(request, metadata=officer))
        assert refused.code() is grpc.StatusCode.PERMISSION_DENIED, method
        assert "lacks the role head" in (refused.details() or "")
    await agency.sign_in(HEAD)  # the head's password still works


async def test_disabling_an_officer_ends_their_sessions_at_once(agency: Agency) -> None:
    officer = await agency.sign_in(OFFICER)
    head = await agency.sign_in(HEAD)
    reply = await agency.roster.DisableOfficer(pb.DisableOfficerRequest(
        officer_id=OFFICER, reason="left the bureau"), metadata=head)
    assert (reply.officer.disabled, reply.sessions_ended) == (True, 1)
    assert not await _standing(agency, officer)
    refused = await _refused(agency.roster.SignIn(pb.SignInRequest(officer_id=OFFICER,
                                                                   password=PASSWORD)))
    assert "disabled" in (refused.details() or "")


async def test_a_reset_password_ends_sessions_and_the_old_password(agency: Agency) -> None:
    officer = await agency.sign_in(OFFICER)
    head = await agency.sign_in(HEAD)
    reply = await agency.roster.ResetPassword(pb.ResetPasswordRequest(officer_id=OFFICER),
                                              metadata=head)
    assert reply.sessions_ended == 1 and not await _standing(agency, officer)
    await _refused(agency.roster.SignIn(pb.SignInRequest(officer_id=OFFICER,
                                                         password=PASSWORD)))
    await _choose_own(agency, OFFICER, reply.new_password)


async def test_an_officer_changes_its_own_password(agency: Agency) -> None:
    first, second = await agency.sign_in(OFFICER), await agency.sign_in(OFFICER)
    wrong = await _refused(agency.roster.ChangePassword(pb.ChangePasswordRequest(
        current_password="wrong", new_password="a much better one"), metadata=first))
    assert wrong.code() is grpc.StatusCode.PERMISSION_DENIED
    reply = await agency.roster.ChangePassword(pb.ChangePasswordRequest(
        current_password=PASSWORD, new_password="a much better one"), metadata=first)
    assert reply.sessions_ended == 1
    assert await _standing(agency, first) and not await _standing(agency, second)
    await agency.sign_in(OFFICER, "a much better one")


@pytest.mark.parametrize(("request_", "problem"), [
    (pb.AddOfficerRequest(officer_id="Bad Id", name="x", roles=[pb.OFFICER_ROLE_HEAD]),
     "officer_id"),
    (pb.AddOfficerRequest(officer_id="ok", name="", roles=[pb.OFFICER_ROLE_HEAD]), "name"),
    (pb.AddOfficerRequest(officer_id="ok", name="x"), "roles"),
    (pb.AddOfficerRequest(officer_id="ok", name="x", roles=[pb.OFFICER_ROLE_HEAD],
                          password="short"), "password"),
])
async def test_a_bad_new_officer_is_refused_and_nothing_is_added(
        agency: Agency, request_: pb.AddOfficerRequest, problem: str) -> None:
    head = await agency.sign_in(HEAD)
    refused = await _refused(agency.roster.AddOfficer(request_, metadata=head))
    assert refused.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert (refused.details() or "").startswith(problem)
    listed = await agency.roster.ListOfficers(pb.ListOfficersRequest(), metadata=head)
    assert len(listed.officers) == 3
