"""Task operations: dispatch, sign, arrive, complete, decline and review, extension, withdraw."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

from records import event_schema as schema
from workflows import versions
from workflows.rules import limits
from workflows.rules.calendar import LIMITS_HELP, MAX_CALENDAR
from workflows.rules.catalog import TaskKind
from workflows.rules.commands import (
    ArriveOnScene,
    CompleteTask,
    DecideExtension,
    DeclineTask,
    DispatchTask,
    RequestExtension,
    ReviewDecline,
    SignTask,
    WithdrawTask,
)
from workflows.rules.effects import TaskDelivery, TaskWithdrawal
from workflows.rules.model import (
    Actor,
    Clock,
    ClockOverrides,
    CommandResult,
    EventKind,
    NoticeKind,
    ReviewOutcome,
    Task,
    TaskState,
)
from workflows.rules.phrases import Phrase
from workflows.rules.refusals import Reason, Refusal
from workflows.rules.registry import operation

if TYPE_CHECKING:
    from workflows.rules.case import CaseEngine

_ACTIVE = (TaskState.DISPATCHED, TaskState.SIGNED, TaskState.ON_SCENE)
PLAYBOOK_CLOCKS = ClockOverrides()  # no overrides: the playbook's clocks


def check_new_task(engine: CaseEngine, kind_id: str, assignee: str, field: str) -> TaskKind:
    """The checks every new task passes, however it is created."""
    kind = engine.rules.playbook.task_kind(kind_id)
    if kind is None:
        known = ", ".join(k.id for k in engine.rules.playbook.task_kinds)
        raise Refusal(Reason.UNKNOWN_TASK_KIND,
                      f"kind: {kind_id!r} is not a task kind of this case type ({known})",
                      field="kind")
    engine.check_agency(assignee, field)
    engine.check_capability(assignee, kind.capability, field)
    if len(engine.state.tasks) >= limits.MAX_TASKS_PER_CASE:
        raise Refusal(Reason.TOO_MANY_TASKS,
                      f"a case holds at most {limits.MAX_TASKS_PER_CASE} tasks")
    return kind


def check_timestamp(field: str, value: datetime) -> None:
    """A time without a zone is ambiguous across the district and the servers."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise Refusal(Reason.BAD_TIMESTAMP,
                      f"{field} has no time zone; give it with an offset, e.g. +08:00",
                      field=field)


def check_within_limit(field: str, value: datetime, now: datetime) -> None:
    """A deadline given as a time is held to the same limit as one given as a duration."""
    if value - now > MAX_CALENDAR:
        raise Refusal(Reason.BAD_DURATION,
                      f"{field} {value.isoformat()} is too far ahead: a clock runs "
                      f"{LIMITS_HELP}", field=field)


def dispatch_overrides(cmd: DispatchTask, now: datetime) -> ClockOverrides:
    """The dispatch's clock overrides, an absolute due-by turned into its duration."""
    due_within = cmd.due_within
    if cmd.due_at is not None:
        check_timestamp("due_at", cmd.due_at)
        if cmd.due_at <= now:
            raise Refusal(Reason.DEADLINE_IN_PAST,
                          f"due_at {cmd.due_at.isoformat()} is not in the future",
                          field="due_at")
        check_within_limit("due_at", cmd.due_at, now)
        # Rounded up so the due-by is never earlier than asked.
        due_within = f"{math.ceil((cmd.due_at - now).total_seconds())}s"
    return ClockOverrides(sign_within=cmd.sign_within, on_scene_within=cmd.on_scene_within,
                          due_within=due_within)


def clock_order_problem(sign_by: datetime, on_scene_by: datetime | None,
                        due_by: datetime) -> tuple[str, str] | None:
    """(field, problem) when a task's clocks are out of order: it is signed for, then
    on scene, then done, so no clock may fall before the one it follows."""
    if on_scene_by is not None and on_scene_by < sign_by:
        return "on_scene_within", "the on-scene deadline falls before the sign-for deadline"
    if due_by < (on_scene_by or sign_by):
        return "due_within", ("the due-by falls before the " +
                              ("on-scene" if on_scene_by is not None else "sign-for") +
                              " deadline")
    return None


def task_clocks(engine: CaseEngine, kind: TaskKind, now: datetime,
                overrides: ClockOverrides = PLAYBOOK_CLOCKS
                ) -> tuple[Clock, Clock | None, Clock]:
    """Sign-by, on-scene-by (when presence is needed) and due-by clocks from `now`, in
    that order (a dispatch whose clocks are not is refused)."""

    def clock(text: str, field: str) -> Clock:
        deadline = engine.deadline_after(now, text, field)
        return Clock(deadline, (deadline - now).total_seconds())

    sign_by = clock(overrides.sign_within or kind.sign_within, "sign_within")
    on_scene_by = None
    if kind.needs_presence:
        on_scene_by = clock(overrides.on_scene_within or kind.on_scene_within
                            or kind.sign_within, "on_scene_within")
    due_by = clock(overrides.due_within or kind.due_within, "due_within")
    problem = clock_order_problem(sign_by.deadline,
                                  on_scene_by.deadline if on_scene_by else None,
                                  due_by.deadline)
    if problem is not None:
        field, text = problem
        raise Refusal(Reason.CLOCKS_OUT_OF_ORDER,
                      f"{field}: {text}; a task is signed for, then on scene, then done",
                      field=field)
    return sign_by, on_scene_by, due_by


def create_task(engine: CaseEngine, kind: TaskKind, assignee: str, actor: Actor, now: datetime,
                *, overrides: ClockOverrides = PLAYBOOK_CLOCKS, title: str = "",
                instructions: str = "", redispatched_from: str = "",
                bounce_count: int = 0) -> Task:
    """Create and deliver a task. Its checks (`check_new_task`, `task_clocks`) have passed."""
    sign_by, on_scene_by, due_by = task_clocks(engine, kind, now, overrides)
    task = Task(
        id=f"T{len(engine.state.tasks) + 1}",
        kind=kind.id,
        title=title or kind.title,
        assignee=assignee,
        state=TaskState.DISPATCHED,
        dispatched_at=now,
        sign_by=sign_by,
        due_by=due_by,
        on_scene_by=on_scene_by,
        needs_presence=kind.needs_presence,
        is_approval=kind.is_approval,
        instructions=instructions,
        redispatched_from=redispatched_from,
        bounce_count=bounce_count,
        overrides=overrides,
    )
    engine.state.tasks.append(task)
    engine.record(EventKind.TASK_DISPATCHED, actor, now, task_id=task.id,
                  phrase=Phrase("dispatched", kind=kind.id, assignee=assignee),
                  attributes={schema.TASK_KIND: kind.id, **clock_attributes(task),
                              **({schema.REDISPATCHED_FROM: redispatched_from}
                                 if redispatched_from else {})})
    deliver(engine, task)
    return task


def clock_attributes(task: Task) -> dict[str, str]:
    """The assignee and running clocks of a task (sent, or sent back), for the ledger."""
    clocks = {schema.ASSIGNEE: task.assignee, schema.ROUND: str(task.round),
              schema.SIGN_BY: schema.timestamp(task.sign_by.deadline),
              schema.DUE_BY: schema.timestamp(task.due_by.deadline)}
    if task.on_scene_by is not None:
        clocks[schema.ON_SCENE_BY] = schema.timestamp(task.on_scene_by.deadline)
    return clocks


def deliver(engine: CaseEngine, task: Task) -> None:
    state = engine.state
    engine.add_effect(TaskDelivery(
        idempotency_key=f"{state.id}/{task.id}/round-{task.round}",
        case_id=state.id,
        case_number=state.number,
        case_type=state.type,
        case_title=state.title,
        owner=state.owner,
        task_id=task.id,
        kind=task.kind,
        title=task.title,
        assignee=task.assignee,
        instructions=task.instructions,
        sign_by=task.sign_by.deadline,
        due_by=task.due_by.deadline,
        on_scene_by=task.on_scene_by.deadline if task.on_scene_by else None,
        round=task.round,
    ))


def _assigned_task(engine: CaseEngine, task_id: str, actor: Actor) -> Task:
    engine.check_open()
    task = engine.find_task(task_id)
    if task.assignee != actor.agency:
        raise Refusal(Reason.NOT_ASSIGNEE,
                      f"task {task_id} is assigned to {task.assignee}, not {actor.agency}")
    return task


def _require_state(task: Task, allowed: tuple[TaskState, ...], doing: str) -> None:
    if task.state not in allowed or task.is_terminal:
        wanted = " or ".join(s.value for s in allowed)
        raise Refusal(Reason.INVALID_TASK_STATE,
                      f"cannot {doing} task {task.id}: it is {task.state.value}, "
                      f"and this needs {wanted}")


@operation(DispatchTask)
def dispatch(engine: CaseEngine, cmd: DispatchTask, now: datetime, apply: bool
             ) -> CommandResult | None:
    engine.check_open()
    engine.check_owner(cmd.actor)
    limits.check_text("title", cmd.title, limits.MAX_TITLE)
    limits.check_text("instructions", cmd.instructions, limits.MAX_TEXT)
    kind = check_new_task(engine, cmd.kind, cmd.assignee, "assignee")
    overrides = dispatch_overrides(cmd, now)
    task_clocks(engine, kind, now, overrides)  # refuses a bad duration before any change
    if not apply:
        return None
    task = create_task(engine, kind, cmd.assignee, cmd.actor, now, overrides=overrides,
                       title=cmd.title, instructions=cmd.instructions)
    return engine.result(task_ids=[task.id])


@operation(SignTask)
def sign(engine: CaseEngine, cmd: SignTask, now: datetime, apply: bool) -> CommandResult | None:
    task = _assigned_task(engine, cmd.task_id, cmd.actor)
    _require_state(task, (TaskState.DISPATCHED,), "sign for")
    if not apply:
        return None
    task.state = TaskState.SIGNED
    engine.record(EventKind.TASK_SIGNED, cmd.actor, now, task_id=task.id)
    return engine.result(task_ids=[task.id])


@operation(ArriveOnScene)
def arrive(engine: CaseEngine, cmd: ArriveOnScene, now: datetime, apply: bool
           ) -> CommandResult | None:
    task = _assigned_task(engine, cmd.task_id, cmd.actor)
    if not task.needs_presence:
        raise Refusal(Reason.INVALID_TASK_STATE,
                      f"task {task.id} does not need presence on scene")
    _require_state(task, (TaskState.SIGNED,), "report arrival for")
    if not apply:
        return None
    task.state = TaskState.ON_SCENE
    engine.record(EventKind.TASK_ON_SCENE, cmd.actor, now, task_id=task.id)
    return engine.result(task_ids=[task.id])


@operation(CompleteTask)
def complete(engine: CaseEngine, cmd: CompleteTask, now: datetime, apply: bool
             ) -> CommandResult | None:
    # Malformed input is refused as such whatever state the task is in.
    limits.check_text("findings", cmd.findings, limits.MAX_TEXT, required=True)
    if len(cmd.evidence_refs) > limits.MAX_EVIDENCE_REFS:
        raise Refusal(Reason.TEXT_TOO_LONG,
                      f"evidence_refs: at most {limits.MAX_EVIDENCE_REFS} references",
                      field="evidence_refs")
    for ref in cmd.evidence_refs:
        limits.check_text("evidence_refs", ref, limits.MAX_EVIDENCE_REF, required=True)
    task = _assigned_task(engine, cmd.task_id, cmd.actor)
    ready = (TaskState.ON_SCENE,) if task.needs_presence else (TaskState.SIGNED,)
    _require_state(task, (*ready, TaskState.DEEMED_CONSENT), "complete")
    if not apply:
        return None
    task.state = TaskState.DONE
    task.findings = cmd.findings
    task.evidence_refs = list(cmd.evidence_refs)
    task.extension_pending = False
    engine.record(EventKind.TASK_DONE, cmd.actor, now, task_id=task.id)
    return engine.result(task_ids=[task.id])


@operation(DeclineTask)
def decline(engine: CaseEngine, cmd: DeclineTask, now: datetime, apply: bool
            ) -> CommandResult | None:
    limits.check_text("reason", cmd.reason, limits.MAX_REASON, required=True)
    task = _assigned_task(engine, cmd.task_id, cmd.actor)
    _require_state(task, _ACTIVE, "decline")
    if cmd.suggested_agency:
        engine.check_agency(cmd.suggested_agency, "suggested_agency")
        # A suggestion the owner could not follow is no suggestion: the agency suggested
        # must be able to do the work (and not be the one declining it).
        kind = engine.rules.playbook.task_kind(task.kind)
        assert kind is not None  # tasks are only created from the case's own playbook
        engine.check_capability(cmd.suggested_agency, kind.capability, "suggested_agency")
        if cmd.suggested_agency == task.assignee:
            raise Refusal(Reason.INVALID_TASK_STATE,
                          "suggested_agency: suggest another agency, not the one declining",
                          field="suggested_agency")
    review_by = engine.deadline_after(now, engine.rules.playbook.decline_review_within,
                                      "decline_review_within")
    if not apply:
        return None
    task.state = TaskState.DECLINED
    task.decline_reason = cmd.reason
    task.suggested_agency = cmd.suggested_agency
    task.review_outcome = None
    task.extension_pending = False
    task.review_by = Clock(review_by, (review_by - now).total_seconds())
    engine.record(EventKind.TASK_DECLINED, cmd.actor, now, task_id=task.id,
                  phrase=(Phrase("declined_suggesting", suggested=cmd.suggested_agency)
                          if cmd.suggested_agency else Phrase("declined")).saying(cmd.reason),
                  attributes={schema.REVIEW_BY: schema.timestamp(review_by),
                              schema.SUGGESTED: cmd.suggested_agency})
    return engine.result(task_ids=[task.id])


@operation(ReviewDecline)
def review_decline(engine: CaseEngine, cmd: ReviewDecline, now: datetime, apply: bool
                   ) -> CommandResult | None:
    engine.check_open()
    engine.check_owner(cmd.actor, or_coordinator=True)
    task = engine.find_task(cmd.task_id)
    if task.state is not TaskState.DECLINED or task.review_outcome is not None:
        raise Refusal(Reason.INVALID_TASK_STATE,
                      f"task {task.id} has no decline waiting for review")
    limits.check_text("note", cmd.note, limits.MAX_REASON)
    kind = engine.rules.playbook.task_kind(task.kind)
    assert kind is not None  # tasks are only created from the case's own playbook
    # Upheld, the work goes to the agency named (or the one the decline suggested); with
    # nobody named, the decliner was right that the work is not needed of anyone (the
    # owner dispatches other work if it sees some).
    target = cmd.redispatch_to or task.suggested_agency
    if cmd.outcome is ReviewOutcome.UPHELD and target:
        if target == task.assignee:
            raise Refusal(Reason.INVALID_TASK_STATE,
                          f"an upheld decline sends the work elsewhere, not back to {target}; "
                          "overrule the decline instead", field="redispatch_to")
        check_new_task(engine, task.kind, target, "redispatch_to")
    clocks = task_clocks(engine, kind, now, task.overrides)
    if not apply:
        return None
    task.review_outcome = cmd.outcome
    if cmd.outcome is ReviewOutcome.UPHELD:
        engine.record(EventKind.DECLINE_REVIEWED, cmd.actor, now, task_id=task.id,
                      phrase=Phrase("decline_reviewed", outcome=cmd.outcome.value)
                      .saying(cmd.note),
                      attributes={schema.OUTCOME: cmd.outcome.value})
        _tell_assignee(engine, task, Phrase("decline_upheld_for", owner=cmd.actor.agency,
                                            task=task.id).saying(cmd.note))
        if not target:
            return engine.result(task_ids=[task.id])
        new = create_task(engine, kind, target, cmd.actor, now, overrides=task.overrides,
                          title=task.title, instructions=task.instructions,
                          redispatched_from=task.id, bounce_count=task.bounce_count + 1)
        return engine.result(task_ids=[task.id, new.id])
    # Overruled: the same agency gets the task back with a fresh clock.
    task.state = TaskState.DISPATCHED
    task.sign_by, task.on_scene_by, task.due_by = clocks
    task.review_by = None
    task.round += 1
    engine.record(EventKind.DECLINE_REVIEWED, cmd.actor, now, task_id=task.id,
                  phrase=Phrase("decline_reviewed", outcome=cmd.outcome.value).saying(cmd.note),
                  attributes={schema.OUTCOME: cmd.outcome.value, **clock_attributes(task)})
    deliver(engine, task)
    _tell_assignee(engine, task, Phrase("decline_overruled_for", owner=cmd.actor.agency,
                                        task=task.id).saying(cmd.note))
    return engine.result(task_ids=[task.id])


def _tell_assignee(engine: CaseEngine, task: Task, decided: Phrase) -> None:
    """The assignee hears at once what the owner decided of its decline or its request
    for more time (since case version 2; before, it saw it in its inbox only)."""
    if engine.version >= versions.NOTICES_BEFORE_AND_AFTER.version:
        engine.notify(NoticeKind.DECISION, [task.assignee], decided, task_id=task.id)


def _asked_due(engine: CaseEngine, cmd: RequestExtension, now: datetime) -> datetime:
    """The due-by an extension asks for, given as a time or as a duration from now."""
    if cmd.new_due_within:
        if cmd.new_due_at is not None:
            raise Refusal(Reason.OUT_OF_RANGE, "new_due_at: give a time or a duration, not "
                                               "both", field="new_due_at")
        return engine.deadline_after(now, cmd.new_due_within, "new_due_within")
    if cmd.new_due_at is None:
        raise Refusal(Reason.MISSING_FIELD, "new_due_at is required (or new_due_within, a "
                                            "duration from now)", field="new_due_at")
    check_timestamp("new_due_at", cmd.new_due_at)
    return cmd.new_due_at


@operation(RequestExtension)
def request_extension(engine: CaseEngine, cmd: RequestExtension, now: datetime, apply: bool
                      ) -> CommandResult | None:
    limits.check_text("reason", cmd.reason, limits.MAX_REASON, required=True)
    new_due_at = _asked_due(engine, cmd, now)
    task = _assigned_task(engine, cmd.task_id, cmd.actor)
    _require_state(task, _ACTIVE, "extend")
    if task.extension_pending:
        raise Refusal(Reason.EXTENSION_ALREADY_PENDING,
                      f"task {task.id} already has an extension request waiting")
    if new_due_at <= task.due_by.deadline or new_due_at <= now:
        raise Refusal(Reason.DEADLINE_IN_PAST,
                      f"new_due_at must be later than the current due-by "
                      f"{engine.rules.local(task.due_by.deadline)} and than now",
                      field="new_due_at")
    check_within_limit("new_due_at", new_due_at, now)
    if not apply:
        return None
    task.extension_pending = True
    task.extension_requested_due = new_due_at
    task.extension_reason = cmd.reason
    engine.record(EventKind.EXTENSION_REQUESTED, cmd.actor, now, task_id=task.id,
                  phrase=Phrase("extension_requested", due_time=schema.timestamp(new_due_at))
                  .saying(cmd.reason))
    return engine.result(task_ids=[task.id])


@operation(DecideExtension)
def decide_extension(engine: CaseEngine, cmd: DecideExtension, now: datetime, apply: bool
                     ) -> CommandResult | None:
    engine.check_open()
    engine.check_owner(cmd.actor, or_coordinator=True)
    task = engine.find_task(cmd.task_id)
    requested = task.extension_requested_due
    if not task.extension_pending or requested is None or task.state not in _ACTIVE:
        raise Refusal(Reason.NO_EXTENSION_PENDING,
                      f"task {task.id} has no extension request waiting")
    limits.check_text("note", cmd.note, limits.MAX_REASON)
    if cmd.grant and requested <= now:
        raise Refusal(Reason.DEADLINE_IN_PAST,
                      f"the requested due-by {engine.rules.local(requested)} has already "
                      "passed; the "
                      "assignee must ask for a new date", field="grant")
    if not apply:
        return None
    task.extension_pending = False
    if cmd.grant:
        task.due_by = Clock(requested, task.due_by.grace_seconds)
    engine.record(EventKind.EXTENSION_DECIDED, cmd.actor, now, task_id=task.id,
                  phrase=(Phrase("extension_granted", due_time=schema.timestamp(requested))
                          if cmd.grant else Phrase("extension_refused")).saying(cmd.note),
                  attributes={schema.GRANTED: "true", schema.DUE_BY: schema.timestamp(requested)}
                  if cmd.grant else {schema.GRANTED: "false"})
    _tell_assignee(engine, task, (
        Phrase("extension_granted_for", owner=cmd.actor.agency, task=task.id,
               due_time=schema.timestamp(requested))
        if cmd.grant else Phrase("extension_refused_for", owner=cmd.actor.agency,
                                 task=task.id)).saying(cmd.note))
    return engine.result(task_ids=[task.id])


@operation(WithdrawTask)
def withdraw(engine: CaseEngine, cmd: WithdrawTask, now: datetime, apply: bool
             ) -> CommandResult | None:
    engine.check_open()
    engine.check_owner(cmd.actor, or_coordinator=True)
    task = engine.find_task(cmd.task_id)
    if task.is_terminal:
        raise Refusal(Reason.INVALID_TASK_STATE,
                      f"task {task.id} is already finished ({task.state.value})")
    limits.check_text("reason", cmd.reason, limits.MAX_REASON)
    if not apply:
        return None
    task.state = TaskState.WITHDRAWN
    task.extension_pending = False
    engine.record(EventKind.TASK_WITHDRAWN, cmd.actor, now, task_id=task.id, detail=cmd.reason)
    engine.add_effect(TaskWithdrawal(
        idempotency_key=f"{engine.state.id}/{task.id}/withdraw",
        case_id=engine.state.id, task_id=task.id, assignee=task.assignee, reason=cmd.reason))
    return engine.result(task_ids=[task.id])
