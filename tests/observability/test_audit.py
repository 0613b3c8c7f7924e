"""The audit gives away what the hash chain alone cannot: an attacker with the ledger's
database who rewrites events and then recomputes every hash and the head, who cuts a
chain short and fixes its head, or who deletes a case outright.

Each case here is written as the platform writes it: the gateway's seals on commands,
an agency's signed act, its receipts, the worker's checkpoints.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from observability import audit, gap_audit, gap_store, ledger, witness
from records.event_schema import EventKind as K
from records.event_schema import timestamp
from tests.observability.recording import record
from tests.trust.kit import Kit, new_kit
from trust.attestations import Act, content_digest, notice_receipt, sign_act, task_receipt
from trust.pki import Role
from trust.statements import StatementType
from workflows.rules.commands import CloseCase, SignTask
from workflows.rules.model import Actor
from workflows.seals import Sealer, Vouch, vouched

CASE = "case:illegal-mining:Q-1@run-1"
TOWNSHIP, NR, PS = "jinhaihu-township", "natural-resources", "public-security"
T0 = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _dated_from_the_test() -> None:
    """Each test's events are dated from its own start: a seal vouches only for events
    near the moment it was made, and a test can run minutes after this module loads."""
    global T0
    T0 = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    kit = new_kit(tmp_path / "pki")
    for party, role in (("gateway", Role.GATEWAY), ("worker", Role.WORKER),
                        (TOWNSHIP, Role.AGENCY), (NR, Role.AGENCY), (PS, Role.AGENCY)):
        kit.party(party, role)
    return kit


def _event(sequence: int, kind: str, agency: str, officer: str, proofs: list[str], *,
           task: str = "", attributes: dict[str, str] | None = None
           ) -> ledger.LedgerEntryBase:
    return ledger.LedgerEntryBase(
        case_id=CASE, sequence=sequence, kind=kind, actor_agency=agency,
        actor_officer=officer, at=T0 + timedelta(minutes=sequence), task_id=task,
        attributes=ledger.encode_attributes(attributes or {}),
        proofs=ledger.encode_proofs(proofs))


def signed_case(kit: Kit) -> list[ledger.LedgerEntryBase]:
    """Opened and a task dispatched (one sealed command), delivered with a receipt,
    signed for by an officer through its agency (a seal and the agency's act), a notice
    delivered with both recipients' receipts, closed."""
    sealer = Sealer(kit.signer("gateway", Role.GATEWAY))
    workflow_id, run = CASE.rsplit("@", 1)
    lead = Actor(TOWNSHIP, "duty-officer")
    opened = sealer.seal(operation="start", workflow_id=workflow_id, run_id="",
                         command=CloseCase("r0", lead))  # any command naming the actor
    receipt = task_receipt(kit.signer(NR, Role.AGENCY), case_id=CASE, task_id="T1",
                           round=1, delivery=f"{CASE}/T1/round-1", received_at=T0)
    sign = SignTask("r1", Actor(NR, "duty-officer"), "T1")
    act = sign_act(kit.signer(NR, Role.AGENCY), Act(
        CASE, "T1", "SIGN", "duty-officer", "r1", "s1", content_digest("SIGN")), at=T0)
    with vouched(Vouch(act=act)):
        signed = sealer.seal(operation="sign_task", workflow_id=workflow_id, run_id=run,
                             command=sign)
    notices = [notice_receipt(kit.signer(agency, Role.AGENCY), case_id=CASE,
                              notice=f"{CASE}/notice/1", kind="SUPERVISION", received_at=T0)
               for agency in (NR, TOWNSHIP)]
    closed = sealer.seal(operation="close_case", workflow_id=workflow_id, run_id=run,
                         command=CloseCase("r2", lead))
    return [
        _event(1, K.OPENED, TOWNSHIP, "duty-officer", [opened]),
        _event(2, K.TASK_DISPATCHED, TOWNSHIP, "duty-officer", [opened], task="T1",
               attributes={"assignee": NR, "round": "1",
                           "sign_by": timestamp(T0 + timedelta(minutes=30)),
                           "due_by": timestamp(T0 + timedelta(days=1))}),
        _event(3, K.TASK_DELIVERED, "seamless", "clock", [receipt], task="T1",
               attributes={"round": "1", "attempts": "1"}),
        _event(4, K.TASK_SIGNED, NR, "duty-officer", [signed, act], task="T1"),
        _event(5, K.NOTICE_DELIVERED, "seamless", "clock", notices,
               attributes={"notice": f"{CASE}/notice/1", "recipients": f"{NR},{TOWNSHIP}"}),
        _event(6, K.CLOSED, TOWNSHIP, "duty-officer", [closed]),
    ]


@pytest.fixture
def engines(tmp_path: Path, kit: Kit, database_url: str) -> Iterator[tuple[Engine, Engine]]:
    ledger_engine = ledger.open_ledger(database_url)
    witness_engine = witness.open_witness(f"sqlite:///{tmp_path / 'witness.db'}")
    record(ledger_engine, CASE, signed_case(kit))  # with its gaps, as the worker does
    yield ledger_engine, witness_engine
    ledger_engine.dispose()
    witness_engine.dispose()


def checkpoint(kit: Kit, ledger_engine: Engine, witness_engine: Engine) -> None:
    """What the worker does every few seconds."""
    signer = kit.signer("worker", Role.WORKER)
    worker = witness.Witness(witness_engine, ledger_engine, lambda claims, at: signer.sign(
        StatementType.CHECKPOINT, claims, at=at))
    worker.sweep()
    worker.checkpoint()


def verdict(kit: Kit, engines: tuple[Engine, Engine]) -> ledger.Verdict:
    ledger_engine, witness_engine = engines
    with Session(ledger_engine) as session:
        [found] = audit.audit(session, kit.store(), witness.read(witness_engine, kit.store()),
                              cases=[CASE], include_missing=False).verdicts
    return found


def rehash(engine: Engine) -> None:
    """What an attacker does after an edit: recompute every link and the head, so the
    chain itself holds again."""
    with Session(engine) as session:
        previous = ledger.GENESIS
        rows = ledger.case_events(session=session, case_id=CASE)
        for row in rows:
            row.prev_hash, row.hash = previous, ledger.link_hash(previous, row)
            previous = row.hash
            session.add(row)
        head = session.get(ledger.LedgerHead, CASE)
        assert head is not None
        head.sequence, head.hash = rows[-1].sequence, previous
        session.add(head)
        session.commit()


def edit(engine: Engine, sequence: int, column: str, value: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE ledger_entry SET {column} = :value "
                                "WHERE case_id = :case AND sequence = :sequence"),
                           {"value": value, "case": CASE, "sequence": sequence})
    rehash(engine)


def proofs_of(engine: Engine, sequence: int) -> list[str]:
    with Session(engine) as session:
        row = ledger.case_events(session=session, case_id=CASE)[sequence - 1]
        return row.proof_list()


def test_a_case_written_as_the_platform_writes_it_holds(
        kit: Kit, engines: tuple[Engine, Engine]) -> None:
    assert verdict(kit, engines).intact
    checkpoint(kit, *engines)
    assert verdict(kit, engines).intact
    assert witness.read(engines[1], kit.store()).heads[CASE][0] == 6


def test_an_edited_signature_is_named_even_with_the_chain_recomputed(
        kit: Kit, engines: tuple[Engine, Engine]) -> None:
    seal = proofs_of(engines[0], 6)[0]
    header, claims, signature = seal.split(".")
    flipped = "A" if signature[5] != "A" else "B"
    edit(engines[0], 6, "proofs",
         json.dumps([f"{header}.{claims}.{signature[:5]}{flipped}{signature[6:]}"]))
    found = verdict(kit, engines)
    assert (found.broken_at, found.intact) == (6, False)
    assert "signature of gateway gateway does not hold" in found.problem


def test_a_receipt_forged_by_another_agency_is_named(kit: Kit,
                                                      engines: tuple[Engine, Engine]) -> None:
    forged = task_receipt(kit.signer(PS, Role.AGENCY), case_id=CASE, task_id="T1", round=1,
                          delivery=f"{CASE}/T1/round-1", received_at=T0)
    edit(engines[0], 3, "proofs", json.dumps([forged]))
    found = verdict(kit, engines)
    assert found.broken_at == 3 and f"not by {NR}" in found.problem


def test_a_receipt_for_another_round_is_named(kit: Kit,
                                              engines: tuple[Engine, Engine]) -> None:
    other = task_receipt(kit.signer(NR, Role.AGENCY), case_id=CASE, task_id="T1", round=2,
                         delivery=f"{CASE}/T1/round-2", received_at=T0)
    edit(engines[0], 3, "proofs", json.dumps([other]))
    assert "for something else (round)" in verdict(kit, engines).problem


@pytest.mark.parametrize(("column", "value", "problem"), [
    ("actor_officer", "somebody-else", "names another actor"),
    ("actor_agency", PS, "names another actor"),
    ("proofs", "", "no signature vouches for its actor"),
])
def test_an_act_moved_to_another_actor_or_stripped_of_proof_is_named(
        kit: Kit, engines: tuple[Engine, Engine], column: str, value: str,
        problem: str) -> None:
    edit(engines[0], 4, column, value)
    found = verdict(kit, engines)
    assert found.broken_at == 4 and problem in found.problem


def test_an_act_swapped_for_another_signed_act_is_named(
        kit: Kit, engines: tuple[Engine, Engine]) -> None:
    seal, _ = proofs_of(engines[0], 4)
    other = sign_act(kit.signer(NR, Role.AGENCY), Act(
        CASE, "T1", "SIGN", "duty-officer", "r9", "s9", content_digest("SIGN")), at=T0)
    edit(engines[0], 4, "proofs", json.dumps([seal, other]))
    assert "not the one the gateway's seal names" in verdict(kit, engines).problem


def test_a_missing_notice_receipt_is_named(kit: Kit, engines: tuple[Engine, Engine]) -> None:
    edit(engines[0], 5, "proofs", json.dumps(proofs_of(engines[0], 5)[:1]))
    assert "lacks a recipient's receipt" in verdict(kit, engines).problem


def test_a_tail_cut_after_a_checkpoint_is_named_though_the_head_was_fixed(
        kit: Kit, engines: tuple[Engine, Engine]) -> None:
    checkpoint(kit, *engines)
    with engines[0].begin() as connection:
        connection.execute(text("DELETE FROM ledger_entry WHERE case_id = :case AND "
                                "sequence > 4"), {"case": CASE})
    rehash(engines[0])
    found = verdict(kit, engines)
    assert (found.broken_at, found.intact) == (6, False)
    assert "which the worker witnessed, is gone" in found.problem


def test_a_case_deleted_with_its_head_is_named(kit: Kit,
                                               engines: tuple[Engine, Engine]) -> None:
    ledger_engine, witness_engine = engines
    checkpoint(kit, ledger_engine, witness_engine)
    with ledger_engine.begin() as connection:
        for table in ("ledger_entry", "ledger_head"):
            connection.execute(text(f"DELETE FROM {table} WHERE case_id = :case"),
                               {"case": CASE})
    with Session(ledger_engine) as session:
        found = audit.audit(session, kit.store(), witness.read(witness_engine, kit.store()),
                            cases=[], include_missing=True).verdicts
    assert [(v.case_id, v.intact, v.broken_at) for v in found] == [(CASE, False, 6)]
    assert "gone from the ledger" in found[0].problem


def test_events_whose_checkpoints_were_removed_are_named_once_they_are_old(
        kit: Kit, engines: tuple[Engine, Engine]) -> None:
    ledger_engine, witness_engine = engines
    checkpoint(kit, ledger_engine, witness_engine)
    with witness_engine.begin() as connection:
        connection.execute(text("DELETE FROM ledger_checkpoint"))
    reading = witness.read(witness_engine, kit.store())
    with Session(ledger_engine) as session:
        fresh = audit.audit_case(session, CASE, kit.store(), reading)
        later = audit.audit_case(session, CASE, kit.store(), reading,
                                 now=datetime.now(UTC) + timedelta(minutes=2))
    assert fresh.intact  # just recorded: the next checkpoint would cover it
    assert (later.broken_at, later.intact) == (1, False)
    assert "never witnessed" in later.problem


def test_altered_removed_or_forged_checkpoints_are_named(
        kit: Kit, engines: tuple[Engine, Engine]) -> None:
    ledger_engine, witness_engine = engines
    for _ in range(3):
        checkpoint(kit, ledger_engine, witness_engine)
        with Session(ledger_engine) as session:  # a new head each time
            ledger.append(session=session, case_id=CASE, events=[_event(
                len(ledger.case_events(session=session, case_id=CASE)) + 1,
                K.LINE_MISSED, "seamless", "clock", [])])
    checkpoint(kit, ledger_engine, witness_engine)
    assert witness.read(witness_engine, kit.store()).problems == []
    agency = kit.signer(NR, Role.AGENCY)
    forged = agency.sign(StatementType.CHECKPOINT, {"seq": 3, "prev": "x", "heads": {}},
                         at=T0)
    with witness_engine.begin() as connection:
        connection.execute(text("DELETE FROM ledger_checkpoint WHERE sequence = 2"))
        connection.execute(text("UPDATE ledger_checkpoint SET statement = :s, hash = :h "
                                "WHERE sequence = 3"),
                           {"s": forged, "h": hashlib.sha256(forged.encode()).hexdigest()})
        connection.execute(text("UPDATE ledger_checkpoint SET statement = statement || 'x' "
                                "WHERE sequence = 4"))
    problems = witness.read(witness_engine, kit.store()).problems
    assert any("checkpoint 2 is missing" in p for p in problems)
    assert any(p.startswith("checkpoint 3:") and "may not make it" in p for p in problems)
    assert any("checkpoint 4 was altered" in p for p in problems)


@pytest.mark.parametrize(("sequence", "column", "value", "problem"), [
    # A person's act passed off as the platform's own, proofs and all gone.
    (4, "actor_agency", "seamless", "records no such event itself"),
    # The closing's seal, on an event of another kind.
    (6, "kind", K.TASK_SIGNED, "records no such event"),
    # The sign-for, moved to another task.
    (4, "task_id", "T2", "about another task"),
    # The event moved a day away from the command that caused it.
    (6, "at", (T0 + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S.%f"),
     "not for an event at this time"),
], ids=["platform-act", "other-kind", "other-task", "other-time"])  # T0 is collection time
def test_a_seal_vouches_only_for_what_its_command_recorded(
        kit: Kit, engines: tuple[Engine, Engine], sequence: int, column: str, value: str,
        problem: str) -> None:
    if column == "actor_agency":
        edit(engines[0], sequence, "proofs", "")
    edit(engines[0], sequence, column, value)
    found = verdict(kit, engines)
    assert found.broken_at == sequence and problem in found.problem


def test_every_command_of_the_case_is_a_known_cause() -> None:
    from observability.proofs import CAUSES
    from workflows.case_updates import UPDATE_FOR_COMMAND
    causes = set().union(*CAUSES.values())
    assert causes == {"start", *UPDATE_FOR_COMMAND.values()}


# ----- the gap store: what oversight queries, held to the ledger ---------------------

FORGED_GAP = ("INSERT INTO case_gap (case_id, kind, task_id, accountable, from_agency, "
              "to_agency, ref, start_us, end_us, deadline_us, start_sequence, "
              "end_sequence, end_kind, start_trace_id, end_trace_id) VALUES (:case, "
              "'OVERDUE', 'T1', :agency, :lead, :agency, '', 0, NULL, 0, 3, NULL, '', '', '')")


def in_gap_store(engine: Engine, statement: str, case: str = CASE) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement), {"case": case, "agency": NR, "other": PS,
                                             "lead": TOWNSHIP})


@pytest.mark.parametrize(("statement", "at", "problem"), [
    # The gap moved onto another agency: oversight would blame the wrong one.
    ("UPDATE case_gap SET accountable = :other WHERE case_id = :case", 2,
     f"DISPATCH_UNSIGNED gap of task T1 opened at event 2 (accountable: {NR}) was changed: "
     f"accountable '{PS}' where the ledger gives '{NR}'"),
    # The gap made to vanish, or made to look never closed.
    ("DELETE FROM case_gap WHERE case_id = :case", 2,
     "lacks a gap the ledger's events give: DISPATCH_UNSIGNED gap of task T1 opened at "
     "event 2"),
    ("UPDATE case_gap SET end_us = NULL, end_sequence = NULL, end_kind = '' "
     "WHERE case_id = :case", 2, "end_sequence None where the ledger gives 4"),
    # A gap the ledger never gave.
    (FORGED_GAP, 3, "holds a gap the ledger's events do not give: OVERDUE gap of task T1 "
                    f"opened at event 3 (accountable: {NR})"),
    # Who takes part decides who may see the case: an agency let in, or shut out.
    ("INSERT INTO case_participant (case_id, agency) VALUES (:case, :other)", 6,
     f"lists {PS} as taking part in the case (so it may see it)"),
    ("DELETE FROM case_participant WHERE case_id = :case AND agency = :agency", 6,
     f"does not list {NR} as taking part in the case"),
], ids=["accountable-moved", "gap-deleted", "gap-reopened", "gap-forged", "party-added",
        "party-removed"])
def test_an_edit_to_the_gap_store_is_named(
        kit: Kit, engines: tuple[Engine, Engine], statement: str, at: int,
        problem: str) -> None:
    checkpoint(kit, *engines)
    in_gap_store(engines[0], statement)
    found = verdict(kit, engines)
    assert (found.intact, found.broken_at) == (False, at)
    assert found.problem.startswith("the gap store") and problem in found.problem, \
        found.problem
    # The timeline's quick look, without the checkpoints, says so too.
    with Session(engines[0]) as session:
        assert not audit.audit_case(session, CASE, kit.store(), None).intact


@pytest.mark.parametrize(("statement", "problem"), [
    # A task round moved onto another agency: its rates would count the wrong one.
    ("UPDATE score_task_round SET assignee = :other WHERE case_id = :case AND position = 0",
     "the score store's score_task_round holds a row the ledger's events do not give"),
    # A round made to vanish (a missed clock that no longer counts against anyone).
    ("DELETE FROM score_task_round WHERE case_id = :case AND position = 0",
     "the score store's score_task_round lacks a row the ledger's events give"),
    # A rating the ledger never had.
    ("INSERT INTO score_rating (case_id, owner, case_type, at_us, solved, satisfaction, "
     "reopened) VALUES (:case, :lead, 'illegal-mining', 0, 1, 'satisfied', 0)",
     "the score store's score_rating holds a row the ledger's events do not give"),
], ids=["round-moved", "round-deleted", "rating-forged"])
def test_an_edit_to_the_score_store_is_named(
        kit: Kit, engines: tuple[Engine, Engine], statement: str, problem: str) -> None:
    assert verdict(kit, engines).intact
    in_gap_store(engines[0], statement)
    found = verdict(kit, engines)
    assert (found.intact, found.broken_at) == (False, 6)
    assert found.problem.startswith(problem), found.problem


def test_a_gap_store_that_lags_the_ledger_is_named(
        kit: Kit, engines: tuple[Engine, Engine]) -> None:
    ledger_engine = engines[0]
    # The store as it stood after the third event: the sign-for (event 4) not in it.
    with Session(ledger_engine) as session:
        earlier = list(ledger.stream_events(session.connection(), case_id=CASE))[:3]
    gap_store.refresh_case(ledger_engine, gap_audit.replay_as_stored(earlier, CASE))
    found = verdict(kit, engines)
    assert (found.intact, found.broken_at) == (False, 2)
    assert "end_sequence None where the ledger gives 4" in found.problem


def test_a_case_forged_into_the_gap_store_alone_is_named(
        kit: Kit, engines: tuple[Engine, Engine]) -> None:
    forged = "case:illegal-mining:NEVER@run-1"
    in_gap_store(engines[0], FORGED_GAP, forged)
    in_gap_store(engines[0], "INSERT INTO case_participant (case_id, agency) "
                             "VALUES (:case, :agency)", forged)
    ledger_engine, witness_engine = engines
    reading = witness.read(witness_engine, kit.store())
    with Session(ledger_engine) as session:
        everyone = audit.audit(session, kit.store(), reading, cases=[CASE],
                               include_missing=True).verdicts
        agency = audit.audit(session, kit.store(), reading, cases=[CASE],
                             include_missing=False).verdicts
    assert [(v.case_id, v.intact, v.broken_at) for v in everyone] == [
        (CASE, True, None), (forged, False, 1)]
    assert "the gap store holds a case the ledger does not have" in everyone[1].problem
    assert [v.case_id for v in agency] == [CASE]  # one agency's audit covers its own cases


def test_a_checkpoint_of_many_cases_is_believed(tmp_path: Path, kit: Kit) -> None:
    """The soak found a checkpoint of some fifty cases refused as "not a signed
    statement" (longer than a presented statement may be), and every event it covered
    then reported as never witnessed."""
    witness_engine = witness.open_witness(f"sqlite:///{tmp_path / 'many.db'}")
    ledger_engine = ledger.open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    signer = kit.signer("worker", Role.WORKER)
    worker = witness.Witness(witness_engine, ledger_engine, lambda claims, at: signer.sign(
        StatementType.CHECKPOINT, claims, at=at))
    cases = {f"case:citizen-hotline:{n:020x}@01a25299-7798-7985-8da7-{n:012x}": (14, f"{n:064x}")
             for n in range(300)}
    for case_id, head in cases.items():
        worker.note(case_id, *head)
    assert worker.checkpoint() == 1
    reading = witness.read(witness_engine, kit.store())
    assert reading.problems == []
    assert reading.heads == cases
    witness_engine.dispose()
    ledger_engine.dispose()
