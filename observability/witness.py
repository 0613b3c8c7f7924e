"""The ledger's outside witness: checkpoints of its heads, signed by the worker and kept
in a database of their own.

The hash chain shows that no event was changed *within* what the ledger holds; it cannot
show that the end of a chain was cut off and its head row fixed up to match, or that a
case was deleted with its head. So, every 30 seconds, the worker signs a checkpoint of
the heads it appended since the last one (case, last sequence, last hash) and the number
of cases, each checkpoint chained to the one before; on start it also witnesses whatever
the ledger holds that no checkpoint has seen. `read` walks the checkpoints (their
signatures and their chain) and `compare_case` holds a case's events to what was
witnessed, so a witnessed event that is gone or changed, or a witnessed case that is
gone, is named.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Column, DateTime, Engine, Text, func, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from observability.ledger import LedgerEntry, LedgerHead, utc
from records import database
from trust.pki import CertificateStore, Role
from trust.statements import StatementError, StatementType, verify

GENESIS = "0" * 64
# Enough for a busy minute; an initial sweep of a large ledger takes several.
MAX_HEADS_PER_CHECKPOINT = 2000
# A checkpoint is read from the witness's own database, never presented by a caller: it
# may be longer than a presented statement (trust.statements.MAX_STATEMENT_CHARS), as
# long as its heads make it (some 500 characters a head at most). The soak found every
# checkpoint of more than some forty cases refused as "not a signed statement".
MAX_CHECKPOINT_CHARS = MAX_HEADS_PER_CHECKPOINT * 600 + 4096
# How often the worker takes a checkpoint, and how long an event may go unwitnessed
# before the audit says the checkpoints that should cover it are missing (enough for a
# worker restart, whose first act is to witness what it finds).
CHECKPOINT_PERIOD = timedelta(seconds=30)
UNWITNESSED_GRACE = timedelta(minutes=2)
Sign = Callable[[dict[str, Any], datetime], str]
log = logging.getLogger(__name__)


class Checkpoint(SQLModel, table=True):
    __tablename__ = "ledger_checkpoint"

    sequence: int = Field(primary_key=True)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    prev_hash: str = Field(max_length=64)
    # The worker's signed statement (compact JWS) of the heads it witnessed.
    statement: str = Field(sa_column=Column(Text, nullable=False))
    hash: str = Field(max_length=64)


SCHEMA = database.Schema("witness", Path(__file__).parent / "migrations" / "witness",
                         "witness_0001")


def open_witness(url: str, *, password_file: Path | None = None) -> Engine:
    """The worker's checkpoints: it writes them, and it migrates the schema."""
    return database.open_database(url, SCHEMA, password_file=password_file)


def read_witness(url: str, *, password_file: Path | None = None,
                 wait_seconds: float = database.READER_WAIT_SECONDS) -> Engine:
    """The checkpoints for the audit (the gateway): the database refuses its writes."""
    return database.open_reader(url, SCHEMA, password_file=password_file,
                                wait_seconds=wait_seconds)


def _digest(statement: str) -> str:
    return hashlib.sha256(statement.encode()).hexdigest()


def _claims(statement: str) -> dict[str, Any]:
    """A checkpoint's claims, unverified (the worker reading its own)."""
    payload = statement.split(".")[1]
    loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(
        payload + "=" * (-len(payload) % 4)))
    return loaded


class Witness:
    """The worker's side: note each append, write signed checkpoints."""

    def __init__(self, witness: Engine, ledger: Engine, sign: Sign) -> None:
        self._witness = witness
        self._ledger = ledger
        self._sign = sign
        self._lock = threading.Lock()
        self._noted: dict[str, tuple[int, str]] = {}

    def note(self, case_id: str, sequence: int, hash_: str) -> None:
        """A case's head after an append this worker committed (thread-safe)."""
        with self._lock:
            known = self._noted.get(case_id)
            if known is None or sequence > known[0]:
                self._noted[case_id] = (sequence, hash_)

    def sweep(self) -> int:
        """Note every head of the ledger that no checkpoint has seen (on start: appends
        made by a worker that died before its checkpoint, or by another worker)."""
        seen = witnessed_heads(self._witness)
        with self._ledger.connect() as connection:
            heads = connection.execute(select(LedgerHead.case_id, LedgerHead.sequence,
                                              LedgerHead.hash)).all()
        unseen = [(c, s, h) for c, s, h in heads if seen.get(c, (0, ""))[0] < s]
        for case_id, sequence, hash_ in unseen:
            self.note(case_id, sequence, hash_)
        return len(unseen)

    def checkpoint(self, now: datetime | None = None) -> int:
        """Write checkpoints of what was noted; returns how many were written."""
        with self._lock:
            noted, self._noted = self._noted, {}
        items = sorted(noted.items())
        written = 0
        try:
            for start in range(0, len(items), MAX_HEADS_PER_CHECKPOINT):
                chunk = items[start:start + MAX_HEADS_PER_CHECKPOINT]
                self._write({case: list(head) for case, head in chunk}, now)
                written += 1
        except Exception:
            for case_id, (sequence, hash_) in items:  # nothing is lost: next time
                self.note(case_id, sequence, hash_)
            raise
        return written

    def _write(self, heads: dict[str, list[Any]], now: datetime | None) -> None:
        with self._ledger.connect() as connection:
            cases = connection.execute(select(func.count()).select_from(LedgerHead)).scalar()
        for _attempt in range(5):  # another worker may take the same sequence first
            with Session(self._witness) as session:
                last = session.exec(select(Checkpoint).order_by(
                    col(Checkpoint.sequence).desc()).limit(1)).first()
                sequence = last.sequence + 1 if last is not None else 1
                prev = last.hash if last is not None else GENESIS
                at = now or datetime.now(UTC)
                statement = self._sign({"seq": sequence, "prev": prev, "cases": cases,
                                        "heads": heads}, at)
                try:
                    session.connection().execute(insert(Checkpoint).values(
                        sequence=sequence, at=at, prev_hash=prev, statement=statement,
                        hash=_digest(statement)))
                    session.commit()
                    return
                except IntegrityError:
                    session.rollback()
        raise RuntimeError("could not take a checkpoint sequence: too many writers")


def witnessed_heads(witness: Engine) -> dict[str, tuple[int, str]]:
    """The latest head each case was witnessed at, as the checkpoints say (unverified:
    for the worker's own sweep)."""
    heads: dict[str, tuple[int, str]] = {}
    with Session(witness) as session:
        for row in session.exec(select(Checkpoint.statement)
                                .order_by(col(Checkpoint.sequence))):
            _fold(heads, _claims(row).get("heads", {}))
    return heads


def _fold(heads: dict[str, tuple[int, str]], seen: dict[str, Any]) -> None:
    for case_id, (sequence, hash_) in seen.items():
        if sequence > heads.get(case_id, (0, ""))[0]:
            heads[case_id] = (int(sequence), str(hash_))


@dataclass
class Reading:
    """What the verified checkpoints say."""

    checkpoints: int = 0
    last_at: datetime | None = None
    cases: int = 0
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read(witness: Engine, store: CertificateStore) -> Reading:
    """Walk every checkpoint: each signed by the worker, in sequence, chained to the one
    before. A checkpoint that fails is a problem, and what it says is not believed."""
    reading = Reading()
    previous, expected = GENESIS, 1
    with Session(witness) as session:
        rows = session.exec(select(Checkpoint).order_by(col(Checkpoint.sequence)))
        for row in rows:
            reading.checkpoints += 1
            where = f"checkpoint {row.sequence}"
            if row.sequence != expected:
                reading.problems.append(f"checkpoint {expected} is missing (the next one "
                                        f"is {row.sequence})")
            elif row.prev_hash != previous:
                reading.problems.append(f"{where} does not follow checkpoint "
                                        f"{row.sequence - 1}")
            if _digest(row.statement) != row.hash:
                reading.problems.append(f"{where} was altered")
            try:
                claims = verify(row.statement, store, StatementType.CHECKPOINT,
                                roles=(Role.WORKER,), of_record=True,
                                max_chars=MAX_CHECKPOINT_CHARS).claims
                if claims.get("seq") != row.sequence or claims.get("prev") != row.prev_hash:
                    raise StatementError("its signed sequence or link differs from its row")
            except StatementError as err:
                reading.problems.append(f"{where}: {err}")
            else:
                _fold(reading.heads, claims.get("heads", {}))
                reading.cases = max(reading.cases, int(claims.get("cases", 0)))
                reading.last_at = row.at
            previous, expected = row.hash, row.sequence + 1
    return reading


def compare_case(reading: Reading, case_id: str, rows: Sequence[LedgerEntry],
                 now: datetime) -> tuple[int, str] | None:
    """(sequence, problem) where the case departs from what was witnessed, or None: a
    witnessed event gone or changed, or an event long recorded that no checkpoint
    covers (the checkpoints that did were removed)."""
    sequence, hash_ = reading.heads.get(case_id, (0, GENESIS))
    if sequence:
        row = next((r for r in rows if r.sequence == sequence), None)
        if row is None:
            return sequence, (f"event {sequence}, which the worker witnessed, is gone: "
                              "events were cut off the end")
        if row.hash != hash_:
            return sequence, (f"event {sequence} is not the one the worker witnessed: the "
                              "chain up to it was rewritten")
    late = next((r for r in rows if r.sequence > sequence
                 and now - utc(r.recorded_at) > UNWITNESSED_GRACE), None)
    if late is not None:
        return late.sequence, (f"event {late.sequence}, recorded at "
                               f"{utc(late.recorded_at).isoformat(timespec='seconds')}, was "
                               "never witnessed: the worker's checkpoints of it are missing "
                               "(removed, or the worker could not take them)")
    return None


async def keep_witness(witness: Witness, stop: asyncio.Event,
                       period: timedelta = CHECKPOINT_PERIOD) -> None:
    """A checkpoint every `period` while anything was appended, until `stop` (the
    worker's loop; the caller takes a last one on the way out)."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=period.total_seconds())
        except TimeoutError:
            pass
        try:
            await asyncio.to_thread(witness.checkpoint)
        except Exception:  # the next period tries again with everything noted
            log.exception("the ledger checkpoint failed; retrying")


def missing_cases(reading: Reading, known: Iterable[str]) -> list[tuple[str, int]]:
    """Cases the worker witnessed that the ledger no longer has, with the last sequence
    witnessed."""
    present = set(known)
    return sorted((case_id, head[0]) for case_id, head in reading.heads.items()
                  if case_id not in present)
