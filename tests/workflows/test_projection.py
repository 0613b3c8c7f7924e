"""The read model holds what the rules say, after every step of random command
sequences, on both databases; and `audit verify` names a row edited, deleted or forged.

Each batch of events goes to a real ledger database through the worker's own append
(`LedgerActivities`), with what the case's rules project beside it, as the workflow
sends it. After every step, every agency's work queue read back from the read model is
exactly `rules.work`'s items for it, the case list shows the case to exactly those who
take part, and the audit finds the read model true to the ledger.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, run_state_machine_as_test
from sqlalchemy import Engine, text

from observability import ledger, projection, projection_audit
from tests.workflows.builders import T0, open_food, open_mining
from tests.workflows.test_rules_stateful import CATALOG, OPENERS, CaseRulesMachine
from workflows.ledger_activities import LedgerActivities
from workflows.projection import project
from workflows.rules.case import CaseEngine
from workflows.rules.commands import DeclineTask, DispatchTask, OfferHandoff
from workflows.rules.model import Actor, CaseStatus
from workflows.rules.work import work_for
from workflows.to_proto import work_to_proto

# The workflow's clock is UTC, and the ledger keeps UTC (an SQLite column holds the time
# without its zone): the cases here run on the builders' moment, in UTC.
START = T0.astimezone(UTC)
TABLES = ("ledger_entry", "ledger_head", "case_gap", "case_participant", "case_view",
          "case_party", "work_item", "report_view")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = ledger.open_ledger(database_url)
    LedgerActivities(engine)  # makes the score store and the read model, as the worker
    yield engine
    engine.dispose()


def record(activities: LedgerActivities, case: CaseEngine) -> None:
    """Append what the case recorded since the last call, as the workflow sends it."""
    batch = case.take_events()
    if batch is not None:
        activities._append(dataclasses.replace(batch, projection=project(case.state,
                                                                         case.rules)))


def queue(connection: object, agency: str) -> list[bytes]:
    items, _ = projection.work_page(connection, agency, open_only=False,  # type: ignore[arg-type]
                                    size=200)
    return sorted(i.SerializeToString(deterministic=True) for i in items)


def assert_read_model_holds(db: Engine, case: CaseEngine) -> None:
    state = case.state
    coordinator = CATALOG.directory.coordinator
    involved = {*state.participants(), coordinator}
    stranger = next(a.id for a in CATALOG.directory.agencies if a.id not in involved)
    with db.connect() as connection:
        for agency in sorted(involved) + [stranger]:
            wanted = [] if state.status is CaseStatus.CLOSED else work_to_proto(
                state, work_for(state, agency, coordinator=coordinator))
            assert queue(connection, agency) == sorted(
                i.SerializeToString(deterministic=True) for i in wanted), agency
            listed, _ = projection.case_page(connection, viewer=agency,
                                             filters=projection.CaseFilter(), size=5)
            assert [c.case_id for c in listed] == (
                [state.id] if agency in state.participants() else [])
        (row,) = projection.cases_by_id(connection, [state.id]).values()
        assert (row.owner, row.status, row.number, row.through_sequence) == (
            state.owner, state.status.value, state.number, len(state.events))
        assert projection_audit.check_case(connection, state.id) is None


class ReadModelMachine(CaseRulesMachine):
    """The rules machine, each step's events appended with the read model beside them."""

    db: Engine

    @initialize(kind=st.sampled_from(sorted(OPENERS)))
    def open(self, kind: str) -> None:
        self.engine = OPENERS[kind](CATALOG, now=START)  # type: ignore[call-arg]
        self.now = START
        self.requests = 0

    @initialize()
    def start_recording(self) -> None:
        with self.db.begin() as connection:
            for table in TABLES:
                connection.execute(text(f"DELETE FROM {table}"))
        self.activities = LedgerActivities(self.db)

    @invariant()
    def the_read_model_shows_what_the_rules_say(self) -> None:
        if not hasattr(self, "activities") or not hasattr(self, "engine"):
            return
        record(self.activities, self.engine)
        assert_read_model_holds(self.db, self.engine)


def test_the_read_model_follows_random_command_sequences(engine: Engine) -> None:
    class Machine(ReadModelMachine):
        db = engine

    run_state_machine_as_test(Machine, settings=settings(
        max_examples=max(10, settings().max_examples // 2), stateful_step_count=25,
        deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                              HealthCheck.function_scoped_fixture]))


# ----- the audit against a read model tampered with -----------------------------------

NR, POLICE = "natural-resources", "public-security"


@pytest.fixture
def busy_case(engine: Engine) -> CaseEngine:
    """A mining case with work for several agencies: tasks, a decline to review and a
    hand-off offered, every batch recorded."""
    activities = LedgerActivities(engine)
    case = open_mining(CATALOG, now=START)
    owner = Actor(case.state.owner, "zhang.wei")
    now = START + timedelta(minutes=5)
    police_task = next(t for t in case.state.tasks if t.assignee == POLICE)
    case.execute(DeclineTask("d1", Actor(POLICE, "wang"), police_task.id,
                             reason="no crime reported yet"), now)
    case.execute(DispatchTask("d2", owner, "mining-investigation", NR), now)
    case.execute(OfferHandoff("h1", owner, "command-center", reason="too big"), now)
    record(activities, case)
    assert_read_model_holds(engine, case)
    return case


def audit(engine: Engine, case: CaseEngine) -> str:
    with engine.connect() as connection:
        found = projection_audit.check_case(connection, case.state.id)
    assert found is not None, "the audit found nothing wrong"
    return found[1]


def change(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as connection:
        assert connection.execute(text(statement), params).rowcount >= 1


def test_a_row_edited_is_named(engine: Engine, busy_case: CaseEngine) -> None:
    case_id = busy_case.state.id
    change(engine, "UPDATE case_view SET owner = :o WHERE case_id = :c", o=NR, c=case_id)
    assert "owner 'natural-resources' where the ledger gives" in audit(engine, busy_case)


def test_an_items_deadline_moved_is_named(engine: Engine, busy_case: CaseEngine) -> None:
    change(engine, "UPDATE work_item SET sort_us = sort_us + 3600000000 WHERE "
                   "case_id = :c AND agency = :a", c=busy_case.state.id, a=NR)
    assert "no longer matches its content" in audit(engine, busy_case)


def test_an_item_deleted_is_named(engine: Engine, busy_case: CaseEngine) -> None:
    change(engine, "DELETE FROM work_item WHERE case_id = :c AND item_key LIKE "
                   "'WORK_KIND_DECLINE_REVIEW:%'", c=busy_case.state.id)
    assert "lacks WORK_KIND_DECLINE_REVIEW" in audit(engine, busy_case)


def test_an_item_forged_for_another_agency_is_named(engine: Engine,
                                                   busy_case: CaseEngine) -> None:
    change(engine, "INSERT INTO work_item (agency, case_id, item_key, rank, sort_us, item) "
                   "SELECT 'health', case_id, item_key, rank, sort_us, item FROM work_item "
                   "WHERE case_id = :c AND agency = :a", c=busy_case.state.id, a=NR)
    assert "open work of health" in audit(engine, busy_case)


def test_a_stranger_listed_as_taking_part_is_named(engine: Engine,
                                                  busy_case: CaseEngine) -> None:
    change(engine, "INSERT INTO case_party (agency, case_id, opened_us, status) "
                   "SELECT 'health', case_id, opened_us, status FROM case_view "
                   "WHERE case_id = :c", c=busy_case.state.id)
    assert "lists health as taking part" in audit(engine, busy_case)


def test_a_case_row_deleted_is_named(engine: Engine, busy_case: CaseEngine) -> None:
    change(engine, "DELETE FROM case_view WHERE case_id = :c", c=busy_case.state.id)
    assert "lacks the case" in audit(engine, busy_case)


def test_a_case_forged_into_the_read_model_alone_is_named(engine: Engine,
                                                         busy_case: CaseEngine) -> None:
    forged = open_food(CATALOG, now=START)
    with engine.begin() as connection:
        projection.write(connection, forged.state.id, project(forged.state, forged.rules),
                         through=len(forged.state.events))
        assert projection_audit.cases_only_in_read_model(
            connection, [busy_case.state.id]) == [forged.state.id]


def test_a_late_batch_never_overwrites_a_newer_one(engine: Engine,
                                                  busy_case: CaseEngine) -> None:
    state = busy_case.state
    older = dataclasses.replace(project(state, busy_case.rules), owner="stale")
    with engine.begin() as connection:
        assert not projection.write(connection, state.id, older, through=2)
    with engine.connect() as connection:
        assert projection_audit.check_case(connection, state.id) is None
