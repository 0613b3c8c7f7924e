"""What a case asks of each agency (`workflows.rules.work`): the items of the inbox, the
next step of each and its deadline, and whom the case waits on. Read from the case as it
stands, so every item follows the case."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.workflows.builders import T0, actor, open_food, open_mining, rid
from workflows.catalog_loader import Catalog
from workflows.rules.case import CaseEngine
from workflows.rules.commands import (
    AcceptHandoff,
    ArriveOnScene,
    Command,
    CompleteTask,
    DeclineTask,
    OfferHandoff,
    RequestExtension,
    ReviewDecline,
    SignTask,
    WithdrawTask,
)
from workflows.rules.model import ReviewOutcome, TaskState
from workflows.rules.refusals import Refusal
from workflows.rules.work import WorkAction, WorkItem, WorkKind, awaiting, work_for

TOWNSHIP, NR, POLICE = "jinhaihu-township", "natural-resources", "public-security"
COORDINATOR = "command-center"


def items(engine: CaseEngine, agency: str) -> list[WorkItem]:
    return work_for(engine.state, agency, coordinator=COORDINATOR)


def task_item(engine: CaseEngine, agency: str) -> WorkItem:
    (item,) = [i for i in items(engine, agency) if i.kind is WorkKind.TASK]
    return item


def test_a_task_asks_for_each_step_in_turn_against_its_own_clock(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    task = next(t for t in engine.state.tasks if t.assignee == NR)
    item = task_item(engine, NR)
    assert (item.action, item.deadline, item.open) == (
        WorkAction.SIGN, task.sign_by.deadline, True)
    engine.execute(SignTask(rid(), actor(NR), task.id), T0 + timedelta(minutes=5))
    item = task_item(engine, NR)
    assert task.on_scene_by is not None
    assert (item.action, item.deadline) == (WorkAction.ARRIVE, task.on_scene_by.deadline)
    engine.execute(ArriveOnScene(rid(), actor(NR), task.id), T0 + timedelta(minutes=20))
    item = task_item(engine, NR)
    assert (item.action, item.deadline) == (WorkAction.COMPLETE, task.due_by.deadline)
    engine.execute(CompleteTask(rid(), actor(NR), task.id, "seized two diggers"),
                   T0 + timedelta(hours=2))
    item = task_item(engine, NR)
    assert (item.action, item.open, item.task_state) == (WorkAction.NONE, False,
                                                         TaskState.DONE)


def test_a_missed_clock_shows_on_the_item(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    engine.tick(T0 + timedelta(minutes=11))  # the 10-minute sign-for clock passed
    item = task_item(engine, NR)
    assert (item.action, item.misses) == (WorkAction.SIGN, 1)


def test_a_withdrawn_task_is_finished_not_declined(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    task = next(t for t in engine.state.tasks if t.assignee == NR)
    engine.execute(WithdrawTask(rid(), actor(TOWNSHIP), task.id, "reported twice"),
                   T0 + timedelta(minutes=1))
    item = task_item(engine, NR)
    assert (item.open, item.task_state) == (False, TaskState.WITHDRAWN)
    assert "withdrawn" in item.next_step


def test_a_decline_waits_on_the_owner_and_says_so_to_both(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    task = next(t for t in engine.state.tasks if t.assignee == POLICE)
    engine.execute(DeclineTask(rid(), actor(POLICE), task.id, "no crime reported"),
                   T0 + timedelta(minutes=3))
    declined = task_item(engine, POLICE)
    assert not declined.open and TOWNSHIP in declined.next_step
    (review,) = [i for i in items(engine, TOWNSHIP) if i.kind is WorkKind.DECLINE_REVIEW]
    assert review.action is WorkAction.REVIEW_DECLINE and review.ref == task.id
    assert task.review_by is not None and review.deadline == task.review_by.deadline
    assert review.detail == "no crime reported"
    assert TOWNSHIP in awaiting(engine.state, coordinator=COORDINATOR)
    engine.execute(ReviewDecline(rid(), actor(TOWNSHIP), task.id, ReviewOutcome.OVERRULED),
                   T0 + timedelta(minutes=4))
    assert not [i for i in items(engine, TOWNSHIP) if i.kind is WorkKind.DECLINE_REVIEW]
    assert task_item(engine, POLICE).action is WorkAction.SIGN


def test_an_extension_request_waits_for_the_owners_decision(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    task = next(t for t in engine.state.tasks if t.assignee == NR)
    engine.execute(SignTask(rid(), actor(NR), task.id), T0 + timedelta(minutes=1))
    engine.execute(RequestExtension(rid(), actor(NR), task.id, None, "rain",
                                    new_due_within="5d"), T0 + timedelta(minutes=2))
    (decision,) = [i for i in items(engine, TOWNSHIP)
                   if i.kind is WorkKind.EXTENSION_DECISION]
    assert decision.action is WorkAction.DECIDE_EXTENSION
    assert decision.asked_due == task.extension_requested_due
    assert decision.deadline == task.due_by.deadline
    assert "waiting for the owner" in task_item(engine, NR).detail


def test_an_offer_is_the_receivers_and_the_owners_work_moves_with_the_case(
        catalog: Catalog) -> None:
    engine = open_food(catalog)
    for task in engine.state.tasks:
        engine.execute(WithdrawTask(rid(), actor("market-regulation"), task.id), T0)
    assert [i.action for i in items(engine, "market-regulation")] == [WorkAction.CLOSE]
    result = engine.execute(OfferHandoff(rid(), actor("market-regulation"), "health",
                                         "an outbreak"), T0 + timedelta(minutes=1))
    (offer,) = [i for i in items(engine, "health") if i.kind is WorkKind.HANDOFF_OFFER]
    assert (offer.ref, offer.action) == (result.handoff_id, WorkAction.ANSWER_HANDOFF)
    # While the offer is out, closing is not the owner's next step.
    assert all(i.kind is not WorkKind.CASE for i in items(engine, "market-regulation"))
    engine.execute(AcceptHandoff(rid(), actor("health"), result.handoff_id),
                   T0 + timedelta(minutes=2))
    assert [i.kind for i in items(engine, "health")] == [WorkKind.CASE]
    assert items(engine, "market-regulation") == []


def test_an_escalation_is_the_coordinators_until_settled(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    assert not items(engine, COORDINATOR)
    engine.tick(T0 + timedelta(hours=3))  # every clock missed twice
    escalations = [i for i in items(engine, COORDINATOR) if i.kind is WorkKind.ESCALATION]
    assert escalations and all(i.action is WorkAction.RESOLVE_ESCALATION for i in escalations)
    assert COORDINATOR in awaiting(engine.state, coordinator=COORDINATOR)


_STEPS = st.lists(st.tuples(
    st.sampled_from(["sign", "arrive", "complete", "decline", "withdraw", "extend",
                     "uphold", "overrule", "tick"]),
    st.sampled_from([NR, POLICE, "emergency-management", "ecology-environment"])),
    max_size=12)


@settings(deadline=None)
@given(steps=_STEPS)
def test_the_case_waits_on_exactly_the_agencies_with_open_work(
        catalog: Catalog, steps: list[tuple[str, str]]) -> None:
    engine = open_mining(catalog)
    now = T0
    for step, agency in steps:
        now += timedelta(minutes=7)
        task = next((t for t in reversed(engine.state.tasks) if t.assignee == agency), None)
        if task is None:
            continue
        commands: dict[str, Command] = {
            "sign": SignTask(rid(), actor(agency), task.id),
            "arrive": ArriveOnScene(rid(), actor(agency), task.id),
            "complete": CompleteTask(rid(), actor(agency), task.id, "done"),
            "decline": DeclineTask(rid(), actor(agency), task.id, "not ours"),
            "withdraw": WithdrawTask(rid(), actor(TOWNSHIP), task.id),
            "extend": RequestExtension(rid(), actor(agency), task.id, None, "rain",
                                       new_due_within="9d"),
            "uphold": ReviewDecline(rid(), actor(TOWNSHIP), task.id, ReviewOutcome.UPHELD,
                                    redispatch_to=NR if agency != NR else POLICE),
            "overrule": ReviewDecline(rid(), actor(TOWNSHIP), task.id,
                                      ReviewOutcome.OVERRULED)}
        if step == "tick":
            engine.tick(now)
            continue
        try:
            engine.execute(commands[step], now)
        except Refusal:
            pass
        state = engine.state
        everyone = {t.assignee for t in state.tasks} | {state.owner, COORDINATOR}
        with_work = {a for a in everyone if any(i.open for i in items(engine, a))}
        assert awaiting(state, coordinator=COORDINATOR) == sorted(with_work)
        for task in state.tasks:
            (mine,) = [i for i in items(engine, task.assignee)
                       if i.kind is WorkKind.TASK and i.ref == task.id]
            # Finished work never asks for anything; live work always does, by a deadline.
            assert mine.open == (not task.is_terminal and task.state is not
                                 TaskState.DECLINED)
            assert (mine.deadline is not None) == mine.open
