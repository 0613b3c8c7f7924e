"""Side effects the rules ask for; the workflow carries them out through activities.

Each carries an idempotency key that is stable across retries and worker restarts, so
the receiving side can drop duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from records.projected_case import ProjectedCase
from workflows.rules.model import CaseEvent, NoticeKind


@dataclass(frozen=True)
class TaskDelivery:
    """Put a task into the assignee agency's inbox."""

    idempotency_key: str
    case_id: str
    case_type: str
    case_title: str
    owner: str
    task_id: str
    kind: str
    title: str
    assignee: str
    instructions: str
    sign_by: datetime
    due_by: datetime
    on_scene_by: datetime | None = None
    round: int = 1
    # The request that asked for it (see CaseEngine.add_effect), so the call to the
    # agency joins that request's trace.
    trace_id: str = ""
    span_id: str = ""
    case_number: str = ""
    # The run that asks for it, stamped as the activity is called (workflows.case_workflow):
    # the activity runs only for that run, so an input copied out of the engine's
    # history into a workflow of someone else's does nothing (workflows.unopened).
    asked_by_run: str = ""


@dataclass(frozen=True)
class TaskWithdrawal:
    """Take a task out of an agency's inbox."""

    idempotency_key: str
    case_id: str
    task_id: str
    assignee: str
    reason: str
    trace_id: str = ""
    span_id: str = ""
    asked_by_run: str = ""  # (as TaskDelivery's)
    phrase: str = ""  # what it says, in the stored form of workflows.rules.phrases


@dataclass(frozen=True)
class Notice:
    """A supervision notice (督办), an escalation, or a hand-off offer."""

    idempotency_key: str
    case_id: str
    kind: NoticeKind
    recipients: tuple[str, ...]
    text: str  # in English (workflows.rules.phrases), for readers that know no phrase
    task_id: str = ""
    handoff_id: str = ""
    trace_id: str = ""
    span_id: str = ""
    case_number: str = ""
    asked_by_run: str = ""  # (as TaskDelivery's)
    phrase: str = ""  # what it says, in the stored form of workflows.rules.phrases


@dataclass(frozen=True)
class CaseEventBatch:
    """Events to append to the case ledger, in sequence order."""

    case_id: str
    events: list[CaseEvent] = field(default_factory=list)
    # What the lists show of the case after these events (workflows.projection): the
    # append keeps it in the read model, in the same transaction. None from cases that
    # started before the read model, and from a rating (which has no lists of its own).
    projection: ProjectedCase | None = None
    asked_by_run: str = ""  # (as TaskDelivery's)
    phrase: str = ""  # what it says, in the stored form of workflows.rules.phrases

    @property
    def idempotency_key(self) -> str:
        first, last = self.events[0].sequence, self.events[-1].sequence
        return f"{self.case_id}/events/{first}-{last}"


Effect = TaskDelivery | TaskWithdrawal | Notice
