"""The case worker: runs CaseWorkflow and the activities it is given."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import (
    PollerBehaviorSimpleMaximum,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.case_workflow import CaseWorkflow
from workflows.ratings import RatingWorkflow
from workflows.request_trace import RequestTraceInterceptor
from workflows.seals import SealCheck, SealVerifier
from workflows.unopened import RefuseUnopened

# The sandbox re-imports, for every new case, each module it does not pass through.
#
# CHECKING_SANDBOX keeps the workflow's own module sandboxed, so a non-deterministic call
# written there (datetime.now(), random) is refused; what it imports is passed through:
# deterministic rules and encoders, and libraries with no workflow code. Every test
# that runs a case runs it this way.
#
# PRODUCTION_RUNNER, for the production worker, runs cases without a sandbox. Even one
# that passes every module through (as the production worker ran before) enters the
# sandbox for every call into a case, the SDK's six visits of each payload of each
# workflow task included, and checks every import and builtin call on the way: a
# quarter of the worker's CPU per case (0.189 s against 0.146 s, and 3.5 against 4.2
# joint cases a second, measured side by side). The checks on the workflow's code are
# the test suite's, which runs every path of it under CHECKING_SANDBOX.
#
# The checking sandbox passes the request-trace and seal modules through, so their
# interceptors (outside the sandbox) and the workflow (inside) share their context
# variables; `workflows.unopened`, whose values the codec makes outside; and the
# libraries that check a seal, whose native code cannot be loaded twice.
PASSED_THROUGH = ("seamless", "observability", "workflows.rules", "workflows.to_proto",
                  "workflows.projection",
                  "workflows.activities", "workflows.request_trace", "workflows.seals",
                  "workflows.search", "workflows.type_hints", "workflows.unopened", "trust",
                  "jwt",
                  "cryptography", "google.protobuf", "opentelemetry", "pydantic",
                  "pydantic_core", "yaml", "sqlalchemy", "sqlmodel", "grpc")
CHECKING_SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH))
PRODUCTION_RUNNER = UnsandboxedWorkflowRunner()


# How the worker polls for workflow tasks. By default one poll in five goes to the shared
# queue, where a new case's first task arrives: a case opened while that one poll was
# busy waited for the next, and opens showed it in their tail. Half the polls wait there.
WORKFLOW_POLLS = PollerBehaviorSimpleMaximum(10)
NON_STICKY_RATIO = 0.5
# How long a case's next workflow task waits on this worker's own (sticky) queue before
# any worker may take it. A worker that crashed leaves its cases' tasks there: a clock
# that fired meanwhile waited Temporal's default 10 s more after a new worker was up
# (the fault suite measured it). A task moved on costs a replay of the case's history,
# milliseconds; a clock that late is what an officer would notice.
STICKY_WAIT = timedelta(seconds=3)


def build_worker(client: Client, *, task_queue: str,
                 activities: Sequence[Callable[..., Any]], seals: SealVerifier,
                 runner: WorkflowRunner = CHECKING_SANDBOX) -> Worker:
    """A worker for cases. `activities` binds the names in `workflows.activities`;
    `seals` checks that every command came through the gateway, and no activity runs
    on a payload the platform did not seal (`workflows.unopened`); `runner` runs the
    cases (the checking sandbox unless told otherwise)."""
    return Worker(client, task_queue=task_queue, workflows=[CaseWorkflow, RatingWorkflow],
                  activities=list(activities),
                  interceptors=[RequestTraceInterceptor(), SealCheck(seals, task_queue),
                                RefuseUnopened()],
                  workflow_runner=runner, workflow_task_poller_behavior=WORKFLOW_POLLS,
                  nonsticky_to_sticky_poll_ratio=NON_STICKY_RATIO,
                  sticky_queue_schedule_to_start_timeout=STICKY_WAIT)
