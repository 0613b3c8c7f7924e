"""The baseline's workflow: the shape of a Seamless case and nothing else (see
bench/baseline.py). Its worker runs it in the same sandbox as Seamless's production
worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow

TASK_QUEUE = "bench-baseline"
RECORD_CHANGES = "record_changes"
DELIVER_TASK = "deliver_task"
ACTIVITY_TIMEOUT = timedelta(seconds=30)
# The clocks of the citizen-hotline playbook.
PROMISED, SIGN_WITHIN, DUE_WITHIN = timedelta(days=7), timedelta(hours=1), timedelta(days=7)


class Clocks:
    """Seamless keeps one timer for its earliest running clock; so do the baselines, with
    the same clocks: the promised line, and each open task's sign-by and due-by."""

    def __init__(self) -> None:
        self.deadlines: dict[str, datetime] = {"promised": workflow.now() + PROMISED}

    def start(self, task_id: str) -> None:
        self.deadlines[f"{task_id}/sign"] = workflow.now() + SIGN_WITHIN
        self.deadlines[f"{task_id}/due"] = workflow.now() + DUE_WITHIN

    def stop(self, task_id: str, clock: str) -> None:
        self.deadlines.pop(f"{task_id}/{clock}", None)

    async def keep(self, closed: Callable[[], bool]) -> None:
        while not closed():
            armed = min(self.deadlines.values(), default=None)
            timeout = None if armed is None else max(armed - workflow.now(), timedelta(0))
            try:
                await workflow.wait_condition(
                    lambda armed=armed: closed()  # type: ignore[misc]
                    or min(self.deadlines.values(), default=None) != armed, timeout=timeout)
            except TimeoutError:
                self.deadlines = {k: v for k, v in self.deadlines.items()
                                  if v > workflow.now()}


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
        self._deliveries_running = 0
        self._clocks = Clocks()
        self._closed = False

    @workflow.run
    async def run(self, subject: str) -> int:
        recorder = asyncio.create_task(self._record_changes())
        deliverer = asyncio.create_task(self._deliver())
        clocks = asyncio.create_task(self._clocks.keep(lambda: self._closed))
        await workflow.wait_condition(lambda: self._closed and workflow.all_handlers_finished())
        await clocks
        await deliverer
        await recorder
        return len(self._tasks)

    async def _record_changes(self) -> None:
        while True:
            await workflow.wait_condition(
                lambda: self._unrecorded > 0 or (self._closed and not self._deliveries_running))
            if self._unrecorded:
                self._unrecorded = 0
                await workflow.execute_local_activity(
                    RECORD_CHANGES, start_to_close_timeout=ACTIVITY_TIMEOUT)
            if self._closed and not self._unrecorded and not self._deliveries_running:
                return

    async def _deliver(self) -> None:
        running: list[asyncio.Task[None]] = []
        while True:
            await workflow.wait_condition(lambda: bool(self._deliveries) or self._closed)
            running += [asyncio.create_task(self._deliver_one(d)) for d in self._deliveries]
            self._deliveries.clear()
            if self._closed:
                await asyncio.gather(*running)
                return

    async def _deliver_one(self, delivery: BareDelivery) -> None:
        self._deliveries_running += 1
        await workflow.execute_activity(
            DELIVER_TASK, delivery, start_to_close_timeout=ACTIVITY_TIMEOUT,
            activity_id=f"deliver-{delivery.task_id}")
        self._deliveries_running -= 1
        # As Seamless records each delivery in its ledger.
        self._changed()

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
        self._clocks.start(task_id)
        self._deliveries.append(BareDelivery(workflow.info().workflow_id, task_id,
                                             cmd.assignee))
        self._changed()
        return task_id

    @workflow.update
    def sign(self, cmd: BareCommand) -> None:
        self._tasks[cmd.task_id] = "SIGNED"
        self._clocks.stop(cmd.task_id, "sign")
        self._changed()

    @workflow.update
    def complete(self, cmd: BareCommand) -> None:
        self._tasks[cmd.task_id] = "DONE"
        self._clocks.stop(cmd.task_id, "due")
        self._changed()

    @workflow.update
    def close(self, cmd: BareCommand) -> None:
        self._closed = True
        self._changed()
