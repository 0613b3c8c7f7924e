"""The activities a case runs: their names, inputs and retry behaviour.

The workflow refers to activities by name, so the worker can bind the real
implementations (agency gRPC calls, ledger appends) and tests can bind their own.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

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
