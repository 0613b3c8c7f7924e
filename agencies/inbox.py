"""The inbox, as service functions. Each takes the agency explicitly and every query is
scoped by it, so a lookup that ignores whose inbox it is cannot be written by accident
(and one database could serve several agencies by configuration)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from agencies.models import Finding, InboxItem, InboxItemBase, NoticeRecord, Officer
from records.database import LIKE_ESCAPE, starting_with

T = TypeVar("T")


class WrongAgency(ValueError):
    """A delivery addressed to another agency reached this one."""


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stamp(value: datetime | None) -> Timestamp | None:
    """A stored time as the protos carry it (None stays unset)."""
    if value is None:
        return None
    stamped = Timestamp()
    stamped.FromDatetime(as_utc(value))
    return stamped


# The hot paths (a delivery, an officer's act) write with plain statements and build the
# row they answer with themselves: the ORM's unit of work and the reload after a commit
# cost the agency more than the database did.


# What else a new task or notice brings, in the transaction that stores it (the outbox's
# entries: agencies.outbox).
OnNew = Callable[[Session, T], None]


def deliver_task(*, session: Session, agency: str, assignee: str, idempotency_key: str,
                 item: InboxItemBase, on_new: OnNew[InboxItem] | None = None
                 ) -> tuple[InboxItem, bool]:
    """Put a task in the inbox; (row, created). A retry returns the existing row."""
    if assignee != agency or item.assignee != agency:
        raise WrongAgency(f"task for {item.assignee} delivered to {agency}")
    connection = session.connection()
    if connection.execute(select(InboxItem.id).where(
            InboxItem.assignee == agency,
            InboxItem.idempotency_key == idempotency_key)).first() is not None:
        existing = _by_key(session, agency, idempotency_key)
        assert existing is not None
        return existing, False
    row = InboxItem.model_validate(item, update={"idempotency_key": idempotency_key})
    try:
        row.id = connection.execute(insert(InboxItem).values(
            **row.model_dump(exclude={"id"})).returning(col(InboxItem.id))).scalar_one()
        if on_new is not None:
            on_new(session, row)
        session.commit()
    except IntegrityError:  # a concurrent retry won the race: its row is ours
        session.rollback()
        existing = _by_key(session, agency, idempotency_key) or _by_round(session, item)
        if existing is None:
            raise
        return existing, False
    return row, True


def withdraw_task(*, session: Session, agency: str, assignee: str, case_id: str,
                  task_id: str, reason: str) -> InboxItem | None:
    """Mark the latest delivery of a task withdrawn; None if it never arrived here."""
    if assignee != agency:
        raise WrongAgency(f"withdrawal for {assignee} sent to {agency}")
    row = session.exec(
        select(InboxItem)
        .where(InboxItem.assignee == agency, InboxItem.case_id == case_id,
               InboxItem.task_id == task_id)
        .order_by(col(InboxItem.round).desc())
    ).first()
    if row is None:
        return None
    if not row.withdrawn:
        row.withdrawn = True
        row.withdraw_reason = reason
        session.add(row)
        session.commit()
        session.refresh(row)
    return row


def record_notice(*, session: Session, agency: str, recipient: str,
                  notice: NoticeRecord, on_new: OnNew[NoticeRecord] | None = None
                  ) -> tuple[NoticeRecord, bool]:
    """Store a notice once; (the stored notice, whether this call stored it)."""
    if recipient != agency or notice.recipient != agency:
        raise WrongAgency(f"notice for {notice.recipient} sent to {agency}")
    existing = _notice(session, agency, notice.idempotency_key)
    if existing is not None:
        return existing, False
    session.add(notice)
    if on_new is not None:
        on_new(session, notice)
    try:
        session.commit()
    except IntegrityError:  # a concurrent retry stored it first
        session.rollback()
        existing = _notice(session, agency, notice.idempotency_key)
        if existing is None:
            raise
        return existing, False
    session.refresh(notice)
    return notice, True


def _notice(session: Session, agency: str, key: str) -> NoticeRecord | None:
    return session.exec(select(NoticeRecord).where(
        NoticeRecord.recipient == agency, NoticeRecord.idempotency_key == key)).first()


def list_inbox(*, session: Session, agency: str, limit: int, after_id: int | None,
               open_only: bool) -> list[InboxItem]:
    """Newest first, `limit` rows after the row id `after_id` (keyset paging)."""
    query = (select(InboxItem).where(InboxItem.assignee == agency)
             .order_by(col(InboxItem.id).desc()).limit(limit))
    if after_id is not None:
        query = query.where(col(InboxItem.id) < after_id)
    if open_only:
        query = query.where(col(InboxItem.withdrawn).is_(False))
    return list(session.exec(query))


@dataclass(frozen=True)
class Notices:
    rows: list[NoticeRecord]
    # The newest notice the officer had seen before this list, and how many came since.
    seen_through: int
    unread: int


# Past this many, "unread" says only that there are at least this many.
UNREAD_COUNTED = 1000


def list_notices(*, session: Session, agency: str, officer: str, limit: int,
                 after_id: int | None, mark_read: bool = False) -> Notices:
    """Newest first, `limit` notices after the row id `after_id` (keyset paging), with
    what `officer` had not seen; `mark_read` records that they have now seen all of them."""
    query = (select(NoticeRecord).where(NoticeRecord.recipient == agency)
             .order_by(col(NoticeRecord.id).desc()).limit(limit))
    if after_id is not None:
        query = query.where(col(NoticeRecord.id) < after_id)
    rows = list(session.exec(query))
    person = session.exec(select(Officer).where(Officer.agency == agency,
                                                Officer.officer_id == officer)).first()
    seen = person.notices_seen_through if person is not None else 0
    since = select(NoticeRecord.id).where(NoticeRecord.recipient == agency,
                                          col(NoticeRecord.id) > seen).limit(UNREAD_COUNTED)
    unread = len(list(session.exec(since)))
    # Seen: what this list shows (newest first), never a notice that arrived meanwhile.
    newest = rows[0].id if rows and after_id is None else None
    if mark_read and person is not None:
        if newest is not None and newest > seen:
            for row in rows:  # read after the session ends: not expired by the commit
                session.expunge(row)
            # Only forward: two pages seen at once never move the mark back.
            session.execute(update(Officer).where(
                col(Officer.id) == person.id, col(Officer.notices_seen_through) < newest)
                .values(notices_seen_through=newest))
            session.commit()
    return Notices(rows, seen, unread)


def _by_key(session: Session, agency: str, key: str) -> InboxItem | None:
    return session.exec(select(InboxItem).where(
        InboxItem.assignee == agency, InboxItem.idempotency_key == key)).first()


def _by_round(session: Session, item: InboxItemBase) -> InboxItem | None:
    return session.exec(select(InboxItem).where(
        InboxItem.assignee == item.assignee, InboxItem.case_id == item.case_id,
        InboxItem.task_id == item.task_id, InboxItem.round == item.round)).first()


def current_task(*, session: Session, agency: str, case_id: str, task_id: str
                 ) -> InboxItem | None:
    """The latest delivery of a task in this agency's inbox, if it is there. `case_id`
    may also be the case's number, or its id without the run (the latest opening)."""
    latest = (col(InboxItem.delivered_at).desc(), col(InboxItem.round).desc())
    mine = select(InboxItem).where(InboxItem.assignee == agency,
                                   InboxItem.task_id == task_id)
    exact = session.exec(mine.where(or_(InboxItem.case_id == case_id,
                                        InboxItem.case_number == case_id))
                         .order_by(*latest)).first()
    if exact is not None:
        return exact
    without_run = starting_with(f"{case_id}@")
    candidates = session.exec(mine.where(col(InboxItem.case_id).like(without_run,
                                                                     escape=LIKE_ESCAPE))
                              .order_by(*latest))
    # An older subject may hold an "@" itself: "A" must not find "A@B"'s tasks.
    return next((row for row in candidates if row.case_id.rpartition("@")[0] == case_id),
                None)


def record_action(*, session: Session, agency: str, row_id: int, task_state: str,
                  finding: Finding | None) -> None:
    """Keep the task's new state and, for a completion, the officer's finding (once per
    request id, so a retried action adds nothing)."""
    connection = session.connection()
    if not connection.execute(update(InboxItem).where(
            col(InboxItem.id) == row_id, col(InboxItem.assignee) == agency).values(
            task_state=task_state)).rowcount:
        raise WrongAgency(f"inbox row {row_id} is not {agency}'s")
    if finding is not None and connection.execute(select(Finding.id).where(
            Finding.request_id == finding.request_id)).first() is None:
        connection.execute(insert(Finding).values(**finding.model_dump(exclude={"id"})))
    session.commit()
