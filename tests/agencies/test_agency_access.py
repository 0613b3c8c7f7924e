"""Who may call an agency's service: each RPC from the right party, without a
certificate, and with another party's; a refused call changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from seamless.v1 import agency_pb2, case_pb2, roster_pb2
from tests.agencies.harness import AGENCY, HEAD, OFFICER, Agency, running_agency
from trust.pki import Role
from trust.tls import expecting

CASE = "case:illegal-mining:Q7@run-1"


@pytest.fixture
async def agency(tmp_path: Path) -> AsyncIterator[Agency]:
    async with running_agency(tmp_path) as running:
        yield running


def _stamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _delivery() -> agency_pb2.DeliverTaskRequest:
    now = datetime.now(UTC)
    return agency_pb2.DeliverTaskRequest(
        idempotency_key=f"{CASE}/T1/round-1", assignee=AGENCY, item=agency_pb2.InboxItem(
            case_id=CASE, task_id="T1", round=1, case_type="illegal-mining",
            case_title="Night digging", owner="jinhaihu-township", kind="work-safety",
            title="Secure the site", sign_by=_stamp(now + timedelta(hours=1)),
            due_by=_stamp(now + timedelta(days=3))))


def _notice(text: str) -> agency_pb2.ReceiveNoticeRequest:
    return agency_pb2.ReceiveNoticeRequest(
        idempotency_key=f"{CASE}/notice/1", recipient=AGENCY, case_id=CASE,
        kind=case_pb2.NOTICE_KIND_SUPERVISION, text=text, task_id="T1")


def _withdrawal() -> agency_pb2.WithdrawTaskRequest:
    return agency_pb2.WithdrawTaskRequest(idempotency_key=f"{CASE}/T1/withdraw",
                                          assignee=AGENCY, case_id=CASE, task_id="T1",
                                          reason="forged")


async def _code(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call  # type: ignore[misc]
    return refused.value.code()


async def test_only_the_worker_delivers_withdraws_and_notifies(agency: Agency) -> None:
    await agency.worker.DeliverTask(_delivery())
    before = await agency.inbox()
    strangers = {
        "no certificate (the officers' desk)": (agency.desk, grpc.StatusCode.UNAUTHENTICATED),
        "another agency's certificate": (agency.as_party("health", Role.AGENCY),
                                         grpc.StatusCode.PERMISSION_DENIED),
        "the gateway's certificate": (agency.as_party("gateway", Role.GATEWAY),
                                      grpc.StatusCode.PERMISSION_DENIED),
    }
    for who, (stub, code) in strangers.items():
        assert await _code(stub.WithdrawTask(_withdrawal())) is code, who
        delivery = _delivery()
        delivery.idempotency_key, delivery.item.task_id = f"{CASE}/T9/round-1", "T9"
        assert await _code(stub.DeliverTask(delivery)) is code, who
        assert await _code(stub.ReceiveNotice(_notice("forged"))) is code, who
    assert await agency.inbox() == before
    assert before[0].state == agency_pb2.INBOX_ITEM_STATE_OPEN


async def test_a_real_notice_arrives_after_an_attempt_to_plant_its_key(agency: Agency
                                                                       ) -> None:
    planted = agency.as_party("health", Role.AGENCY).ReceiveNotice(_notice("nothing to see"))
    assert await _code(planted) is grpc.StatusCode.PERMISSION_DENIED
    real = await agency.worker.ReceiveNotice(_notice("督办 supervision notice: sign-for missed"))
    assert real.created


async def test_a_mutual_tls_port_refuses_a_caller_without_a_certificate(agency: Agency
                                                                        ) -> None:
    authority = agency.kit.pki.authority.read_bytes()
    async with grpc.aio.secure_channel(
            agency.parties, grpc.ssl_channel_credentials(authority),
            options=expecting(Role.AGENCY, AGENCY)) as channel:
        stub = agency_pb2.DESCRIPTOR.services_by_name["AgencyService"]
        assert stub is not None
        from seamless.v1 import agency_pb2_grpc
        call = agency_pb2_grpc.AgencyServiceStub(channel).DeliverTask(  # type: ignore[no-untyped-call]
            _delivery(), timeout=5)
        # The handshake fails: no handler ever sees the call.
        assert await _code(call) is grpc.StatusCode.UNAVAILABLE
    assert await agency.inbox() == []


async def test_the_inbox_is_the_gateway_s_to_relay_with_an_officer_s_session(
        agency: Agency) -> None:
    await agency.worker.DeliverTask(_delivery())
    gateway = agency.as_party("gateway", Role.GATEWAY)
    request = agency_pb2.ListInboxRequest()
    assert await _code(gateway.ListInbox(request)) is grpc.StatusCode.UNAUTHENTICATED
    officer = await agency.sign_in(OFFICER)
    assert await _code(agency.desk.ListInbox(request, metadata=officer)) is \
        grpc.StatusCode.UNAUTHENTICATED
    assert await _code(agency.worker.ListInbox(request, metadata=officer)) is \
        grpc.StatusCode.PERMISSION_DENIED
    assert [i.task_id for i in (await gateway.ListInbox(request, metadata=officer)).items] \
        == ["T1"]


async def test_only_the_gateway_checks_sessions(agency: Agency) -> None:
    request = roster_pb2.CheckSessionRequest(session_id="x", officer_id=HEAD)
    assert await _code(agency.roster.CheckSession(request)) is \
        grpc.StatusCode.UNAUTHENTICATED
    assert await _code(agency.roster_as_party("worker", Role.WORKER).CheckSession(request)) \
        is grpc.StatusCode.PERMISSION_DENIED
    answer = await agency.roster_as_party("gateway", Role.GATEWAY).CheckSession(request)
    assert not answer.active


async def test_an_officer_acts_only_as_itself_and_only_at_the_desk(agency: Agency) -> None:
    await agency.worker.DeliverTask(_delivery())
    act = agency_pb2.ActOnTaskRequest(request_id="r1", case_id=CASE, task_id="T1",
                                      action=agency_pb2.TASK_ACTION_SIGN)
    assert await _code(agency.desk.ActOnTask(act)) is grpc.StatusCode.UNAUTHENTICATED
    act.officer_id = HEAD
    with pytest.raises(grpc.aio.AioRpcError) as impersonation:
        await agency.desk.ActOnTask(act, metadata=await agency.sign_in(OFFICER))
    assert impersonation.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "acts as itself" in (impersonation.value.details() or "")
    assert await _code(agency.as_party("gateway", Role.GATEWAY).ActOnTask(
        act, metadata=await agency.sign_in(HEAD))) is grpc.StatusCode.PERMISSION_DENIED
    assert (await agency.inbox())[0].task_state == case_pb2.TASK_STATE_DISPATCHED


async def test_evidence_goes_through_the_gateway_alone_and_a_refused_upload_keeps_nothing(
        agency: Agency, tmp_path: Path) -> None:
    """The gateway relays an officer's upload with the session; nobody else may store a
    file or read one (the agency of this harness keeps no evidence store: even so, the
    door refuses before it would say so)."""
    await agency.worker.DeliverTask(_delivery())
    officer = await agency.sign_in(OFFICER)

    async def upload() -> AsyncIterator[agency_pb2.StoreEvidenceRequest]:
        yield agency_pb2.StoreEvidenceRequest(header=agency_pb2.EvidenceHeader(
            case_id=CASE, task_id="T1", name="x.jpg"))
        yield agency_pb2.StoreEvidenceRequest(chunk=b"\xff\xd8\xff" + b"0" * 100)
    assert await _code(agency.worker.StoreEvidence(upload(), metadata=officer)) is \
        grpc.StatusCode.PERMISSION_DENIED
    assert await _code(agency.desk.StoreEvidence(upload(), metadata=officer)) is \
        grpc.StatusCode.UNAUTHENTICATED
    gateway = agency.as_party("gateway", Role.GATEWAY)
    assert await _code(gateway.StoreEvidence(upload())) is grpc.StatusCode.UNAUTHENTICATED
    fetch = agency_pb2.FetchEvidenceRequest(case_id=CASE, sha256="0" * 64)
    assert await _code(anext(aiter(agency.worker.FetchEvidence(fetch)))) is \
        grpc.StatusCode.PERMISSION_DENIED
    assert await _code(gateway.StoreEvidence(upload(), metadata=officer)) is \
        grpc.StatusCode.FAILED_PRECONDITION  # no store here; never written anywhere
