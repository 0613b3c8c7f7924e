"""Clocks: which deadlines are running, and what happens when one passes.

The workflow keeps one timer, for `next_deadline`, and calls `fire_due_clocks` when it
fires; so however many clocks a case has, the history holds one timer at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from records import event_schema as schema
from workflows.rules.model import (
    PLATFORM,
    CaseStatus,
    Clock,
    EventKind,
    NoticeKind,
    Task,
    TaskState,
)
from workflows.rules.objection_ops import decision_missed
from workflows.rules.ownership_ops import expire
from workflows.rules.phrases import Phrase

if TYPE_CHECKING:
    from workflows.rules.case import CaseEngine

Firing = Callable[[datetime], None]


def _running(engine: CaseEngine) -> Iterator[tuple[datetime, Firing]]:
    """Every running clock as (deadline, what to do when it passes)."""
    state = engine.state
    if state.status is CaseStatus.CLOSED:
        return
    owner = state.owner
    if state.promised_line.misses == 0:
        yield state.promised_line.deadline, lambda now: _line_missed(engine, now, legal=False)
    if state.legal_line.misses == 0:
        yield state.legal_line.deadline, lambda now: _line_missed(engine, now, legal=True)
    pending = state.pending_handoff
    if pending is not None:
        yield pending.expires_at, lambda now: expire(engine, pending, now)
    objection = state.pending_objection
    if objection is not None and not objection.decide_by.exhausted:
        yield objection.decide_by.deadline, lambda now: decision_missed(engine, objection, now)
    for task in state.tasks:
        if task.is_terminal:
            continue
        recipients = [task.assignee, owner]
        yield from _task_clocks(engine, task, recipients)


def _task_clocks(engine: CaseEngine, task: Task, recipients: list[str]
                 ) -> Iterator[tuple[datetime, Firing]]:
    def missed(clock: Clock, what: str) -> tuple[datetime, Firing]:
        return clock.deadline, lambda now: engine.supervise(
            clock, Phrase("clock_missed", task=task.id, assignee=task.assignee, clock=what),
            now, task_id=task.id, recipients=recipients)

    if task.state is TaskState.DECLINED:
        review = task.review_by
        if task.review_outcome is None and review is not None and review.misses == 0:
            yield review.deadline, lambda now: _review_missed(engine, task, review, now)
        return
    if task.state is TaskState.DISPATCHED and not task.sign_by.exhausted:
        yield missed(task.sign_by, "sign-for")
    on_scene = task.on_scene_by
    if (task.state in (TaskState.DISPATCHED, TaskState.SIGNED) and on_scene is not None
            and not on_scene.exhausted):
        yield missed(on_scene, "on-scene")
    if task.due_by.exhausted:
        return
    if task.is_approval and task.state is not TaskState.DEEMED_CONSENT and \
            task.due_by.misses == 0:
        yield task.due_by.deadline, lambda now: _deemed_consent(engine, task, now, recipients)
    elif task.state is TaskState.DEEMED_CONSENT:
        yield missed(task.due_by, "approval issue")
    else:
        yield missed(task.due_by, "completion")


def _line_missed(engine: CaseEngine, now: datetime, *, legal: bool) -> None:
    state = engine.state
    line = state.legal_line if legal else state.promised_line
    line.misses = 1
    passed = Phrase("line_missed", line="legal" if legal else "promised")
    engine.record(EventKind.LINE_MISSED, PLATFORM, now, phrase=passed,
                  attributes={schema.LINE: "legal" if legal else "promised"})
    if legal:
        engine.escalate(passed, now)
    else:
        engine.notify(NoticeKind.SUPERVISION, [state.owner], passed)


def _review_missed(engine: CaseEngine, task: Task, review: Clock, now: datetime) -> None:
    review.misses = 1
    engine.escalate(Phrase("decline_unreviewed", task=task.id, assignee=task.assignee), now,
                    task_id=task.id)


def _deemed_consent(engine: CaseEngine, task: Task, now: datetime, recipients: list[str]
                    ) -> None:
    """超时默许: silence past the deadline is consent; the approval is due within 1wd."""
    missed_at = task.due_by.deadline
    issue_by = engine.deadline_after(missed_at, engine.rules.playbook.deemed_consent_issue_within,
                                     "deemed_consent_issue_within")
    task.state = TaskState.DEEMED_CONSENT
    task.due_by = Clock(issue_by, (issue_by - missed_at).total_seconds())
    # Consent settles the matter; an extension asked for before it no longer applies.
    task.extension_pending = False
    consent = Phrase("deemed_consent", assignee=task.assignee,
                     missed_time=schema.timestamp(missed_at),
                     issue_time=schema.timestamp(issue_by))
    engine.record(EventKind.DEEMED_CONSENT, PLATFORM, now, task_id=task.id, phrase=consent,
                  attributes={schema.DUE_BY: schema.timestamp(issue_by)})
    engine.notify(NoticeKind.SUPERVISION, recipients, consent, task_id=task.id)


def next_deadline(engine: CaseEngine) -> datetime | None:
    return min((deadline for deadline, _ in _running(engine)), default=None)


def fire_due_clocks(engine: CaseEngine, now: datetime) -> None:
    # Firing one clock can start or stop others, so look again after each one. Every
    # firing advances or stops its clock, so this ends.
    while True:
        due = [(deadline, fire) for deadline, fire in _running(engine) if deadline <= now]
        if not due:
            return
        _, fire = min(due, key=lambda item: item[0])
        fire(now)
