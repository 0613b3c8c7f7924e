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
from temporalio.worker import Worker

from workflows import activities
from workflows.rules.effects import CaseEventBatch, Notice, TaskDelivery, TaskWithdrawal
from workflows.rules.model import CaseEvent
from workflows.worker import build_worker


@dataclass
class Recorder:
    """Stands in for the agencies and the ledger; remembers every call it received."""

    deliveries: list[TaskDelivery] = field(default_factory=list)
    withdrawals: list[TaskWithdrawal] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)

    @activity.defn(name=activities.DELIVER_TASK)
    async def deliver_task(self, delivery: TaskDelivery) -> None:
        self.deliveries.append(delivery)

    @activity.defn(name=activities.WITHDRAW_TASK)
    async def withdraw_task(self, withdrawal: TaskWithdrawal) -> None:
        self.withdrawals.append(withdrawal)

    @activity.defn(name=activities.SEND_NOTICE)
    async def send_notice(self, notice: Notice) -> None:
        self.notices.append(notice)

    @activity.defn(name=activities.RECORD_CASE_EVENTS)
    async def record_case_events(self, batch: CaseEventBatch) -> None:
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
    worker = build_worker(client, task_queue=task_queue, activities=recorder.bound())
    async with worker:
        yield task_queue, recorder, worker


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    """Wait until `check` holds, failing after `within` seconds of real time."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.05)
