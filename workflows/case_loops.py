"""The case workflow's two loops of side effects, each a collaborator the workflow runs.

* `LedgerFeed` appends the case's events to the ledger, one batch at a time, in order.
* `EffectRunner` carries out the deliveries, withdrawals and notices the rules ask for,
  each an activity with its idempotency key, a task's in the order they were asked.

Both take nothing new while the run readies itself to continue as new, and drain what
is left once the case is closed: `RunFlags`, which the workflow sets.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import (
    ActivityError,
    CancelledError,
)

with workflow.unsafe.imports_passed_through():
    from workflows import activities, request_trace
    from workflows.projection import project
    from workflows.rules.case import CaseEngine
    from workflows.rules.effects import (
        CaseEventBatch,
        Effect,
        Notice,
        TaskDelivery,
        TaskWithdrawal,
    )


@dataclass
class RunFlags:
    # Set once the case is closed and every update has finished: the loops drain what
    # is left and end.
    closing: bool = False
    # Set while the run readies itself to continue as new: the loops take nothing
    # more, and what is left is handed on.
    continuing: bool = False


ActivityInput = TypeVar("ActivityInput",
                        bound=TaskDelivery | TaskWithdrawal | Notice | CaseEventBatch)


def asked_by_this_run(asked: ActivityInput) -> ActivityInput:
    """`asked`, naming the run that calls its activity (which runs for no other)."""
    return dataclasses.replace(asked, asked_by_run=workflow.info().run_id)


class LedgerFeed:
    def __init__(self, engine: CaseEngine, flags: RunFlags) -> None:
        self._engine = engine
        self._flags = flags
        # Whether an append is in flight (one is let finish before continuing as new).
        self.appending = False

    async def run(self) -> None:
        """Ledger appends, one batch at a time so the ledger sees events in order.

        A batch is never dropped: an outage is retried for as long as it lasts, and so is
        a refusal (a bug: the case's pending append shows why) until a fixed worker's
        attempt goes through.
        """
        engine, flags = self._engine, self._flags
        while True:
            await workflow.wait_condition(
                lambda: (engine.has_new_events() or flags.closing) and not flags.continuing)
            batch = engine.take_events()
            if batch is not None:
                batch = dataclasses.replace(batch, projection=project(engine.state,
                                                                      engine.rules))
                self.appending = True
                try:
                    await self._append(batch)
                finally:
                    self.appending = False
            if flags.closing and not engine.has_new_events():
                return

    async def _append(self, batch: CaseEventBatch) -> None:
        """A regular activity, never a local one: its batch is in history before it runs.

        A local activity runs *before* its workflow task commits. Updates are not in
        history until that commit, so when the commit fails (a task timed out under load)
        the next attempt may take the same updates in another order, or refuse one, and
        the ledger would already hold events the case never had: seen in CI as twenty
        reports racing into one case, and the case stuck on LEDGER_CONFLICT.
        """
        await workflow.execute_activity(
            activities.RECORD_CASE_EVENTS, asked_by_this_run(batch),
            start_to_close_timeout=activities.CALL_TIMEOUT,
            retry_policy=activities.PATIENT_RETRY)


class EffectRunner:
    def __init__(self, engine: CaseEngine, flags: RunFlags, drain_limit: timedelta) -> None:
        self._engine = engine
        self._flags = flags
        self._drain_limit = drain_limit
        # Each running delivery or notice, and the effect it carries out (to hand on if
        # the run continues as new). Insertion-ordered: on giving up, the cancellations
        # must go out in the same order on every replay.
        self.in_flight: dict[asyncio.Task[None], Effect] = {}
        # The latest delivery or withdrawal of each task: the next one for the same task
        # waits for it, so a withdrawal can never overtake its own delivery.
        self._last_for_task: dict[str, asyncio.Task[None]] = {}
        self._giving_up = False

    async def run(self) -> None:
        engine, flags = self._engine, self._flags
        while True:
            # None is started while the run readies itself to hand on (what is queued is
            # handed on): an activity scheduled in the task that continues as new is
            # dropped with its run, and the time-skipping test server stalls on one.
            await workflow.wait_condition(
                lambda: (engine.has_effects() or flags.closing) and not flags.continuing)
            for effect in engine.take_effects():
                self.start(effect)
            if flags.closing and not engine.has_effects():
                break
        if self.in_flight:
            try:
                await workflow.wait_condition(lambda: not self.in_flight,
                                              timeout=self._drain_limit)
            except TimeoutError:
                workflow.logger.warning("case closed %s ago; giving up on %d deliveries and "
                                        "notices still failing", self._drain_limit,
                                        len(self.in_flight))
                self._giving_up = True
                remaining = list(self.in_flight)
                for task in remaining:
                    task.cancel()
                # Let them unwind before the run completes: completion must be the last
                # command the workflow sends.
                await asyncio.gather(*remaining, return_exceptions=True)

    def start(self, effect: Effect) -> None:
        per_task = effect.task_id if isinstance(effect, TaskDelivery | TaskWithdrawal) else ""
        task = asyncio.create_task(self._run_effect(effect, self._last_for_task.get(per_task)))
        if per_task:
            self._last_for_task[per_task] = task
        self.in_flight[task] = effect
        task.add_done_callback(lambda done: self.in_flight.pop(done, None))

    async def _run_effect(self, effect: Effect, after: asyncio.Task[None] | None) -> None:
        if after is not None:
            await after
        if self._giving_up:
            return
        if isinstance(effect, TaskDelivery):
            name = activities.DELIVER_TASK
        elif isinstance(effect, TaskWithdrawal):
            name = activities.WITHDRAW_TASK
        else:
            name = activities.SEND_NOTICE
        try:
            with request_trace.continued(effect.trace_id, effect.span_id):
                answer = await workflow.execute_activity(
                    name, asked_by_this_run(effect),
                    start_to_close_timeout=activities.CALL_TIMEOUT,
                    retry_policy=activities.PATIENT_RETRY, activity_id=effect.idempotency_key)
            received = activities.Received.of(answer)
            if isinstance(effect, TaskDelivery):
                self._engine.mark_delivered(
                    effect.task_id, effect.round, workflow.now(), attempts=received.attempts,
                    receipt=received.receipts[0] if received.receipts else "")
            elif isinstance(effect, Notice) and received.receipts:
                self._engine.mark_notified(effect, workflow.now(), received.receipts)
        except ActivityError as err:
            if isinstance(err.cause, CancelledError):
                return  # given up at the drain limit, logged there
            # Retries are unlimited, so only a non-retryable refusal by the receiver ends
            # here; the case carries on and the failure is in the history and the log.
            workflow.logger.error("%s %s failed: %s", name, effect.idempotency_key, err.cause)
