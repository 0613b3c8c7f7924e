"""The work a case asks of each agency: what the inbox shows, and whom the case waits on.

One rule, read from the case as it stands, so an item's state always follows the case:
a withdrawn task is finished, an offer answered is gone, a new owner gets the owner's
work the moment it owns the case. Every item says what to do next and by when.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from workflows.rules.model import CaseState, CaseStatus, Clock, Task, TaskState


class WorkKind(StrEnum):
    # A task of the agency's: sign for it, arrive, complete it.
    TASK = "TASK"
    # A case offered to the agency: accept or decline it.
    HANDOFF_OFFER = "HANDOFF_OFFER"
    # The owner's: a declined task to review.
    DECLINE_REVIEW = "DECLINE_REVIEW"
    # The owner's: more time asked for a task.
    EXTENSION_DECISION = "EXTENSION_DECISION"
    # The coordinator's: an escalation to settle.
    ESCALATION = "ESCALATION"
    # The owner's: the case itself (nothing dispatched yet, or every task finished).
    CASE = "CASE"
    # The coordinator's: an objection to a lead to decide (派单异议).
    OBJECTION = "OBJECTION"


class WorkAction(StrEnum):
    """What to do next; NONE while the item waits on someone else or is finished."""

    NONE = "NONE"
    SIGN = "SIGN"
    ARRIVE = "ARRIVE"
    COMPLETE = "COMPLETE"
    ANSWER_HANDOFF = "ANSWER_HANDOFF"
    REVIEW_DECLINE = "REVIEW_DECLINE"
    DECIDE_EXTENSION = "DECIDE_EXTENSION"
    RESOLVE_ESCALATION = "RESOLVE_ESCALATION"
    DISPATCH = "DISPATCH"
    CLOSE = "CLOSE"
    DECIDE_OBJECTION = "DECIDE_OBJECTION"


# Each next step in both languages (zh, en): the API says it in English (`next_step`),
# the console in the reader's language.
STEP_WORDS = {
    WorkAction.SIGN: ("签收", "sign for it"),
    WorkAction.ARRIVE: ("到达现场并报到", "get there and report arrival on scene"),
    WorkAction.COMPLETE: ("办理并填写办理结果后办结", "do the work and complete it with findings"),
    WorkAction.ANSWER_HANDOFF: ("接收或拒绝移交的案件", "accept or decline the case"),
    WorkAction.REVIEW_DECLINE: ("审核退回：同意（工作改由他人或无需再办）或驳回（退回原单位）",
                                "review the decline: uphold it (the work goes elsewhere) "
                                "or overrule it (it goes back)"),
    WorkAction.DECIDE_EXTENSION: ("批准或拒绝延期", "grant or refuse the extension"),
    WorkAction.RESOLVE_ESCALATION: ("处理升级事项", "settle the escalation"),
    WorkAction.DISPATCH: ("派发任务，或结案", "dispatch the work, or close the case"),
    WorkAction.CLOSE: ("各项任务均已完成：填写办理情况后结案",
                       "every task is finished: close the case with a summary"),
    WorkAction.DECIDE_OBJECTION: ("裁定派单异议：维持派单（仍由异议单位牵头）或改派",
                                  "uphold the dispatch (the objector keeps the case) or "
                                  "reassign it"),
}
_IN_WORDS = {action: en for action, (_zh, en) in STEP_WORDS.items()}


@dataclass(frozen=True)
class WorkItem:
    kind: WorkKind
    # The task, hand-off or escalation it is about ('' for the case itself).
    ref: str
    title: str
    action: WorkAction
    next_step: str
    # When the work became the agency's.
    since: datetime
    deadline: datetime | None = None
    # How often the deadline's clock was missed (1: supervised, 2: escalated).
    misses: int = 0
    task_state: TaskState | None = None
    detail: str = ""
    # For an extension: the due-by the assignee asks for.
    asked_due: datetime | None = None
    # For a task: whether it has reached the agency's own inbox (where its officers act
    # on it); the platform keeps delivering until it has.
    delivered: bool = True
    # When the step fell due, once it was missed: the deadline shown then is the
    # supervision's grace, after which the matter escalates.
    missed_at: datetime | None = None
    # For a task: its kind in the playbook, and, while it needs presence and is not yet
    # on scene, by when to be there (shown beside the sign-for clock at 吹哨).
    task_kind: str = ""
    on_scene_by: datetime | None = None
    # The agency whose act the item answers (who declined, asks more time, offers the
    # case, objects to leading it), and for a decline or an objection whom it suggested.
    raised_by: str = ""
    suggested_agency: str = ""
    # An escalation's reason as a phrase (workflows.rules.phrases); `title` is its English.
    phrase: str = ""

    @property
    def open(self) -> bool:
        return self.action is not WorkAction.NONE


def _missed_at(clock: Clock | None) -> datetime | None:
    """The deadline a missed clock had before its grace was added (supervise)."""
    if clock is None or not clock.misses:
        return None
    return clock.deadline - timedelta(seconds=clock.grace_seconds)


def work_for(state: CaseState, agency: str, *, coordinator: str) -> list[WorkItem]:
    """Everything the case asks of `agency`, and its tasks that are done or waiting."""
    items = list(_tasks_of(state, agency))
    if state.status is CaseStatus.OPEN:
        if agency == state.owner:
            items += _owners_work(state)
        offer = state.pending_handoff
        if offer is not None and offer.to_agency == agency:
            items.append(WorkItem(
                WorkKind.HANDOFF_OFFER, offer.id, f"{offer.from_agency} offers you the case",
                WorkAction.ANSWER_HANDOFF, _IN_WORDS[WorkAction.ANSWER_HANDOFF],
                offer.offered_at, offer.expires_at, detail=offer.reason,
                raised_by=offer.from_agency))
        if agency == coordinator:
            items += [WorkItem(WorkKind.ESCALATION, e.id, e.reason,
                               WorkAction.RESOLVE_ESCALATION,
                               _IN_WORDS[WorkAction.RESOLVE_ESCALATION], e.raised_at,
                               task_state=None, detail=e.task_id, phrase=e.phrase)
                      for e in state.escalations if e.resolved_at is None]
            objection = state.pending_objection
            if objection is not None:
                items.append(WorkItem(
                    WorkKind.OBJECTION, objection.id,
                    f"{objection.objector} objects to leading the case",
                    WorkAction.DECIDE_OBJECTION, _IN_WORDS[WorkAction.DECIDE_OBJECTION],
                    objection.objected_at, objection.decide_by.deadline,
                    objection.decide_by.misses,
                    detail=objection.reason,
                    missed_at=_missed_at(objection.decide_by),
                    raised_by=objection.objector, suggested_agency=objection.suggested_agency))
    return items


def awaiting(state: CaseState, *, coordinator: str) -> list[str]:
    """The agencies the case waits on: each has an open item (sorted)."""
    parties = {t.assignee for t in state.tasks} | {state.owner, coordinator}
    pending = state.pending_handoff
    if pending is not None:
        parties.add(pending.to_agency)
    return sorted(a for a in parties
                  if any(item.open for item in work_for(state, a, coordinator=coordinator)))


def next_step(task: Task) -> tuple[WorkAction, Clock | None]:
    """The assignee's next step on a task, and the clock it runs against."""
    if task.state is TaskState.DISPATCHED:
        return WorkAction.SIGN, task.sign_by
    if task.state is TaskState.SIGNED and task.needs_presence and task.on_scene_by:
        return WorkAction.ARRIVE, task.on_scene_by
    if task.state in (TaskState.SIGNED, TaskState.ON_SCENE, TaskState.DEEMED_CONSENT):
        return WorkAction.COMPLETE, task.due_by
    return WorkAction.NONE, None


def _tasks_of(state: CaseState, agency: str) -> Iterator[WorkItem]:
    for task in state.tasks:
        if task.assignee != agency:
            continue
        action, clock = next_step(task) if state.status is CaseStatus.OPEN else (
            WorkAction.NONE, None)
        if task.state is TaskState.DEEMED_CONSENT:
            step = "silence was taken as consent (超时默许): issue the approval document, " \
                   "then complete the task"
        elif action is WorkAction.NONE:
            step = _why_not(task, state)
        else:
            step = _IN_WORDS[action]
        detail = ""
        if task.extension_pending and task.extension_requested_due is not None:
            detail = "more time asked; waiting for the owner's decision"
        elif task.decline_reason and task.review_outcome is None:
            detail = f"declined: {task.decline_reason}"
        arriving = task.on_scene_by if task.needs_presence and action in (
            WorkAction.SIGN, WorkAction.ARRIVE) else None
        yield WorkItem(WorkKind.TASK, task.id, task.title, action, step, task.dispatched_at,
                       clock.deadline if clock else None, clock.misses if clock else 0,
                       task.state, detail, delivered=task.delivered,
                       missed_at=_missed_at(clock), task_kind=task.kind,
                       on_scene_by=arriving.deadline if arriving else None)


def _why_not(task: Task, state: CaseState) -> str:
    if task.state is TaskState.DECLINED and task.review_outcome is None:
        return f"declined; waiting for {state.owner}'s review"
    if task.state is TaskState.DECLINED:
        return "declined; the decline was upheld"
    if task.state is TaskState.WITHDRAWN:
        return "withdrawn by the owner: nothing more to do"
    if task.state is TaskState.DONE:
        return "done"
    return "the case is closed"


def _owners_work(state: CaseState) -> list[WorkItem]:
    items: list[WorkItem] = []
    for task in state.tasks:
        if task.state is TaskState.DECLINED and task.review_outcome is None:
            review = task.review_by
            items.append(WorkItem(
                WorkKind.DECLINE_REVIEW, task.id, f"{task.assignee} declined {task.title}",
                WorkAction.REVIEW_DECLINE, _IN_WORDS[WorkAction.REVIEW_DECLINE],
                _declined_at(state, task), review.deadline if review else None,
                review.misses if review else 0, task.state,
                task.decline_reason, missed_at=_missed_at(review),
                task_kind=task.kind, raised_by=task.assignee,
                suggested_agency=task.suggested_agency))
        if task.extension_pending and task.extension_requested_due is not None \
                and not task.is_terminal:
            items.append(WorkItem(
                WorkKind.EXTENSION_DECISION, task.id,
                f"{task.assignee} asks more time for {task.title}",
                WorkAction.DECIDE_EXTENSION, _IN_WORDS[WorkAction.DECIDE_EXTENSION],
                _asked_at(state, task), task.due_by.deadline, 0, task.state,
                task.extension_reason, asked_due=task.extension_requested_due,
                task_kind=task.kind, raised_by=task.assignee))
    if not state.open_tasks and state.pending_handoff is None:
        action = WorkAction.CLOSE if state.tasks else WorkAction.DISPATCH
        items.append(WorkItem(WorkKind.CASE, "", state.title, action, _IN_WORDS[action],
                              state.ownership[-1].start, state.promised_line.deadline))
    return items


def _declined_at(state: CaseState, task: Task) -> datetime:
    return _last_event_time(state, task.id, "TASK_DECLINED") or task.dispatched_at


def _asked_at(state: CaseState, task: Task) -> datetime:
    return _last_event_time(state, task.id, "EXTENSION_REQUESTED") or task.dispatched_at


def _last_event_time(state: CaseState, task_id: str, kind: str) -> datetime | None:
    return next((e.at for e in reversed(state.events)
                 if e.task_id == task_id and e.kind.value == kind), None)

