"""NotificationService: the agency's subscriptions, duty roster and outbox
(`agencies.outbox`), kept at its officers' desk.

Who may call each method is settled before the handler runs (`agencies.access`: heads
for webhooks, the duty roster and the outbox); the handlers keep an officer to its own
channels and check each field. A refused request changes nothing.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import grpc
import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from agencies import outbox, roster
from agencies.access import caller
from agencies.inbox import stamp
from agencies.models import DutyShift, OutboxEntry, Subscription, utc_now
from agencies.sender import Sender
from seamless.v1 import notify_pb2 as pb
from seamless.v1 import notify_pb2_grpc
from trust.sessions import OfficerRole

T = TypeVar("T")
Context = grpc.aio.ServicerContext[Any, Any]
MAX_TARGET = 500
_ADDRESS = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,}$")
MAX_SHIFT = timedelta(days=31)
MAX_SHIFTS_LISTED = 200
DEFAULT_PAGE, MAX_PAGE = 50, 200


def subscription_to_proto(row: Subscription) -> pb.Subscription:
    return pb.Subscription(id=row.id or 0, channel=row.channel, target=row.target,
                           officer_id=row.officer,
                           events=[e for e in row.events.split(",") if e],
                           quiet_hours=row.quiet_hours, zone=row.zone,
                           created_by=row.created_by, created_at=stamp(row.created_at))


def shift_to_proto(row: DutyShift) -> pb.DutyShift:
    return pb.DutyShift(id=row.id or 0, officer_id=row.officer,
                        starts_at=stamp(row.starts_at), ends_at=stamp(row.ends_at),
                        created_by=row.created_by)


def entry_to_proto(entry: OutboxEntry, subscription: Subscription) -> pb.OutboxEntry:
    return pb.OutboxEntry(
        id=entry.id or 0, subscription_id=entry.subscription_id,
        channel=subscription.channel, target=subscription.target, event=entry.event,
        case_id=entry.case_id, key=entry.key, state=entry.state, attempts=entry.attempts,
        last_error=entry.last_error, created_at=stamp(entry.created_at),
        next_attempt_at=stamp(entry.next_attempt_at) if entry.state in ("pending", "held")
        else None,
        delivered_at=stamp(entry.delivered_at))


class NotificationDesk(notify_pb2_grpc.NotificationServiceServicer):
    def __init__(self, agency: str, engine: Engine, sender: Sender) -> None:
        self.agency, self._engine, self._sender = agency, engine, sender

    async def _in_session(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with Session(self._engine, expire_on_commit=False) as session:
                return work(session)
        return await asyncio.to_thread(run)

    @staticmethod
    async def _refuse(context: Context, code: grpc.StatusCode, message: str) -> NoReturn:
        await context.abort(code, message)
        raise AssertionError("unreachable: abort raises")

    @staticmethod
    def _me() -> tuple[str, bool]:
        """The signed-in officer and whether they are a head."""
        who = caller()
        assert who.session is not None
        return who.session.officer, OfficerRole.HEAD in who.roles

    async def ListSubscriptions(self, request: pb.ListSubscriptionsRequest,
                                context: Context) -> pb.ListSubscriptionsResponse:
        officer, head = self._me()
        rows = await self._in_session(lambda session: outbox.active(session, self.agency))
        return pb.ListSubscriptionsResponse(subscriptions=[
            subscription_to_proto(r) for r in rows if head or r.officer == officer])

    async def _events(self, context: Context, names: list[str]) -> str:
        try:
            return outbox.events_of(names)
        except outbox.OutboxRefused as err:
            await self._refuse(context, grpc.StatusCode.INVALID_ARGUMENT, str(err))

    async def _add(self, context: Context, row: Subscription) -> Subscription:
        def add(session: Session) -> Subscription | str:
            kept = outbox.active(session, self.agency)
            if any((s.channel, s.target, s.officer) == (row.channel, row.target, row.officer)
                   for s in kept):
                return "already"
            if len(kept) >= outbox.MAX_SUBSCRIPTIONS or (row.officer and sum(
                    s.officer == row.officer for s in kept) >= outbox.MAX_PER_OFFICER):
                return "full"
            session.add(row)
            session.commit()
            session.refresh(row)
            return row
        added = await self._in_session(add)
        if added == "already":
            await self._refuse(context, grpc.StatusCode.ALREADY_EXISTS,
                               f"{row.target[:80]} is subscribed already")
        if isinstance(added, str):
            await self._refuse(context, grpc.StatusCode.RESOURCE_EXHAUSTED,
                               f"{self.agency} keeps at most {outbox.MAX_SUBSCRIPTIONS} "
                               f"subscriptions, an officer {outbox.MAX_PER_OFFICER}; remove "
                               "one first")
        return added

    async def AddWebhook(self, request: pb.AddWebhookRequest,
                         context: Context) -> pb.AddWebhookResponse:
        officer, _ = self._me()
        url = request.url.strip()
        parts = urlsplit(url)
        if len(url) > MAX_TARGET or parts.scheme not in ("http", "https") or \
                not parts.hostname or not _sendable(url):
            await self._refuse(context, grpc.StatusCode.INVALID_ARGUMENT,
                               f"url: an http:// or https:// address of at most {MAX_TARGET} "
                               "characters")
        if parts.username or parts.password:
            await self._refuse(context, grpc.StatusCode.INVALID_ARGUMENT,
                               "url: no credentials in the address; the signature proves "
                               "the sender")
        events = await self._events(context, list(request.events))
        secret = secrets.token_urlsafe(32)
        row = await self._add(context, Subscription(
            agency=self.agency, channel="webhook", target=url, events=events, secret=secret,
            created_by=officer))
        return pb.AddWebhookResponse(subscription=subscription_to_proto(row), secret=secret)

    async def AddEmail(self, request: pb.AddEmailRequest,
                       context: Context) -> pb.AddEmailResponse:
        officer, _ = self._me()
        address = request.address.strip()
        if not _ADDRESS.match(address):
            await self._refuse(context, grpc.StatusCode.INVALID_ARGUMENT,
                               f"address: {address[:80]!r} is not an e-mail address")
        if self._sender.mail is None:
            await self._refuse(context, grpc.StatusCode.FAILED_PRECONDITION,
                               f"{self.agency} has no mail server configured "
                               "(SEAMLESS_AGENCY_SMTP_URL); ask its operator")
        try:
            outbox.quiet_hours(request.quiet_hours, request.zone)
        except outbox.OutboxRefused as err:
            await self._refuse(context, grpc.StatusCode.INVALID_ARGUMENT, str(err))
        events = await self._events(context, list(request.events))
        row = await self._add(context, Subscription(
            agency=self.agency, channel="email", target=address, officer=officer,
            events=events, quiet_hours=request.quiet_hours,
            zone=request.zone or ("Asia/Shanghai" if request.quiet_hours else ""),
            created_by=officer))
        return pb.AddEmailResponse(subscription=subscription_to_proto(row))

    async def RemoveSubscription(self, request: pb.RemoveSubscriptionRequest,
                                 context: Context) -> pb.RemoveSubscriptionResponse:
        officer, head = self._me()

        def remove(session: Session) -> bool:
            row = session.get(Subscription, request.id)
            if row is None or row.agency != self.agency or row.removed_at is not None or \
                    not (head or row.officer == officer):
                return False
            row.removed_at = utc_now()
            session.add(row)
            outbox.abandon(session, row.id or 0)
            session.commit()
            return True
        if not await self._in_session(remove):
            await self._refuse(context, grpc.StatusCode.NOT_FOUND,
                               f"no subscription {request.id} of yours at {self.agency}")
        return pb.RemoveSubscriptionResponse()

    async def AddDutyShift(self, request: pb.AddDutyShiftRequest,
                           context: Context) -> pb.AddDutyShiftResponse:
        head, _ = self._me()
        if not (request.HasField("starts_at") and request.HasField("ends_at")):
            await self._refuse(context, grpc.StatusCode.INVALID_ARGUMENT,
                               "starts_at and ends_at are required")
        starts = request.starts_at.ToDatetime(tzinfo=UTC)
        ends = request.ends_at.ToDatetime(tzinfo=UTC)
        if not timedelta(0) < ends - starts <= MAX_SHIFT:
            await self._refuse(context, grpc.StatusCode.INVALID_ARGUMENT,
                               "a shift ends after it starts, and lasts at most 31 days")

        def add(session: Session) -> DutyShift | None:
            if roster.find(session=session, agency=self.agency,
                           officer_id=request.officer_id) is None:
                return None
            row = DutyShift(agency=self.agency, officer=request.officer_id, starts_at=starts,
                            ends_at=ends, created_by=head)
            session.add(row)
            session.commit()
            session.refresh(row)
            return row
        row = await self._in_session(add)
        if row is None:
            await self._refuse(context, grpc.StatusCode.NOT_FOUND,
                               f"no officer {request.officer_id[:64]!r} at {self.agency}")
        return pb.AddDutyShiftResponse(shift=shift_to_proto(row))

    async def ListDutyShifts(self, request: pb.ListDutyShiftsRequest,
                             context: Context) -> pb.ListDutyShiftsResponse:
        now = utc_now()
        rows = await self._in_session(lambda session: list(session.exec(
            select(DutyShift).where(DutyShift.agency == self.agency, DutyShift.ends_at > now)
            .order_by(col(DutyShift.starts_at)).limit(MAX_SHIFTS_LISTED))))
        return pb.ListDutyShiftsResponse(shifts=[shift_to_proto(r) for r in rows])

    async def ListOutbox(self, request: pb.ListOutboxRequest,
                         context: Context) -> pb.ListOutboxResponse:
        if request.state and request.state not in ("pending", "delivered", "held", "failed"):
            await self._refuse(context, grpc.StatusCode.INVALID_ARGUMENT,
                               "state: pending, delivered, held or failed")
        if not 0 <= request.page_size <= MAX_PAGE:
            await self._refuse(context, grpc.StatusCode.INVALID_ARGUMENT,
                               f"page_size must be between 0 and {MAX_PAGE}")
        after_id = _after(request.page_token)
        if after_id == -1:
            await self._refuse(context, grpc.StatusCode.INVALID_ARGUMENT,
                               "page_token is not one this service issued; start without it")
        limit = request.page_size or DEFAULT_PAGE
        rows = await self._in_session(lambda session: outbox.listing(
            session, self.agency, state=request.state, limit=limit + 1,
            after_id=after_id or None))
        page = rows[:limit]
        token = ""
        if len(rows) > limit and page:
            token = base64.urlsafe_b64encode(f"outbox:{page[-1][0].id}".encode()).decode()
        return pb.ListOutboxResponse(entries=[entry_to_proto(e, s) for e, s in page],
                                     next_page_token=token)


def _sendable(url: str) -> bool:
    """Whether the HTTP client takes the address as it is (no spaces or control
    characters, which a URL parser drops silently and the client refuses)."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return False
    try:
        httpx.URL(url)
    except httpx.InvalidURL:
        return False
    return True


def _after(token: str) -> int:
    """The id a page continues after: 0 for none, -1 for a token not ours."""
    if not token:
        return 0
    try:
        prefix, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return -1
    return int(number) if prefix == "outbox" and number.isdigit() else -1
