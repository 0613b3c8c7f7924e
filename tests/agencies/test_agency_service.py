"""AgencyService over real gRPC, on its own SQLite database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from agencies.server import SERVICE_NAME, run_server
from seamless.v1 import agency_pb2, agency_pb2_grpc, case_pb2

AGENCY = "emergency-management"
PROFILE = agency_pb2.Agency(id=AGENCY, name_zh="区应急管理局",
                            name_en="Emergency Management Bureau",
                            jurisdictions=["pinggu"], capabilities=["work-safety"])


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


@dataclass
class Agency:
    stub: agency_pb2_grpc.AgencyServiceStub
    channel: grpc.aio.Channel


@pytest.fixture
async def agency(tmp_path: Path) -> AsyncIterator[Agency]:
    url = f"sqlite:///{tmp_path / 'agency.db'}"
    async with run_server(profile=PROFILE, database_url=url) as port:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Agency(agency_pb2_grpc.AgencyServiceStub(channel), channel)  # type: ignore[no-untyped-call]


async def inbox(stub: agency_pb2_grpc.AgencyServiceStub, **request: object
                ) -> list[agency_pb2.InboxItem]:
    response = await stub.ListInbox(agency_pb2.ListInboxRequest(**request))  # type: ignore[arg-type]
    return list(response.items)


async def status_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call  # type: ignore[misc]
    return err.value.code()


async def test_a_retried_delivery_leaves_one_inbox_row(agency: Agency) -> None:
    first = await agency.stub.DeliverTask(delivery())
    again = await agency.stub.DeliverTask(delivery())
    assert (first.created, again.created) == (True, False)
    assert again.item == first.item
    items = await inbox(agency.stub)
    assert [(i.task_id, i.state) for i in items] == [("T1", agency_pb2.INBOX_ITEM_STATE_OPEN)]
    assert items[0].on_scene_by.ToDatetime() > datetime.now()


async def test_concurrent_retries_create_exactly_one_row(agency: Agency) -> None:
    answers = await asyncio.gather(*(agency.stub.DeliverTask(delivery()) for _ in range(10)))
    assert sum(a.created for a in answers) == 1
    assert len(await inbox(agency.stub)) == 1


async def test_a_new_round_is_a_new_delivery(agency: Agency) -> None:
    await agency.stub.DeliverTask(delivery(round_=1))
    await agency.stub.DeliverTask(delivery(round_=2))
    assert [i.round for i in await inbox(agency.stub)] == [2, 1]


async def test_bad_deliveries_are_refused_and_store_nothing(agency: Agency) -> None:
    wrong = delivery()
    wrong.assignee = "public-security"
    assert await status_of(agency.stub.DeliverTask(wrong)) is grpc.StatusCode.FAILED_PRECONDITION
    no_key = delivery()
    no_key.idempotency_key = ""
    assert await status_of(agency.stub.DeliverTask(no_key)) is grpc.StatusCode.INVALID_ARGUMENT
    no_due = delivery()
    no_due.item.ClearField("due_by")
    assert await status_of(agency.stub.DeliverTask(no_due)) is grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as long_title:
        await agency.stub.DeliverTask(delivery(title="x" * 201))
    assert long_title.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "item.title" in (long_title.value.details() or "")
    assert await inbox(agency.stub) == []


async def test_withdrawal_marks_the_task_and_is_idempotent(agency: Agency) -> None:
    await agency.stub.DeliverTask(delivery())
    request = agency_pb2.WithdrawTaskRequest(
        idempotency_key="k/T1/withdraw", assignee=AGENCY,
        case_id="case:illegal-mining:Q7@run-1", task_id="T1", reason="duplicate")
    first = await agency.stub.WithdrawTask(request)
    again = await agency.stub.WithdrawTask(request)
    assert first.item.state == again.item.state == agency_pb2.INBOX_ITEM_STATE_WITHDRAWN
    assert first.item.withdraw_reason == "duplicate"
    assert await inbox(agency.stub, open_only=True) == []
    request.task_id = "T9"
    assert await status_of(agency.stub.WithdrawTask(request)) is grpc.StatusCode.NOT_FOUND


async def test_notices_are_stored_once(agency: Agency) -> None:
    notice = agency_pb2.ReceiveNoticeRequest(
        idempotency_key="case:illegal-mining:Q7@run-1/notice/1", recipient=AGENCY,
        case_id="case:illegal-mining:Q7@run-1", kind=case_pb2.NOTICE_KIND_SUPERVISION,
        text="督办 supervision notice: on-scene deadline missed", task_id="T1")
    assert (await agency.stub.ReceiveNotice(notice)).created
    assert not (await agency.stub.ReceiveNotice(notice)).created
    notice.recipient = "health"
    assert await status_of(agency.stub.ReceiveNotice(notice)) is (
        grpc.StatusCode.FAILED_PRECONDITION)


async def test_inbox_pages_newest_first(agency: Agency) -> None:
    for n in range(1, 6):
        await agency.stub.DeliverTask(delivery(task_id=f"T{n}"))
    seen, token = [], ""
    while True:
        page = await agency.stub.ListInbox(agency_pb2.ListInboxRequest(page_size=2,
                                                                       page_token=token))
        seen += [i.task_id for i in page.items]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["T5", "T4", "T3", "T2", "T1"]
    for bad in (agency_pb2.ListInboxRequest(page_size=-1),
                agency_pb2.ListInboxRequest(page_size=201),
                agency_pb2.ListInboxRequest(page_token="not-a-token")):
        assert await status_of(agency.stub.ListInbox(bad)) is grpc.StatusCode.INVALID_ARGUMENT


async def test_health_reflection_and_description(agency: Agency) -> None:
    health = health_pb2_grpc.HealthStub(agency.channel)
    for service in ("", SERVICE_NAME):
        answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    reflect = reflection_pb2_grpc.ServerReflectionStub(agency.channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async for response in reflect.ServerReflectionInfo(iter([request])):
        names = {s.name for s in response.list_services_response.service}
        assert SERVICE_NAME in names
    described = await agency.stub.DescribeAgency(agency_pb2.DescribeAgencyRequest())
    assert described.agency == PROFILE


async def test_the_inbox_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'agency.db'}"
    for attempt in range(2):
        async with run_server(profile=PROFILE, database_url=url) as port:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = agency_pb2_grpc.AgencyServiceStub(channel)  # type: ignore[no-untyped-call]
                answer = await stub.DeliverTask(delivery())
                assert answer.created is (attempt == 0)
                assert len(await inbox(stub)) == 1


async def test_a_notice_of_no_known_kind_is_refused(agency: Agency) -> None:
    for kind in (case_pb2.NOTICE_KIND_UNSPECIFIED, 99):
        notice = agency_pb2.ReceiveNoticeRequest(
            idempotency_key=f"k/notice/{kind}", recipient=AGENCY, case_id="c", text="?",
            kind=kind)  # type: ignore[arg-type]  # 99 is out of range on purpose
        assert await status_of(agency.stub.ReceiveNotice(notice)) is (
            grpc.StatusCode.INVALID_ARGUMENT)
