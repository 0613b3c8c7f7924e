"""The case rules, driven directly: who may do what, and what each refusal says."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from records import event_schema as schema
from records.subjects import normalize_subject
from tests.workflows.builders import (
    T0,
    actor,
    mining_open,
    open_approval,
    open_food,
    open_mining,
    rid,
    stranger_guesses,
)
from workflows.catalog_loader import Catalog
from workflows.rules import limits
from workflows.rules.calendar import parse_duration
from workflows.rules.case import CaseEngine
from workflows.rules.commands import (
    AcceptHandoff,
    ArriveOnScene,
    AssignOwner,
    CloseCase,
    Command,
    CompleteTask,
    DecideExtension,
    DeclineHandoff,
    DeclineTask,
    DispatchTask,
    OfferHandoff,
    OpenCase,
    RequestExtension,
    ResolveEscalation,
    ReviewDecline,
    SignTask,
    WithdrawHandoff,
    WithdrawTask,
)
from workflows.rules.effects import Notice, TaskDelivery
from workflows.rules.model import (
    CaseStatus,
    EventKind,
    HandoffState,
    NoticeKind,
    ReviewOutcome,
    TaskState,
)
from workflows.rules.opening import (
    case_id,
    check_open_request,
    open_case,
    split_case_id,
    subject_digest,
    subject_lock,
)
from workflows.rules.refusals import Reason, Refusal, grpc_status_name
from workflows.rules.work import work_for

TOWNSHIP = "jinhaihu-township"
LATER = T0 + timedelta(minutes=5)


def refused(engine: CaseEngine, cmd: Command, reason: Reason, now: datetime = LATER) -> str:
    """Assert `cmd` is refused for `reason` by validation and execution, changing nothing.

    (Nothing beyond what the clocks due by `now` do anyway: those are settled first.)
    """
    engine.tick(now)
    earlier_effects = engine.take_effects()
    before = copy.deepcopy(engine.state)
    with pytest.raises(Refusal) as by_validation:
        engine.validate(cmd, now)
    with pytest.raises(Refusal) as by_execution:
        engine.execute(cmd, now)
    assert by_validation.value.reason is reason, by_validation.value.message
    assert by_execution.value.reason is reason
    assert engine.state == before
    assert engine.take_effects() == []
    for effect in earlier_effects:
        engine.add_effect(effect)
    return by_validation.value.message


def finish_task(engine: CaseEngine, task_id: str, now: datetime = LATER) -> None:
    task = engine.state.task(task_id)
    assert task is not None
    who = actor(task.assignee)
    engine.execute(SignTask(rid(), who, task_id), now)
    if task.needs_presence:
        engine.execute(ArriveOnScene(rid(), who, task_id), now)
    engine.execute(CompleteTask(rid(), who, task_id, findings="done", evidence_refs=("ev-1",)),
                   now)


def state_of(engine: CaseEngine, task_id: str) -> TaskState:
    task = engine.state.task(task_id)
    assert task is not None
    return task.state


# ----- opening ---------------------------------------------------------------------------


def test_mining_case_opens_led_by_the_township_with_four_whistle_tasks(catalog: Catalog
                                                                       ) -> None:
    engine = open_mining(catalog)
    state = engine.state
    assert state.owner == TOWNSHIP and state.status is CaseStatus.OPEN
    assert [t.assignee for t in state.tasks] == [
        "natural-resources", "public-security", "emergency-management", "ecology-environment"]
    assert all(t.on_scene_by is not None and t.on_scene_by.deadline == T0 + timedelta(minutes=30)
               for t in state.tasks)
    assert all(t.sign_by.deadline == T0 + timedelta(minutes=10) for t in state.tasks)
    deliveries = [e for e in engine.take_effects() if isinstance(e, TaskDelivery)]
    assert len(deliveries) == 4 and len({d.idempotency_key for d in deliveries}) == 4
    assert state.ownership[0].owner == TOWNSHIP and state.ownership[0].end is None


def test_first_receiver_may_lead_only_where_the_matrix_allows(catalog: Catalog) -> None:
    # Circulation allows 首接负责: the market regulator that received the report leads.
    assert open_food(catalog, stage="circulation", agency="market-regulation",
                     lead="market-regulation").state.owner == "market-regulation"
    # Processing does not: asking to lead is refused with the matrix's lead named.
    with pytest.raises(Refusal) as err:
        open_food(catalog, stage="processing", agency="market-regulation",
                  lead="market-regulation")
    assert err.value.reason is Reason.LEAD_NOT_ALLOWED
    assert "quality-inspection" in err.value.message


def test_open_refuses_bad_input(catalog: Catalog) -> None:
    rules = catalog.rules_for("food-supply-chain")
    assert rules is not None
    base = OpenCase(request_id=rid(), actor=actor("market-regulation"),
                    type="food-supply-chain", subject_key="B-1", title="t", stage="circulation")
    cases = [
        (OpenCase(**{**base.__dict__, "stage": "retail"}), Reason.UNKNOWN_STAGE),
        (OpenCase(**{**base.__dict__, "title": "x" * (limits.MAX_TITLE + 1)}),
         Reason.TEXT_TOO_LONG),
        (OpenCase(**{**base.__dict__, "subject_key": "  "}), Reason.MISSING_FIELD),
        (OpenCase(**{**base.__dict__, "actor": actor("ministry-of-magic")}),
         Reason.UNKNOWN_AGENCY),
        (OpenCase(**{**base.__dict__, "priority": 0}), Reason.OUT_OF_RANGE),
        (OpenCase(**{**base.__dict__, "type": "illegal-mining"}), Reason.UNKNOWN_CASE_TYPE),
    ]
    for cmd, reason in cases:
        with pytest.raises(Refusal) as err:
            open_case(cmd, rules, now=T0)
        assert err.value.reason is reason


# ----- each refusal ---------------------------------------------------------------------


def test_actor_not_the_owner_cannot_dispatch(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    message = refused(engine, DispatchTask(rid(), actor("public-security"),
                                           "mining-investigation", "natural-resources"),
                      Reason.NOT_OWNER)
    assert TOWNSHIP in message


def test_actor_not_the_assignee_cannot_sign(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    refused(engine, SignTask(rid(), actor("public-security"), "T1"), Reason.NOT_ASSIGNEE)


def test_unknown_agency_is_refused_as_actor_and_as_assignee(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    refused(engine, SignTask(rid(), actor("nobody"), "T1"), Reason.UNKNOWN_AGENCY)
    refused(engine, DispatchTask(rid(), actor(TOWNSHIP), "work-safety", "nobody"),
            Reason.UNKNOWN_AGENCY)


def test_a_case_does_not_exist_for_an_agency_taking_no_part(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    stranger = actor("health")
    message = refused(engine, CloseCase(rid(), stranger), Reason.CASE_NOT_FOUND)
    assert message == f"there is no case {engine.state.id}"
    # Even a guessed request id of another agency tells the stranger nothing.
    first = next(iter(engine.state.answers))
    refused(engine, CloseCase(first, stranger), Reason.CASE_NOT_FOUND)
    # Offered the case, the agency takes part and sees it.
    engine.execute(OfferHandoff(rid(), actor(TOWNSHIP), "health", "their field"), LATER)
    assert engine.state.visible_to("health", catalog.directory.coordinator)
    assert "health" in engine.state.participants()


def test_hand_off_to_itself_is_refused(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    refused(engine, OfferHandoff(rid(), actor(TOWNSHIP), TOWNSHIP, "no"),
            Reason.HANDOFF_TO_SELF)


def test_accept_by_an_agency_not_offered_is_refused(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    engine.execute(OfferHandoff(rid(), actor(TOWNSHIP), "natural-resources", "mining is theirs"),
                   T0)
    refused(engine, AcceptHandoff(rid(), actor("public-security"), "H1"), Reason.NOT_OFFERED)
    assert engine.state.owner == TOWNSHIP


def test_close_with_open_tasks_is_refused(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    message = refused(engine, CloseCase(rid(), actor(TOWNSHIP)), Reason.TASKS_OPEN)
    assert "not finished" in message and "T1" in message


def test_dispatch_to_an_agency_without_the_capability_is_refused(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    refused(engine, DispatchTask(rid(), actor(TOWNSHIP), "criminal-investigation", "health"),
            Reason.MISSING_CAPABILITY)


def test_deadline_in_the_past_is_refused(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    refused(engine, DispatchTask(rid(), actor(TOWNSHIP), "work-safety", "emergency-management",
                                 due_at=LATER - timedelta(minutes=1)), Reason.DEADLINE_IN_PAST)
    engine.execute(SignTask(rid(), actor("natural-resources"), "T1"), LATER)
    refused(engine, RequestExtension(rid(), actor("natural-resources"), "T1",
                                     new_due_at=T0, reason="more time"),
            Reason.DEADLINE_IN_PAST)


def test_over_long_text_is_refused_naming_the_field(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    message = refused(engine, DeclineTask(rid(), actor("natural-resources"), "T1",
                                          reason="r" * (limits.MAX_REASON + 1)),
                      Reason.TEXT_TOO_LONG)
    assert message.startswith("reason is 1001 characters")


def test_bad_duration_override_is_refused(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    refused(engine, DispatchTask(rid(), actor(TOWNSHIP), "work-safety", "emergency-management",
                                 due_within="soon"), Reason.BAD_DURATION)


@pytest.mark.parametrize("field", ["sign_within", "on_scene_within", "due_within"])
def test_a_clock_beyond_the_limit_is_refused_naming_the_field(catalog: Catalog, field: str
                                                               ) -> None:
    engine = open_mining(catalog)
    overrides: dict[str, Any] = {field: "999999wd"}
    dispatch = replace(DispatchTask(rid(), actor(TOWNSHIP), "work-safety",
                                    "emergency-management"), **overrides)
    message = refused(engine, dispatch, Reason.BAD_DURATION)
    assert message.startswith(f"{field}: ") and "at most 366d (or 250wd)" in message


@pytest.mark.parametrize(("overrides", "field"), [
    ({"sign_within": "2h"}, "on_scene_within"),        # on scene (30m) before signing
    ({"due_within": "20m"}, "due_within"),             # done before being on scene
    ({"on_scene_within": "1h", "due_within": "45m"}, "due_within"),
])
def test_a_dispatch_whose_clocks_run_out_of_order_is_refused(
        catalog: Catalog, overrides: dict[str, Any], field: str) -> None:
    engine = open_mining(catalog)
    dispatch = replace(DispatchTask(rid(), actor(TOWNSHIP), "work-safety",
                                    "emergency-management"), **overrides)
    message = refused(engine, dispatch, Reason.CLOCKS_OUT_OF_ORDER)
    assert message.startswith(f"{field}: ")
    assert "signed for, then on scene, then done" in message


def test_an_extension_is_asked_for_as_a_time_or_as_a_duration_from_now(
        catalog: Catalog) -> None:
    engine = open_mining(catalog)
    nr = actor("natural-resources")
    engine.execute(SignTask(rid(), nr, "T1"), LATER)
    refused(engine, RequestExtension(rid(), nr, "T1", None, "lab"), Reason.MISSING_FIELD)
    refused(engine, RequestExtension(rid(), nr, "T1", LATER + timedelta(days=9), "lab",
                                     new_due_within="5d"), Reason.OUT_OF_RANGE)
    refused(engine, RequestExtension(rid(), nr, "T1", None, "lab", new_due_within="5 days"),
            Reason.BAD_DURATION)
    engine.execute(RequestExtension(rid(), nr, "T1", None, "lab", new_due_within="5wd"),
                   LATER)
    task = engine.state.task("T1")
    assert task is not None and task.extension_requested_due == \
        catalog.calendar.add(LATER, parse_duration("5wd"))


def test_a_due_time_or_extension_beyond_a_year_is_refused(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    a_year_on = LATER + timedelta(days=366, seconds=1)
    message = refused(engine, DispatchTask(rid(), actor(TOWNSHIP), "work-safety",
                                           "emergency-management", due_at=a_year_on),
                      Reason.BAD_DURATION)
    assert message.startswith("due_at ") and "too far ahead" in message
    engine.execute(SignTask(rid(), actor("natural-resources"), "T1"), LATER)
    refused(engine, RequestExtension(rid(), actor("natural-resources"), "T1",
                                     new_due_at=a_year_on, reason="more time"),
            Reason.BAD_DURATION)
    engine.execute(DispatchTask(rid(), actor(TOWNSHIP), "work-safety", "emergency-management",
                                due_at=LATER + timedelta(days=366)), LATER)


def test_a_reused_request_id_with_a_different_request_is_refused(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    engine.execute(SignTask("same", actor("natural-resources"), "T1"), LATER)
    refused(engine, CompleteTask("same", actor("natural-resources"), "T1", findings="x"),
            Reason.REQUEST_ID_REUSED)


def test_request_ids_are_scoped_by_agency(catalog: Catalog) -> None:
    """API1 (object level): agency A taking B's next request id first neither blocks B
    nor hands B A's answer."""
    engine = open_mining(catalog)
    engine.execute(SignTask("shared-id", actor("natural-resources"), "T1"), LATER)
    answer = engine.execute(SignTask("shared-id", actor("public-security"), "T2"), LATER)
    assert answer.task_ids == ["T2"]
    assert engine.state.tasks[1].state is TaskState.SIGNED


def test_too_many_tasks_is_resource_exhausted(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    for _ in range(limits.MAX_TASKS_PER_CASE - len(engine.state.tasks)):
        engine.execute(DispatchTask(rid(), actor(TOWNSHIP), "work-safety",
                                    "emergency-management"), LATER)
    refused(engine, DispatchTask(rid(), actor(TOWNSHIP), "work-safety", "emergency-management"),
            Reason.TOO_MANY_TASKS)
    assert grpc_status_name(Reason.TOO_MANY_TASKS) == "RESOURCE_EXHAUSTED"


def test_every_reason_maps_to_a_canonical_grpc_status() -> None:
    canonical = {"INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND", "PERMISSION_DENIED",
                 "ALREADY_EXISTS", "RESOURCE_EXHAUSTED"}
    assert {grpc_status_name(r) for r in Reason} <= canonical
    assert grpc_status_name(Reason.NOT_OWNER) == "PERMISSION_DENIED"
    assert grpc_status_name(Reason.TASKS_OPEN) == "FAILED_PRECONDITION"
    assert grpc_status_name(Reason.CASE_ALREADY_OPEN) == "ALREADY_EXISTS"
    assert grpc_status_name(Reason.TEXT_TOO_LONG) == "INVALID_ARGUMENT"


# ----- flows ----------------------------------------------------------------------------


def test_repeated_request_returns_the_first_answer_and_changes_nothing(catalog: Catalog
                                                                       ) -> None:
    engine = open_mining(catalog)
    cmd = DispatchTask("dispatch-once", actor(TOWNSHIP), "work-safety", "emergency-management")
    first = engine.execute(cmd, LATER)
    engine.take_effects()
    before = copy.deepcopy(engine.state)
    assert engine.execute(cmd, LATER + timedelta(minutes=1)) == first
    assert engine.state == before and engine.take_effects() == []


def test_whole_mining_case_runs_to_close(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    for task in engine.state.tasks:
        finish_task(engine, task.id)
    engine.execute(CloseCase(rid(), actor(TOWNSHIP), summary="site sealed"), LATER)
    state = engine.state
    assert state.status is CaseStatus.CLOSED and state.closed_at == LATER
    assert state.ownership[-1].end == LATER
    assert state.events[-1].kind is EventKind.CLOSED
    assert engine.next_deadline() is None
    refused(engine, DispatchTask(rid(), actor(TOWNSHIP), "work-safety", "emergency-management"),
            Reason.CASE_CLOSED)


def test_arrival_needs_signing_first_and_presence_tasks_need_arrival(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    refused(engine, ArriveOnScene(rid(), actor("natural-resources"), "T1"),
            Reason.INVALID_TASK_STATE)
    engine.execute(SignTask(rid(), actor("natural-resources"), "T1"), LATER)
    refused(engine, CompleteTask(rid(), actor("natural-resources"), "T1", findings="x"),
            Reason.INVALID_TASK_STATE)


def test_upheld_decline_redispatches_elsewhere_and_counts_the_bounce(catalog: Catalog) -> None:
    engine = open_food(catalog)  # T2: trace-processing to quality-inspection
    engine.execute(DeclineTask(rid(), actor("quality-inspection"), "T2",
                               reason="the batch was sold unprocessed",
                               suggested_agency="market-regulation"), LATER)
    owner = actor("market-regulation")
    refused(engine, ReviewDecline(rid(), owner, "T2", ReviewOutcome.UPHELD,
                                  redispatch_to="quality-inspection"),
            Reason.INVALID_TASK_STATE)  # an upheld decline cannot go back to the decliner
    refused(engine, ReviewDecline(rid(), owner, "T2", ReviewOutcome.UPHELD,
                                  redispatch_to="health"), Reason.MISSING_CAPABILITY)
    refused(engine, ReviewDecline(rid(), actor("agriculture-rural"), "T2",
                                  ReviewOutcome.UPHELD), Reason.NOT_OWNER)
    result = engine.execute(ReviewDecline(rid(), owner, "T2", ReviewOutcome.UPHELD,
                                          note="we take it"), LATER)
    assert result.task_ids == ["T2", "T3"]
    old, new = engine.state.task("T2"), engine.state.task("T3")
    assert old is not None and new is not None
    assert old.is_terminal and old.review_outcome is ReviewOutcome.UPHELD
    assert (new.assignee, new.kind, new.redispatched_from, new.bounce_count) == (
        "market-regulation", "trace-processing", "T2", 1)


def test_a_decline_upheld_with_nobody_named_ends_the_work_without_a_new_task(
        catalog: Catalog) -> None:
    engine = open_mining(catalog)  # T2: criminal-investigation, which only police can do
    engine.execute(DeclineTask(rid(), actor("public-security"), "T2",
                               reason="no crime: a licensed quarry"), LATER)
    tasks = len(engine.state.tasks)
    result = engine.execute(ReviewDecline(rid(), actor(TOWNSHIP), "T2", ReviewOutcome.UPHELD,
                                          note="agreed"), LATER)
    declined = engine.state.task("T2")
    assert result.task_ids == ["T2"] and len(engine.state.tasks) == tasks
    assert declined is not None and declined.is_terminal
    assert declined.review_outcome is ReviewOutcome.UPHELD
    assert not [i for i in work_for(engine.state, TOWNSHIP, coordinator="command-center")
                if i.ref == "T2" and i.open]


def test_a_decline_may_suggest_only_an_agency_able_to_do_the_work(catalog: Catalog) -> None:
    engine = open_mining(catalog)  # T2: criminal investigation, for public security
    police = actor("public-security")
    message = refused(engine, DeclineTask(rid(), police, "T2", reason="not a crime",
                                          suggested_agency="urban-management"),
                      Reason.MISSING_CAPABILITY)
    assert message.startswith("suggested_agency: urban-management lacks the capability")
    refused(engine, DeclineTask(rid(), police, "T2", reason="x",
                                suggested_agency="public-security"),
            Reason.INVALID_TASK_STATE)
    engine.execute(DeclineTask(rid(), police, "T2", reason="not a crime"), LATER)
    message = refused(engine, ReviewDecline(rid(), actor(TOWNSHIP), "T2", ReviewOutcome.UPHELD,
                                            redispatch_to="urban-management"),
                      Reason.MISSING_CAPABILITY)
    assert message.startswith("redispatch_to: urban-management lacks the capability")


def test_overruled_decline_returns_the_task_with_a_fresh_clock(catalog: Catalog) -> None:
    engine = open_food(catalog)
    engine.take_effects()
    engine.execute(DeclineTask(rid(), actor("agriculture-rural"), "T1", reason="not ours"),
                   LATER)
    later = LATER + timedelta(minutes=30)
    engine.execute(ReviewDecline(rid(), actor("market-regulation"), "T1",
                                 ReviewOutcome.OVERRULED, note="it is yours"), later)
    task = engine.state.task("T1")
    assert task is not None
    assert task.state is TaskState.DISPATCHED and task.round == 2
    assert task.sign_by.deadline == later + timedelta(hours=1)
    deliveries = [e for e in engine.take_effects() if isinstance(e, TaskDelivery)]
    assert [d.idempotency_key.rsplit("/", 1)[-1] for d in deliveries] == ["round-2"]


def test_unreviewed_decline_escalates_to_the_coordinator(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    engine.execute(DeclineTask(rid(), actor("public-security"), "T2", reason="no crime yet"),
                   LATER)
    engine.take_effects()
    engine.tick(LATER + timedelta(minutes=59))
    assert not [e for e in engine.state.escalations if e.task_id == "T2"]
    engine.take_effects()
    engine.tick(LATER + timedelta(hours=1))
    assert [e.reason for e in engine.state.escalations if e.task_id == "T2"] == [
        "decline of task T2 by public-security left unreviewed"]
    notices = [e for e in engine.take_effects() if isinstance(e, Notice) and e.task_id == "T2"]
    assert [(n.kind, n.recipients[0]) for n in notices] == [
        (NoticeKind.ESCALATION, "command-center")]


def test_withdrawn_and_finished_tasks_let_the_case_close(catalog: Catalog) -> None:
    engine = open_food(catalog)
    finish_task(engine, "T1")
    engine.execute(WithdrawTask(rid(), actor("market-regulation"), "T2", reason="batch found"),
                   LATER)
    refused(engine, WithdrawTask(rid(), actor("market-regulation"), "T2"),
            Reason.INVALID_TASK_STATE)
    engine.execute(CloseCase(rid(), actor("command-center")), LATER)
    assert engine.state.status is CaseStatus.CLOSED


def test_extension_is_decided_by_the_owner(catalog: Catalog) -> None:
    engine = open_food(catalog)
    engine.execute(SignTask(rid(), actor("agriculture-rural"), "T1"), LATER)
    task = engine.state.task("T1")
    assert task is not None
    new_due = task.due_by.deadline + timedelta(days=2)
    refused(engine, DecideExtension(rid(), actor("market-regulation"), "T1", grant=True),
            Reason.NO_EXTENSION_PENDING)
    engine.execute(RequestExtension(rid(), actor("agriculture-rural"), "T1", new_due,
                                    reason="lab results"), LATER)
    refused(engine, DecideExtension(rid(), actor("agriculture-rural"), "T1", grant=True),
            Reason.NOT_OWNER)
    engine.execute(DecideExtension(rid(), actor("market-regulation"), "T1", grant=True), LATER)
    assert task.due_by.deadline == new_due and not task.extension_pending


def test_hand_off_decline_and_withdraw_leave_the_owner(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    engine.execute(OfferHandoff(rid(), actor(TOWNSHIP), "natural-resources", "r"), T0)
    refused(engine, OfferHandoff(rid(), actor(TOWNSHIP), "public-security", "r"),
            Reason.HANDOFF_ALREADY_PENDING)
    engine.execute(DeclineHandoff(rid(), actor("natural-resources"), "H1", "not ours"), LATER)
    assert engine.state.owner == TOWNSHIP
    engine.execute(OfferHandoff(rid(), actor(TOWNSHIP), "public-security", "crime"), LATER)
    refused(engine, WithdrawHandoff(rid(), actor("public-security"), "H2"), Reason.NOT_OWNER)
    engine.execute(WithdrawHandoff(rid(), actor(TOWNSHIP), "H2"), LATER)
    assert [h.state for h in engine.state.handoffs] == [HandoffState.DECLINED,
                                                        HandoffState.WITHDRAWN]
    assert engine.state.owner == TOWNSHIP and len(engine.state.ownership) == 1


def test_accepted_offer_moves_ownership_atomically(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    engine.execute(OfferHandoff(rid(), actor(TOWNSHIP), "natural-resources", "r"), T0)
    at = T0 + timedelta(hours=1)
    engine.execute(AcceptHandoff(rid(), actor("natural-resources", "wang.fang"), "H1"), at)
    first, second = engine.state.ownership
    assert (first.owner, first.end) == (TOWNSHIP, at)
    assert (second.owner, second.start, second.end) == ("natural-resources", at, None)
    # An offer past its expiry cannot be accepted even before its timer is processed.
    engine.execute(OfferHandoff(rid(), actor("natural-resources"), TOWNSHIP, "back"), at)
    refused(engine, AcceptHandoff(rid(), actor(TOWNSHIP), "H2"), Reason.HANDOFF_NOT_FOUND,
            now=at + timedelta(hours=2))


def test_coordinator_assignment_supersedes_a_pending_offer(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    engine.execute(OfferHandoff(rid(), actor(TOWNSHIP), "natural-resources", "r"), T0)
    refused(engine, AssignOwner(rid(), actor(TOWNSHIP), "public-security", "r"),
            Reason.NOT_COORDINATOR)
    refused(engine, AssignOwner(rid(), actor("command-center"), TOWNSHIP, "r"),
            Reason.ALREADY_OWNER)
    engine.execute(AssignOwner(rid(), actor("command-center"), "public-security", "explosives"),
                   LATER)
    assert engine.state.owner == "public-security"
    assert engine.state.handoffs[0].state is HandoffState.SUPERSEDED
    refused(engine, AcceptHandoff(rid(), actor("natural-resources"), "H1"),
            Reason.HANDOFF_NOT_FOUND)


def test_approval_silence_is_deemed_consent_then_issue_within_one_working_day(
        catalog: Catalog) -> None:
    engine = open_approval(catalog)  # Wednesday 09:00; reviews due in 5 working days
    task = engine.state.task("T1")
    assert task is not None and task.is_approval
    due = task.due_by.deadline
    assert due.date().isoformat() == "2026-11-25"  # Wed + 5wd = next Wednesday
    engine.tick(due - timedelta(seconds=1))
    assert state_of(engine, "T1") is TaskState.DISPATCHED
    engine.tick(due)
    assert state_of(engine, "T1") is TaskState.DEEMED_CONSENT
    assert task.due_by.deadline == due + timedelta(days=1)
    assert any(e.kind is EventKind.DEEMED_CONSENT for e in engine.state.events)
    # The department then issues the approval: the task is done.
    engine.execute(CompleteTask(rid(), actor(task.assignee), task.id, findings="approved"),
                   due + timedelta(hours=2))
    assert state_of(engine, "T1") is TaskState.DONE


# ----- fixes found in review ------------------------------------------------------------


def test_overrule_and_uphold_keep_the_dispatch_clock_overrides(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    engine.execute(DispatchTask(rid(), actor(TOWNSHIP), "work-safety", "emergency-management",
                                sign_within="10m", due_at=T0 + timedelta(hours=3)), T0)
    engine.execute(DeclineTask(rid(), actor("emergency-management"), "T5", "not ours"), LATER)
    engine.execute(ReviewDecline(rid(), actor(TOWNSHIP), "T5", ReviewOutcome.OVERRULED), LATER)
    task = engine.state.task("T5")
    assert task is not None
    assert task.sign_by.deadline == LATER + timedelta(minutes=10)
    assert task.due_by.deadline == LATER + timedelta(hours=3)


def test_time_without_a_zone_is_refused(catalog: Catalog) -> None:
    engine = open_mining(catalog)
    naive = datetime(2026, 11, 30, 12, 0)
    refused(engine, DispatchTask(rid(), actor(TOWNSHIP), "work-safety", "emergency-management",
                                 due_at=naive), Reason.BAD_TIMESTAMP)
    engine.execute(SignTask(rid(), actor("natural-resources"), "T1"), LATER)
    refused(engine, RequestExtension(rid(), actor("natural-resources"), "T1", naive, "lab"),
            Reason.BAD_TIMESTAMP)


def test_an_extension_cannot_be_granted_after_the_requested_date(catalog: Catalog) -> None:
    engine = open_food(catalog)
    engine.execute(SignTask(rid(), actor("agriculture-rural"), "T1"), LATER)
    task = engine.state.task("T1")
    assert task is not None
    wanted = task.due_by.deadline + timedelta(days=1)
    engine.execute(RequestExtension(rid(), actor("agriculture-rural"), "T1", wanted, "lab"),
                   LATER)
    # The owner sat on it until the requested date passed: granting it now is refused.
    refused(engine, DecideExtension(rid(), actor("market-regulation"), "T1", grant=True),
            Reason.DEADLINE_IN_PAST, now=wanted + timedelta(minutes=1))
    engine.execute(DecideExtension(rid(), actor("market-regulation"), "T1", grant=False),
                   wanted + timedelta(minutes=2))
    assert not task.extension_pending


def test_deemed_consent_ends_a_pending_extension_request(catalog: Catalog) -> None:
    engine = open_approval(catalog)
    task = engine.state.task("T1")
    assert task is not None
    due = task.due_by.deadline
    engine.execute(RequestExtension(rid(), actor("natural-resources"), "T1",
                                    due + timedelta(days=3), "survey"), LATER)
    engine.tick(due)
    assert state_of(engine, "T1") is TaskState.DEEMED_CONSENT and not task.extension_pending
    refused(engine, DecideExtension(rid(), actor("development-reform"), "T1", grant=True),
            Reason.NO_EXTENSION_PENDING, now=due + timedelta(minutes=1))
    assert task.due_by.deadline == catalog.calendar.add(due, parse_duration("1wd"))


def test_validation_judges_the_case_as_the_clocks_left_it(catalog: Catalog) -> None:
    engine = open_approval(catalog)
    task = engine.state.task("T2")
    assert task is not None
    after_due = task.due_by.deadline + timedelta(minutes=1)
    # The timer has not been processed yet, but the request comes after the deadline:
    # signing is refused (the task is deemed to consent), completing is allowed.
    with pytest.raises(Refusal) as err:
        engine.validate(SignTask(rid(), actor(task.assignee), "T2"), after_due)
    assert err.value.reason is Reason.INVALID_TASK_STATE
    assert state_of(engine, "T2") is TaskState.DISPATCHED  # validation changed nothing
    issue = CompleteTask(rid(), actor(task.assignee), "T2", findings="approval issued")
    engine.validate(issue, after_due)
    engine.execute(issue, after_due)
    assert state_of(engine, "T2") is TaskState.DONE


def test_promised_line_notifies_the_owner_and_legal_line_escalates(catalog: Catalog) -> None:
    engine = open_mining(catalog)  # promised 6 days, legal 18 days
    engine.take_effects()
    engine.tick(T0 + timedelta(days=6))
    notices = [e for e in engine.take_effects()
               if isinstance(e, Notice) and "promised line" in e.text]
    assert [(n.kind, n.recipients) for n in notices] == [(NoticeKind.SUPERVISION, (TOWNSHIP,))]
    assert not [e for e in engine.state.escalations if "legal line" in e.reason]
    engine.tick(T0 + timedelta(days=18))
    assert [e.reason for e in engine.state.escalations if "legal line" in e.reason] == [
        "the case passed its legal line"]
    missed = [e.detail for e in engine.state.events if e.kind is EventKind.LINE_MISSED]
    assert missed == ["the case passed its promised line", "the case passed its legal line"]


def test_a_closed_case_accepts_nothing_more(catalog: Catalog) -> None:
    engine = open_food(catalog)
    engine.tick(T0 + timedelta(hours=3))  # unsigned tasks: notices, then escalations
    assert engine.state.escalations
    for task_id in ("T1", "T2"):
        engine.execute(WithdrawTask(rid(), actor("market-regulation"), task_id), LATER)
    engine.execute(CloseCase(rid(), actor("market-regulation")), T0 + timedelta(hours=3))
    refused(engine, ResolveEscalation(rid(), actor("command-center"), "E1", "settled"),
            Reason.CASE_CLOSED, now=T0 + timedelta(hours=4))


def test_each_opening_of_a_subject_is_a_case_of_its_own(catalog: Catalog) -> None:
    rules = catalog.rules_for("illegal-mining")
    assert rules is not None
    first = open_case(mining_open(), rules, now=T0, run_id="run-1")
    again = open_case(mining_open(), rules, now=T0 + timedelta(days=30), run_id="run-2")
    lock = subject_lock("illegal-mining", "JHH-QUARRY-7")
    assert (first.state.id, again.state.id) == (f"{lock}@run-1", f"{lock}@run-2")
    keys_first = {e.idempotency_key for e in first.take_effects()}
    keys_again = {e.idempotency_key for e in again.take_effects()}
    assert len(keys_first) == 4 and not keys_first & keys_again
    batch_first, batch_again = first.take_events(), again.take_events()
    assert batch_first is not None and batch_again is not None
    assert batch_first.idempotency_key != batch_again.idempotency_key


def test_the_subject_is_in_no_case_id_but_its_spellings_share_one_lock() -> None:
    lock = subject_lock("food-supply-chain", " vendor@market-7 ")
    assert "VENDOR" not in lock.upper() and "@" not in lock
    assert lock == subject_lock("food-supply-chain", "VENDOR@MARKET-7")
    assert lock != subject_lock("food-supply-chain", "VENDOR@MARKET-8")
    assert lock != subject_lock("illegal-mining", "VENDOR@MARKET-7")
    assert split_case_id(case_id(lock, "0199-run")) == (lock, "0199-run")


def test_one_subject_however_it_is_typed_takes_one_lock() -> None:
    same = ["老王饭店", "老王 饭店", "老王\u3000饭店", " 老王  饭店 "]
    assert len({subject_lock("food-supply-chain", s) for s in same}) == 1
    plates = ["浙A·12345", "浙A-12345", "浙a12345", "浙Ａ１２３４５", "浙A 12345"]
    assert len({subject_lock("illegal-mining", s) for s in plates}) == 1
    assert subject_lock("illegal-mining", "浙A12345") != subject_lock("illegal-mining",
                                                                     "浙A12346")
    assert normalize_subject("ｊｈｈ  quarry") == "JHH QUARRY"  # lists keep its spaces


def test_a_subject_of_separators_alone_is_no_subject(catalog: Catalog) -> None:
    rules = catalog.rules_for("illegal-mining")
    assert rules is not None
    with pytest.raises(Refusal) as refused_:
        check_open_request(replace(mining_open(), subject_key=" -·- "), rules)
    assert refused_.value.reason is Reason.MISSING_FIELD
    assert refused_.value.details.get("field") == "subject_key"


def test_the_subject_lock_is_keyed_so_hashing_every_plate_does_not_find_it() -> None:
    plate = "浙A·12345"
    keyed = subject_lock("illegal-mining", plate, b"\x07" * 32)
    # What a stranger reading the engine's workflow ids could compute for each plate:
    guesses = {subject_lock("illegal-mining", plate), *stranger_guesses("illegal-mining", plate)}
    assert keyed not in guesses
    assert keyed == subject_lock("illegal-mining", f" {plate.lower()} ", b"\x07" * 32)
    assert keyed != subject_lock("illegal-mining", plate, b"\x08" * 32)
    assert subject_digest(keyed) == keyed.rpartition(":")[2] and len(subject_digest(keyed)) == 20




def test_a_case_keeps_the_id_it_runs_under_and_its_number(catalog: Catalog) -> None:
    rules = catalog.rules_for("illegal-mining")
    assert rules is not None
    engine = open_case(replace(mining_open(), number="20261130-0042"), rules, now=T0,
                       run_id="run-1", workflow_id="case:illegal-mining:JHH-QUARRY-7")
    assert engine.state.id == "case:illegal-mining:JHH-QUARRY-7@run-1"
    assert engine.state.number == engine.state.reference == "20261130-0042"
    opened = engine.state.events[0]
    assert opened.attributes[schema.CASE_NUMBER] == "20261130-0042"


@pytest.mark.parametrize("number", ["2026-11-30-1", "JHH-QUARRY-7", "20261130-42",
                                    "20261130-0042 "])
def test_a_malformed_case_number_is_refused(catalog: Catalog, number: str) -> None:
    rules = catalog.rules_for("illegal-mining")
    assert rules is not None
    with pytest.raises(Refusal) as refusal:
        check_open_request(replace(mining_open(), number=number), rules)
    assert refusal.value.reason is Reason.BAD_CASE_NUMBER


def test_a_case_refuses_text_past_what_one_case_holds(
        catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """API4: however each field is bounded, the case as a whole is too."""
    monkeypatch.setattr(limits, "MAX_CASE_TEXT_BYTES", 6000)
    engine = open_mining(catalog)
    who = actor("natural-resources")
    engine.execute(SignTask(rid(), who, "T1"), LATER)
    engine.execute(ArriveOnScene(rid(), who, "T1"), LATER)
    before = copy.deepcopy(engine.state)
    message = refused(engine, CompleteTask(rid(), who, "T1", findings="地" * 1500,
                                           evidence_refs=("x" * 512,) * 3),
                      Reason.CASE_TOO_LARGE)
    assert "evidence store" in message
    assert engine.state == before  # a refusal changes nothing
    assert grpc_status_name(Reason.CASE_TOO_LARGE) == "RESOURCE_EXHAUSTED"
    engine.execute(CompleteTask(rid(), who, "T1", findings="found", evidence_refs=("p",)),
                   LATER)


def test_a_case_refuses_requests_past_what_one_case_takes(
        catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = open_mining(catalog)
    monkeypatch.setattr(limits, "MAX_REQUESTS_PER_CASE", len(engine.state.answers) + 1)
    engine.execute(SignTask(rid(), actor("natural-resources"), "T1"), LATER)
    message = refused(engine, SignTask(rid(), actor("public-security"), "T2"),
                      Reason.CASE_TOO_LARGE)
    assert "close it" in message
    # Closing is what the refusal says to do: the bound lets it through to the rules
    # (which want the open tasks settled first).
    refused(engine, CloseCase(rid(), actor(TOWNSHIP)), Reason.TASKS_OPEN)
