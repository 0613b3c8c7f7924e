"""Responsibility as spans: a case's periods and gaps, as OpenTelemetry spans.

Each case is one trace whose id is derived from the case id, so events days apart join
it; each span's id is derived from what it stands for, so exporting it again (a retried
activity) repeats the same span rather than adding one. Spans carry explicit start and
end times from the ledger, and link to the request traces that started and ended them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from observability import attributes as attr
from observability.accountability import CaseReplay, Category, Interval
from records.event_schema import Event

SCOPE = InstrumentationScope("seamless.accountability")
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\n".join(parts).encode()).digest()


def case_trace_id(case_id: str) -> int:
    """The trace id of a case: the same from every process, on every day."""
    return int.from_bytes(_digest("seamless-case-trace", case_id)[:16]) or 1


def _span_id(case_id: str, *key: str) -> int:
    return int.from_bytes(_digest("seamless-span", case_id, *key)[:8]) or 1


def case_span_id(case_id: str) -> int:
    return _span_id(case_id, "case")


def interval_span_id(interval: Interval) -> int:
    if interval.category is Category.CASE:
        return case_span_id(interval.case_id)
    return _span_id(interval.case_id, interval.category.value, interval.name,
                    interval.task_id, interval.ref, str(interval.start_event.sequence),
                    interval.accountable)


def nanos(value: datetime) -> int:
    return int(value.timestamp()) * 1_000_000_000 + value.microsecond * 1_000


def _link(event: Event | None, role: str) -> Link | None:
    if event is None or not event.trace_id or not event.span_id:
        return None
    try:
        context = SpanContext(int(event.trace_id, 16), int(event.span_id, 16), is_remote=True,
                              trace_flags=_SAMPLED)
    except ValueError:
        return None
    return Link(context, {attr.LINK_ROLE: role})


def _name(interval: Interval) -> str:
    if interval.category is Category.GAP:
        return f"gap {interval.name}"
    if interval.category is Category.TASK_PHASE:
        return f"task {interval.task_id} {interval.name}"
    if interval.category is Category.OWNERSHIP:
        return f"owned by {interval.accountable}"
    return "case"


def _attributes(interval: Interval, replay: CaseReplay) -> dict[str, str | bool | int]:
    found: dict[str, str | bool | int] = {
        attr.CASE_ID: interval.case_id, attr.CASE_TYPE: replay.case_type,
        attr.RESPONSIBILITY_KIND: interval.category.value,
        attr.LEDGER_START_SEQUENCE: interval.start_event.sequence}
    if interval.end_event is not None:
        found[attr.LEDGER_END_SEQUENCE] = interval.end_event.sequence
    if interval.category in (Category.CASE, Category.OWNERSHIP):
        found[attr.CASE_OWNER] = interval.accountable
    if interval.task_id:
        found[attr.TASK_ID] = interval.task_id
        found[attr.TASK_ASSIGNEE] = interval.to_agency
    if interval.category is Category.TASK_PHASE:
        found[attr.TASK_PHASE] = interval.name
    if interval.category is Category.GAP:
        found[attr.GAP_KIND] = interval.name
        found[attr.GAP_ACCOUNTABLE] = interval.accountable
        found[attr.GAP_FROM] = interval.from_agency
        found[attr.GAP_TO] = interval.to_agency
        if interval.name == "HANDOFF_PENDING":
            found[attr.HANDOFF_ID] = interval.ref
            found[attr.HANDOFF_FROM] = interval.from_agency
            found[attr.HANDOFF_TO] = interval.to_agency
        if interval.name == "ESCALATION":
            found[attr.ESCALATION_ID] = interval.ref
    if interval.deadline is not None:
        found[attr.DEADLINE_AT] = interval.deadline.isoformat()
        assert interval.end is not None
        found[attr.DEADLINE_BREACHED] = interval.breached(interval.end)
    return found


def to_span(interval: Interval, replay: CaseReplay, resource: Resource) -> ReadableSpan:
    """A finished span for a closed interval."""
    assert interval.end is not None, "only intervals that have ended become spans"
    trace_id = case_trace_id(interval.case_id)
    parent = None if interval.category is Category.CASE else SpanContext(
        trace_id, case_span_id(interval.case_id), is_remote=False, trace_flags=_SAMPLED)
    breached = interval.deadline is not None and interval.breached(interval.end)
    status = Status(StatusCode.ERROR, f"deadline {interval.deadline} breached") if breached \
        else Status(StatusCode.UNSET)
    links = [link for link in (_link(interval.start_event, "start"),
                               _link(interval.end_event, "end")) if link is not None]
    return ReadableSpan(
        name=_name(interval),
        context=SpanContext(trace_id, interval_span_id(interval), is_remote=False,
                            trace_flags=_SAMPLED),
        parent=parent, resource=resource, attributes=_attributes(interval, replay),
        links=links, kind=SpanKind.INTERNAL, status=status, start_time=nanos(interval.start),
        end_time=nanos(interval.end), instrumentation_scope=SCOPE)


def spans_ended_between(replay: CaseReplay, first: int, last: int, resource: Resource
                        ) -> list[ReadableSpan]:
    """Spans for the intervals whose ending event has a sequence in [first, last]."""
    return [to_span(i, replay, resource) for i in replay.intervals
            if i.end_event is not None and first <= i.end_event.sequence <= last]


def replay_case(events: Iterable[Event], case_id: str) -> CaseReplay:
    replay = CaseReplay(case_id, phases=True)
    for event in events:
        replay.feed(event)
    return replay
