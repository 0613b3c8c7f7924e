"""The state of one case: tasks, clocks, hand-offs, ownership history and events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from records import participation
from records.event_schema import PLATFORM_ACTOR
from records.event_schema import EventKind as EventKind  # re-exported for the rules


class CaseStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class TaskState(StrEnum):
    DISPATCHED = "DISPATCHED"
    SIGNED = "SIGNED"
    ON_SCENE = "ON_SCENE"
    DONE = "DONE"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"
    DEEMED_CONSENT = "DEEMED_CONSENT"


class ReviewOutcome(StrEnum):
    UPHELD = "UPHELD"
    OVERRULED = "OVERRULED"


class HandoffState(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"
    SUPERSEDED = "SUPERSEDED"


class OwnershipVia(StrEnum):
    OPEN = "OPEN"
    HANDOFF = "HANDOFF"
    ASSIGNMENT = "ASSIGNMENT"


class ObjectionOutcome(StrEnum):
    # The dispatch stands: the objector keeps the case.
    UPHELD = "UPHELD"
    # The coordinator gives the case to another agency.
    REASSIGNED = "REASSIGNED"


class NoticeKind(StrEnum):
    SUPERVISION = "SUPERVISION"
    ESCALATION = "ESCALATION"
    HANDOFF_OFFER = "HANDOFF_OFFER"
    # The agency now leads the case: the coordinator assigned it, or reassigned an
    # objection to it.
    OWNERSHIP = "OWNERSHIP"
    # A clock that waits on the agency is about to pass (临期提醒).
    REMINDER = "REMINDER"
    # The owner decided the agency's decline or its request for more time.
    DECISION = "DECISION"


@dataclass(frozen=True)
class Actor:
    """Who acts: an agency and, when a person acted, its officer."""

    agency: str
    officer: str = ""


# The platform itself acts when a clock fires.
PLATFORM = Actor(agency=PLATFORM_ACTOR, officer="clock")


@dataclass
class Clock:
    """A deadline that raises a notice when first missed and escalates when missed again.

    `grace_seconds` is how long after the first miss the second miss falls.
    """

    deadline: datetime
    grace_seconds: float
    misses: int = 0

    @property
    def exhausted(self) -> bool:
        return self.misses >= 2


@dataclass(frozen=True)
class ClockOverrides:
    """Per-dispatch clock durations that replace the playbook's ('' keeps its default).

    Kept on the task so a task sent back after an overruled decline, or re-dispatched
    after an upheld one, gets fresh clocks of the same urgency.
    """

    sign_within: str = ""
    on_scene_within: str = ""
    due_within: str = ""


@dataclass
class Task:
    id: str
    kind: str
    title: str
    assignee: str
    state: TaskState
    dispatched_at: datetime
    sign_by: Clock
    due_by: Clock
    on_scene_by: Clock | None = None
    needs_presence: bool = False
    is_approval: bool = False
    instructions: str = ""
    findings: str = ""
    evidence_refs: list[str] = field(default_factory=list)
    decline_reason: str = ""
    suggested_agency: str = ""
    review_by: Clock | None = None
    review_outcome: ReviewOutcome | None = None
    redispatched_from: str = ""
    bounce_count: int = 0
    extension_pending: bool = False
    extension_requested_due: datetime | None = None
    extension_reason: str = ""
    # Bumps each time the task is sent to its assignee again, so a re-delivery after an
    # overruled decline is a new delivery while a retried one is not.
    round: int = 1
    overrides: ClockOverrides = field(default_factory=ClockOverrides)
    # The latest round that reached the assignee's inbox, and when. While it lags behind
    # `round` the task is undelivered (the agency's service is down, say).
    delivered_round: int = 0
    delivered_at: datetime | None = None

    @property
    def delivered(self) -> bool:
        return self.delivered_round >= self.round

    @property
    def is_terminal(self) -> bool:
        return self.state in (TaskState.DONE, TaskState.WITHDRAWN) or (
            self.state is TaskState.DECLINED and self.review_outcome is ReviewOutcome.UPHELD
        )


@dataclass
class Handoff:
    id: str
    from_agency: str
    to_agency: str
    reason: str
    offered_at: datetime
    expires_at: datetime
    state: HandoffState = HandoffState.PENDING
    ended_at: datetime | None = None
    decline_reason: str = ""


@dataclass
class OwnershipInterval:
    owner: str
    start: datetime
    via: OwnershipVia
    end: datetime | None = None


@dataclass
class Escalation:
    id: str
    reason: str
    raised_at: datetime
    task_id: str = ""
    handoff_id: str = ""
    resolved_at: datetime | None = None
    resolution: str = ""
    phrase: str = ""  # the reason, in the stored form of workflows.rules.phrases


@dataclass(frozen=True)
class ReportRef:
    """A citizen's report (诉求) as the case knows it: what and where, never who.

    The reporter's contact stays with the intake (the gateway's report store); the case,
    its events and everything derived from them carry only this.
    """

    id: str
    channel: str
    service_code: str
    received_at: datetime
    area: str = ""


@dataclass
class Objection:
    """派单异议: the agency made lead disputes it; it stays the owner meanwhile."""

    id: str
    objector: str
    reason: str
    suggested_agency: str
    objected_at: datetime
    decide_by: Clock
    outcome: ObjectionOutcome | None = None
    decided_at: datetime | None = None
    note: str = ""


@dataclass
class CaseEvent:
    """One ledger event. `attributes` carry what analysis needs (assignee, deadlines,
    hand-off parties; keys in `records.event_schema`), `detail` is for people.
    `trace_id`/`span_id` name the request that caused it (empty when a clock did);
    `proofs` are the signed statements that vouch for it (the gateway's seal on the
    command, an agency's signed act or receipt)."""

    sequence: int
    kind: EventKind
    actor: Actor
    at: datetime
    task_id: str = ""
    detail: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    trace_id: str = ""
    span_id: str = ""
    proofs: tuple[str, ...] = ()


@dataclass
class CommandResult:
    """What an accepted command answers. Stored per request id for idempotent retries."""

    case_id: str
    owner: str
    status: CaseStatus
    task_ids: list[str] = field(default_factory=list)
    handoff_id: str = ""


@dataclass
class CaseState:
    id: str
    type: str
    title: str
    description: str
    subject_key: str
    jurisdiction: str
    location: str
    stage: str
    priority: int
    opened_by: Actor
    opened_at: datetime
    owner: str
    legal_line: Clock
    promised_line: Clock
    status: CaseStatus = CaseStatus.OPEN
    closed_at: datetime | None = None
    tasks: list[Task] = field(default_factory=list)
    handoffs: list[Handoff] = field(default_factory=list)
    ownership: list[OwnershipInterval] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)
    notices_sent: int = 0
    # The short number people use (gateway.case_numbers); empty for cases opened before
    # numbers, or by tools that open cases without the gateway.
    number: str = ""
    # The owner's closing summary.
    summary: str = ""
    # The citizens' reports merged into the case (并单), oldest first.
    reports: list[ReportRef] = field(default_factory=list)
    # The answer to the reporters (答复), given at close.
    answer: str = ""
    # The case this one reopens (重办) after a dissatisfied, unsolved rating.
    reopened_from: str = ""
    objections: list[Objection] = field(default_factory=list)
    # "<agency>/<request id>" (rules.case.answer_key) -> (fingerprint, first answer)
    answers: dict[str, tuple[str, CommandResult]] = field(default_factory=dict)
    # The bytes of text the accepted requests brought (limits.check_case_size).
    text_bytes: int = 0
    # The reminders sent, one per clock and deadline (rules.clocks.Reminder.key).
    reminded: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        """How to name the case to a person: its number, or its id if it has none."""
        return self.number or self.id

    @property
    def open_tasks(self) -> list[str]:
        """The tasks that keep the case from closing (事不完，人不走)."""
        return [t.id for t in self.tasks if not t.is_terminal]

    @property
    def pending_objection(self) -> Objection | None:
        return next((o for o in self.objections if o.outcome is None), None)

    def report(self, report_id: str) -> ReportRef | None:
        return next((r for r in self.reports if r.id == report_id), None)

    @property
    def pending_handoff(self) -> Handoff | None:
        return next((h for h in self.handoffs if h.state is HandoffState.PENDING), None)

    def participants(self) -> list[str]:
        """The agencies taking part (`records.participation`'s rule)."""
        return participation.participants(
            opener=self.opened_by.agency,
            owners=(period.owner for period in self.ownership),
            assignees=(task.assignee for task in self.tasks),
            offered=(handoff.to_agency for handoff in self.handoffs))

    def visible_to(self, agency: str, coordinator: str) -> bool:
        return participation.may_see(agency, self.participants(), coordinator=coordinator)

    def task(self, task_id: str) -> Task | None:
        return next((t for t in self.tasks if t.id == task_id), None)
