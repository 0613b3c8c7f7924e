"""The facts scorecards are summed from, kept per ledger chain as the ledger grows.

GetScorecards used to replay the whole ledger on every call (12 s and 735 MiB at a
million events). Every figure it answers is a count, a sum or a median over facts of
single chains: each task round's clocks, each case's lead, lines and close, each
objection to a lead, each report on a case, each reporter's rating, each bounce chain,
each accepted hand-off. The worker keeps those facts here, rewritten from a replay of
the whole chain in the transaction of each append (as it keeps the gap store), and
`observability.scorecards` sums them in SQL.

Nothing stored depends on the moment of the question. The one figure that does, a clock
nobody has kept yet counting as missed once its deadline has passed, is stored as that
deadline (`*_open_by_us`) and compared with `now` by the query. (The other figure of a
replay that moves with `now`, an open case's elapsed time, is in no scorecard: the case
types' lines take the actual time of closed cases only.)

Like the gap store, this is a cache of the ledger and never a source of truth. Each
chain's row says through which ledger sequence it was derived, so `catch_up` finds and
derives again the chains it lags (a ledger from before the store, or appended by a
worker that did not keep it) and `rebuild` derives all of it again.

Its tables are a schema of their own in the ledger's database (`SCHEMA`: its own
migrations and version table, so its revisions never collide with the ledger's). The
worker, which writes them, migrates it; readers (the gateway) only read. Times are
integer microseconds since the epoch, as in the gap store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Index,
    bindparam,
    delete,
    insert,
    inspect,
    text,
)
from sqlmodel import Field, Session, SQLModel

from observability import ledger
from observability.accountability import CaseReplay, GapKind, Interval, TaskOutcome
from observability.gap_store import micros
from records import database
from records.event_schema import Event
from records.event_schema import EventKind as K

SCHEMA = database.Schema("scores", Path(__file__).parent / "migrations" / "scores",
                         "scores_0001")


def _micros(value: datetime | None) -> int | None:
    return None if value is None else micros(value)


def _when() -> Any:
    return Field(default=None, sa_column=Column(BigInteger))


class ScoreChain(SQLModel, table=True):
    """One ledger chain: a case (its lead, lines and close) or a reporter's rating."""

    __tablename__ = "score_chain"
    __table_args__ = (Index("ix_score_chain_opened", "opened_us"),)

    case_id: str = Field(primary_key=True, max_length=300)
    # The last ledger sequence of the chain these rows were derived from.
    through_sequence: int
    case_type: str = Field(default="", max_length=64)
    # The owner at the end of the chain: the agency the case counts as led by.
    owner: str = Field(default="", max_length=64)
    # None: not a case (a rating, or a chain whose opening the ledger lacks).
    opened_us: int | None = _when()
    closed_us: int | None = _when()
    legal_by_us: int | None = _when()
    promised_by_us: int | None = _when()


class ScoreTaskRound(SQLModel, table=True):
    """One round of a task at its assignee (`TaskOutcome`), with its three clocks.

    Each clock is `*_on_time` 1 or 0 once kept or missed by an act, and otherwise, while
    it still runs, `*_open_by_us`: its deadline, past which it counts as missed. A clock
    with neither is never judged (the task went back or was taken away first)."""

    __tablename__ = "score_task_round"
    __table_args__ = (
        Index("ix_score_task_round_dispatched", "dispatched_us"),
        # Every column the scorecards' sums read, in the order they group by: the sums
        # read this index alone, in order, instead of sorting the table (a third of
        # the time at a million events).
        Index("ix_score_task_round_sums", "assignee", "case_type", "dispatched_us",
              "declined", "sign_on_time", "sign_open_by_us", "arrival_on_time",
              "arrival_open_by_us", "done_on_time", "done_open_by_us", "case_id"))

    case_id: str = Field(primary_key=True, max_length=300)
    position: int = Field(primary_key=True)  # in the case's task log
    assignee: str = Field(max_length=64)
    case_type: str = Field(default="", max_length=64)
    dispatched_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    declined: int = 0
    sign_on_time: int | None = None
    sign_open_by_us: int | None = _when()
    arrival_on_time: int | None = None
    arrival_open_by_us: int | None = _when()
    done_on_time: int | None = None
    done_open_by_us: int | None = _when()


class ScoreObjection(SQLModel, table=True):
    """An objection to leading a case (派单异议) and its outcome once decided."""

    __tablename__ = "score_objection"

    case_id: str = Field(primary_key=True, max_length=300)
    objection_id: str = Field(primary_key=True, max_length=64)
    objector: str = Field(max_length=64)
    case_type: str = Field(default="", max_length=64)
    raised_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    outcome: str = Field(default="", max_length=16)


class ScoreReport(SQLModel, table=True):
    """A report on a case now (并单). A reopened case holds its matter's reports again:
    the query counts each report once, in the first case that holds it."""

    __tablename__ = "score_report"
    # Whether an earlier case holds the same report: one probe per report.
    __table_args__ = (Index("ix_score_report_report", "report_id", "case_id"),)

    case_id: str = Field(primary_key=True, max_length=300)
    report_id: str = Field(primary_key=True, max_length=64)
    area: str = Field(default="", max_length=200)
    case_type: str = Field(default="", max_length=64)
    attached_us: int = Field(sa_column=Column(BigInteger, nullable=False))


class ScoreRating(SQLModel, table=True):
    """A reporter's rating (回访/评价): the one fact of a rating chain."""

    __tablename__ = "score_rating"

    case_id: str = Field(primary_key=True, max_length=300)  # the rating chain
    # The agency rated (the lead when the case closed); "" when the rating names none.
    owner: str = Field(default="", max_length=64)
    case_type: str = Field(default="", max_length=64)
    at_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    solved: int = 0
    satisfaction: str = Field(default="", max_length=32)
    reopened: int = 0


class ScoreBounce(SQLModel, table=True):
    """One hop of a bounce chain (踢皮球) of more than one task, in a case that opened."""

    __tablename__ = "score_bounce"

    case_id: str = Field(primary_key=True, max_length=300)
    chain: int = Field(primary_key=True)  # in the order the case started its chains
    hop: int = Field(primary_key=True)
    task_id: str = Field(max_length=64)
    agency: str = Field(default="", max_length=64)
    # The case's opening (chains are counted from it), kept with each hop so that the
    # list is read without a join.
    opened_us: int = Field(sa_column=Column(BigInteger, nullable=False))


class ScoreHandoff(SQLModel, table=True):
    """An accepted offer of a case: how long the receiver took to accept it."""

    __tablename__ = "score_handoff"

    case_id: str = Field(primary_key=True, max_length=300)
    handoff: int = Field(primary_key=True)  # in the order the case's offers were made
    to_agency: str = Field(default="", max_length=64)
    offered_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    waited_us: int = Field(sa_column=Column(BigInteger, nullable=False))


_MODELS: tuple[Any, ...] = (ScoreChain, ScoreTaskRound, ScoreObjection, ScoreReport,
                            ScoreRating, ScoreBounce, ScoreHandoff)
TABLES: tuple[Any, ...] = tuple(model.__table__ for model in _MODELS)


def ready(engine: Engine) -> None:
    """The store's tables at their latest revision (a check that costs one query once
    they are). For the process that writes them: the worker."""
    database.migrate(engine, SCHEMA)


def is_ready(source: Engine | Connection) -> bool:
    """Whether the store's tables are there, for a reader that may not make them."""
    with _connected(source) as connection:
        table = database.version_table(SCHEMA)  # our own name, never a caller's
        if not inspect(connection).has_table(table):
            return False
        found = connection.execute(text(f"SELECT version_num FROM {table}")).scalar()
        return found == SCHEMA.head


# ----- what a chain contributes ---------------------------------------------------------

def _clock(kept_at: datetime | None, deadline: datetime | None, ended: bool
           ) -> tuple[int | None, int | None]:
    """(on time, open by) of one clock: `TaskOutcome.settle`'s judgement with the moment
    of the question left open. Kept or missed by an act: decided for good. Not reached
    because the round ended first: never judged. Still running: missed from its
    deadline on, which the query compares with `now`."""
    if deadline is None:
        return None, None
    if kept_at is not None:
        return int(kept_at < deadline), None
    if ended:
        return None, None
    return None, micros(deadline)


def _round(replay: CaseReplay, position: int, outcome: TaskOutcome) -> dict[str, Any]:
    ended = outcome.declined or outcome.withdrawn
    sign = _clock(outcome.signed_at, outcome.sign_by, ended)
    arrival = _clock(outcome.arrived_at, outcome.on_scene_by, ended)
    done = _clock(outcome.done_at, outcome.due_by, ended)
    return {"case_id": replay.case_id, "position": position, "assignee": outcome.assignee,
            "case_type": replay.case_type, "dispatched_us": micros(outcome.dispatched_at),
            "declined": int(outcome.declined),
            "sign_on_time": sign[0], "sign_open_by_us": sign[1],
            "arrival_on_time": arrival[0], "arrival_open_by_us": arrival[1],
            "done_on_time": done[0], "done_open_by_us": done[1]}


def chain_rows(replay: CaseReplay, through: int) -> dict[str, list[dict[str, Any]]]:
    """The rows the store keeps for a replayed chain, by table."""
    case_id, case_type = replay.case_id, replay.case_type
    rows: dict[str, list[dict[str, Any]]] = {table.name: [] for table in TABLES}
    rows["score_chain"].append({
        "case_id": case_id, "through_sequence": through, "case_type": case_type,
        "owner": replay.owner, "opened_us": _micros(replay.opened_at),
        "closed_us": _micros(replay.closed_at), "legal_by_us": _micros(replay.legal_by),
        "promised_by_us": _micros(replay.promised_by)})
    rows["score_task_round"] = [_round(replay, n, outcome)
                                for n, outcome in enumerate(replay.task_log)]
    rows["score_objection"] = [
        {"case_id": case_id, "objection_id": o.id, "objector": o.objector,
         "case_type": case_type, "raised_us": micros(o.raised_at), "outcome": o.outcome}
        for o in replay.objections.values()]
    rows["score_report"] = [
        {"case_id": case_id, "report_id": r.report_id, "area": r.area,
         "case_type": case_type, "attached_us": micros(r.attached_at)}
        for r in replay.reports.values()]
    rating = replay.rating
    if rating is not None:
        rows["score_rating"].append({
            "case_id": case_id, "owner": rating.owner, "case_type": rating.case_type,
            "at_us": micros(rating.at), "solved": int(rating.solved),
            "satisfaction": rating.satisfaction, "reopened": int(rating.reopened)})
    opened = _micros(replay.opened_at)
    chains = (hops for hops in replay.bounce_chains.values() if len(hops) > 1)
    rows["score_bounce"] = [] if opened is None else [
        {"case_id": case_id, "chain": n, "hop": hop, "task_id": task, "agency": agency,
         "opened_us": opened}
        for n, hops in enumerate(chains) for hop, (task, agency) in enumerate(hops)]
    rows["score_handoff"] = [
        {"case_id": case_id, "handoff": n, "to_agency": gap.to_agency,
         "offered_us": micros(gap.start), "waited_us": micros(gap.end) - micros(gap.start)}
        for n, gap in enumerate(_accepted_offers(replay)) if gap.end is not None]
    return rows


def _accepted_offers(replay: CaseReplay) -> list[Interval]:
    """The hand-off gaps an acceptance ended (not a decline, a withdrawal, an expiry or an
    assignment that superseded the offer)."""
    return [gap for gap in replay.gaps() if gap.name == GapKind.HANDOFF_PENDING
            and gap.end_event is not None and gap.end_event.kind == K.HANDOFF_ACCEPTED]


def rewrite_chain(session: Session, replay: CaseReplay, *, through: int) -> None:
    """Replace a chain's rows with those of `replay` (of its events up to `through`),
    inside the caller's transaction: the one that appended those events. Writing the
    same replay again (a retried append) leaves the same rows."""
    _write(session.connection(), replay, through)


# Built once: every append runs them, and building the statements cost as much as
# running them. A rating chain holds a rating and nothing else, a case never a rating,
# so each chain clears only the tables its kind can fill.
_DELETES = {table.name: delete(table).where(table.c.case_id == bindparam("chain"))
            for table in TABLES}
_INSERTS = {table.name: insert(table) for table in TABLES}
_OF_RATINGS = ("score_chain", "score_rating")
_OF_CASES = tuple(table.name for table in TABLES if table.name != "score_rating")


def _write(connection: Connection, replay: CaseReplay, through: int) -> None:
    rows = chain_rows(replay, through)
    for name in _OF_RATINGS if replay.is_rating else _OF_CASES:
        connection.execute(_DELETES[name], {"chain": replay.case_id})
        if rows[name]:
            connection.execute(_INSERTS[name], rows[name])


# ----- catching up with the ledger ------------------------------------------------------

# Chains derived per transaction: a short hold of SQLite's one write lock at a time, so
# the worker's appends go on between them.
BATCH = 200
# Up to this many chains behind, each is read on its own; beyond, the ledger is read once.
READ_ONE_BY_ONE = 500


def behind(source: Engine | Connection) -> list[str]:
    """The chains whose rows are missing or derived from fewer events than the ledger
    holds, by the ledger's heads."""
    with _connected(source) as connection:
        return [row[0] for row in connection.execute(text(
            "SELECT h.case_id FROM ledger_head h LEFT JOIN score_chain s "
            "ON s.case_id = h.case_id WHERE s.case_id IS NULL "
            "OR s.through_sequence <> h.sequence ORDER BY h.case_id"))]


def catch_up(engine: Engine) -> int:
    """Derive again every chain the store lags; returns how many were written.

    Safe beside a worker appending: each chain is written holding the ledger's lock on
    the case (as `ledger.append` takes it), and only if the replay, read before, still
    covers the chain up to its head; one that an append has overtaken is left to what
    that append wrote (or, appended by a worker not keeping the store, to the next
    catch-up)."""
    stale = behind(engine)
    if not stale:
        return 0
    written = 0
    replays = _replays(engine, stale)
    while group := list(islice(replays, BATCH)):
        with Session(engine) as session:
            connection = session.connection()
            for replay, through in group:
                # The ledger's own per-case lock: one rule for who writes a case when.
                ledger._hold_case(connection, replay.case_id)
                head = ledger.head(connection, replay.case_id)
                if head is not None and head[0] == through:
                    _write(connection, replay, through)
                    written += 1
            session.commit()
    return written


def rebuild(engine: Engine) -> int:
    """Forget every row, then derive the whole store again from the ledger."""
    with Session(engine) as session:
        for table in TABLES:
            session.connection().execute(delete(table))
        session.commit()
    return catch_up(engine)


def _replays(engine: Engine, chains: Sequence[str]) -> Iterator[tuple[CaseReplay, int]]:
    """Each chain replayed, with the last sequence read: a few chains each on its own, many
    from one read of the whole ledger (far cheaper than a query per chain)."""
    if len(chains) <= READ_ONE_BY_ONE:
        for chain in chains:
            yield from _replayed(ledger.stream_events(engine, case_id=chain))
        return
    wanted = set(chains)
    yield from _replayed(e for e in ledger.stream_events(engine) if e.case_id in wanted)


def _replayed(events: Iterable[Event]) -> Iterator[tuple[CaseReplay, int]]:
    """Events ordered by chain and sequence, as finished replays with their last sequence,
    finished as the worker finishes them after an append: at the last event's time."""
    replay: CaseReplay | None = None
    last: Event | None = None
    for event in events:
        if replay is None or last is None or event.case_id != replay.case_id:
            if replay is not None and last is not None:
                replay.finish(last.at)
                yield replay, last.sequence
            replay = CaseReplay(event.case_id, phases=False)
        replay.feed(event)
        last = event
    if replay is not None and last is not None:
        replay.finish(last.at)
        yield replay, last.sequence


@contextmanager
def _connected(source: Engine | Connection) -> Iterator[Connection]:
    """`source` as a connection: the caller's own, or one of the engine's for a moment."""
    if isinstance(source, Connection):
        yield source
    else:
        with source.connect() as connection:
            yield connection
