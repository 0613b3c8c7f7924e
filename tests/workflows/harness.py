"""Test doubles for the case activities, bound by name, and a worker per test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from tests.trust.kit import worker_seals
from workflows import activities
from workflows.client import read_case
from workflows.rules.effects import CaseEventBatch, Notice, TaskDelivery, TaskWithdrawal
from workflows.rules.model import CaseEvent
from workflows.worker import build_worker


@dataclass
class Recorder:
    """Stands in for the agencies and the ledger; remembers every call it received.

    `unreachable` agencies fail every delivery and withdrawal (as a down service would);
    `flaky` maps a task id to how many deliveries of it fail before one succeeds.
    """

    deliveries: list[TaskDelivery] = field(default_factory=list)
    withdrawals: list[TaskWithdrawal] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)
    # What each agency saw, in order: ("deliver" | "withdraw", task id)
    inbox_log: list[tuple[str, str, str]] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)
    flaky: dict[str, int] = field(default_factory=dict)
    # The ledger refuses every batch for good (as a bug in it would).
    ledger_refuses: bool = False

    def _reach(self, agency: str, task_id: str) -> None:
        if agency in self.unreachable:
            raise ApplicationError(f"{agency} is unreachable")
        if self.flaky.get(task_id, 0) > 0:
            self.flaky[task_id] -= 1
            raise ApplicationError(f"{agency} timed out")

    @activity.defn(name=activities.DELIVER_TASK)
    async def deliver_task(self, delivery: TaskDelivery) -> activities.Received:
        self._reach(delivery.assignee, delivery.task_id)
        self.deliveries.append(delivery)
        self.inbox_log.append((delivery.assignee, "deliver", delivery.task_id))
        return activities.Received(activity.info().attempt,
                                   (f"receipt:{delivery.idempotency_key}",))

    @activity.defn(name=activities.WITHDRAW_TASK)
    async def withdraw_task(self, withdrawal: TaskWithdrawal) -> None:
        self._reach(withdrawal.assignee, "")
        self.withdrawals.append(withdrawal)
        self.inbox_log.append((withdrawal.assignee, "withdraw", withdrawal.task_id))

    @activity.defn(name=activities.SEND_NOTICE)
    async def send_notice(self, notice: Notice) -> activities.Received:
        self.notices.append(notice)
        return activities.Received(activity.info().attempt, tuple(
            f"receipt:{notice.idempotency_key}:{r}" for r in notice.recipients))

    @activity.defn(name=activities.RECORD_CASE_EVENTS)
    async def record_case_events(self, batch: CaseEventBatch) -> None:
        if self.ledger_refuses:
            raise activities.ledger_refusal("schema mismatch", "LEDGER_CONFLICT")
        self.events.extend(batch.events)

    def bound(self) -> list[Callable[..., Any]]:
        return [self.deliver_task, self.withdraw_task, self.send_notice,
                self.record_case_events]


@asynccontextmanager
async def case_worker(client: Client, recorder: Recorder | None = None
                      ) -> AsyncIterator[tuple[str, Recorder, Worker]]:
    """A worker on a fresh task queue, so tests never see each other's cases."""
    recorder = recorder or Recorder()
    task_queue = f"cases-{uuid.uuid4()}"
    worker = build_worker(client, task_queue=task_queue, activities=recorder.bound(),
                          seals=worker_seals())
    async with worker:
        yield task_queue, recorder, worker


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    """Wait until `check` holds, failing after `within` seconds of real time."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.05)


async def ledger_heard_every_event_once(client: Client, case_id: str, recorder: Recorder,
                                        *, within: float) -> None:
    """Wait until the ledger has every event the case has made, then hold that it heard
    each once, in order (across the runs of a case that continued as new)."""
    async def caught_up() -> bool:
        latest = (await read_case(client, case_id)).events[-1]
        return len(recorder.events) >= latest.sequence
    await eventually(caught_up, within=within)
    assert [e.sequence for e in recorder.events] == list(range(1, len(recorder.events) + 1))
