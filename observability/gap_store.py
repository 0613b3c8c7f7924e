"""Gaps kept ready for querying: each case's gaps, derived as its events are appended.

Replaying a million-event ledger for every oversight question takes seconds (reading the
rows alone does); keeping each case's gaps in a table, rewritten from a replay of that
case whenever the ledger takes a batch of its events, turns "every breached gap of
agency A since T, page 3" into an indexed query. The table is a cache of the ledger: it
is never a source of truth, and `rebuild` derives it again from the ledger alone.

Times are integer microseconds since the epoch (UTC), so SQL compares and subtracts them.
Whether an open gap is breached depends on the moment of the question, so it is decided
in the query, against `now`.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, Index, Integer, delete, text
from sqlmodel import Field, Session, SQLModel

from observability.accountability import CaseReplay, Category, GapKind, Interval
from observability.analysis import GapQuery, replay_cases
from observability.ledger import stream_events
from records.event_schema import Event, EventKind

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


class CaseGap(SQLModel, table=True):
    __tablename__ = "case_gap"
    __table_args__ = (Index("ix_case_gap_start", "start_us"),
                      Index("ix_case_gap_accountable", "accountable", "start_us"))

    # Every append rewrites its case's gaps, so ids run far beyond a 32-bit integer (on
    # SQLite only INTEGER numbers rows by itself, and it is 64-bit there anyway).
    id: int | None = Field(default=None, sa_column=Column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True))
    case_id: str = Field(max_length=300, index=True)
    kind: str = Field(max_length=32)
    task_id: str = Field(default="", max_length=64)
    accountable: str = Field(max_length=64)
    from_agency: str = Field(default="", max_length=64)
    to_agency: str = Field(default="", max_length=64)
    ref: str = Field(default="", max_length=64)
    # Microseconds since the epoch: beyond a 32-bit integer.
    start_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    end_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    deadline_us: int | None = Field(default=None, sa_column=Column(BigInteger))
    start_sequence: int
    end_sequence: int | None = None
    # The kind of event that ended it (HANDOFF_ACCEPTED, TASK_SIGNED, …); "" while open.
    end_kind: str = Field(default="", max_length=32)
    start_trace_id: str = Field(default="", max_length=32)
    end_trace_id: str = Field(default="", max_length=32)


class CaseParticipant(SQLModel, table=True):
    """Who takes part in a case (opener, owners, assignees, agencies offered it)."""

    __tablename__ = "case_participant"

    case_id: str = Field(primary_key=True, max_length=300)
    agency: str = Field(primary_key=True, max_length=64, index=True)


def _row(gap: Interval) -> dict[str, object]:
    end = gap.end_event
    return {"case_id": gap.case_id, "kind": gap.name, "task_id": gap.task_id,
            "accountable": gap.accountable, "from_agency": gap.from_agency,
            "to_agency": gap.to_agency, "ref": gap.ref, "start_us": micros(gap.start),
            "end_us": micros(gap.end) if gap.end is not None else None,
            "deadline_us": micros(gap.deadline) if gap.deadline is not None else None,
            "start_sequence": gap.start_event.sequence,
            "end_sequence": end.sequence if end is not None else None,
            "end_kind": end.kind if end is not None else "",
            "start_trace_id": gap.start_event.trace_id,
            "end_trace_id": end.trace_id if end is not None else ""}


def case_rows(replay: CaseReplay) -> list[dict[str, object]]:
    """The rows the store keeps for a replayed case's gaps (`gap_audit` holds the store
    to them)."""
    return [_row(g) for g in replay.gaps()]


def _write(session: Session, replays: Iterable[CaseReplay]) -> int:
    written = 0
    connection = session.connection()
    for replay in replays:
        connection.execute(delete(CaseGap).where(CaseGap.case_id == replay.case_id))  # type: ignore[arg-type]
        rows = case_rows(replay)
        if rows:
            connection.execute(CaseGap.__table__.insert(), rows)  # type: ignore[attr-defined]
        connection.execute(
            text("INSERT INTO case_participant (case_id, agency) VALUES (:case_id, :agency) "
                 "ON CONFLICT DO NOTHING"),
            [{"case_id": replay.case_id, "agency": a} for a in sorted(replay.participants)])
        written += len(rows)
    return written


def refresh_case(engine: Engine, replay: CaseReplay) -> None:
    """Rewrite one case's gaps from a replay of all its events (finished at the latest)."""
    with Session(engine) as session:
        rewrite_case(session, replay)
        session.commit()


def rewrite_case(session: Session, replay: CaseReplay) -> None:
    """`refresh_case` inside the caller's transaction (the one that appended the events)."""
    _write(session, [replay])


def rebuild(engine: Engine, *, now: datetime) -> int:
    """Derive every case's gaps again from the ledger; returns how many gaps."""
    with Session(engine) as session:
        session.connection().execute(delete(CaseGap))
        written = _write(session, replay_cases(stream_events(engine), now=now))
        session.commit()
    return written


def cases_of(engine: Engine, agency: str) -> set[str]:
    """The cases `agency` takes part in."""
    with engine.connect() as connection:
        return {row[0] for row in connection.execute(text(
            "SELECT case_id FROM case_participant WHERE agency = :agency"),
            {"agency": agency})}


@dataclass(frozen=True)
class GapPage:
    gaps: list[Interval]
    more: bool


# Only the chains the agency `:visible_to` takes part in (`participation`'s rule, by the
# participants kept here): the one condition every store's queries filter by.
VISIBLE_TO = "case_id IN (SELECT case_id FROM case_participant WHERE agency = :visible_to)"


def _filters(query: GapQuery, visible_to: str | None, now: datetime
             ) -> tuple[str, dict[str, object]]:
    clauses: list[str] = []
    params: dict[str, object] = {"now": micros(now)}
    if visible_to is not None:
        clauses.append(VISIBLE_TO)
        params["visible_to"] = visible_to
    if query.agency:
        clauses.append("accountable = :agency")
        params["agency"] = query.agency
    if query.kind is not None:
        clauses.append("kind = :kind")
        params["kind"] = query.kind.value
    if query.breached_only:
        clauses.append(_BREACHED)
    if query.open_only:
        clauses.append("end_us IS NULL")
    if query.since is not None:
        clauses.append("start_us >= :since")
        params["since"] = micros(query.since)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_BREACHED = "(deadline_us IS NOT NULL AND COALESCE(end_us, :now) >= deadline_us)"


def list_gaps(engine: Engine, *, query: GapQuery, now: datetime, visible_to: str | None,
              offset: int, limit: int) -> GapPage:
    """Newest first. `visible_to` None sees every case; an agency only those it is in."""
    where, params = _filters(query, visible_to, now)
    sql = (f"SELECT {', '.join(_COLUMNS)} FROM case_gap{where} "
           "ORDER BY start_us DESC, case_id DESC, start_sequence DESC, id DESC "
           "LIMIT :limit OFFSET :offset")
    with engine.connect() as connection:
        rows = list(connection.execute(text(sql), {**params, "limit": limit + 1,
                                                    "offset": offset}))
    return GapPage([_interval(r) for r in rows[:limit]], len(rows) > limit)


@dataclass
class HandoffCell:
    """Offers from one agency to another: how many, how they ended, how long they waited."""

    from_agency: str
    to_agency: str
    offers: int = 0
    accepted: int = 0
    waits: list[float] = field(default_factory=list)  # of answered offers

    @property
    def median_wait_seconds(self) -> float | None:
        return statistics.median(self.waits) if self.waits else None

    @property
    def p90_wait_seconds(self) -> float | None:
        return percentile(self.waits, 0.9)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (what a person counting the list would answer)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 1))
    return ordered[int(rank) - 1]


def handoff_matrix(engine: Engine, *, since: datetime | None, visible_to: str | None
                   ) -> list[HandoffCell]:
    """Offers per agency pair from the hand-off gaps: counted in SQL, waits sorted there."""
    query = GapQuery(kind=GapKind.HANDOFF_PENDING, since=since)
    where, params = _filters(query, visible_to, datetime.now(UTC))
    sql = (f"SELECT from_agency, to_agency, end_us - start_us, end_kind FROM case_gap{where} "
           "ORDER BY from_agency, to_agency")
    cells: dict[tuple[str, str], HandoffCell] = {}
    with engine.connect() as connection:
        for from_agency, to_agency, waited, end_kind in connection.execute(text(sql), params):
            cell = cells.get((from_agency, to_agency))
            if cell is None:
                cell = cells[(from_agency, to_agency)] = HandoffCell(from_agency, to_agency)
            cell.offers += 1
            if waited is not None:
                cell.waits.append(waited / 1e6)
            cell.accepted += end_kind == EventKind.HANDOFF_ACCEPTED
    return list(cells.values())


@dataclass(frozen=True)
class GapSummary:
    """The gap analysis per accountable agency and gap kind."""

    accountable: str
    kind: str
    gaps: int
    open: int
    breached: int
    total_seconds: float
    longest_seconds: float


def summarize(engine: Engine, *, now: datetime, query: GapQuery | None = None,
              visible_to: str | None = None) -> list[GapSummary]:
    where, params = _filters(query or GapQuery(), visible_to, now)
    lasted = "(COALESCE(end_us, :now) - start_us)"
    sql = (f"SELECT accountable, kind, COUNT(*), {_count('end_us IS NULL')}, "
           f"{_count(_BREACHED)}, "
           f"SUM({lasted}), MAX({lasted}) FROM case_gap{where} "
           "GROUP BY accountable, kind ORDER BY accountable, kind")
    with engine.connect() as connection:
        return [GapSummary(a, k, n, int(o or 0), int(b or 0), float(t or 0) / 1e6,
                           float(m or 0) / 1e6)
                for a, k, n, o, b, t, m in connection.execute(text(sql), params)]


def _count(condition: str) -> str:
    """How many rows meet `condition` (PostgreSQL does not sum booleans)."""
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


_COLUMNS = ("case_id", "kind", "task_id", "accountable", "from_agency", "to_agency", "ref",
            "start_us", "end_us", "deadline_us", "start_sequence", "end_sequence",
            "start_trace_id", "end_trace_id")


def _interval(row: Any) -> Interval:
    start = from_micros(row.start_us)
    end = from_micros(row.end_us) if row.end_us is not None else None
    opened = Event(row.case_id, row.start_sequence, "", "", start, trace_id=row.start_trace_id)
    closed = None if end is None or row.end_sequence is None else Event(
        row.case_id, row.end_sequence, "", "", end, trace_id=row.end_trace_id)
    deadline = from_micros(row.deadline_us) if row.deadline_us is not None else None
    return Interval(row.case_id, Category.GAP, row.kind, start, row.accountable, opened,
                    end=end, end_event=closed, task_id=row.task_id,
                    from_agency=row.from_agency, to_agency=row.to_agency, deadline=deadline,
                    ref=row.ref)
