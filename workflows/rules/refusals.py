"""Typed refusals: every way the rules can say no, with a stable reason code.

The code is what callers branch on (the workflow turns it into an ApplicationError
type, the gateway into a gRPC status); the message is for a person and says what to do.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # Malformed input: INVALID_ARGUMENT
    MISSING_FIELD = "MISSING_FIELD"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"
    BAD_DURATION = "BAD_DURATION"
    CLOCKS_OUT_OF_ORDER = "CLOCKS_OUT_OF_ORDER"
    DEADLINE_IN_PAST = "DEADLINE_IN_PAST"
    BAD_TIMESTAMP = "BAD_TIMESTAMP"
    BAD_CASE_NUMBER = "BAD_CASE_NUMBER"
    UNKNOWN_AGENCY = "UNKNOWN_AGENCY"
    UNKNOWN_TASK_KIND = "UNKNOWN_TASK_KIND"
    UNKNOWN_STAGE = "UNKNOWN_STAGE"
    UNKNOWN_CASE_TYPE = "UNKNOWN_CASE_TYPE"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    REQUEST_ID_REUSED = "REQUEST_ID_REUSED"
    # Not found (also what a caller sees for things that are not theirs)
    CASE_NOT_FOUND = "CASE_NOT_FOUND"
    TASK_NOT_FOUND = "TASK_NOT_FOUND"
    HANDOFF_NOT_FOUND = "HANDOFF_NOT_FOUND"
    ESCALATION_NOT_FOUND = "ESCALATION_NOT_FOUND"
    REPORT_NOT_FOUND = "REPORT_NOT_FOUND"
    OBJECTION_NOT_FOUND = "OBJECTION_NOT_FOUND"
    # Wrong role: PERMISSION_DENIED
    NOT_OWNER = "NOT_OWNER"
    NOT_ASSIGNEE = "NOT_ASSIGNEE"
    NOT_OFFERED = "NOT_OFFERED"
    NOT_COORDINATOR = "NOT_COORDINATOR"
    LEAD_NOT_ALLOWED = "LEAD_NOT_ALLOWED"
    # A command that did not come through the gateway (no valid seal): nothing changes.
    COMMAND_NOT_SEALED = "COMMAND_NOT_SEALED"
    # State does not allow it: FAILED_PRECONDITION
    CASE_CLOSED = "CASE_CLOSED"
    CASE_CLOSING = "CASE_CLOSING"
    INVALID_TASK_STATE = "INVALID_TASK_STATE"
    MISSING_CAPABILITY = "MISSING_CAPABILITY"
    HANDOFF_TO_SELF = "HANDOFF_TO_SELF"
    HANDOFF_ALREADY_PENDING = "HANDOFF_ALREADY_PENDING"
    HANDOFF_PENDING = "HANDOFF_PENDING"
    ALREADY_OWNER = "ALREADY_OWNER"
    TASKS_OPEN = "TASKS_OPEN"
    NO_EXTENSION_PENDING = "NO_EXTENSION_PENDING"
    EXTENSION_ALREADY_PENDING = "EXTENSION_ALREADY_PENDING"
    ESCALATION_RESOLVED = "ESCALATION_RESOLVED"
    NO_LEAD_IN_MATRIX = "NO_LEAD_IN_MATRIX"
    ANSWER_REQUIRED = "ANSWER_REQUIRED"
    OBJECTION_NOT_ALLOWED = "OBJECTION_NOT_ALLOWED"
    OBJECTION_PENDING = "OBJECTION_PENDING"
    OBJECTION_DECIDED = "OBJECTION_DECIDED"
    # Limits: RESOURCE_EXHAUSTED
    TOO_MANY_TASKS = "TOO_MANY_TASKS"
    TOO_MANY_REPORTS = "TOO_MANY_REPORTS"
    CASE_TOO_LARGE = "CASE_TOO_LARGE"
    # Duplicates: ALREADY_EXISTS
    CASE_ALREADY_OPEN = "CASE_ALREADY_OPEN"


_STATUS_BY_REASON: dict[Reason, str] = {
    **{
        r: "INVALID_ARGUMENT"
        for r in (
            Reason.MISSING_FIELD,
            Reason.TEXT_TOO_LONG,
            Reason.BAD_DURATION,
            Reason.CLOCKS_OUT_OF_ORDER,
            Reason.DEADLINE_IN_PAST,
            Reason.BAD_TIMESTAMP,
            Reason.BAD_CASE_NUMBER,
            Reason.UNKNOWN_AGENCY,
            Reason.UNKNOWN_TASK_KIND,
            Reason.UNKNOWN_STAGE,
            Reason.UNKNOWN_CASE_TYPE,
            Reason.OUT_OF_RANGE,
            Reason.REQUEST_ID_REUSED,
        )
    },
    **{
        r: "NOT_FOUND"
        for r in (Reason.CASE_NOT_FOUND, Reason.TASK_NOT_FOUND, Reason.HANDOFF_NOT_FOUND,
                  Reason.ESCALATION_NOT_FOUND, Reason.REPORT_NOT_FOUND,
                  Reason.OBJECTION_NOT_FOUND)
    },
    **{
        r: "PERMISSION_DENIED"
        for r in (
            Reason.NOT_OWNER,
            Reason.NOT_ASSIGNEE,
            Reason.NOT_OFFERED,
            Reason.NOT_COORDINATOR,
            Reason.LEAD_NOT_ALLOWED,
            Reason.COMMAND_NOT_SEALED,
        )
    },
    Reason.TOO_MANY_TASKS: "RESOURCE_EXHAUSTED",
    Reason.TOO_MANY_REPORTS: "RESOURCE_EXHAUSTED",
    Reason.CASE_TOO_LARGE: "RESOURCE_EXHAUSTED",
    Reason.CASE_ALREADY_OPEN: "ALREADY_EXISTS",
}


def grpc_status_name(reason: Reason) -> str:
    """The canonical gRPC status a refusal maps to (FAILED_PRECONDITION unless listed)."""
    return _STATUS_BY_REASON.get(reason, "FAILED_PRECONDITION")


def is_reason(code: str) -> bool:
    return code in Reason.__members__


class Refusal(Exception):
    """The rules refused a request; nothing was changed."""

    def __init__(self, reason: Reason, message: str, **details: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.details = details

    def __repr__(self) -> str:
        return f"Refusal({self.reason.value}, {self.message!r})"
