"""What the worker makes of a payload the platform did not seal.

The engine's codec (`workflows.envelopes`) opens what the gateway and the worker sealed.
Anything else reaching the worker (a start, an update or an activity sent by hand or by
a foreign worker, a payload changed in the engine's database) must change nothing, yet
must not fail the worker's task either: a payload that cannot be decoded fails the
whole workflow task, again and again, and would jam the case it was sent to. So the
codec hands such a payload on as an `Unopened` value, whatever type was expected, and
each door refuses it: a case's start ends at once, an update's seal does not hold, an
activity fails for good without running. An activity's input that does open runs only
for the run that asked for it (its `asked_by_run`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio import activity
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    CompositePayloadConverter,
    DefaultPayloadConverter,
    EncodingPayloadConverter,
)
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from workflows.rules.refusals import Reason

UNOPENED_ENCODING = "binary/seamless-unopened"


@dataclass(frozen=True)
class Unopened:
    """A payload the platform did not seal, and why it did not open."""

    reason: str


def unopened_payload(reason: str) -> Payload:
    return Payload(metadata={"encoding": UNOPENED_ENCODING.encode()}, data=reason.encode())


class _UnopenedConverter(EncodingPayloadConverter):
    @property
    def encoding(self) -> str:
        return UNOPENED_ENCODING

    def to_payload(self, value: Any) -> Payload | None:
        return unopened_payload(value.reason) if isinstance(value, Unopened) else None

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        return Unopened(payload.data.decode("utf-8", "replace"))


class PlatformPayloadConverter(CompositePayloadConverter):
    """Temporal's default converters, and `Unopened` for any payload that did not open."""

    def __init__(self) -> None:
        super().__init__(_UnopenedConverter(),
                         *DefaultPayloadConverter.default_encoding_payload_converters)


def refusal(value: Unopened) -> str:
    return f"command refused: its payload was not sealed by the platform ({value.reason})"


class RefuseUnopened(Interceptor):
    """The worker's activities run only on what the platform sealed."""

    def intercept_activity(self, next: ActivityInboundInterceptor
                           ) -> ActivityInboundInterceptor:
        return _RefusingInbound(next)


class _RefusingInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        for arg in input.args:
            if isinstance(arg, Unopened):
                raise ApplicationError(
                    f"{refusal(arg)}; activity {info.activity_type} of "
                    f"{info.workflow_id} did not run", type=Reason.COMMAND_NOT_SEALED.value,
                    non_retryable=True)
            # A genuine input opens in any run of its workflow id (a closed case's id is
            # free for anyone to start under): it runs only for the run that asked.
            asked_by = getattr(arg, "asked_by_run", "")
            if asked_by and asked_by != info.workflow_run_id:
                raise ApplicationError(
                    f"command refused: its payload was asked for by another run "
                    f"({asked_by[:40]}) of {info.workflow_id}; activity "
                    f"{info.activity_type} did not run", type=Reason.COMMAND_NOT_SEALED.value,
                    non_retryable=True)
        return await super().execute_activity(input)
