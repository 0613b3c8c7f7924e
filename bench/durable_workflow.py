"""The durable baseline's workflow: the shape of a Seamless case doing the same durable
work, without Seamless's rules, trust or tracing (see bench/baseline.py).

Beside what the minimal baseline (`BareCase`) does, each case here
* refuses what its state does not allow in update validators (nothing refused is
  written to history), and answers a repeated request id with its first answer;
* keeps the case search attributes Seamless keeps (type, subject, owner, status,
  participants, the agencies it waits on), written only when they change;
* appends its events to a hash-chained ledger of its own with a regular activity, one
  batch at a time, every delivery being an event too;
* delivers each task with a regular activity to the assignee's own receiving process
  over gRPC, which stores it in its own database.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from bench.baseline_workflow import (
        ACTIVITY_TIMEOUT,
        BareCommand,
        BareDelivery,
        Clocks,
    )
    from workflows import search

DURABLE_TASK_QUEUE = "bench-durable"
RECORD_EVENTS = "durable_record_events"
DELIVER = "durable_deliver"
LEAD = "jinhaihu-township"
CASE_TYPE = "citizen-hotline"
PATIENT = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(
    seconds=30), maximum_attempts=0)


@dataclass(frozen=True)
class DurableEvent:
    sequence: int
    kind: str
    task_id: str
    at: datetime


@dataclass(frozen=True)
class DurableBatch:
    case_id: str
    events: list[DurableEvent] = field(default_factory=list)


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(message, type="REFUSED", non_retryable=True)


@workflow.defn(name="DurableCase")
class DurableCase:
    @workflow.init
    def __init__(self, subject: str) -> None:
        self._subject = subject
        self._tasks: dict[str, str] = {}
        self._assignees: dict[str, str] = {}
        self._answers: dict[str, str] = {}
        self._events: list[DurableEvent] = []
        self._recorded = 0
        self._deliveries: list[BareDelivery] = []
        self._deliveries_running = 0
        self._clocks = Clocks()
        self._closed = False
        self._indexed: str | None = None

    @workflow.run
    async def run(self, subject: str) -> int:
        self._index()
        recorder = asyncio.create_task(self._record())
        deliverer = asyncio.create_task(self._deliver())
        clocks = asyncio.create_task(self._clocks.keep(lambda: self._closed))
        await workflow.wait_condition(lambda: self._closed and workflow.all_handlers_finished())
        await clocks
        await deliverer
        await recorder
        return len(self._tasks)

    # ----- background loops, as Seamless's ------------------------------------------

    async def _record(self) -> None:
        """One regular activity at a time, with every event not yet recorded."""
        while True:
            await workflow.wait_condition(
                lambda: len(self._events) > self._recorded
                or (self._closed and not self._deliveries_running))
            if len(self._events) > self._recorded:
                batch = DurableBatch(workflow.info().workflow_id,
                                     self._events[self._recorded:])
                self._recorded = len(self._events)
                await workflow.execute_activity(
                    RECORD_EVENTS, batch, start_to_close_timeout=ACTIVITY_TIMEOUT,
                    retry_policy=PATIENT)
            if self._closed and len(self._events) == self._recorded \
                    and not self._deliveries_running:
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
            DELIVER, delivery, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=PATIENT,
            activity_id=f"deliver-{delivery.task_id}")
        self._deliveries_running -= 1
        self._event("TASK_DELIVERED", delivery.task_id)

    # ----- state --------------------------------------------------------------------

    def _event(self, kind: str, task_id: str = "") -> None:
        self._events.append(DurableEvent(len(self._events) + 1, kind, task_id,
                                         workflow.now()))

    def _index(self) -> None:
        """The case search attributes, written when they change (as Seamless does)."""
        status = "CLOSED" if self._closed else "OPEN"
        snapshot = status
        if snapshot == self._indexed:
            return
        self._indexed = snapshot
        updates: list[SearchAttributeUpdate[Any]] = [
            search.CASE_TYPE.value_set(CASE_TYPE), search.SUBJECT.value_set(self._subject),
            search.OWNER.value_set(LEAD), search.STATUS.value_set(status)]
        workflow.upsert_search_attributes(updates)

    def _answered(self, cmd: BareCommand, answer: str) -> str:
        self._answers[cmd.request_id] = answer
        self._index()
        return answer

    def _check(self, cmd: BareCommand, task_state: str | None = None) -> None:
        """The validators' one rule: a new request needs an open case and, for a task,
        the task in the state its step starts from."""
        if cmd.request_id in self._answers:
            return
        if self._closed:
            raise _refuse("the case is closed")
        if task_state is not None and self._tasks.get(cmd.task_id) != task_state:
            raise _refuse(f"task {cmd.task_id} is not {task_state}")

    # ----- updates ------------------------------------------------------------------

    @workflow.update
    def open(self, cmd: BareCommand) -> str:
        if cmd.request_id not in self._answers:
            self._event("OPENED")
        return self._answered(cmd, workflow.info().workflow_id)

    @workflow.update
    def dispatch(self, cmd: BareCommand) -> str:
        if cmd.request_id in self._answers:
            return self._answers[cmd.request_id]
        task_id = f"T{len(self._tasks) + 1}"
        self._tasks[task_id] = "DISPATCHED"
        self._assignees[task_id] = cmd.assignee
        self._clocks.start(task_id)
        self._deliveries.append(BareDelivery(workflow.info().workflow_id, task_id,
                                             cmd.assignee))
        self._event("TASK_DISPATCHED", task_id)
        return self._answered(cmd, task_id)

    @dispatch.validator
    def _v_dispatch(self, cmd: BareCommand) -> None:
        self._check(cmd)

    @workflow.update
    def sign(self, cmd: BareCommand) -> None:
        if cmd.request_id in self._answers:
            return
        self._tasks[cmd.task_id] = "SIGNED"
        self._clocks.stop(cmd.task_id, "sign")
        self._event("TASK_SIGNED", cmd.task_id)
        self._answered(cmd, "")

    @sign.validator
    def _v_sign(self, cmd: BareCommand) -> None:
        self._check(cmd, "DISPATCHED")

    @workflow.update
    def complete(self, cmd: BareCommand) -> None:
        if cmd.request_id in self._answers:
            return
        self._tasks[cmd.task_id] = "DONE"
        self._clocks.stop(cmd.task_id, "due")
        self._event("TASK_DONE", cmd.task_id)
        self._answered(cmd, "")

    @complete.validator
    def _v_complete(self, cmd: BareCommand) -> None:
        self._check(cmd, "SIGNED")

    @workflow.update
    def close(self, cmd: BareCommand) -> None:
        if cmd.request_id in self._answers:
            return
        self._closed = True
        self._event("CLOSED")
        self._answered(cmd, "")

    @close.validator
    def _v_close(self, cmd: BareCommand) -> None:
        self._check(cmd)
        if cmd.request_id not in self._answers and any(
                s != "DONE" for s in self._tasks.values()):
            raise _refuse("a task is still open")
