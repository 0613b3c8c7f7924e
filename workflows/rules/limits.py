"""Input limits and the small checks every operation shares."""

from __future__ import annotations

import dataclasses
from typing import Any

from workflows.rules.refusals import Reason, Refusal

MAX_REQUEST_ID = 64
MAX_ID = 64
# A case id: its subject lock and run.
MAX_CASE_ID = 400
# What a delivery, withdrawal or notice is known by at its agency: the case's workflow
# id and what is delivered (`task_ops`, `case`).
MAX_DELIVERY_KEY = 400
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
# What one case may hold, whatever each field's own limit: the case lives in its
# workflow's memory and travels whole to every reader and from one run to the next, and
# Temporal refuses a payload over 2 MiB (JSON writes a Chinese character's three bytes
# as six). Far beyond a real case (a hundred tasks with a page of findings each is two
# fifths of it); past it, long material belongs in the evidence store, referred to.
MAX_CASE_TEXT_BYTES = 512 * 1024
# Accepted requests, likewise: a busy case takes a few hundred. Temporal's own limits
# (2,000 updates in one run) no longer bind, as a long case continues as new
# (workflows.continuation); this keeps what a case hands from one run to the next, its
# request answers and events with the proofs they carry, inside one 2 MiB payload.
MAX_REQUESTS_PER_CASE = 4000


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


def text_bytes(cmd: Any) -> int:
    """The bytes of text a command brings (UTF-8): its strings and lists of them."""
    total = 0
    for item in dataclasses.fields(cmd):
        value = getattr(cmd, item.name)
        if isinstance(value, str):
            total += len(value.encode("utf-8", "surrogatepass"))
        elif isinstance(value, tuple | list):
            total += sum(len(v.encode("utf-8", "surrogatepass")) for v in value
                         if isinstance(v, str))
    return total


def check_case_size(*, requests: int, held_bytes: int, adding: Any, closing: bool
                    ) -> None:
    """Refuse a request that would take a case past what one case may hold; a case that
    took all the requests it may can still be closed (Temporal's own limit leaves room)."""
    most_requests, most_bytes = MAX_REQUESTS_PER_CASE, MAX_CASE_TEXT_BYTES
    if requests >= most_requests and not closing:
        raise Refusal(Reason.CASE_TOO_LARGE,
                      f"the case has taken {requests} requests, as many as one case "
                      "takes; close it and open a follow-up case for what remains")
    adds = text_bytes(adding)
    if held_bytes + adds > most_bytes:
        raise Refusal(Reason.CASE_TOO_LARGE,
                      f"the case holds {held_bytes // 1024} KiB of text and this request "
                      f"adds {adds // 1024 or 1} KiB, past the {most_bytes // 1024} "
                      "KiB one case holds; put long material in the evidence store and "
                      "refer to it")
