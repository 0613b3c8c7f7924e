"""Notifications away from the console, over real gRPC, HTTP and SMTP: the agency's
webhooks receive each new task and notice once, signed; a receiver that was down gets
everything once it is back; officers' e-mail keeps their quiet hours unless they are on
duty; only heads keep webhooks, the duty roster and the outbox."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from agencies.sender import MailServer as MailSettings
from agencies.webhook_signature import verify
from seamless.v1 import agency_pb2, case_pb2, roster_pb2
from seamless.v1 import notify_pb2 as pb
from tests.agencies.harness import AGENCY, OFFICER, Agency, running_agency
from tests.agencies.receivers import MailServer, WebhookReceiver
from tests.agencies.test_agency_service import delivery, status_of
from workflows.rules.phrases import Phrase

CASE = "case:illegal-mining:Q7@run-1"


def notice(n: int, kind: case_pb2.NoticeKind = case_pb2.NOTICE_KIND_REMINDER
           ) -> agency_pb2.ReceiveNoticeRequest:
    phrase = Phrase("clock_due_soon", task="T1", assignee=AGENCY, clock="sign-for",
                    deadline_time="2026-12-07T15:10:00Z")
    return agency_pb2.ReceiveNoticeRequest(
        idempotency_key=f"{CASE}/notice/{n}", recipient=AGENCY, case_id=CASE,
        case_number="20261207-0001", kind=kind, task_id="T1", phrase=phrase.encode(),
        text=f"task T1 ({AGENCY}) sign-for due soon (deadline 2026-12-07T15:10:00Z)")


async def eventually(check: Callable[[], bool], within: float = 15.0) -> None:
    give_up = time.monotonic() + within
    while not check():
        assert time.monotonic() < give_up, "not within the time allowed"
        await asyncio.sleep(0.05)


@pytest.fixture
def mail() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


@pytest.fixture
async def agency(tmp_path: Path, database_url: str, mail: MailServer) -> AsyncIterator[Agency]:
    async with running_agency(tmp_path, database_url=database_url,
                              mail=MailSettings("127.0.0.1", mail.port, False,
                                                "duty@emergency.example")) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


async def _outbox(agency: Agency, **request: object) -> list[pb.OutboxEntry]:
    answer = await agency.notify.ListOutbox(pb.ListOutboxRequest(**request),  # type: ignore[arg-type]
                                            metadata=await agency.sign_in())
    return list(answer.entries)


async def test_a_webhook_receives_each_task_and_notice_once_signed(
        agency: Agency, receiver: WebhookReceiver) -> None:
    head = await agency.sign_in()
    added = await agency.notify.AddWebhook(pb.AddWebhookRequest(url=receiver.url),
                                           metadata=head)
    assert len(added.secret) >= 40
    listed = await agency.notify.ListSubscriptions(pb.ListSubscriptionsRequest(),
                                                   metadata=head)
    assert [s.target for s in listed.subscriptions] == [receiver.url]
    assert added.secret not in str(listed)  # shown once, when added

    await agency.worker.DeliverTask(delivery())
    await agency.worker.ReceiveNotice(notice(1))
    # The engine retries what it is not sure arrived: nothing is sent twice.
    await agency.worker.DeliverTask(delivery())
    await agency.worker.ReceiveNotice(notice(1))
    await eventually(lambda: len(receiver.posted) >= 2)
    await asyncio.sleep(0.5)
    assert len(receiver.posted) == 2

    bodies = {}
    for post in receiver.posted:
        assert verify(added.secret, post.body, post.headers["seamless-signature"], time.time())
        body = json.loads(post.body)
        assert post.headers["seamless-idempotency-key"] == body["key"]
        assert post.headers["seamless-event"] == body["event"]
        bodies[body["event"]] = body
    assert bodies["task.delivered"]["task_id"] == "T1"
    reminder = bodies["notice.REMINDER"]
    assert reminder["text_zh"].startswith("任务 T1")
    assert reminder["case_number"] == "20261207-0001"
    # Another secret, a changed body or an old request does not verify.
    post = receiver.posted[0]
    assert not verify("not-the-secret", post.body, post.headers["seamless-signature"],
                      time.time())
    assert not verify(added.secret, post.body + b" ", post.headers["seamless-signature"],
                      time.time())
    assert not verify(added.secret, post.body, post.headers["seamless-signature"],
                      time.time() + 600)

    entries = await _outbox(agency)
    assert {(e.event, e.state, e.attempts) for e in entries} == {
        ("task.delivered", "delivered", 1), ("notice.REMINDER", "delivered", 1)}


async def test_a_receiver_down_for_a_while_gets_everything_once_when_back(
        agency: Agency, receiver: WebhookReceiver) -> None:
    head = await agency.sign_in()
    await agency.notify.AddWebhook(pb.AddWebhookRequest(
        url=receiver.url, events=["notice.REMINDER"]), metadata=head)
    receiver.stop()
    started = time.monotonic()
    for n in range(1, 4):
        await agency.worker.ReceiveNotice(notice(n))
    # Not what it asked for: a supervision notice does not go to this webhook.
    await agency.worker.ReceiveNotice(notice(9, case_pb2.NOTICE_KIND_SUPERVISION))
    # The agency answered the engine at once, the receiver down or not.
    assert time.monotonic() - started < 5

    async def failing() -> bool:
        entries = await _outbox(agency)
        return len(entries) == 3 and all(e.attempts >= 2 and e.state == "pending"
                                         for e in entries)
    give_up = time.monotonic() + 20
    while not await failing():
        assert time.monotonic() < give_up
        await asyncio.sleep(0.2)
    entry = (await _outbox(agency))[0]
    assert "ConnectError" in entry.last_error
    assert entry.next_attempt_at.ToDatetime(tzinfo=UTC) > datetime.now(UTC)

    receiver.start()
    await eventually(lambda: len(receiver.posted) >= 3, within=30)
    await asyncio.sleep(0.5)
    keys = [json.loads(p.body)["key"] for p in receiver.posted]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 3
    assert {e.state for e in await _outbox(agency)} == {"delivered"}


async def test_an_officer_is_mailed_outside_quiet_hours_or_when_on_duty(
        agency: Agency, mail: MailServer) -> None:
    officer = await agency.sign_in(OFFICER)
    now = datetime.now(UTC)
    # Quiet hours around now, in UTC: the next notice is held for them.
    quiet = f"{(now - timedelta(hours=1)):%H:00}-{(now + timedelta(hours=2)):%H:00}"
    await agency.notify.AddEmail(pb.AddEmailRequest(
        address="li.officer@emergency.example", quiet_hours=quiet, zone="UTC"),
        metadata=officer)
    await agency.worker.ReceiveNotice(notice(1))
    held = await _outbox(agency, state="held")
    assert [e.target for e in held] == ["li.officer@emergency.example"]
    # Sent when the quiet hours end (in an hour or two), not dropped.
    assert now + timedelta(minutes=50) < held[0].next_attempt_at.ToDatetime(tzinfo=UTC) \
        <= now + timedelta(hours=2)
    await asyncio.sleep(0.5)
    assert mail.messages == []

    # On duty tonight: reached despite the quiet hours.
    starts, ends = Timestamp(), Timestamp()
    starts.FromDatetime(now - timedelta(minutes=5))
    ends.FromDatetime(now + timedelta(hours=8))
    await agency.notify.AddDutyShift(pb.AddDutyShiftRequest(
        officer_id=OFFICER, starts_at=starts, ends_at=ends), metadata=await agency.sign_in())
    await agency.worker.ReceiveNotice(notice(2))
    await eventually(lambda: len(mail.messages) == 1)
    message = mail.messages[0]
    assert message["To"] == "li.officer@emergency.example"
    assert "临期提醒" in str(message["Subject"]) or "=?utf-8?" in str(message["Subject"])
    text = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "任务 T1" in text and "sign-for due soon" in text and "20261207-0001" in text


async def test_only_heads_keep_webhooks_the_duty_roster_and_the_outbox(
        agency: Agency, receiver: WebhookReceiver) -> None:
    officer = await agency.sign_in(OFFICER)
    assert await status_of(agency.notify.AddWebhook(
        pb.AddWebhookRequest(url=receiver.url), metadata=officer)) is \
        grpc.StatusCode.PERMISSION_DENIED
    assert await status_of(agency.notify.ListOutbox(
        pb.ListOutboxRequest(), metadata=officer)) is grpc.StatusCode.PERMISSION_DENIED
    assert await status_of(agency.notify.AddDutyShift(
        pb.AddDutyShiftRequest(officer_id=OFFICER), metadata=officer)) is \
        grpc.StatusCode.PERMISSION_DENIED
    # Nobody signed in: nothing at all.
    assert await status_of(agency.notify.ListSubscriptions(
        pb.ListSubscriptionsRequest())) is grpc.StatusCode.UNAUTHENTICATED
    # A head's webhook is not the officer's to see or remove.
    hook = await agency.notify.AddWebhook(pb.AddWebhookRequest(url=receiver.url),
                                          metadata=await agency.sign_in())
    mine = await agency.notify.ListSubscriptions(pb.ListSubscriptionsRequest(),
                                                 metadata=officer)
    assert list(mine.subscriptions) == []
    assert await status_of(agency.notify.RemoveSubscription(
        pb.RemoveSubscriptionRequest(id=hook.subscription.id), metadata=officer)) is \
        grpc.StatusCode.NOT_FOUND
    assert len((await agency.notify.ListSubscriptions(
        pb.ListSubscriptionsRequest(), metadata=await agency.sign_in())).subscriptions) == 1


@pytest.mark.parametrize("request_, says", [
    (pb.AddWebhookRequest(url="ftp://example.org/x"), "http:// or https://"),
    (pb.AddWebhookRequest(url="https://user:pw@example.org/x"), "no credentials"),
    (pb.AddWebhookRequest(url="http://exa\tmple.com/"), "http:// or https://"),
    (pb.AddWebhookRequest(url="https://example.org/" + "x" * 600), "at most 500"),
    (pb.AddWebhookRequest(url="https://example.org/x", events=["task.stolen"]),
     "task.stolen unknown"),
    (pb.AddEmailRequest(address="not an address"), "not an e-mail address"),
    (pb.AddEmailRequest(address="a@example.org", quiet_hours="10pm-7am"), "22:00-07:00"),
    (pb.AddEmailRequest(address="a@example.org", quiet_hours="22:00-07:00", zone="Mars/Base"),
     "IANA time zone"),
])
async def test_a_bad_subscription_is_refused_saying_what_to_change(
        agency: Agency, request_: pb.AddWebhookRequest | pb.AddEmailRequest,
        says: str) -> None:
    head = await agency.sign_in()
    method = agency.notify.AddWebhook if isinstance(request_, pb.AddWebhookRequest) \
        else agency.notify.AddEmail
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await method(request_, metadata=head)
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert says in (refused.value.details() or "")
    listed = await agency.notify.ListSubscriptions(pb.ListSubscriptionsRequest(),
                                                   metadata=head)
    assert list(listed.subscriptions) == []


async def test_without_a_mail_server_no_one_adds_an_e_mail_channel(tmp_path: Path) -> None:
    async with running_agency(tmp_path) as agency:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await agency.notify.AddEmail(pb.AddEmailRequest(address="a@example.org"),
                                         metadata=await agency.sign_in(OFFICER))
        assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert "no mail server" in (refused.value.details() or "")


async def test_a_removed_webhook_is_sent_nothing_more(agency: Agency,
                                                      receiver: WebhookReceiver) -> None:
    head = await agency.sign_in()
    hook = await agency.notify.AddWebhook(pb.AddWebhookRequest(url=receiver.url),
                                          metadata=head)
    receiver.stop()
    await agency.worker.ReceiveNotice(notice(1))
    await agency.notify.RemoveSubscription(
        pb.RemoveSubscriptionRequest(id=hook.subscription.id), metadata=head)
    (entry,) = await _outbox(agency)
    assert (entry.state, entry.last_error) == ("failed", "the subscription was removed")
    receiver.start()
    await agency.worker.ReceiveNotice(notice(2))
    await asyncio.sleep(2.5)
    assert receiver.posted == []


async def test_a_disabled_officers_mail_receives_nothing_more(agency: Agency,
                                                              mail: MailServer) -> None:
    await agency.notify.AddEmail(pb.AddEmailRequest(address="li.officer@emergency.example"),
                                 metadata=await agency.sign_in(OFFICER))
    await agency.roster.DisableOfficer(roster_pb2.DisableOfficerRequest(
        officer_id=OFFICER, reason="left the bureau"), metadata=await agency.sign_in())
    await agency.worker.ReceiveNotice(notice(1))
    await asyncio.sleep(1.0)
    assert mail.messages == [] and await _outbox(agency) == []


async def test_an_officer_subscribes_an_address_once_and_a_few_in_all(agency: Agency) -> None:
    officer = await agency.sign_in(OFFICER)
    for n in range(5):
        await agency.notify.AddEmail(pb.AddEmailRequest(address=f"li{n}@emergency.example"),
                                     metadata=officer)
    assert await status_of(agency.notify.AddEmail(pb.AddEmailRequest(
        address="li0@emergency.example"), metadata=officer)) is grpc.StatusCode.ALREADY_EXISTS
    assert await status_of(agency.notify.AddEmail(pb.AddEmailRequest(
        address="li9@emergency.example"), metadata=officer)) is \
        grpc.StatusCode.RESOURCE_EXHAUSTED
