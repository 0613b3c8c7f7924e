"""The case ledger takes each event once, in sequence, and refuses contradictions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from observability import ledger

CASE = "case:illegal-mining:Q-1@run"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def event(sequence: int, kind: str = "TASK_SIGNED", case_id: str = CASE
          ) -> ledger.LedgerEntryBase:
    return ledger.LedgerEntryBase(case_id=case_id, sequence=sequence, kind=kind,
                                  actor_agency="natural-resources",
                                  at=T0 + timedelta(minutes=sequence), task_id="T1")


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = ledger.open_ledger(database_url)
    with Session(engine) as session:
        yield session
    engine.dispose()


def recorded(session: Session) -> list[tuple[int, str]]:
    return [(e.sequence, e.kind) for e in ledger.case_events(session=session, case_id=CASE)]


def test_a_retried_batch_adds_nothing(session: Session) -> None:
    assert ledger.append(session=session, case_id=CASE, events=[event(1), event(2)]) == 2
    assert ledger.append(session=session, case_id=CASE, events=[event(1), event(2)]) == 0
    # A retry that overlaps what is there and brings one more adds just that one.
    assert ledger.append(session=session, case_id=CASE, events=[event(2), event(3)]) == 1
    assert recorded(session) == [(1, "TASK_SIGNED"), (2, "TASK_SIGNED"), (3, "TASK_SIGNED")]


def test_an_event_contradicting_the_record_is_refused(session: Session) -> None:
    ledger.append(session=session, case_id=CASE, events=[event(1)])
    with pytest.raises(ledger.LedgerConflict, match="differs"):
        ledger.append(session=session, case_id=CASE, events=[event(1, kind="TASK_DONE")])
    assert recorded(session) == [(1, "TASK_SIGNED")]


def test_a_gap_in_the_sequence_is_refused_and_nothing_of_the_batch_kept(session: Session
                                                                         ) -> None:
    with pytest.raises(ledger.LedgerConflict, match="without gaps"):
        ledger.append(session=session, case_id=CASE, events=[event(1), event(3)])
    assert recorded(session) == []


def test_a_batch_holding_another_case_is_refused(session: Session) -> None:
    with pytest.raises(ledger.LedgerConflict, match="another case"):
        ledger.append(session=session, case_id=CASE, events=[event(1, case_id="other")])


def test_a_ledger_from_before_the_hash_chain_is_refused_at_start(tmp_path: Path) -> None:
    import sqlite3
    older = tmp_path / "older.db"
    with sqlite3.connect(older) as connection:
        connection.execute("CREATE TABLE ledger_entry (id INTEGER PRIMARY KEY, case_id TEXT, "
                           "sequence INTEGER, kind TEXT)")
    with pytest.raises(RuntimeError, match="predates the hash chain"):
        ledger.open_ledger(f"sqlite:///{older}")


def test_two_workers_appending_one_case_at_once_record_each_event_once(
        database_url: str) -> None:
    """Two workers share the ledger (compose runs two): the same batches, retried by
    both at the same moment, end as one chain without a conflict."""
    engines = [ledger.open_ledger(database_url) for _ in range(2)]
    batches = [[event(n) for n in range(first, first + 5)] for first in range(1, 41, 5)]
    failures: list[BaseException] = []
    start = threading.Barrier(len(engines))

    def work(engine: Engine) -> None:
        start.wait()
        try:
            for batch in batches:
                with Session(engine) as session:
                    ledger.append(session=session, case_id=CASE, events=batch)
        except BaseException as err:  # noqa: BLE001 - asserted below
            failures.append(err)

    threads = [threading.Thread(target=work, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with Session(engines[0]) as session:
        assert [s for s, _ in recorded(session)] == list(range(1, 41))
        assert ledger.verify(session=session, case_id=CASE).intact
    for engine in engines:
        engine.dispose()


def test_times_come_back_in_utc_on_every_backend(session: Session) -> None:
    ledger.append(session=session, case_id=CASE, events=[event(1)])
    [stored] = ledger.case_events(session=session, case_id=CASE)
    assert ledger.utc(stored.at) == T0 + timedelta(minutes=1)
    [streamed] = ledger.stream_events(session.connection(), case_id=CASE)
    assert streamed.at == T0 + timedelta(minutes=1) and streamed.at.tzinfo is not None
