"""Clocks: which deadlines are running, what happens when one passes, and the reminder
before it (临期提醒).

The workflow keeps one timer, for `next_deadline` (the earliest deadline or reminder),
and calls `fire_due_clocks` when it fires; so however many clocks a case has, the
history holds one timer at a time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from records import event_schema as schema
from workflows import versions
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


@dataclass(frozen=True)
class Reminder:
    """A notice to whoever a clock waits on, at a share of the clock's span: sent once
    per clock and deadline (`key`), and only while the deadline is still ahead."""

    key: str
    at: datetime
    recipients: tuple[str, ...]
    phrase: Phrase
    task_id: str = ""
    handoff_id: str = ""


@dataclass(frozen=True)
class Running:
    """A running clock: its deadline, what to do when it passes, its reminder if one is
    still to send."""

    deadline: datetime
    fire: Firing
    reminder: Reminder | None = None


def _running(engine: CaseEngine) -> Iterator[Running]:
    """Every running clock."""
    state = engine.state
    if state.status is CaseStatus.CLOSED:
        return
    owner = state.owner
    for legal, line in ((False, state.promised_line), (True, state.legal_line)):
        if line.misses == 0:
            name = "legal" if legal else "promised"
            yield Running(line.deadline, functools.partial(_line_missed, engine, legal=legal),
                          _reminder(engine, f"line/{name}", line.deadline,
                                    line.deadline - state.opened_at, [owner],
                                    Phrase("line_due_soon", line=name)))
    pending = state.pending_handoff
    if pending is not None:
        yield Running(pending.expires_at, lambda now: expire(engine, pending, now),
                      _reminder(engine, f"handoff/{pending.id}", pending.expires_at,
                                pending.expires_at - pending.offered_at, [pending.to_agency],
                                Phrase("offer_due_soon", handoff=pending.id,
                                       **{"from": pending.from_agency}),
                                handoff_id=pending.id))
    objection = state.pending_objection
    if objection is not None and not objection.decide_by.exhausted:
        decide_by = objection.decide_by
        yield Running(decide_by.deadline, lambda now: decision_missed(engine, objection, now),
                      _clock_reminder(engine, f"objection/{objection.id}", decide_by,
                                      [engine.rules.directory.coordinator],
                                      Phrase("decision_due_soon", objection=objection.id)))
    for task in state.tasks:
        if task.is_terminal:
            continue
        recipients = [task.assignee, owner]
        yield from _task_clocks(engine, task, recipients)


def _task_clocks(engine: CaseEngine, task: Task, recipients: list[str]
                 ) -> Iterator[Running]:
    def missed(clock: Clock, what: str) -> Running:
        return Running(
            clock.deadline, lambda now: engine.supervise(
                clock, Phrase("clock_missed", task=task.id, assignee=task.assignee,
                              clock=what), now, task_id=task.id, recipients=recipients),
            _clock_reminder(engine, f"{task.id}/{what}", clock, [task.assignee],
                            Phrase("clock_due_soon", task=task.id, assignee=task.assignee,
                                   clock=what), task_id=task.id))

    if task.state is TaskState.DECLINED:
        review = task.review_by
        if task.review_outcome is None and review is not None and review.misses == 0:
            yield Running(review.deadline,
                          lambda now: _review_missed(engine, task, review, now),
                          _clock_reminder(engine, f"{task.id}/review", review, [engine.state.owner],
                                          Phrase("review_due_soon", task=task.id,
                                                 assignee=task.assignee), task_id=task.id))
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
        yield Running(task.due_by.deadline,
                      lambda now: _deemed_consent(engine, task, now, recipients),
                      _clock_reminder(engine, f"{task.id}/approval", task.due_by,
                                      [task.assignee],
                                      Phrase("clock_due_soon", task=task.id,
                                             assignee=task.assignee, clock="approval"),
                                      task_id=task.id))
    elif task.state is TaskState.DEEMED_CONSENT:
        yield missed(task.due_by, "approval issue")
    else:
        yield missed(task.due_by, "completion")


def _clock_reminder(engine: CaseEngine, key: str, clock: Clock, recipients: list[str],
                    phrase: Phrase, *, task_id: str = "") -> Reminder | None:
    """The reminder of a clock not yet missed (after a miss, supervision has spoken), its
    span the one it was armed with (`grace_seconds`)."""
    if clock.misses:
        return None
    return _reminder(engine, key, clock.deadline, timedelta(seconds=clock.grace_seconds),
                     recipients, phrase, task_id=task_id)


def _reminder(engine: CaseEngine, clock: str, deadline: datetime, span: timedelta,
              recipients: list[str], phrase: Phrase, *, task_id: str = "",
              handoff_id: str = "") -> Reminder | None:
    share = engine.rules.playbook.remind_at
    if share is None or span <= timedelta(0) or \
            engine.version < versions.NOTICES_BEFORE_AND_AFTER.version:
        return None
    key = f"{clock}@{schema.timestamp(deadline)}"
    if key in engine.state.reminded:
        return None
    return Reminder(key, deadline - span * (1 - share), tuple(recipients),
                    Phrase(phrase.key, **phrase.args, deadline_time=schema.timestamp(deadline)),
                    task_id=task_id, handoff_id=handoff_id)


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
    """When the case next has something to do on its own: a deadline or a reminder."""
    moments = [moment for clock in _running(engine)
               for moment in (clock.deadline, clock.reminder and clock.reminder.at) if moment]
    return min(moments, default=None)


def fire_due_clocks(engine: CaseEngine, now: datetime, due_by: datetime | None = None
                    ) -> None:
    """Fire what was due by `due_by` (by `now` when not given), stamped `now`."""
    due_by = now if due_by is None else due_by
    # Firing one clock can start or stop others, so look again after each one. Every
    # firing advances or stops its clock, so this ends.
    while True:
        due = [clock for clock in _running(engine) if clock.deadline <= due_by]
        if not due:
            break
        min(due, key=lambda clock: clock.deadline).fire(now)
    # Then the reminders due; a clock that has just passed reminds no more (its miss
    # has been said).
    for clock in list(_running(engine)):
        reminder = clock.reminder
        if reminder is not None and reminder.at <= due_by:
            engine.state.reminded.append(reminder.key)
            engine.notify(NoticeKind.REMINDER, list(reminder.recipients), reminder.phrase,
                          task_id=reminder.task_id, handoff_id=reminder.handoff_id)
