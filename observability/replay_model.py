"""What a case's replay is made of: the intervals it yields (periods, phases and gaps,
each naming the agency accountable), the tasks it follows, and what the hotline's
figures count (reports, objections to the lead, ratings, each task's outcome).
`observability.accountability.CaseReplay` makes them from the ledger alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from records import event_schema as schema
from records.event_schema import Event

# Who is accountable while a delivery is failing: the platform itself.
PLATFORM = schema.PLATFORM_ACTOR
# The chains of reporters' ratings: `rating:<report>@<run>`.
RATING_CHAIN_PREFIX = schema.rating_chain("")


def is_rating_chain(chain_id: str) -> bool:
    """Whether a ledger chain is a reporter's rating rather than a case."""
    return chain_id.startswith(RATING_CHAIN_PREFIX)


class Category(StrEnum):
    CASE = "case"
    OWNERSHIP = "ownership"
    TASK_PHASE = "task_phase"
    GAP = "gap"


class GapKind(StrEnum):
    HANDOFF_PENDING = "HANDOFF_PENDING"
    DISPATCH_UNSIGNED = "DISPATCH_UNSIGNED"
    ARRIVAL_PENDING = "ARRIVAL_PENDING"
    OVERDUE = "OVERDUE"
    DECLINE_REVIEW = "DECLINE_REVIEW"
    ESCALATION = "ESCALATION"
    LEAD_OBJECTION = "LEAD_OBJECTION"


# OBJECTION_DECIDED's outcomes: the dispatch stood (the objector keeps the case), or the
# case went to another lead.
UPHELD, REASSIGNED = "UPHELD", "REASSIGNED"


@dataclass(slots=True)
class Interval:
    """A span of responsibility: the case, an ownership period, a task phase or a gap."""

    case_id: str
    category: Category
    name: str  # the gap kind, the phase, or "ownership"/"case"
    start: datetime
    accountable: str
    start_event: Event
    end: datetime | None = None
    end_event: Event | None = None
    task_id: str = ""
    from_agency: str = ""
    to_agency: str = ""
    deadline: datetime | None = None
    ref: str = ""  # the hand-off or escalation id

    def closed_by(self, event: Event) -> None:
        self.end, self.end_event = event.at, event

    def breached(self, now: datetime) -> bool:
        if self.deadline is None:
            return False
        return (self.end or now) >= self.deadline

    def seconds(self, now: datetime) -> float:
        return ((self.end or now) - self.start).total_seconds()


@dataclass(slots=True)
class ReplayedTask:
    """A task as the replay follows it: its clocks and the gaps and phase now open."""

    id: str
    assignee: str
    dispatcher: str
    sign_by: datetime
    due_by: datetime
    on_scene_by: datetime | None
    # The latest event of the task: the cause a gap found at the end of a replay names.
    latest: Event
    state: str = "DISPATCHED"
    unsigned: Interval | None = None
    arrival: Interval | None = None
    overdue: Interval | None = None
    review: Interval | None = None
    phase: Interval | None = None

    @property
    def active(self) -> bool:
        return self.state in ("DISPATCHED", "SIGNED", "ON_SCENE", "DEEMED_CONSENT")


@dataclass(frozen=True, slots=True)
class CaseReport:
    """A report on the case (并单), as the ledger names it: never its reporter."""

    report_id: str
    channel: str
    service_code: str
    area: str  # "" when the report named none
    attached_at: datetime


@dataclass(slots=True)
class LeadObjection:
    """An objection to leading the case (派单异议) and, once decided, its outcome."""

    id: str
    objector: str
    coordinator: str
    raised_at: datetime
    decide_by: datetime | None
    outcome: str = ""  # UPHELD or REASSIGNED once decided
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Rating:
    """A reporter's rating of a closed case: the event of a rating chain."""

    report_id: str
    rated_case: str
    case_type: str
    # The agency that led the case when it closed: the one rated.
    owner: str
    solved: bool
    satisfaction: str
    at: datetime
    # The hotline that recorded it.
    recorded_by: str

    @property
    def reopened(self) -> bool:
        """Whether it reopened the matter (重办): the rule decides, the reopened case
        follows from the rating."""
        return schema.reopens(self.solved, self.satisfaction)


def attribute_time(attributes: dict[str, str], key: str) -> datetime | None:
    """An event's time attribute, or None when missing or not a time."""
    text = attributes.get(key)
    try:
        return schema.parse_time(text) if text else None
    except ValueError:
        return None  # an edited ledger; `verify` names the event


@dataclass(slots=True)
class TaskOutcome:
    """One round of a task at its assignee, as scorecards judge it."""

    assignee: str
    dispatched_at: datetime
    sign_by: datetime
    on_scene_by: datetime | None
    due_by: datetime
    signed_at: datetime | None = None
    arrived_at: datetime | None = None
    done_at: datetime | None = None
    declined: bool = False
    withdrawn: bool = False
    # Judgements: True on time, False late, None not (yet) judged.
    signed_on_time: bool | None = None
    arrived_on_time: bool | None = None
    done_on_time: bool | None = None

    def settle(self, now: datetime) -> None:
        ended = self.declined or self.withdrawn
        self.signed_on_time = _judge(self.signed_at, self.sign_by, now, ended)
        if self.on_scene_by is not None:
            self.arrived_on_time = _judge(self.arrived_at, self.on_scene_by, now, ended)
        self.done_on_time = _judge(self.done_at, self.due_by, now, ended)


def _judge(when: datetime | None, deadline: datetime, now: datetime, ended: bool
           ) -> bool | None:
    if when is not None:
        return when < deadline
    if ended:
        return None  # it went back or was taken away before this clock was kept or missed
    return False if now >= deadline else None
