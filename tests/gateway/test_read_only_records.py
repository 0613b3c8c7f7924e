"""The gateway reads the ledger, its gap store and the worker's checkpoints, and the
databases themselves refuse its writes: whatever reaches the gateway cannot alter the
record it serves. It never migrates them either (the worker does), so it waits for them.

On both backends: SQLite (the file opened read-only, read while the worker commits) and
PostgreSQL (every transaction READ ONLY).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from gateway.__main__ import GatewaySettings, records
from observability import ledger, witness
from records import database
from records.database import NotMigrated

# Run by `make test`; `make test-fast` leaves these out to stay under a minute.

CASE = "case:illegal-mining:Q-1@run"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def events(first: int, last: int) -> list[ledger.LedgerEntryBase]:
    return [ledger.LedgerEntryBase(case_id=CASE, sequence=s, kind="LINE_MISSED",
                                   actor_agency="seamless", at=T0 + timedelta(minutes=s))
            for s in range(first, last + 1)]


def settings(tmp_path: Path, database_url: str) -> GatewaySettings:
    # The ledger and the checkpoints share the test's one database (each schema keeps its
    # own version table), so both backends are covered for both.
    return GatewaySettings(identity_dir=tmp_path, pki_dir=tmp_path, agency_addresses={},
                           ledger_database_url=database_url,
                           witness_database_url=database_url,
                           gateway_database_url=f"sqlite:///{tmp_path / 'gateway.db'}")


def appended(engine: Engine, batch: list[ledger.LedgerEntryBase]) -> None:
    with Session(engine) as session:
        ledger.append(session=session, case_id=CASE, events=batch)


def sequences(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return [e.sequence for e in ledger.case_events(session=session, case_id=CASE)]


WRITES = [
    "INSERT INTO ledger_head (case_id, sequence, hash) VALUES ('forged', 1, 'x')",
    "UPDATE ledger_entry SET detail = 'nothing found'",
    "DELETE FROM ledger_head",
    "DELETE FROM case_gap",
    "INSERT INTO case_participant (case_id, agency) VALUES ('" + CASE + "', 'stranger')",
    "DELETE FROM ledger_checkpoint",
    "CREATE TABLE planted (x INTEGER)",
    "DROP TABLE alembic_version_ledger",
]


@pytest.mark.parametrize("statement", WRITES, ids=lambda s: " ".join(s.split()[:3]))
def test_the_database_refuses_every_write_of_the_gateway(
        tmp_path: Path, database_url: str, statement: str) -> None:
    worker_ledger = ledger.open_ledger(database_url)
    worker_witness = witness.open_witness(database_url)
    appended(worker_ledger, events(1, 2))
    ledger_engine, witness_engine = records(settings(tmp_path, database_url))
    try:
        for engine in (ledger_engine, witness_engine):
            with pytest.raises(DBAPIError) as refused, engine.begin() as connection:
                connection.execute(text(statement))
            # SQLite: "attempt to write a readonly database"; PostgreSQL: "cannot execute
            # … in a read-only transaction".
            assert "readonly" in str(refused.value.orig).replace("-", "").lower()
        assert sequences(worker_ledger) == [1, 2]
        assert inspect(worker_ledger).has_table("alembic_version_ledger")
        assert not inspect(worker_ledger).has_table("planted")
    finally:
        for engine in (ledger_engine, witness_engine, worker_ledger, worker_witness):
            engine.dispose()


def test_the_gateway_reads_what_the_worker_commits_while_it_writes(
        tmp_path: Path, database_url: str) -> None:
    worker_ledger = ledger.open_ledger(database_url)
    witness.open_witness(database_url).dispose()
    ledger_engine, witness_engine = records(settings(tmp_path, database_url))
    try:
        assert sequences(ledger_engine) == []
        with ledger_engine.connect() as reading:  # a reader held open across the commits
            appended(worker_ledger, events(1, 2))
            assert sequences(ledger_engine) == [1, 2]
            appended(worker_ledger, events(3, 3))
            assert reading.execute(text("SELECT COUNT(*) FROM ledger_entry")).scalar() == 3
        # The worker gone (on SQLite its log and index files go with it): still read.
        worker_ledger.dispose()
        assert sequences(ledger_engine) == [1, 2, 3]
    finally:
        for engine in (ledger_engine, witness_engine, worker_ledger):
            engine.dispose()


def test_the_gateway_never_migrates_the_ledger_but_waits_for_the_worker(
        database_url: str) -> None:
    with pytest.raises(NotMigrated, match="its owner migrates it"):
        ledger.read_ledger(database_url, wait_seconds=0.1)
    owner = database.connect(database_url)
    try:
        assert database.recorded_revision(owner, ledger.SCHEMA) is None  # untouched
    finally:
        owner.dispose()
    # A fresh start: the gateway waits while the worker, starting beside it, migrates.
    opened: list[Engine] = []
    waiting = threading.Thread(target=lambda: opened.append(
        ledger.read_ledger(database_url, wait_seconds=60)))
    waiting.start()
    worker_ledger = ledger.open_ledger(database_url)
    appended(worker_ledger, events(1, 1))
    waiting.join(timeout=90)
    try:
        [reader] = opened
        assert sequences(reader) == [1]
        reader.dispose()
    finally:
        worker_ledger.dispose()


def test_an_in_memory_database_cannot_be_read_only() -> None:
    with pytest.raises(ValueError, match="database file"):
        database.connect("sqlite://", read_only=True)
