"""The case worker: runs CaseWorkflow and the activities it is given."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from workflows.request_trace import RequestTraceInterceptor
from workflows.workflows import CaseWorkflow


def build_worker(client: Client, *, task_queue: str,
                 activities: Sequence[Callable[..., Any]]) -> Worker:
    """A worker for cases. `activities` binds the names in `workflows.activities`."""
    return Worker(client, task_queue=task_queue, workflows=[CaseWorkflow],
                  activities=list(activities), interceptors=[RequestTraceInterceptor()])
