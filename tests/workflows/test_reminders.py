"""临期提醒: a reminder to whoever a clock waits on, before the clock passes, once; and
the assignee told at once what the owner decided of its decline or its request for more
time. Neither for a case opened before them (its history replays as it ran)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from records.event_schema import EventKind
from tests.workflows.builders import T0, actor, mining_open, open_mining, rid
from workflows import versions
from workflows.catalog_loader import DEFAULT_CATALOG, Catalog, CatalogError, load_playbook
from workflows.rules.case import CaseEngine
from workflows.rules.commands import (
    DecideExtension,
    DeclineTask,
    RequestExtension,
    ReviewDecline,
    SignTask,
)
from workflows.rules.effects import Notice
from workflows.rules.model import NoticeKind, ReviewOutcome
from workflows.rules.opening import open_case

TOWNSHIP = "jinhaihu-township"
# The four departments the mining whistle calls (sign-for within 10 minutes).
WHISTLED = {"T1": "natural-resources", "T2": "public-security",
            "T3": "emergency-management", "T4": "ecology-environment"}


def reminders(engine: CaseEngine) -> list[Notice]:
    return [e for e in engine.take_effects()
            if isinstance(e, Notice) and e.kind is NoticeKind.REMINDER]


def test_each_department_is_reminded_at_three_quarters_of_its_sign_for_clock(
        catalog: Catalog) -> None:
    engine = open_mining(catalog)
    engine.take_effects()
    assert engine.next_deadline() == T0 + timedelta(minutes=7, seconds=30)
    engine.execute(SignTask(rid(), actor("public-security"), "T2"), T0 + timedelta(minutes=3))
    engine.take_effects()

    engine.tick(T0 + timedelta(minutes=7, seconds=29))
    assert reminders(engine) == []
    engine.tick(T0 + timedelta(minutes=7, seconds=30))
    sent = reminders(engine)
    # Each to the agency the clock waits on alone; not to the one that has signed.
    assert sorted((n.task_id, n.recipients) for n in sent) == [
        (task, (agency,)) for task, agency in WHISTLED.items() if task != "T2"]
    assert all("sign-for due soon (deadline " in n.text for n in sent)
    # Once: the next tick sends nothing more, and the timer moves to the next moment.
    engine.tick(T0 + timedelta(minutes=8))
    assert reminders(engine) == []
    assert engine.next_deadline() == T0 + timedelta(minutes=10)


def test_a_clock_already_passed_is_not_reminded_of(catalog: Catalog) -> None:
    # The worker was away past both moments: the miss is said (督办), not "due soon".
    engine = open_mining(catalog)
    engine.take_effects()
    engine.tick(T0 + timedelta(minutes=11))
    kinds = {e.kind for e in engine.take_effects() if isinstance(e, Notice)}
    assert NoticeKind.SUPERVISION in kinds and NoticeKind.REMINDER not in kinds


def test_a_new_deadline_is_reminded_of_again(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    nr = actor("natural-resources")
    engine.execute(SignTask(rid(), nr, "T1"), T0 + timedelta(minutes=1))
    due = engine.state.tasks[0].due_by
    span = timedelta(seconds=due.grace_seconds)
    first = due.deadline - span / 4
    engine.tick(first)
    engine.take_effects()
    engine.execute(RequestExtension(rid(), nr, "T1", due.deadline + timedelta(days=2),
                                    "the lab needs two more days"), first)
    engine.execute(DecideExtension(rid(), actor(TOWNSHIP), "T1", grant=True), first)
    engine.take_effects()
    extended = engine.state.tasks[0].due_by.deadline
    engine.tick(extended - span / 4)
    # (The other tasks' clocks and the case's promised line remind of themselves too.)
    assert [n.recipients for n in reminders(engine) if n.task_id == "T1"] == [
        ("natural-resources",)]


def test_a_case_opened_before_reminders_replays_without_them(catalog: Catalog) -> None:
    rules = catalog.rules_for("illegal-mining")
    assert rules is not None
    engine = open_case(mining_open(), rules, now=T0, version=versions.RELEASE)
    engine.take_effects()
    assert engine.next_deadline() == T0 + timedelta(minutes=10)
    engine.tick(T0 + timedelta(minutes=9))
    assert reminders(engine) == []


def test_a_playbook_may_send_no_reminders(catalog: Catalog) -> None:
    rules = catalog.rules_for("illegal-mining")
    assert rules is not None
    quiet = dataclasses.replace(rules, playbook=dataclasses.replace(rules.playbook,
                                                                    remind_at=None))
    engine = open_case(mining_open(), quiet, now=T0)
    engine.take_effects()
    assert engine.next_deadline() == T0 + timedelta(minutes=10)


def test_the_loader_refuses_a_share_that_is_not_one(catalog: Catalog, tmp_path: Path) -> None:
    source = DEFAULT_CATALOG / "playbooks" / "illegal-mining.yaml"
    bad = tmp_path / "illegal-mining.yaml"
    bad.write_text(source.read_text(encoding="utf-8") + "remind_at: 1.5\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="remind_at: 1.5 must be a share"):
        load_playbook(bad, catalog.directory, catalog.calendar)


def decisions(engine: CaseEngine) -> list[tuple[tuple[str, ...], str]]:
    return [(e.recipients, e.text) for e in engine.take_effects()
            if isinstance(e, Notice) and e.kind is NoticeKind.DECISION]


@pytest.mark.parametrize("grant, says", [
    (True, "jinhaihu-township granted task T1 until "),
    (False, "jinhaihu-township refused task T1 more time: the lab has the samples"),
])
def test_the_assignee_hears_what_became_of_its_request_for_time(
        catalog: Catalog, grant: bool, says: str) -> None:
    engine = open_mining(catalog)
    nr = actor("natural-resources")
    engine.execute(SignTask(rid(), nr, "T1"), T0 + timedelta(minutes=1))
    due = engine.state.tasks[0].due_by.deadline
    engine.execute(RequestExtension(rid(), nr, "T1", due + timedelta(days=2), "the lab"),
                   T0 + timedelta(minutes=2))
    engine.take_effects()
    engine.execute(DecideExtension(rid(), actor(TOWNSHIP), "T1", grant=grant,
                                   note="" if grant else "the lab has the samples"),
                   T0 + timedelta(minutes=3))
    ((recipients, text),) = decisions(engine)
    assert recipients == ("natural-resources",) and text.startswith(says)


@pytest.mark.parametrize("outcome, says", [
    (ReviewOutcome.UPHELD, "jinhaihu-township upheld the decline of task T2"),
    (ReviewOutcome.OVERRULED, "jinhaihu-township overruled the decline of task T2: sign "
                              "for it again"),
])
def test_the_decliner_hears_what_became_of_its_decline(
        catalog: Catalog, outcome: ReviewOutcome, says: str) -> None:
    engine = open_mining(catalog)
    engine.execute(DeclineTask(rid(), actor("public-security"), "T2", "no crime reported"),
                   T0 + timedelta(minutes=1))
    engine.take_effects()
    engine.execute(ReviewDecline(rid(), actor(TOWNSHIP), "T2", outcome),
                   T0 + timedelta(minutes=2))
    assert decisions(engine) == [(("public-security",), says)]


def test_a_case_opened_before_decision_notices_replays_without_them(catalog: Catalog) -> None:
    rules = catalog.rules_for("illegal-mining")
    assert rules is not None
    engine = open_case(mining_open(), rules, now=T0, version=versions.RELEASE)
    engine.execute(DeclineTask(rid(), actor("public-security"), "T2", "no crime reported"),
                   T0 + timedelta(minutes=1))
    engine.execute(ReviewDecline(rid(), actor(TOWNSHIP), "T2", ReviewOutcome.OVERRULED),
                   T0 + timedelta(minutes=2))
    assert decisions(engine) == []


def test_a_timer_settles_what_was_due_by_its_own_moment_whenever_it_is_run(
        catalog: Catalog) -> None:
    """Case version 3: a fired timer settles what was due by the moment it was armed for
    and no more, however late the worker runs it (a worker rebuilding the run after a
    crash may run it with an earlier or a later clock); the stamp only dates the events."""
    engine = open_mining(catalog)
    engine.take_effects()
    reminder_at = T0 + timedelta(minutes=7, seconds=30)
    assert engine.next_deadline() == reminder_at
    late = T0 + timedelta(minutes=20)  # past the sign-for deadline (10 min) as well
    engine.tick(late, due_by=reminder_at)
    assert reminders(engine)  # every department's "due soon", before its miss
    assert not [e for e in engine.state.events if e.kind is EventKind.NOTICE]
    assert engine.next_deadline() == T0 + timedelta(minutes=10)  # the miss, not yet fired
    engine.tick(late, due_by=T0 + timedelta(minutes=10))
    misses = [e for e in engine.state.events if e.kind is EventKind.NOTICE]
    assert misses and all(e.at == late for e in misses)
