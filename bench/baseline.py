"""The two baselines: the same case shape on the same Temporal server, without Seamless.

*Minimal* (`BareCase`): one workflow per case with the same updates (open with start,
dispatch, sign, complete, close), the same background loops (a local activity, doing
nothing, after each batch of changes; a regular activity delivering each task into an
inbox database in this process; one timer for the earliest of the same clocks) and
nothing else. Its "ledger" runs before its workflow task commits, the pattern Seamless
dropped for correctness, and writes nothing: it is Temporal's floor, not the same work.

*Durable* (`DurableCase`, bench/durable_workflow.py): the same durable work as Seamless
(validators, request ids, search attributes, a hash-chained ledger row per event written
by a regular activity, deliveries over gRPC to a receiving process per agency with its
own database), without Seamless's rules, trust, tracing, gateway or agency services.
Whatever Seamless costs on top of it is the platform.

`python -m bench.baseline --temporal HOST:PORT --inbox FILE` runs the minimal worker;
`--durable --ledger FILE --receivers AGENCY=INBOX,...` the durable one.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import time
from pathlib import Path

from temporalio import activity
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from bench import durable_activities
from bench.baseline_receiver import Inbox
from bench.baseline_workflow import (
    DELIVER_TASK,
    RECORD_CHANGES,
    TASK_QUEUE,
    BareCase,
    BareCommand,
    BareDelivery,
)
from bench.durable_workflow import DURABLE_TASK_QUEUE, DurableCase
from bench.inbox_watch import InboxWatch
from workflows import type_hints
from workflows.worker import NON_STICKY_RATIO, PRODUCTION_RUNNER, WORKFLOW_POLLS


@activity.defn(name=RECORD_CHANGES)
async def record_changes() -> None:
    """Stands in for the ledger append: the local activity itself, doing nothing."""


_inbox: Inbox | None = None


@activity.defn(name=DELIVER_TASK)
async def deliver_task(delivery: BareDelivery) -> None:
    assert _inbox is not None
    await asyncio.to_thread(_inbox.store, delivery.assignee, delivery.case_id,
                            delivery.task_id)


class BaselineApi:
    """The `CaseApi` of a baseline: the load generator calls Temporal directly. Both
    baselines' workflows take the same updates by the same names."""

    def __init__(self, client: Client, watch: InboxWatch, run: str, *,
                 durable: bool = False) -> None:
        self._client = client
        self._watch = watch
        self._run = run
        self._durable = durable

    async def open(self, subject: str) -> str:
        command = BareCommand(request_id=f"open-{subject}")
        if self._durable:
            return await self._client.execute_update_with_start_workflow(
                DurableCase.open, command, start_workflow_operation=WithStartWorkflowOperation(
                    DurableCase.run, subject, id=f"durable-{self._run}-{subject}",
                    task_queue=DURABLE_TASK_QUEUE,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING))
        start = WithStartWorkflowOperation(
            BareCase.run, subject, id=f"bare-{self._run}-{subject}", task_queue=TASK_QUEUE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
        return await self._client.execute_update_with_start_workflow(
            BareCase.open, command, start_workflow_operation=start)

    async def dispatch(self, case_id: str, kind: str, assignee: str) -> str:
        return await self._client.get_workflow_handle(case_id).execute_update(
            BareCase.dispatch, BareCommand(f"dispatch-{time.perf_counter_ns()}", kind=kind,
                                           assignee=assignee))

    async def in_inbox(self, case_id: str, task_id: str, assignee: str) -> float:
        inbox = f"durable/{assignee}" if self._durable else "baseline"
        return await self._watch.arrival(inbox, case_id, task_id)

    async def sign(self, case_id: str, task_id: str, assignee: str) -> None:
        await self._client.get_workflow_handle(case_id).execute_update(
            BareCase.sign, BareCommand(f"sign-{task_id}", task_id=task_id))

    async def complete(self, case_id: str, task_id: str, assignee: str) -> None:
        await self._client.get_workflow_handle(case_id).execute_update(
            BareCase.complete, BareCommand(f"complete-{task_id}", task_id=task_id))

    async def close(self, case_id: str) -> None:
        await self._client.get_workflow_handle(case_id).execute_update(
            BareCase.close, BareCommand("close"))


async def serve(args: argparse.Namespace) -> None:
    global _inbox
    # The speed-ups Seamless's worker has, so the baseline is not slower than it need be.
    type_hints.cache_converter_type_hints()
    client = await Client.connect(args.temporal)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if args.durable:
        activities = durable_activities.DurableActivities(args.ledger, dict(
            pair.split("=", 1) for pair in args.receivers.split(",")))
        worker = Worker(client, task_queue=DURABLE_TASK_QUEUE, workflows=[DurableCase],
                        activities=[activities.record_events, activities.deliver],
                        workflow_runner=PRODUCTION_RUNNER,
                        workflow_task_poller_behavior=WORKFLOW_POLLS,
                        nonsticky_to_sticky_poll_ratio=NON_STICKY_RATIO)
    else:
        _inbox = Inbox(args.inbox)
        worker = Worker(client, task_queue=TASK_QUEUE, workflows=[BareCase],
                        activities=[record_changes, deliver_task],
                        workflow_runner=PRODUCTION_RUNNER,
                        workflow_task_poller_behavior=WORKFLOW_POLLS,
                        nonsticky_to_sticky_poll_ratio=NON_STICKY_RATIO)
    async with worker:
        Path(args.ready).touch()
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--temporal", required=True)
    parser.add_argument("--ready", required=True, help="a file to create once polling")
    parser.add_argument("--inbox", type=Path, help="the minimal baseline's inbox")
    parser.add_argument("--durable", action="store_true")
    parser.add_argument("--ledger", type=Path, help="the durable baseline's ledger")
    parser.add_argument("--receivers", default="",
                        help="AGENCY=INBOX,...: each agency's receiving process, by the "
                             "inbox it serves")
    args = parser.parse_args()
    gc.freeze()  # as the platform's services do
    asyncio.run(serve(args))
    # As every process that used the Temporal client (sdk-python issue 300).
    os._exit(0)


if __name__ == "__main__":
    main()
