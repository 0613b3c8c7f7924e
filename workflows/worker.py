"""The case worker: runs CaseWorkflow and the activities it is given."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.request_trace import RequestTraceInterceptor
from workflows.workflows import CaseWorkflow

# Every module is passed through: the sandbox still refuses non-deterministic calls, but
# no longer re-imports the modules it may share for each new case, which took about a
# tenth of the worker's time. Everything the workflow imports is deterministic code or
# already passed through. Passing through also lets the request-trace interceptor
# (outside the sandbox) and the workflow (inside) share one module and so one context
# variable.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_all_modules())


def build_worker(client: Client, *, task_queue: str,
                 activities: Sequence[Callable[..., Any]]) -> Worker:
    """A worker for cases. `activities` binds the names in `workflows.activities`."""
    return Worker(client, task_queue=task_queue, workflows=[CaseWorkflow],
                  activities=list(activities), interceptors=[RequestTraceInterceptor()],
                  workflow_runner=SANDBOX)
