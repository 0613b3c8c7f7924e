"""Notifications away from the console: what the agency's subscriptions receive, kept in
an outbox in the agency's own database until delivered (`agencies.sender` sends them).

A task delivered to the agency or a notice it received enqueues one entry per
subscription that wants it, in the transaction that stores the task or the notice:
stored once, enqueued once (the engine's redelivery enqueues nothing), and an entry is
never lost to a crash between the two. Each entry's `key` is the receiver's idempotency
key: delivery is at least once, the key makes it once for a receiver that keeps it.

An officer's channel in their quiet hours is held until they end, unless the duty roster
has them on duty; the entry says so in the outbox meanwhile. The notice itself waits in
the console either way. A disabled officer's channels receive nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import update
from sqlmodel import Session, col, select

from agencies.inbox import as_utc
from agencies.models import (
    DutyShift,
    InboxItem,
    NoticeRecord,
    Officer,
    OutboxEntry,
    Subscription,
)
from records import event_schema as schema
from workflows.rules import phrases

# What a subscription may ask for; none named means all of them.
TASK_DELIVERED = "task.delivered"
NOTICE_EVENTS = tuple(f"notice.{kind}" for kind in
                      ("SUPERVISION", "ESCALATION", "HANDOFF_OFFER", "OWNERSHIP", "REMINDER",
                        "DECISION"))
EVENTS = (TASK_DELIVERED, *NOTICE_EVENTS)
CHANNELS = ("webhook", "email")
# An entry still undelivered this long after it was made is given up, and says so.
GIVE_UP_AFTER = timedelta(hours=24)
# Between attempts: 1 s, doubling, at most a minute (a receiver back from a minute's
# outage has everything within the minute after).
MAX_BACKOFF = timedelta(seconds=60)
# How long a sender holds an entry it is sending before another may try it (a sender
# killed mid-send leaves it to the next: at least once).
LEASE = timedelta(seconds=60)
MAX_SUBSCRIPTIONS = 50
# An officer's own channels.
MAX_PER_OFFICER = 5
# Entries still to send: due, or held until quiet hours end.
_WAITING = ("pending", "held")
_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class OutboxRefused(ValueError):
    """A subscription the agency will not keep, with what to change."""


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo

    def cover(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # over midnight: 22:00-07:00

    def end_after(self, moment: datetime) -> datetime:
        """When the quiet hours covering `moment` end."""
        local = moment.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        return end if end > local else end + timedelta(days=1)


def zone_of(zone: str) -> ZoneInfo:
    """An IANA zone (Asia/Shanghai when none is named)."""
    try:
        if len(zone) > 64:
            raise ValueError(zone)
        return ZoneInfo(zone or "Asia/Shanghai")
    except (ZoneInfoNotFoundError, ValueError):
        raise OutboxRefused(f"zone {zone[:64]!r}: an IANA time zone, such as "
                            "Asia/Shanghai") from None


def quiet_hours(text: str, zone: str) -> QuietHours | None:
    """"22:00-07:00" in the zone (an IANA name); None for no quiet hours."""
    where = zone_of(zone)
    if not text:
        return None
    found = _QUIET.match(text)
    if found is None:
        raise OutboxRefused(f"quiet hours {text[:20]!r}: write them as 22:00-07:00")
    hour, minute, end_hour, end_minute = (int(g) for g in found.groups())
    if (hour, minute) == (end_hour, end_minute):
        raise OutboxRefused(f"quiet hours {text!r}: the start and the end are the same")
    return QuietHours(time(hour, minute), time(end_hour, end_minute), where)


def events_of(names: list[str]) -> str:
    """The stored form of the events asked for, each checked."""
    unknown = [n for n in names if n not in EVENTS]
    if unknown:
        raise OutboxRefused(f"events: {', '.join(unknown)} unknown; choose among "
                            f"{', '.join(EVENTS)}")
    return ",".join(dict.fromkeys(names))


def wants(subscription: Subscription, event: str) -> bool:
    return not subscription.events or event in subscription.events.split(",")


def active(session: Session, agency: str) -> list[Subscription]:
    return list(session.exec(select(Subscription).where(
        Subscription.agency == agency, col(Subscription.removed_at).is_(None))))


def officer_active(session: Session, agency: str, officer: str) -> bool:
    return session.exec(select(Officer.id).where(
        Officer.agency == agency, Officer.officer_id == officer,
        col(Officer.disabled).is_(False))).first() is not None


def on_duty(session: Session, agency: str, officer: str, now: datetime) -> bool:
    return session.exec(select(DutyShift.id).where(
        DutyShift.agency == agency, DutyShift.officer == officer,
        DutyShift.starts_at <= now, DutyShift.ends_at > now)).first() is not None


# ----- what is sent -----------------------------------------------------------------------


def _iso(value: datetime | None) -> str:
    """A stored time as every event attribute writes one (SQLite hands it back naive)."""
    return "" if value is None else schema.timestamp(as_utc(value))


def task_body(item: InboxItem) -> dict[str, Any]:
    return {"event": TASK_DELIVERED, "case_id": item.case_id,
            "case_number": item.case_number, "case_title": item.case_title,
            "task_id": item.task_id, "round": item.round, "kind": item.kind,
            "title": item.title, "owner": item.owner, "sign_by": _iso(item.sign_by),
            "on_scene_by": _iso(item.on_scene_by), "due_by": _iso(item.due_by),
            "at": _iso(item.delivered_at)}


def notice_body(notice: NoticeRecord) -> dict[str, Any]:
    said = phrases.decode(notice.phrase)
    return {"event": f"notice.{notice.kind.removeprefix('NOTICE_KIND_')}",
            "case_id": notice.case_id, "case_number": notice.case_number,
            "task_id": notice.task_id, "handoff_id": notice.handoff_id,
            "text": notice.text,
            "text_zh": phrases.render(said, "zh") if said is not None else "",
            "phrase": notice.phrase, "at": _iso(notice.received_at)}


# ----- the outbox -------------------------------------------------------------------------


def enqueue(session: Session, *, agency: str, source: str, body: dict[str, Any],
            now: datetime) -> int:
    """An entry per subscription wanting `body["event"]`, keyed by the `source` (the
    task's or notice's idempotency key) and the subscription; the entries to send now.
    Runs in the caller's transaction."""
    event = str(body["event"])
    sending = 0
    for subscription in active(session, agency):
        if not wants(subscription, event):
            continue
        if subscription.officer and not officer_active(session, agency, subscription.officer):
            continue  # disabled: their channels receive nothing more
        state, send_at = "pending", now
        quiet = quiet_hours(subscription.quiet_hours, subscription.zone)
        if subscription.officer and quiet is not None and quiet.cover(now) and \
                not on_duty(session, agency, subscription.officer, now):
            state, send_at = "held", quiet.end_after(now)
        key = f"{agency}/{source}/{subscription.id}"
        entry = OutboxEntry(agency=agency, subscription_id=subscription.id or 0, key=key,
                            event=event, case_id=str(body.get("case_id", "")),
                            body=json.dumps({**body, "key": key, "agency": agency},
                                            ensure_ascii=False, sort_keys=True),
                            state=state, created_at=now, next_attempt_at=send_at,
                            last_error="quiet hours, not on duty" if state == "held" else "")
        session.add(entry)
        sending += state == "pending"
    return sending


def claim_due(session: Session, agency: str, now: datetime, limit: int
              ) -> list[tuple[OutboxEntry, Subscription]]:
    """Entries due now with their subscriptions, each leased to this sender (one that
    another sender claimed meanwhile is left to it)."""
    rows = session.exec(select(OutboxEntry, Subscription)
                        .join(Subscription, col(Subscription.id) == OutboxEntry.subscription_id)
                        .where(OutboxEntry.agency == agency,
                               col(OutboxEntry.state).in_(_WAITING),
                               OutboxEntry.next_attempt_at <= now,
                               col(Subscription.removed_at).is_(None))
                        .order_by(col(OutboxEntry.next_attempt_at)).limit(limit)).all()
    claimed = []
    for entry, subscription in rows:
        taken = session.connection().execute(
            update(OutboxEntry).where(col(OutboxEntry.id) == entry.id,
                                      col(OutboxEntry.state) == entry.state,
                                      col(OutboxEntry.next_attempt_at) == entry.next_attempt_at)
            .values(next_attempt_at=now + LEASE, state="pending"))
        if taken.rowcount == 1:
            claimed.append((entry, subscription))
    session.commit()
    return claimed


def next_due(session: Session, agency: str) -> datetime | None:
    found = session.exec(select(OutboxEntry.next_attempt_at).where(
        OutboxEntry.agency == agency, col(OutboxEntry.state).in_(_WAITING))
        .order_by(col(OutboxEntry.next_attempt_at)).limit(1)).first()
    return None if found is None else as_utc(found)


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def settle(session: Session, entry_id: int, now: datetime, error: str = "") -> None:
    """An attempt's outcome: delivered, or failed with `error` (tried again after the
    back-off, given up once GIVE_UP_AFTER has passed since the entry was made).

    Written as one conditional statement, not read and written back: an entry abandoned
    meanwhile (its subscription removed, in another transaction) keeps saying why."""
    entry = session.get(OutboxEntry, entry_id)
    if entry is None:
        return
    attempts = entry.attempts + 1
    this = update(OutboxEntry).where(col(OutboxEntry.id) == entry_id)
    if not error:
        change = this.values(state="delivered", delivered_at=now, last_error="",
                             attempts=attempts)
    else:
        given_up = as_utc(entry.created_at) + GIVE_UP_AFTER <= now
        change = this.where(col(OutboxEntry.state) == "pending").values(
            attempts=attempts, last_error=error[:500],
            **({"state": "failed"} if given_up else
               {"next_attempt_at": now + backoff(attempts)}))
    session.connection().execute(change)
    session.commit()


def abandon(session: Session, subscription_id: int) -> None:
    """A removed subscription's entries not yet sent are not sent, and say why."""
    session.connection().execute(
        update(OutboxEntry).where(col(OutboxEntry.subscription_id) == subscription_id,
                                  col(OutboxEntry.state).in_(("pending", "held")))
        .values(state="failed", last_error="the subscription was removed"))


def listing(session: Session, agency: str, *, state: str, limit: int,
            after_id: int | None) -> list[tuple[OutboxEntry, Subscription]]:
    """The agency's outbox, newest first."""
    query = (select(OutboxEntry, Subscription)
             .join(Subscription, col(Subscription.id) == OutboxEntry.subscription_id)
             .where(OutboxEntry.agency == agency))
    if state:
        query = query.where(OutboxEntry.state == state)
    if after_id is not None:
        query = query.where(col(OutboxEntry.id) < after_id)
    return list(session.exec(query.order_by(col(OutboxEntry.id).desc()).limit(limit)).all())

