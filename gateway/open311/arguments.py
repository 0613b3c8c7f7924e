"""What a call asked, read and bounded: GET Service Requests' filters, and the intake's
refusals said in Open311's terms.

`Refused` is any answer other than the resource: an HTTP status (the spec's error code)
and a description a client can act on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from gateway.open311.fields import MAX_LISTED, STATUSES, WINDOW_DAYS
from gateway.reports.drafts import IntakeError
from gateway.reports.store import ReportFilter
from workflows.rules.report_ops import OPEN311

# The dates a window may name (the platform's records begin in this century).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

# What Open311 publishes: the requests made through it. A call to the hotline was not
# made in public, and its description and address stay with the agencies.
PUBLISHED_CHANNELS = (OPEN311,)

MAX_CODES = 50
MAX_VALUE = 64
# Intake fields by their Open311 names, for the messages a client reads.
_FIELD_NAMES = {"contact_phone": "phone", "contact_email": "email",
                "contact_name": "first_name and last_name", "address": "address_string"}
# An unencoded "+08:00" in a query string arrives as " 08:00".
_OFFSET_AS_SPACE = re.compile(r" (\d\d:?\d\d)$")


class Refused(Exception):
    def __init__(self, status: int, description: str, *,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.headers = status, description, headers or {}


def refusal_of(err: IntakeError) -> Refused:
    """The intake's refusal of a post: 404 for an unknown service (as the spec has it),
    400 for the rest of what the client sent."""
    if err.status == "NOT_FOUND" or err.code == "UNKNOWN_SERVICE":
        status = 404
    else:
        status = 429 if err.status == "RESOURCE_EXHAUSTED" else 400
    if err.code == "NO_LOCATION":
        return Refused(status, "lat and long were not provided: a report is placed by its "
                               "point (address_string alone cannot be placed)")
    name = _FIELD_NAMES.get(err.field)
    if name and err.message.startswith(err.field):
        return Refused(status, name + err.message[len(err.field):])
    return Refused(status, err.message)


def listed(request: Request, name: str, *, limit: int) -> list[str]:
    """A comma-delimited argument (possibly repeated), without blanks or repeats."""
    values = ",".join(request.query_params.getlist(name)).split(",")
    items = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    if len(items) > limit or any(len(v) > MAX_VALUE for v in items):
        raise Refused(400, f"{name}: at most {limit} values of at most {MAX_VALUE} "
                           "characters")
    return items


def moment(request: Request, name: str) -> datetime | None:
    text = request.query_params.get(name, "").strip()
    if not text:
        return None
    try:
        found = datetime.fromisoformat(_OFFSET_AS_SPACE.sub(r"+\1", text[:40]))
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        raise Refused(400, f"{name}: a W3C date and time with its offset, e.g. "
                           "2026-05-01T00:00:00+08:00 or 2026-04-30T16:00:00Z")
    # A window is reckoned from it: keep it where adding 90 days cannot overflow.
    if not EARLIEST <= found.astimezone(UTC) <= LATEST:
        raise Refused(400, f"{name}: between {EARLIEST.year} and {LATEST.year}")
    return found


def listing(request: Request) -> tuple[ReportFilter, list[str]]:
    """GET Service Requests' query, and the statuses asked for ([] for both).

    Ids override every other argument (the spec). Otherwise the window is at most 90
    days: the last 90 by default, 90 from a start or up to an end given alone."""
    ids = listed(request, "service_request_id", limit=MAX_LISTED)
    if ids:
        return ReportFilter(ids=ids, channels=PUBLISHED_CHANNELS, limit=MAX_LISTED), []
    statuses = listed(request, "status", limit=len(STATUSES))
    if set(statuses) - set(STATUSES):
        raise Refused(400, "status: open, closed or both (comma delimited)")
    start, end = moment(request, "start_date"), moment(request, "end_date")
    window = timedelta(days=WINDOW_DAYS)
    end = end or (start + window if start else datetime.now(UTC))
    start = start or end - window
    if not timedelta(0) <= end - start <= window:
        raise Refused(400, f"start_date to end_date: a span of at most {WINDOW_DAYS} days, "
                           "start first")
    codes = listed(request, "service_code", limit=MAX_CODES)
    return ReportFilter(service_codes=codes, start=start, end=end, channels=PUBLISHED_CHANNELS,
                        limit=MAX_LISTED), statuses
