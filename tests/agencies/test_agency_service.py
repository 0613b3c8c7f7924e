"""AgencyService over real gRPC and TLS, on its own SQLite database: deliveries from the
worker, inbox reads relayed by the gateway, receipts signed by the agency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from agencies.server import SERVICE_NAME, run_server
from seamless.v1 import agency_pb2, case_pb2
from tests.agencies.harness import AGENCY, PROFILE, Agency, running_agency
from tests.trust.kit import new_kit
from trust.attestations import verify_receipt
from trust.pki import Role


def stamp(value: datetime) -> Timestamp:
    result = Timestamp()
    result.FromDatetime(value)
    return result


def delivery(task_id: str = "T1", round_: int = 1, **item_fields: object
             ) -> agency_pb2.DeliverTaskRequest:
    now = datetime.now(UTC)
    fields: dict[str, object] = dict(
        case_id="case:illegal-mining:Q7@run-1", task_id=task_id, round=round_,
        case_type="illegal-mining", case_title="Night digging", owner="jinhaihu-township",
        kind="work-safety", title="Secure the site", sign_by=stamp(now + timedelta(hours=1)),
        due_by=stamp(now + timedelta(days=3)), on_scene_by=stamp(now + timedelta(minutes=30)))
    fields.update(item_fields)
    return agency_pb2.DeliverTaskRequest(
        idempotency_key=f"case:illegal-mining:Q7@run-1/{task_id}/round-{round_}",
        assignee=AGENCY, item=agency_pb2.InboxItem(**fields))  # type: ignore[arg-type]


@pytest.fixture
async def agency(tmp_path: Path, database_url: str) -> AsyncIterator[Agency]:
    async with running_agency(tmp_path, database_url=database_url) as running:
        yield running


async def status_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call  # type: ignore[misc]
    return err.value.code()


async def test_a_retried_delivery_leaves_one_inbox_row(agency: Agency) -> None:
    first = await agency.worker.DeliverTask(delivery())
    again = await agency.worker.DeliverTask(delivery())
    assert (first.created, again.created) == (True, False)
    assert again.item == first.item
    # Each answer is the agency's signed receipt for the one delivery.
    for answer in (first, again):
        receipt = verify_receipt(answer.receipt, agency.kit.store(), agency=AGENCY, expected={
            "what": "task", "case": "case:illegal-mining:Q7@run-1", "task": "T1",
            "round": 1, "key": delivery().idempotency_key})
        assert receipt.claims["received"] == first.item.delivered_at.ToDatetime(
            tzinfo=UTC).isoformat()
    items = await agency.inbox()
    assert [(i.task_id, i.state) for i in items] == [("T1", agency_pb2.INBOX_ITEM_STATE_OPEN)]
    assert items[0].on_scene_by.ToDatetime() > datetime.now()


async def test_concurrent_retries_create_exactly_one_row(agency: Agency) -> None:
    answers = await asyncio.gather(*(agency.worker.DeliverTask(delivery()) for _ in range(10)))
    assert sum(a.created for a in answers) == 1
    assert len(await agency.inbox()) == 1


async def test_a_new_round_is_a_new_delivery(agency: Agency) -> None:
    await agency.worker.DeliverTask(delivery(round_=1))
    await agency.worker.DeliverTask(delivery(round_=2))
    assert [i.round for i in await agency.inbox()] == [2, 1]


async def test_bad_deliveries_are_refused_and_store_nothing(agency: Agency) -> None:
    wrong = delivery()
    wrong.assignee = "public-security"
    assert await status_of(agency.worker.DeliverTask(wrong)) is grpc.StatusCode.FAILED_PRECONDITION
    no_key = delivery()
    no_key.idempotency_key = ""
    assert await status_of(agency.worker.DeliverTask(no_key)) is grpc.StatusCode.INVALID_ARGUMENT
    no_due = delivery()
    no_due.item.ClearField("due_by")
    assert await status_of(agency.worker.DeliverTask(no_due)) is grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as long_title:
        await agency.worker.DeliverTask(delivery(title="x" * 201))
    assert long_title.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "item.title" in (long_title.value.details() or "")
    assert await agency.inbox() == []


async def test_withdrawal_marks_the_task_and_is_idempotent(agency: Agency) -> None:
    await agency.worker.DeliverTask(delivery())
    request = agency_pb2.WithdrawTaskRequest(
        idempotency_key="k/T1/withdraw", assignee=AGENCY,
        case_id="case:illegal-mining:Q7@run-1", task_id="T1", reason="duplicate")
    first = await agency.worker.WithdrawTask(request)
    again = await agency.worker.WithdrawTask(request)
    assert first.item.state == again.item.state == agency_pb2.INBOX_ITEM_STATE_WITHDRAWN
    assert first.item.withdraw_reason == "duplicate"
    assert await agency.inbox(open_only=True) == []
    request.task_id = "T9"
    assert await status_of(agency.worker.WithdrawTask(request)) is grpc.StatusCode.NOT_FOUND


async def test_a_delivery_replayed_after_its_withdrawal_does_not_bring_the_task_back(
        agency: Agency) -> None:
    """A genuine delivery copied out of the engine's history and sent again (by a
    workflow of someone else's under a closed case's id, say) changes nothing."""
    await agency.worker.DeliverTask(delivery())
    await agency.worker.WithdrawTask(agency_pb2.WithdrawTaskRequest(
        idempotency_key="k/T1/withdraw", assignee=AGENCY,
        case_id="case:illegal-mining:Q7@run-1", task_id="T1", reason="duplicate"))
    replayed = await agency.worker.DeliverTask(delivery())
    assert not replayed.created
    assert replayed.item.state == agency_pb2.INBOX_ITEM_STATE_WITHDRAWN
    assert await agency.inbox(open_only=True) == []


async def test_notices_are_stored_once(agency: Agency) -> None:
    notice = agency_pb2.ReceiveNoticeRequest(
        idempotency_key="case:illegal-mining:Q7@run-1/notice/1", recipient=AGENCY,
        case_id="case:illegal-mining:Q7@run-1", kind=case_pb2.NOTICE_KIND_SUPERVISION,
        text="督办 supervision notice: on-scene deadline missed", task_id="T1")
    first = await agency.worker.ReceiveNotice(notice)
    again = await agency.worker.ReceiveNotice(notice)
    assert (first.created, again.created) == (True, False)
    for answer in (first, again):
        verify_receipt(answer.receipt, agency.kit.store(), agency=AGENCY, expected={
            "what": "notice", "case": notice.case_id, "key": notice.idempotency_key,
            "kind": "SUPERVISION"})
    notice.recipient = "health"
    assert await status_of(agency.worker.ReceiveNotice(notice)) is (
        grpc.StatusCode.FAILED_PRECONDITION)


async def test_inbox_pages_newest_first(agency: Agency) -> None:
    for n in range(1, 6):
        await agency.worker.DeliverTask(delivery(task_id=f"T{n}"))
    seen, token = [], ""
    gateway = agency.as_party("gateway", Role.GATEWAY)
    officer = await agency.sign_in()
    while True:
        page = await gateway.ListInbox(agency_pb2.ListInboxRequest(
            page_size=2, page_token=token), metadata=officer)
        seen += [i.task_id for i in page.items]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["T5", "T4", "T3", "T2", "T1"]
    for bad in (agency_pb2.ListInboxRequest(page_size=-1),
                agency_pb2.ListInboxRequest(page_size=201),
                agency_pb2.ListInboxRequest(page_token="not-a-token")):
        assert await status_of(gateway.ListInbox(bad, metadata=officer)) is \
            grpc.StatusCode.INVALID_ARGUMENT


async def test_health_reflection_and_description_need_no_credential(agency: Agency
                                                                      ) -> None:
    # At the officers' desk: TLS with the authority's certificate, and nobody's key.
    channel = agency.desk_channel
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", SERVICE_NAME):
        answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async for response in reflect.ServerReflectionInfo(iter([request])):
        names = {s.name for s in response.list_services_response.service}
        assert SERVICE_NAME in names
    described = await agency.desk.DescribeAgency(agency_pb2.DescribeAgencyRequest())
    assert described.agency == PROFILE


async def test_the_inbox_survives_a_restart(tmp_path: Path) -> None:
    kit = new_kit(tmp_path / "platform")
    for attempt in range(2):
        async with running_agency(tmp_path, kit) as agency:
            answer = await agency.worker.DeliverTask(delivery())
            assert answer.created is (attempt == 0)
            assert len(await agency.inbox()) == 1


async def test_a_notice_of_no_known_kind_is_refused(agency: Agency) -> None:
    for kind in (case_pb2.NOTICE_KIND_UNSPECIFIED, 99):
        notice = agency_pb2.ReceiveNoticeRequest(
            idempotency_key=f"k/notice/{kind}", recipient=AGENCY, case_id="c", text="?",
            kind=kind)  # type: ignore[arg-type]  # 99 is out of range on purpose
        assert await status_of(agency.worker.ReceiveNotice(notice)) is (
            grpc.StatusCode.INVALID_ARGUMENT)


async def test_a_second_service_on_a_taken_port_fails_to_start(agency: Agency,
                                                                 tmp_path: Path) -> None:
    # gRPC shares a port between servers unless told not to: the second would answer
    # half the callers of the first with its own certificate. It must refuse to start.
    port = int(agency.parties.rpartition(":")[2])
    with pytest.raises(RuntimeError, match="bind"):
        async with run_server(profile=PROFILE, database_url=f"sqlite:///{tmp_path / 'b.db'}",
                              identity=agency.kit.party(AGENCY, Role.AGENCY),
                              store=agency.kit.store(), port=port):
            pass
    health = health_pb2_grpc.HealthStub(agency.desk_channel)
    answer = await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
