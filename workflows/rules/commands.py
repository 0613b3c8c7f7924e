"""The requests an agency can make of a case: one dataclass per operation.

Every command names its actor and carries a caller-chosen `request_id`; a retried
request with the same id gets the first answer and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from workflows.rules.model import Actor, ObjectionOutcome, ReportRef, ReviewOutcome


@dataclass(frozen=True)
class OpenCase:
    request_id: str
    actor: Actor
    type: str
    subject_key: str
    title: str
    description: str = ""
    jurisdiction: str = ""
    location: str = ""
    stage: str = ""
    priority: int = 3
    # An agency asking to lead itself (首接负责); empty lets the matrix decide.
    lead: str = ""
    # The case number the gateway allocated (gateway.case_numbers); empty without one.
    number: str = ""
    # The reports the case opens with (a report that found no open case on its subject).
    reports: tuple[ReportRef, ...] = ()
    # 重办: the closed case this one reopens; its lead may then be named freely by the
    # hotline or the coordinator (the same agency unless the coordinator says otherwise).
    reopened_from: str = ""


@dataclass(frozen=True)
class DispatchTask:
    request_id: str
    actor: Actor
    kind: str
    assignee: str
    title: str = ""
    instructions: str = ""
    # Overrides of the playbook's clocks: durations ('30m', '3wd') or an absolute due-by.
    sign_within: str = ""
    on_scene_within: str = ""
    due_within: str = ""
    due_at: datetime | None = None


@dataclass(frozen=True)
class SignTask:
    request_id: str
    actor: Actor
    task_id: str


@dataclass(frozen=True)
class ArriveOnScene:
    request_id: str
    actor: Actor
    task_id: str


@dataclass(frozen=True)
class CompleteTask:
    request_id: str
    actor: Actor
    task_id: str
    findings: str
    evidence_refs: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class DeclineTask:
    request_id: str
    actor: Actor
    task_id: str
    reason: str
    suggested_agency: str = ""


@dataclass(frozen=True)
class ReviewDecline:
    request_id: str
    actor: Actor
    task_id: str
    outcome: ReviewOutcome
    # For an upheld decline: who gets the work now (defaults to the suggested agency).
    redispatch_to: str = ""
    note: str = ""


@dataclass(frozen=True)
class RequestExtension:
    request_id: str
    actor: Actor
    task_id: str
    # The due-by asked for: a time, or a duration from now ('5d', '3wd').
    new_due_at: datetime | None
    reason: str
    new_due_within: str = ""


@dataclass(frozen=True)
class DecideExtension:
    request_id: str
    actor: Actor
    task_id: str
    grant: bool
    note: str = ""


@dataclass(frozen=True)
class WithdrawTask:
    request_id: str
    actor: Actor
    task_id: str
    reason: str = ""


@dataclass(frozen=True)
class OfferHandoff:
    request_id: str
    actor: Actor
    to_agency: str
    reason: str
    expires_within: str = ""


@dataclass(frozen=True)
class AcceptHandoff:
    request_id: str
    actor: Actor
    handoff_id: str


@dataclass(frozen=True)
class DeclineHandoff:
    request_id: str
    actor: Actor
    handoff_id: str
    reason: str


@dataclass(frozen=True)
class WithdrawHandoff:
    request_id: str
    actor: Actor
    handoff_id: str


@dataclass(frozen=True)
class AssignOwner:
    request_id: str
    actor: Actor
    agency: str
    reason: str


@dataclass(frozen=True)
class ResolveEscalation:
    request_id: str
    actor: Actor
    escalation_id: str
    resolution: str


@dataclass(frozen=True)
class CloseCase:
    request_id: str
    actor: Actor
    summary: str = ""
    # 答复: the answer to the reporters, required when the case has reports.
    answer: str = ""


@dataclass(frozen=True)
class AttachReport:
    """并单: a report joins the case (by intake on the same subject, or by hand)."""

    request_id: str
    actor: Actor
    report: ReportRef
    # Merged by a person (the hotline or the owner), not by the subject match.
    by_hand: bool = False


@dataclass(frozen=True)
class DetachReport:
    """Split a report off a case it was merged into by mistake."""

    request_id: str
    actor: Actor
    report_id: str
    reason: str


@dataclass(frozen=True)
class ObjectToLead:
    """派单异议: the agency made lead disputes the dispatch, within its deadline."""

    request_id: str
    actor: Actor
    reason: str
    suggested_agency: str = ""


@dataclass(frozen=True)
class DecideObjection:
    request_id: str
    actor: Actor
    objection_id: str
    outcome: ObjectionOutcome
    # For REASSIGNED: the new lead (default: the objector's suggestion).
    reassign_to: str = ""
    note: str = ""


Command = (
    DispatchTask
    | SignTask
    | ArriveOnScene
    | CompleteTask
    | DeclineTask
    | ReviewDecline
    | RequestExtension
    | DecideExtension
    | WithdrawTask
    | OfferHandoff
    | AcceptHandoff
    | DeclineHandoff
    | WithdrawHandoff
    | AssignOwner
    | ResolveEscalation
    | CloseCase
    | AttachReport
    | DetachReport
    | ObjectToLead
    | DecideObjection
)
