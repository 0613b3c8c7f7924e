"""Input limits and the small checks every operation shares."""

from __future__ import annotations

from workflows.rules.refusals import Reason, Refusal

MAX_REQUEST_ID = 64
MAX_ID = 64
# A case id: its subject lock and run (gateway.commands.MAX_CASE_ID likewise).
MAX_CASE_ID = 400
MAX_OFFICER = 64
MAX_SUBJECT = 128
MAX_TITLE = 200
MAX_LOCATION = 200
MAX_TEXT = 4000
MAX_REASON = 1000
MAX_EVIDENCE_REFS = 50
MAX_EVIDENCE_REF = 512
MAX_TASKS_PER_CASE = 100
# A busy subject (a quarry that a whole village calls about) draws many reports; past
# this the hotline merges by hand into a new case.
MAX_REPORTS_PER_CASE = 500
MAX_ANSWER = 2000


def check_text(field: str, value: str, limit: int, *, required: bool = False) -> None:
    """Refuse a missing required field or one longer than `limit` characters."""
    if required and not value.strip():
        raise Refusal(Reason.MISSING_FIELD, f"{field} is required", field=field)
    if len(value) > limit:
        raise Refusal(
            Reason.TEXT_TOO_LONG,
            f"{field} is {len(value)} characters; the limit is {limit}",
            field=field,
        )
