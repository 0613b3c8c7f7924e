"""The activities a case runs: their names, inputs and retry behaviour.

The workflow refers to activities by name, so the worker can bind the real
implementations (agency gRPC calls, ledger appends) and tests can bind their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

DELIVER_TASK = "deliver_task"
WITHDRAW_TASK = "withdraw_task"
SEND_NOTICE = "send_notice"
RECORD_CASE_EVENTS = "record_case_events"

# An agency that is down must not stall the case: keep retrying with backoff for as long
# as it takes; the idempotency key makes every retry safe.
PATIENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
)
CALL_TIMEOUT = timedelta(seconds=30)


def ledger_refusal(message: str, kind: str) -> ApplicationError:
    """The ledger refused a batch for good (a bug, not an outage): how to say so.

    An append's failure would be in the case's history for good, so it is left
    retryable: the server retries it with backoff, the case's pending activity shows why,
    and a fixed worker's next attempt goes through.
    """
    return ApplicationError(message, type=kind)


@dataclass(frozen=True)
class Received:
    """What a delivery or a notice answers: the attempt that got through (more than one
    means delivery was failing) and the receivers' signed receipts, in order."""

    attempts: int = 1
    receipts: tuple[str, ...] = ()

    @classmethod
    def of(cls, answer: Any) -> Received:
        """From an activity's answer as the history holds it (a JSON object; a
        withdrawal answers nothing)."""
        if isinstance(answer, dict):
            return cls(int(answer.get("attempts", 1)),
                       tuple(str(r) for r in answer.get("receipts", ())))
        return cls()
