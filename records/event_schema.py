"""What a ledger event is: its kinds, the names of its structured attributes, and the
event as every reader reads it (`Event`).

The workflow records events with these names; the ledger, span derivation, gap analysis
and exports read them. Times are ISO 8601 in UTC; a missing key means "does not apply".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

# The platform itself, as the actor of what its clocks and deliveries record, and as
# the accountable party while a delivery is failing. No agency may take this id.
PLATFORM_ACTOR = "seamless"


class EventKind(StrEnum):
    OPENED = "OPENED"
    TASK_DISPATCHED = "TASK_DISPATCHED"
    TASK_DELIVERED = "TASK_DELIVERED"
    TASK_SIGNED = "TASK_SIGNED"
    TASK_ON_SCENE = "TASK_ON_SCENE"
    TASK_DONE = "TASK_DONE"
    TASK_DECLINED = "TASK_DECLINED"
    DECLINE_REVIEWED = "DECLINE_REVIEWED"
    EXTENSION_REQUESTED = "EXTENSION_REQUESTED"
    EXTENSION_DECIDED = "EXTENSION_DECIDED"
    TASK_WITHDRAWN = "TASK_WITHDRAWN"
    DEEMED_CONSENT = "DEEMED_CONSENT"
    NOTICE = "NOTICE"
    ESCALATION = "ESCALATION"
    ESCALATION_RESOLVED = "ESCALATION_RESOLVED"
    HANDOFF_OFFERED = "HANDOFF_OFFERED"
    HANDOFF_ACCEPTED = "HANDOFF_ACCEPTED"
    HANDOFF_DECLINED = "HANDOFF_DECLINED"
    HANDOFF_WITHDRAWN = "HANDOFF_WITHDRAWN"
    HANDOFF_EXPIRED = "HANDOFF_EXPIRED"
    OWNER_ASSIGNED = "OWNER_ASSIGNED"
    CLOSED = "CLOSED"
    LINE_MISSED = "LINE_MISSED"
    # Every recipient of a notice has it: their signed receipts are the event's proofs.
    NOTICE_DELIVERED = "NOTICE_DELIVERED"
    # 并单: a citizen's report joined the case, or was split off it again.
    REPORT_ATTACHED = "REPORT_ATTACHED"
    REPORT_DETACHED = "REPORT_DETACHED"
    # 派单异议: the lead disputes the dispatch; the coordinator decides.
    LEAD_OBJECTED = "LEAD_OBJECTED"
    OBJECTION_DECIDED = "OBJECTION_DECIDED"
    # 回访/评价: a reporter's rating after close (a chain of its own, see RATING_CHAIN).
    REPORT_RATED = "REPORT_RATED"


# OPENED
CASE_TYPE = "case_type"
# The case number (absent for cases opened before numbers)
CASE_NUMBER = "case_number"
LEGAL_BY = "legal_by"
PROMISED_BY = "promised_by"
COORDINATOR = "coordinator"
# OPENED (the lead) and OWNER_ASSIGNED (the new owner)
OWNER = "owner"
# TASK_DISPATCHED, and DECLINE_REVIEWED when an overruled task goes back with new clocks
ASSIGNEE = "assignee"
TASK_KIND = "task_kind"
SIGN_BY = "sign_by"
ON_SCENE_BY = "on_scene_by"
DUE_BY = "due_by"  # also EXTENSION_DECIDED (granted) and DEEMED_CONSENT (issue by)
REDISPATCHED_FROM = "redispatched_from"
ROUND = "round"  # also TASK_DELIVERED
# TASK_DELIVERED: how many tries the delivery took; more than one means it was failing
ATTEMPTS = "attempts"
# TASK_DECLINED
REVIEW_BY = "review_by"
SUGGESTED = "suggested_agency"
# DECLINE_REVIEWED: UPHELD or OVERRULED; EXTENSION_DECIDED: "true"/"false"
OUTCOME = "outcome"
GRANTED = "granted"
# HANDOFF_* (and OWNER_ASSIGNED, when it supersedes a pending offer)
HANDOFF_ID = "handoff_id"
FROM_AGENCY = "from_agency"
TO_AGENCY = "to_agency"
EXPIRES_AT = "expires_at"
# ESCALATION, ESCALATION_RESOLVED
ESCALATION_ID = "escalation_id"
# LINE_MISSED: "legal" or "promised"
LINE = "line"
# NOTICE_DELIVERED: which notice (its idempotency key), to whom (comma-separated), and
# the task it is about, if any
NOTICE = "notice"
RECIPIENTS = "recipients"
NOTICE_TASK = "notice_task"


# Any event: what it says, as a phrase of workflows.rules.phrases in its stored form
# (the detail is its English); absent where the detail is a person's words alone.
PHRASE = "phrase"

# OPENED: the case this one reopens (重办)
REOPENED_FROM = "reopened_from"
# OPENED: "true" when the case keeps its rows in the read model (observability.projection)
LISTED = "listed"
# REPORT_ATTACHED, REPORT_DETACHED, REPORT_RATED: the report (never its reporter)
REPORT_ID = "report_id"
CHANNEL = "channel"
SERVICE_CODE = "service_code"
AREA = "area"
# REPORT_ATTACHED: "true" when a person merged it, not the subject match
BY_HAND = "by_hand"
# CLOSED: "true" when the case answered its reporters (答复)
ANSWERED = "answered"
# LEAD_OBJECTED, OBJECTION_DECIDED (also COORDINATOR, SUGGESTED, OUTCOME, OWNER)
OBJECTION_ID = "objection_id"
DECIDE_BY = "decide_by"
# REPORT_RATED: the case rated, its type and lead, solved "true"/"false", the
# satisfaction (the reopened case names the old one: OPENED's REOPENED_FROM)
RATED_CASE = "rated_case"
SOLVED = "solved"
SATISFACTION = "satisfaction"


class Satisfaction(StrEnum):
    """A reporter's satisfaction, as REPORT_RATED records it."""

    SATISFIED = "SATISFIED"  # 满意
    BASICALLY_SATISFIED = "BASICALLY_SATISFIED"  # 基本满意
    DISSATISFIED = "DISSATISFIED"  # 不满意


def reopens(solved: bool, satisfaction: Satisfaction | str) -> bool:
    """重办: a rating neither solved nor satisfied reopens the matter as a new case."""
    return not solved and satisfaction == Satisfaction.DISSATISFIED


def rating_chain(report_id: str) -> str:
    """The ledger chain of a report's rating: one event, recorded after its case has
    closed (a closed case's own chain takes no more events)."""
    return f"rating:{report_id}"


def timestamp(value: datetime) -> str:
    """The one text form of a time in event attributes."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(slots=True)
class Event:
    """A ledger event as analysis reads it; treat it as read-only.

    Not `frozen`: a frozen dataclass sets each field through object.__setattr__, which made
    building an event five times dearer, a second per million events read.
    """

    case_id: str
    sequence: int
    kind: str
    actor: str
    at: datetime
    task_id: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    trace_id: str = ""
    span_id: str = ""
    # The person who acted for `actor` ('' for the platform's clocks).
    officer: str = ""
