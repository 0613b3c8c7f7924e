"""The case ledger: every case event, appended once, in sequence, hash-chained per case.

Appends are idempotent: a batch whose events are already there (a retried activity)
changes nothing, while an event that contradicts what is stored, or one that would
leave a hole in a case's sequence, is refused as a conflict no retry can fix.

Each event stores the hash of the event before it and its own hash over a canonical
encoding; a per-case head row holds the last sequence and hash. `verify` walks a case's
chain and names the first link that does not hold, so an edit, a deletion, a reordering,
a truncation or a forked chain is detected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    TextClause,
    UniqueConstraint,
    bindparam,
    insert,
    text,
    update,
)
from sqlmodel import Field, Session, SQLModel, col, select

from records import database
from records.event_schema import CASE_NUMBER, Event

GENESIS = "0" * 64
# A seal, an act and a few receipts (a notice to a handful of agencies) fit well within.
MAX_PROOFS_CHARS = 20_000


def _utc_now() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class LedgerEntryBase(SQLModel):
    case_id: str = Field(max_length=300, index=True)
    sequence: int = Field(ge=1)
    kind: str = Field(max_length=32)
    actor_agency: str = Field(max_length=64)
    actor_officer: str = Field(default="", max_length=64)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    task_id: str = Field(default="", max_length=64)
    detail: str = Field(default="", max_length=4000)
    # The event's structured attributes (records.event_schema), as canonical JSON.
    attributes: str = Field(default="{}", max_length=4000)
    # The request that caused the event, in W3C hex; empty when a clock did.
    trace_id: str = Field(default="", max_length=32)
    span_id: str = Field(default="", max_length=16)
    # The signed statements that vouch for the event (the gateway's seal on the command,
    # an agency's signed act or receipts), as a JSON list; empty for a clock's events
    # and for events recorded before anything was signed.
    proofs: str = Field(default="", max_length=MAX_PROOFS_CHARS)

    def attribute_map(self) -> dict[str, str]:
        loaded: dict[str, str] = json.loads(self.attributes)
        return loaded

    def proof_list(self) -> list[str]:
        loaded = json.loads(self.proofs) if self.proofs else []
        if not isinstance(loaded, list) or not all(isinstance(p, str) for p in loaded):
            raise ValueError("proofs are not a list of statements")
        return loaded

    def canonical(self) -> bytes:
        """The bytes the hash covers: every field that says what happened (the proofs
        only where there are any, so events hashed before them keep their hash)."""
        fields: list[Any] = [
            self.case_id, self.sequence, self.kind, self.actor_agency, self.actor_officer,
            utc(self.at).isoformat(timespec="microseconds"), self.task_id, self.detail,
            self.attribute_map(), self.trace_id, self.span_id]
        if self.proofs:
            fields.append(self.proof_list())
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":"),
                          sort_keys=True).encode()

    def same_event(self, other: LedgerEntryBase) -> bool:
        return self.canonical() == other.canonical()


def encode_attributes(attributes: dict[str, str]) -> str:
    return json.dumps(attributes, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def encode_proofs(proofs: Sequence[str]) -> str:
    return json.dumps(list(proofs), separators=(",", ":")) if proofs else ""


def link_hash(previous: str, entry: LedgerEntryBase) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + entry.canonical()).hexdigest()


class LedgerEntry(LedgerEntryBase, table=True):
    __tablename__ = "ledger_entry"
    __table_args__ = (UniqueConstraint("case_id", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=_utc_now,
                                  sa_column=Column(DateTime(timezone=True), nullable=False))


class LedgerHead(SQLModel, table=True):
    """Where each case's chain ends: without it, cutting off the tail would go unseen."""

    __tablename__ = "ledger_head"

    case_id: str = Field(primary_key=True, max_length=300)
    sequence: int
    hash: str = Field(max_length=64)


class LedgerConflict(Exception):
    """The batch contradicts the ledger: a bug somewhere, never an outage."""


# The ledger's tables and the gap store's (derived from it, in the same database).
SCHEMA = database.Schema("ledger", Path(__file__).parent / "migrations" / "ledger",
                         "ledger_0001")


def open_ledger(url: str, *, password_file: Path | None = None) -> Engine:
    """The worker's ledger: it appends, and it migrates the schema."""
    return database.open_database(url, SCHEMA, password_file=password_file)


def read_ledger(url: str, *, password_file: Path | None = None,
                wait_seconds: float = database.READER_WAIT_SECONDS) -> Engine:
    """The ledger (and its gap store) for a process that only reads it, the gateway:
    the database refuses this engine's writes, so nothing reached through the gateway
    can alter the record it serves."""
    return database.open_reader(url, SCHEMA, password_file=password_file,
                                wait_seconds=wait_seconds)


def append(*, session: Session, case_id: str, events: Sequence[LedgerEntryBase],
           commit: bool = True) -> int:
    """Append one case's events (in sequence order); returns how many were new.

    With `commit=False` the caller commits, so it can write what follows from the events
    (the gap store) in the same transaction.
    """
    if any(e.case_id != case_id for e in events):
        raise LedgerConflict(f"a batch for {case_id} holds events of another case")
    # Plain SQL statements rather than ORM objects, each built once: appending is the
    # worker's most frequent write, and the ORM's unit of work (and building a statement
    # anew each time) cost more than SQLite did.
    connection = session.connection()
    _hold_case(connection, case_id)
    stored = _stored(session, case_id, events)
    chain_head = head(connection, case_id)
    last, last_hash = chain_head or (0, GENESIS)
    rows: list[dict[str, Any]] = []
    recorded_at = _utc_now()
    for entry in events:
        existing = stored.get(entry.sequence)
        if existing is not None:
            if not existing.same_event(entry):
                _abandon(session, commit)
                raise LedgerConflict(f"{case_id} event {entry.sequence} differs from the "
                                     "one already recorded")
            continue
        if entry.sequence != last + 1:
            _abandon(session, commit)
            raise LedgerConflict(f"{case_id} event {entry.sequence} would follow {last}: "
                                 "the ledger takes a case's events without gaps")
        link = link_hash(last_hash, entry)
        rows.append({**entry.model_dump(), "prev_hash": last_hash, "hash": link,
                     "recorded_at": recorded_at})
        last, last_hash = entry.sequence, link
    if rows:
        connection.execute(_INSERT_ENTRY, rows)
        if chain_head is None:
            connection.execute(_NEW_HEAD, {"case_id": case_id, "sequence": last,
                                           "hash": last_hash})
        else:
            connection.execute(_MOVE_HEAD, {"chain": case_id, "new_sequence": last,
                                            "new_hash": last_hash})
    if commit:
        session.commit()
    return len(rows)


_HEAD = select(LedgerHead.sequence, LedgerHead.hash).where(
    col(LedgerHead.case_id) == bindparam("case_id"))
_INSERT_ENTRY = insert(LedgerEntry)
_NEW_HEAD = insert(LedgerHead)
# (An update's parameters may not take its columns' names.)
_MOVE_HEAD = update(LedgerHead).where(col(LedgerHead.case_id) == bindparam("chain")) \
    .values(sequence=bindparam("new_sequence"), hash=bindparam("new_hash"))
_TOUCH_HEAD = update(LedgerHead).where(col(LedgerHead.case_id) == bindparam("chain")) \
    .values(sequence=LedgerHead.sequence)
_ANY_STORED = select(LedgerEntry.sequence).where(
    col(LedgerEntry.case_id) == bindparam("case_id"),
    col(LedgerEntry.sequence).in_(bindparam("sequences", expanding=True))).limit(1)


def _hold_case(connection: Connection, case_id: str) -> None:
    """Make a second writer of this case (another worker, a retried activity beside the
    first) wait until this transaction ends, so it reads what this one wrote instead of
    racing it to the same sequence numbers."""
    if database.is_postgres(connection):
        connection.execute(text("SELECT pg_advisory_xact_lock(:kind, hashtext(:case_id))"),
                           {"kind": database.CASE_LOCK, "case_id": case_id})
    else:
        # SQLite has one writer at a time: a write (even one that changes nothing) takes
        # the lock before this transaction reads anything.
        connection.execute(_TOUCH_HEAD, {"chain": case_id})


def _abandon(session: Session, ours: bool) -> None:
    """A batch is kept whole or not at all; a caller's own transaction is its to end."""
    if ours:
        session.rollback()


def _stored(session: Session, case_id: str, events: Sequence[LedgerEntryBase]
            ) -> dict[int, LedgerEntry]:
    """Those of `events` the ledger already holds (a retried batch), by sequence."""
    sequences = [e.sequence for e in events]
    # The common case, a new batch, answered from the unique index alone.
    if session.connection().execute(_ANY_STORED, {"case_id": case_id,
                                                  "sequences": sequences}).first() is None:
        return {}
    return {row.sequence: row for row in session.exec(
        select(LedgerEntry).where(LedgerEntry.case_id == case_id,
                                  col(LedgerEntry.sequence).in_(sequences)))}


def head(connection: Connection, case_id: str) -> tuple[int, str] | None:
    """(last sequence, last hash) of a case's chain, as its head row says."""
    row = connection.execute(_HEAD, {"case_id": case_id}).first()
    return (row[0], row[1]) if row is not None else None


def case_events(*, session: Session, case_id: str) -> list[LedgerEntry]:
    return list(session.exec(select(LedgerEntry).where(LedgerEntry.case_id == case_id)
                             .order_by(col(LedgerEntry.sequence), col(LedgerEntry.id))))


def case_ids(*, session: Session) -> list[str]:
    """Every case the ledger knows, from its events and from its heads."""
    from_events = session.exec(select(LedgerEntry.case_id).distinct())
    from_heads = session.exec(select(LedgerHead.case_id))
    return sorted(set(from_events) | set(from_heads))


def stream_events(source: Engine | Connection, *, case_id: str = "", batch: int = 20_000
                  ) -> Iterator[Event]:
    """Every event (or one case's), ordered by case and sequence, read in batches so a
    ledger of millions of events never sits in memory at once. Given a connection, it
    reads inside that connection's transaction (and sees what it has not committed)."""
    query = ("SELECT case_id, sequence, kind, actor_agency, at, task_id, attributes, "
             "trace_id, span_id, actor_officer FROM ledger_entry")
    params: dict[str, str] = {}
    if case_id:
        query += " WHERE case_id = :case_id"
        params["case_id"] = case_id
    query += " ORDER BY case_id, sequence"
    loads, read_time = json.loads, _read_time
    with _connected(source) as connection:
        for rows in _batches(connection, text(query), params, batch):
            for (case, sequence, kind, actor, at, task_id, attributes, trace_id, span_id,
                 officer) in rows:
                yield Event(case, sequence, kind, actor, read_time(at), task_id,
                            loads(attributes) if attributes != "{}" else {}, trace_id,
                            span_id, officer)


def _batches(connection: Connection, query: TextClause, params: dict[str, str], size: int
             ) -> Iterator[Sequence[Any]]:
    """The rows of `query`, `size` at a time, never all of them in memory at once."""
    if database.is_postgres(connection) and "case_id" not in params:
        # The whole ledger: a server-side cursor, the server handing the rows over a batch
        # at a time (one case's events are few: a plain query is cheaper).
        with connection.execute(query, params, execution_options={
                "stream_results": True, "yield_per": size}) as result:
            yield from result.partitions()
        return
    # Rows straight from the driver, a batch at a time (SQLAlchemy's work per row cost
    # more than SQLite's). Closed also when the reader stops early.
    with connection.execute(query, params) as result:
        cursor = result.cursor
        while rows := cursor.fetchmany(size):
            yield rows


@contextmanager
def _connected(source: Engine | Connection) -> Iterator[Connection]:
    if isinstance(source, Connection):
        yield source  # the caller's, and the caller closes it
    else:
        with source.connect() as connection:
            yield connection


def _read_time(value: datetime | str) -> datetime:
    if isinstance(value, str):
        if len(value) == len("2026-11-20 09:00:00.000000"):
            # Raw SQLite gives back the text SQLAlchemy wrote, UTC without an offset;
            # naming the offset in the text is far cheaper than replacing tzinfo after.
            return datetime.fromisoformat(value + "+00:00")
        return utc(datetime.fromisoformat(value))  # written some other way
    return utc(value)


@dataclass(frozen=True)
class Verdict:
    """The result of walking one case's chain."""

    case_id: str
    events: int
    # The sequence number of the first link that does not hold, and what is wrong there.
    broken_at: int | None = None
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(*, session: Session, case_id: str) -> Verdict:
    rows = case_events(session=session, case_id=case_id)
    head = session.get(LedgerHead, case_id)
    return verify_chain(case_id, rows, head)


def verify_chain(case_id: str, rows: Sequence[LedgerEntry], head: LedgerHead | None
                 ) -> Verdict:
    def broken(at: int, problem: str) -> Verdict:
        return Verdict(case_id, len(rows), at, problem)

    previous_hash, expected = GENESIS, 1
    for row in rows:
        if row.sequence < expected:
            return broken(row.sequence, f"two events claim sequence {row.sequence}: the "
                          "chain forks")
        if row.sequence > expected:
            return broken(expected, f"event {expected} is missing (the next one is "
                          f"{row.sequence})")
        if row.prev_hash != previous_hash:
            return broken(row.sequence, f"event {row.sequence} does not follow event "
                          f"{row.sequence - 1}: its previous-hash differs (events deleted, "
                          "reordered or a forked chain)")
        try:
            link = link_hash(row.prev_hash, row)
        except ValueError:  # attributes that are not JSON, say
            return broken(row.sequence, f"event {row.sequence} was altered: it no longer "
                          "reads as an event")
        if link != row.hash:
            return broken(row.sequence, f"event {row.sequence} was altered: its content no "
                          "longer matches its hash")
        previous_hash, expected = row.hash, expected + 1
    last = expected - 1
    if head is None:
        return broken(1, "the case has no head record") if rows else \
            broken(1, "the case has no events")
    if head.sequence != last:
        if head.sequence > last:
            return broken(last + 1, f"the chain ends at event {last} but the head says "
                          f"{head.sequence}: events were cut off the end")
        return broken(head.sequence + 1, f"events after {head.sequence}, where the head "
                      "says the chain ends, were added outside the ledger")
    if head.hash != previous_hash:
        return broken(last, f"event {last} differs from the hash the head recorded")
    return Verdict(case_id, len(rows))


def verify_all(*, session: Session) -> Iterator[Verdict]:
    for case_id in case_ids(session=session):
        yield verify(session=session, case_id=case_id)


def latest_case_of(*, session: Session, workflow_id: str) -> str | None:
    """The latest opening the ledger knows of a case id given without its run (the
    subject lock alone): the case whose first event is the newest."""
    openings = session.exec(
        select(LedgerEntry.case_id)
        .where(col(LedgerEntry.case_id).like(database.starting_with(f"{workflow_id}@"),
                                             escape=database.LIKE_ESCAPE))
        .where(LedgerEntry.sequence == 1)
        .order_by(col(LedgerEntry.at).desc()))
    # An older subject may hold an "@" itself: "A" must not find "A@B"'s openings.
    return next((case for case in openings if case.rpartition("@")[0] == workflow_id),
                None)


def case_numbers(*, session: Session, case_ids: Sequence[str]) -> dict[str, str]:
    """The case numbers of these cases, as their OPENED events recorded them (cases
    opened before numbers have none)."""
    numbers: dict[str, str] = {}
    wanted = sorted(set(case_ids))
    for start in range(0, len(wanted), 500):  # SQLite's bound on IN-list parameters
        rows = session.exec(select(LedgerEntry.case_id, LedgerEntry.attributes)
                            .where(col(LedgerEntry.case_id).in_(wanted[start:start + 500]))
                            .where(LedgerEntry.sequence == 1))
        for case_id, attributes in rows:
            number = json.loads(attributes).get(CASE_NUMBER, "")
            if number:
                numbers[case_id] = number
    return numbers
