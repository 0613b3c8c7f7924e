"""The case ledger: every case event, appended once, in sequence, per case.

Appends are idempotent: a batch whose events are already there (a retried activity)
changes nothing, while an event that contradicts what is stored, or one that would
leave a hole in a case's sequence, is refused as a conflict no retry can fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Engine, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, col, create_engine, select


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LedgerEntryBase(SQLModel):
    case_id: str = Field(max_length=300, index=True)
    sequence: int = Field(ge=1)
    kind: str = Field(max_length=32)
    actor_agency: str = Field(max_length=64)
    actor_officer: str = Field(default="", max_length=64)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    task_id: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=4000)

    def same_event(self, other: LedgerEntryBase) -> bool:
        fields = ("case_id", "sequence", "kind", "actor_agency", "actor_officer", "task_id",
                  "detail")
        return all(getattr(self, f) == getattr(other, f) for f in fields) and \
            _utc(self.at) == _utc(other.at)


class LedgerEntry(LedgerEntryBase, table=True):
    __tablename__ = "ledger_entry"
    __table_args__ = (UniqueConstraint("case_id", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    recorded_at: datetime = Field(default_factory=_utc_now,
                                  sa_column=Column(DateTime(timezone=True), nullable=False))


class LedgerConflict(Exception):
    """The batch contradicts the ledger: a bug somewhere, never an outage."""


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def open_ledger(url: str) -> Engine:
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    engine = create_engine(url, connect_args=connect_args)
    SQLModel.metadata.create_all(engine, tables=[LedgerEntry.__table__])  # type: ignore[attr-defined]
    return engine


def append(*, session: Session, case_id: str, events: Sequence[LedgerEntryBase]) -> int:
    """Append one case's events (in sequence order); returns how many were new."""
    if any(e.case_id != case_id for e in events):
        raise LedgerConflict(f"a batch for {case_id} holds events of another case")
    stored = {row.sequence: row for row in session.exec(
        select(LedgerEntry).where(LedgerEntry.case_id == case_id,
                                  col(LedgerEntry.sequence).in_([e.sequence for e in events])))}
    last = session.exec(select(func.max(LedgerEntry.sequence))
                        .where(LedgerEntry.case_id == case_id)).one() or 0
    added = 0
    try:
        for event in events:
            existing = stored.get(event.sequence)
            if existing is not None:
                if not existing.same_event(event):
                    raise LedgerConflict(f"{case_id} event {event.sequence} differs from the "
                                         "one already recorded")
                continue
            if event.sequence != last + 1:
                raise LedgerConflict(f"{case_id} event {event.sequence} would follow {last}: "
                                     "the ledger takes a case's events without gaps")
            session.add(LedgerEntry.model_validate(event.model_dump()))
            last, added = event.sequence, added + 1
    except LedgerConflict:
        session.rollback()  # a batch is kept whole or not at all
        raise
    session.commit()
    return added


def case_events(*, session: Session, case_id: str) -> list[LedgerEntry]:
    return list(session.exec(select(LedgerEntry).where(LedgerEntry.case_id == case_id)
                             .order_by(col(LedgerEntry.sequence))))
