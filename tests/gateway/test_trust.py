"""Every actor proven at the gateway: who an officer is comes from a signed session that
still stands, what it may do from its roles, and an agency's forwarded act from its
certificate and its signature. Each refusal records nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from sqlmodel import Session

from gateway.agency_links import STANDING_SECONDS
from observability import ledger
from records.event_schema import PLATFORM_ACTOR
from seamless.v1 import (
    agency_pb2,
    agency_pb2_grpc,
    case_pb2,
    case_service_pb2_grpc,
    roster_pb2,
    roster_pb2_grpc,
)
from seamless.v1 import case_service_pb2 as pb
from tests.gateway.harness import Gateway, failure
from tests.trust.kit import new_kit
from trust.attestations import Act, content_digest, sign_act
from trust.pki import Role
from trust.sessions import OfficerRole, issue
from trust.statements import Signer
from trust.tls import expecting, mutual_tls_channel

TOWNSHIP, NR, PS = "jinhaihu-township", "natural-resources", "public-security"


def rid() -> str:
    return f"tr-{uuid.uuid4()}"


def _open_request() -> pb.OpenCaseRequest:
    return pb.OpenCaseRequest(request_id=rid(), type="illegal-mining",
                              subject_key=f"Q-{uuid.uuid4().hex[:10]}",
                              title="Quarrying by night", jurisdiction="jinhaihu")


async def _mining(gw: Gateway) -> case_pb2.Case:
    case: case_pb2.Case = (await gw.call("OpenCase", _open_request(), TOWNSHIP)).case
    for _ in range(200):  # every task in its agency's inbox, so acts on it are judged
        case = (await gw.call("GetCase", pb.GetCaseRequest(case_id=case.id), TOWNSHIP)).case
        if all(t.delivered for t in case.tasks):
            return case
        await asyncio.sleep(0.05)
    raise AssertionError("the whistle tasks were not delivered")


def _ledger_events(gw: Gateway, case_id: str) -> list[tuple[str, str, str]]:
    """What people did to the case, as the ledger holds it (the platform's own
    deliveries arrive on their own time, so they are left out)."""
    with Session(gw.ledger) as session:
        return [(e.kind, e.actor_agency, e.actor_officer)
                for e in ledger.case_events(session=session, case_id=case_id)
                if e.actor_agency != PLATFORM_ACTOR]


async def _recorded(gw: Gateway, case_id: str, events: int) -> list[tuple[str, str, str]]:
    """People's events of the case once the ledger holds `events` of them (appends
    trail the requests by a moment)."""
    for _ in range(200):
        found = _ledger_events(gw, case_id)
        if len(found) >= events:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"the ledger never held {events} events of {case_id}")


async def test_an_officer_naming_another_officer_is_refused_and_nothing_is_recorded(
        gw: Gateway) -> None:
    case = await _mining(gw)
    opening = 1 + len(case.tasks)  # OPENED, then a dispatch for each opening task
    before = await _recorded(gw, case.id, opening)
    sign = pb.SignTaskRequest(request_id=rid(), case_id=case.id, task_id=case.tasks[0].id,
                              officer_id="field-officer")
    refused = await gw.fails("SignTask", sign, NR)
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED,
                                              "OFFICER_MISMATCH")
    assert _ledger_events(gw, case.id) == before
    sign.officer_id = "duty-officer"  # naming oneself is fine
    assert (await gw.call("SignTask", sign, NR)).case.tasks[0].state == \
        case_pb2.TASK_STATE_SIGNED
    after = await _recorded(gw, case.id, opening + 1)
    assert after[-1] == ("TASK_SIGNED", NR, "duty-officer")


async def test_api5_broken_function_level_authorization_each_role_does_only_its_work(
        gw: Gateway) -> None:
    refused = await gw.fails("OpenCase", _open_request(), f"field-officer@{TOWNSHIP}")
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED,
                                              "ROLE_REQUIRED")
    assert refused.metadata == {"role": "dispatcher"} and "dispatcher" in refused.message
    case = (await gw.call("OpenCase", _open_request(), f"dispatcher@{TOWNSHIP}")).case
    close = pb.CloseCaseRequest(request_id=rid(), case_id=case.id)
    assert (await gw.fails("CloseCase", close, f"dispatcher@{TOWNSHIP}")).reason == \
        "ROLE_REQUIRED"
    sign = pb.SignTaskRequest(request_id=rid(), case_id=case.id, task_id=case.tasks[0].id)
    assert (await gw.fails("SignTask", sign, f"dispatcher@{NR}")).reason == "ROLE_REQUIRED"
    await gw.call("SignTask", sign, f"field-officer@{NR}")
    # Reads need no particular role.
    await gw.call("GetCase", pb.GetCaseRequest(case_id=case.id), f"field-officer@{NR}")


async def test_an_officer_of_one_agency_cannot_act_for_another(gw: Gateway) -> None:
    case = await _mining(gw)
    theirs = next(t for t in case.tasks if t.assignee == PS)
    refused = await gw.fails("SignTask", pb.SignTaskRequest(
        request_id=rid(), case_id=case.id, task_id=theirs.id), NR)
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED,
                                              "NOT_ASSIGNEE")


async def test_a_disabled_officer_is_refused_within_a_second(gw: Gateway) -> None:
    """The gateway keeps an agency's word that a session stands for a second (a busy
    person costs the agency one question a second); the agency's own desk asks its
    roster on every call."""
    session = await gw.sign_in(NR, "field-officer")
    metadata = (("authorization", f"Bearer {session}"),)
    await gw.stub.ListAgencies(pb.ListAgenciesRequest(), metadata=metadata)
    async with gw.desk(NR) as desk:
        await roster_pb2_grpc.RosterServiceStub(desk).DisableOfficer(  # type: ignore[no-untyped-call]
            roster_pb2.DisableOfficerRequest(officer_id="field-officer", reason="on leave"),
            metadata=(("authorization", f"Bearer {await gw.session(NR)}"),))
        with pytest.raises(grpc.aio.AioRpcError) as at_the_desk:
            await agency_pb2_grpc.AgencyServiceStub(desk).ListInbox(  # type: ignore[no-untyped-call]
                agency_pb2.ListInboxRequest(), metadata=metadata)
        assert at_the_desk.value.code() is grpc.StatusCode.UNAUTHENTICATED
    await asyncio.sleep(STANDING_SECONDS)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await gw.stub.ListAgencies(pb.ListAgenciesRequest(), metadata=metadata)
    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "disabled" in (refused.value.details() or "")


async def test_api2_broken_authentication_forged_expired_and_foreign_sessions_are_refused(
        gw: Gateway, tmp_path: Path) -> None:
    real = await gw.session(NR)
    header, claims, signature = real.split(".")
    forged = f"{header}.{claims[:-4]}AAAA.{signature}"
    signer = Signer(gw.identity(NR))
    expired, _ = issue(signer, officer="duty-officer", roles=frozenset(OfficerRole),
                       now=datetime.now(UTC) - timedelta(minutes=1),
                       lifetime=timedelta(seconds=30))
    elsewhere = new_kit(tmp_path).signer(NR, Role.AGENCY)
    foreign, _ = issue(elsewhere, officer="duty-officer", roles=frozenset(OfficerRole),
                       now=datetime.now(UTC))
    never_issued, _ = issue(signer, officer="duty-officer", roles=frozenset(OfficerRole),
                            now=datetime.now(UTC))
    for name, token in {"forged": forged, "expired": expired, "foreign": foreign,
                        "not issued by the agency's desk": never_issued}.items():
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await gw.stub.GetCase(pb.GetCaseRequest(case_id="x"),
                                  metadata=(("authorization", f"Bearer {token}"),))
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED, name
        assert token not in (refused.value.details() or ""), name


def _forwarder(gw: Gateway, party: str) -> case_service_pb2_grpc.CaseServiceStub:
    channel = grpc.aio.secure_channel(gw.mtls_address,
                                      mutual_tls_channel(gw.identity(party)),
                                      options=expecting(Role.GATEWAY))
    return case_service_pb2_grpc.CaseServiceStub(channel)  # type: ignore[no-untyped-call]


def _act(gw: Gateway, agency: str, request: pb.SignTaskRequest) -> str:
    return sign_act(Signer(gw.identity(agency)), Act(
        case_id=request.case_id, task_id=request.task_id, action="SIGN",
        officer=request.officer_id, request_id=request.request_id, session_id="s",
        content=content_digest("SIGN")), at=datetime.now(UTC))


async def test_api10_unsafe_consumption_an_agency_forwards_only_its_own_signed_acts(
        gw: Gateway) -> None:
    case = await _mining(gw)
    nr_task = next(t for t in case.tasks if t.assignee == NR)
    ps_task = next(t for t in case.tasks if t.assignee == PS)
    nr = _forwarder(gw, NR)

    async def refused(stub: case_service_pb2_grpc.CaseServiceStub, method: str,
                      request: object, act: str = "") -> tuple[grpc.StatusCode, str]:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await getattr(stub, method)(request, metadata=(("seamless-act", act),) if act
                                        else (), timeout=30)
        found = failure(err.value)
        return found.code, found.reason

    sign = pb.SignTaskRequest(request_id=rid(), case_id=case.id, task_id=nr_task.id,
                              officer_id="duty-officer")
    opening = 1 + len(case.tasks)  # OPENED, then a dispatch for each opening task
    before = await _recorded(gw, case.id, opening)
    # No act, an act for another task, an act signed by another agency.
    assert await refused(nr, "SignTask", sign) == (grpc.StatusCode.PERMISSION_DENIED,
                                                    "ACT_NOT_SIGNED")
    other = pb.SignTaskRequest(request_id=sign.request_id, case_id=case.id,
                               task_id=ps_task.id, officer_id="duty-officer")
    assert await refused(nr, "SignTask", sign, _act(gw, NR, other)) == (
        grpc.StatusCode.PERMISSION_DENIED, "ACT_NOT_SIGNED")
    assert await refused(nr, "SignTask", sign, _act(gw, PS, sign)) == (
        grpc.StatusCode.PERMISSION_DENIED, "ACT_NOT_SIGNED")
    # Its own signed act on another agency's task: the case refuses it.
    assert await refused(nr, "SignTask", other, _act(gw, NR, other)) == (
        grpc.StatusCode.PERMISSION_DENIED, "NOT_ASSIGNEE")
    # Anything but an officer's act on a task.
    assert (await refused(nr, "DispatchTask", pb.DispatchTaskRequest(
        request_id=rid(), case_id=case.id, kind="work-safety",
        assignee="emergency-management")))[1] == "NOT_FORWARDABLE"
    assert (await refused(_forwarder(gw, "worker"), "SignTask", sign,
                          _act(gw, NR, sign)))[1] == "NOT_AN_AGENCY"
    assert _ledger_events(gw, case.id) == before
    reply = await nr.SignTask(sign, metadata=(("seamless-act", _act(gw, NR, sign)),),
                              timeout=30)
    assert next(t for t in reply.case.tasks if t.id == nr_task.id).state == \
        case_pb2.TASK_STATE_SIGNED
    after = await _recorded(gw, case.id, opening + 1)
    assert after[-1] == ("TASK_SIGNED", NR, "duty-officer")
