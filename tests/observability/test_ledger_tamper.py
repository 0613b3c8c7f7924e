"""The hash chain gives away every way of rewriting a case's history in the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from observability import ledger

CASE = "case:illegal-mining:Q-1@run"
OTHER = "case:illegal-mining:Q-2@run"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
KINDS = ["OPENED", "TASK_DISPATCHED", "TASK_DELIVERED", "TASK_SIGNED", "TASK_DONE", "CLOSED"]


def event(sequence: int, case_id: str = CASE, detail: str = "") -> ledger.LedgerEntryBase:
    return ledger.LedgerEntryBase(
        case_id=case_id, sequence=sequence, kind=KINDS[min(sequence, len(KINDS)) - 1],
        actor_agency="pinggu-jinhaihu", at=T0 + timedelta(minutes=sequence),
        task_id="" if sequence in (1, 6) else "T1", detail=detail or f"event {sequence}",
        attributes=ledger.encode_attributes({"assignee": "natural-resources"}),
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736", span_id="00f067aa0ba902b7")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = ledger.open_ledger(database_url)
    with Session(engine) as session:
        for case_id in (CASE, OTHER):
            ledger.append(session=session, case_id=case_id,
                          events=[event(n, case_id) for n in range(1, 7)])
    yield engine
    engine.dispose()


def run_sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), {"case": CASE})


def verdict(engine: Engine, case_id: str = CASE) -> ledger.Verdict:
    with Session(engine) as session:
        return ledger.verify(session=session, case_id=case_id)


def test_an_untouched_ledger_verifies(engine: Engine) -> None:
    with Session(engine) as session:
        verdicts = list(ledger.verify_all(session=session))
    assert [(v.case_id, v.events, v.intact) for v in verdicts] == [(CASE, 6, True),
                                                                   (OTHER, 6, True)]


@pytest.mark.parametrize("column, value", [
    ("detail", "'nothing happened'"), ("actor_agency", "'public-security'"),
    ("at", "'2026-11-20 08:00:00.000000'"), ("attributes", "'{}'"), ("kind", "'TASK_DONE'"),
    ("trace_id", "''")])
def test_an_edited_event_is_named(engine: Engine, column: str, value: str) -> None:
    run_sql(engine, f"UPDATE ledger_entry SET {column} = {value} "
                    "WHERE case_id = :case AND sequence = 3")
    found = verdict(engine)
    assert (found.broken_at, found.intact) == (3, False)
    assert "altered" in found.problem
    assert verdict(engine, OTHER).intact  # another case's chain is its own


def test_attributes_that_no_longer_read_as_json_are_named(engine: Engine) -> None:
    run_sql(engine, "UPDATE ledger_entry SET attributes = '{not json' "
                    "WHERE case_id = :case AND sequence = 4")
    found = verdict(engine)
    assert found.broken_at == 4 and "altered" in found.problem


def test_the_same_instant_written_with_an_offset_still_reads(engine: Engine) -> None:
    # Not an alteration of what happened; the reader must cope rather than crash.
    run_sql(engine, "UPDATE ledger_entry SET at = '2026-11-20 17:03:00.000000+08:00' "
                    "WHERE case_id = :case AND sequence = 3")
    [third] = [e for e in ledger.stream_events(engine, case_id=CASE) if e.sequence == 3]
    assert third.at == T0 + timedelta(minutes=3)


def test_a_deleted_event_is_named(engine: Engine) -> None:
    run_sql(engine, "DELETE FROM ledger_entry WHERE case_id = :case AND sequence = 3")
    found = verdict(engine)
    assert found.broken_at == 3 and "missing" in found.problem


def test_a_deleted_event_with_the_rest_renumbered_is_caught(engine: Engine) -> None:
    run_sql(engine, "DELETE FROM ledger_entry WHERE case_id = :case AND sequence = 3",
            "UPDATE ledger_entry SET sequence = sequence - 1 "
            "WHERE case_id = :case AND sequence > 3")
    found = verdict(engine)
    assert found.broken_at == 3 and not found.intact


def test_reordered_events_are_caught(engine: Engine) -> None:
    run_sql(engine,
            "UPDATE ledger_entry SET sequence = 100 WHERE case_id = :case AND sequence = 3",
            "UPDATE ledger_entry SET sequence = 3 WHERE case_id = :case AND sequence = 4",
            "UPDATE ledger_entry SET sequence = 4 WHERE case_id = :case AND sequence = 100")
    found = verdict(engine)
    assert found.broken_at == 3 and not found.intact


def test_a_truncated_chain_is_caught(engine: Engine) -> None:
    run_sql(engine, "DELETE FROM ledger_entry WHERE case_id = :case AND sequence >= 5")
    found = verdict(engine)
    assert found.broken_at == 5 and "cut off" in found.problem


def test_a_truncated_chain_with_its_head_removed_is_caught(engine: Engine) -> None:
    run_sql(engine, "DELETE FROM ledger_entry WHERE case_id = :case AND sequence >= 5",
            "DELETE FROM ledger_head WHERE case_id = :case")
    assert not verdict(engine).intact


def test_a_fork_that_replaces_the_tail_is_caught(engine: Engine) -> None:
    # A rewritten event 6 with a valid link to event 5: the head still names the original.
    with Session(engine) as session:
        fifth = ledger.case_events(session=session, case_id=CASE)[4]
        forged = event(6, detail="closed without findings")
        link = ledger.link_hash(fifth.hash, forged)
    run_sql(engine, "DELETE FROM ledger_entry WHERE case_id = :case AND sequence = 6")
    with Session(engine) as session:
        session.add(ledger.LedgerEntry(**forged.model_dump(), prev_hash=fifth.hash, hash=link))
        session.commit()
    found = verdict(engine)
    assert found.broken_at == 6 and "head" in found.problem


def test_a_branch_grafted_onto_an_earlier_event_is_caught(engine: Engine) -> None:
    with Session(engine) as session:
        fourth = ledger.case_events(session=session, case_id=CASE)[3]
        graft = event(7, detail="a second ending")
        session.add(ledger.LedgerEntry(**graft.model_dump(), prev_hash=fourth.hash,
                                       hash=ledger.link_hash(fourth.hash, graft)))
        head = session.get(ledger.LedgerHead, CASE)
        assert head is not None
        head.sequence = 7
        session.add(head)
        session.commit()
    found = verdict(engine)
    assert found.broken_at == 7 and "does not follow" in found.problem


def test_two_events_claiming_one_sequence_are_a_fork(engine: Engine) -> None:
    # A copy restored without the unique constraint could hold both branches.
    with Session(engine) as session:
        rows = ledger.case_events(session=session, case_id=CASE)
        head = session.get(ledger.LedgerHead, CASE)
    twin = ledger.LedgerEntry(**event(4, detail="the other branch").model_dump(),
                              prev_hash=rows[2].hash, hash="0" * 64)
    found = ledger.verify_chain(CASE, [*rows[:4], twin, *rows[4:]], head)
    assert found.broken_at == 4 and "fork" in found.problem


def test_an_event_added_behind_the_ledgers_back_is_caught(engine: Engine) -> None:
    with Session(engine) as session:
        sixth = ledger.case_events(session=session, case_id=CASE)[5]
        extra = event(7, detail="a notice nobody sent")
        session.add(ledger.LedgerEntry(**extra.model_dump(), prev_hash=sixth.hash,
                                       hash=ledger.link_hash(sixth.hash, extra)))
        session.commit()
    found = verdict(engine)
    assert found.broken_at == 7 and "outside the ledger" in found.problem
