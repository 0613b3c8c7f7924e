"""The case worker: runs CaseWorkflow and the activities it is given."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows import request_trace
from workflows.request_trace import RequestTraceInterceptor
from workflows.workflows import CaseWorkflow

# The request-trace interceptor (outside the sandbox) and the workflow (inside) must share
# one module, and so one context variable: importing it "passed through" is not enough
# when its package is itself imported inside the sandbox.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(request_trace.__name__))


def build_worker(client: Client, *, task_queue: str,
                 activities: Sequence[Callable[..., Any]]) -> Worker:
    """A worker for cases. `activities` binds the names in `workflows.activities`."""
    return Worker(client, task_queue=task_queue, workflows=[CaseWorkflow],
                  activities=list(activities), interceptors=[RequestTraceInterceptor()],
                  workflow_runner=SANDBOX)
