"""The bare baseline: the same case shape on the same Temporal server, without Seamless.

One workflow per case with the same updates (open with start, dispatch, sign, complete,
close), the same background loops (a local activity recording each batch of changes, a
regular activity delivering each task into an inbox database) and nothing else: no
rules, no ledger, no tracing, no gateway, no agency services. Whatever Seamless costs on
top of this is the platform.

`python -m bench.baseline --temporal HOST:PORT --inbox FILE` runs its worker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from bench.inbox_watch import InboxWatch

TASK_QUEUE = "bench-baseline"
ACTIVITY_TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True)
class BareCommand:
    request_id: str
    task_id: str = ""
    kind: str = ""
    assignee: str = ""


@dataclass(frozen=True)
class BareDelivery:
    case_id: str
    task_id: str
    assignee: str


@workflow.defn(name="BareCase")
class BareCase:
    @workflow.init
    def __init__(self, subject: str) -> None:
        self._tasks: dict[str, str] = {}
        self._unrecorded = 0
        self._deliveries: list[BareDelivery] = []
        self._closed = False

    @workflow.run
    async def run(self, subject: str) -> int:
        recorder = asyncio.create_task(self._record_changes())
        deliverer = asyncio.create_task(self._deliver())
        await workflow.wait_condition(lambda: self._closed and workflow.all_handlers_finished())
        await recorder
        await deliverer
        return len(self._tasks)

    async def _record_changes(self) -> None:
        while True:
            await workflow.wait_condition(lambda: self._unrecorded > 0 or self._closed)
            if self._unrecorded:
                self._unrecorded = 0
                await workflow.execute_local_activity(
                    record_changes, start_to_close_timeout=ACTIVITY_TIMEOUT)
            if self._closed and not self._unrecorded:
                return

    async def _deliver(self) -> None:
        running: list[asyncio.Task[None]] = []
        while True:
            await workflow.wait_condition(lambda: bool(self._deliveries) or self._closed)
            for delivery in self._deliveries:
                running.append(asyncio.create_task(workflow.execute_activity(
                    deliver_task, delivery, start_to_close_timeout=ACTIVITY_TIMEOUT,
                    activity_id=f"deliver-{delivery.task_id}")))
            self._deliveries.clear()
            if self._closed:
                await asyncio.gather(*running)
                return

    def _changed(self) -> None:
        self._unrecorded += 1

    @workflow.update
    def open(self, cmd: BareCommand) -> str:
        self._changed()
        return workflow.info().workflow_id

    @workflow.update
    def dispatch(self, cmd: BareCommand) -> str:
        task_id = f"T{len(self._tasks) + 1}"
        self._tasks[task_id] = "DISPATCHED"
        self._deliveries.append(BareDelivery(workflow.info().workflow_id, task_id,
                                             cmd.assignee))
        self._changed()
        return task_id

    @workflow.update
    def sign(self, cmd: BareCommand) -> None:
        self._tasks[cmd.task_id] = "SIGNED"
        self._changed()

    @workflow.update
    def complete(self, cmd: BareCommand) -> None:
        self._tasks[cmd.task_id] = "DONE"
        self._changed()

    @workflow.update
    def close(self, cmd: BareCommand) -> None:
        self._closed = True
        self._changed()


@activity.defn
async def record_changes() -> None:
    """Stands in for the ledger append: the local activity itself, doing nothing."""


class Inbox:
    """One SQLite inbox for every assignee, set up as the agencies' databases are."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, check_same_thread=False, timeout=5.0)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute(
            "CREATE TABLE IF NOT EXISTS inbox_item (id INTEGER PRIMARY KEY, "
            "assignee TEXT, case_id TEXT, task_id TEXT, delivered_at TEXT, "
            "UNIQUE (case_id, task_id))")

    def store(self, delivery: BareDelivery) -> None:
        with self._connection:
            self._connection.execute(
                "INSERT OR IGNORE INTO inbox_item (assignee, case_id, task_id, delivered_at)"
                " VALUES (?, ?, ?, ?)", (delivery.assignee, delivery.case_id,
                                         delivery.task_id, datetime.now(UTC).isoformat()))


_inbox: Inbox | None = None


@activity.defn
async def deliver_task(delivery: BareDelivery) -> None:
    assert _inbox is not None
    await asyncio.to_thread(_inbox.store, delivery)


class BaselineApi:
    """The `CaseApi` of the baseline: the load generator calls Temporal directly."""

    def __init__(self, client: Client, watch: InboxWatch, run: str) -> None:
        self._client = client
        self._watch = watch
        self._run = run

    async def open(self, subject: str) -> str:
        command = BareCommand(request_id=f"open-{subject}")
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
        return await self._watch.arrival("baseline", case_id, task_id)

    async def sign(self, case_id: str, task_id: str, assignee: str) -> None:
        await self._client.get_workflow_handle(case_id).execute_update(
            BareCase.sign, BareCommand(f"sign-{task_id}", task_id=task_id))

    async def complete(self, case_id: str, task_id: str, assignee: str) -> None:
        await self._client.get_workflow_handle(case_id).execute_update(
            BareCase.complete, BareCommand(f"complete-{task_id}", task_id=task_id))

    async def close(self, case_id: str) -> None:
        await self._client.get_workflow_handle(case_id).execute_update(
            BareCase.close, BareCommand("close"))


async def serve(temporal: str, inbox: Path) -> None:
    global _inbox
    _inbox = Inbox(inbox)
    client = await Client.connect(temporal)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[BareCase],
                      activities=[record_changes, deliver_task]):
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--temporal", required=True)
    parser.add_argument("--inbox", required=True, type=Path)
    args = parser.parse_args()
    asyncio.run(serve(args.temporal, args.inbox))
    # As every process that used the Temporal client (sdk-python issue 300).
    os._exit(0)


if __name__ == "__main__":
    main()
