"""Which request caused a case event: the caller's trace context, read from Temporal headers.

temporalio's TracingInterceptor carries the W3C trace context of every client call in a
header. The workflow records it on the events a request causes, so a ledger event (and the
accountability spans built from it) links back to the exact calls involved. Headers are
part of the history, so replay reads the very same ids: this stays deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

# The header temporalio.contrib.opentelemetry.TracingInterceptor writes by default.
TRACE_HEADER = "_tracer-data"
NO_TRACE = ("", "")

_update_trace: ContextVar[tuple[str, str]] = ContextVar("seamless_update_trace",
                                                        default=NO_TRACE)


def from_headers(headers: Mapping[str, Payload]) -> tuple[str, str]:
    """(trace id, span id) in hex from the trace header, or NO_TRACE."""
    payload = headers.get(TRACE_HEADER)
    if payload is None:
        return NO_TRACE
    try:
        carrier = PayloadConverter.default.from_payloads([payload])[0]
        _version, trace_id, span_id, _flags = str(carrier["traceparent"]).split("-")
    except (KeyError, TypeError, ValueError):
        return NO_TRACE  # a malformed header must not stop the case
    return trace_id, span_id


def current_update() -> tuple[str, str]:
    """The trace of the update being handled (call from an update handler)."""
    return _update_trace.get()


@contextmanager
def continued(trace_id: str, span_id: str) -> Iterator[None]:
    """Work started inside (an activity, say) continues the request's trace. Attaching a
    context issues no command, so this is as deterministic as the ids it is given."""
    if not trace_id or not span_id:
        yield
        return
    try:
        parent = SpanContext(int(trace_id, 16), int(span_id, 16), is_remote=True,
                             trace_flags=TraceFlags(TraceFlags.SAMPLED))
    except ValueError:
        yield
        return
    token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(parent),
                                                          otel_context.get_current()))
    try:
        yield
    finally:
        otel_context.detach(token)


def workflow_start() -> tuple[str, str]:
    """The trace of the call that started this workflow."""
    return from_headers(workflow.info().headers)


class RequestTraceInterceptor(Interceptor):
    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput
                                   ) -> type[WorkflowInboundInterceptor]:
        return _UpdateTraceInbound


class _UpdateTraceInbound(WorkflowInboundInterceptor):
    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        # The handler runs in this same asyncio task, so it sees this value.
        token = _update_trace.set(from_headers(input.headers))
        try:
            return await super().handle_update_handler(input)
        finally:
            _update_trace.reset(token)
