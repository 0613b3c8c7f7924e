"""A long case on the dev server: a hundred tasks and two thousand updates, through runs
that continue as new (workflows.continuation), healthy and replayable throughout."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from tests.trust.kit import worker_seals
from tests.workflows.harness import (
    Recorder,
    case_worker,
    ledger_heard_every_event_once,
)
from workflows import continuation
from workflows.case_workflow import CaseWorkflow, CaseWorkflowInput
from workflows.catalog_loader import Catalog
from workflows.client import CaseRefused, case_handle, open_case, read_case, send
from workflows.request_trace import RequestTraceInterceptor
from workflows.rules.commands import (
    ArriveOnScene,
    CloseCase,
    CompleteTask,
    DispatchTask,
    OfferHandoff,
    OpenCase,
    SignTask,
    WithdrawHandoff,
)
from workflows.rules.limits import MAX_TASKS_PER_CASE
from workflows.rules.model import Actor, CaseStatus, TaskState
from workflows.rules.opening import split_case_id
from workflows.seals import SealCheck

TOWNSHIP = "jinhaihu-township"
# The mining playbook's task kinds and who does each.
KINDS = {"mining-investigation": "natural-resources",
         "criminal-investigation": "public-security",
         "work-safety": "emergency-management",
         "environmental-damage": "ecology-environment"}
UPDATES = 2000
# Half a page of findings in Chinese and a full list of evidence, for each of the hundred.
FINDINGS = "夜间盗采现场勘查记录，" * 50
EVIDENCE = tuple(f"evidence://quarry/photo-{n:02d}.jpg" for n in range(50))


def rid() -> str:
    return f"req-{uuid.uuid4()}"


async def runs_of(client: Client, workflow_id: str) -> list[tuple[str, WorkflowExecutionStatus]]:
    found = []
    async for execution in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        assert execution.status is not None
        found.append((execution.run_id or "", execution.status))
    return found


async def do_task(client: Client, case_id: str, task_id: str, assignee: str,
                  needs_presence: bool) -> int:
    actor = Actor(assignee, "officer")
    await send(client, case_id, SignTask(rid(), actor, task_id))
    if needs_presence:
        await send(client, case_id, ArriveOnScene(rid(), actor, task_id))
    await send(client, case_id, CompleteTask(rid(), actor, task_id, FINDINGS, EVIDENCE))
    return 3 if needs_presence else 2


async def test_a_hundred_tasks_and_two_thousand_updates_stay_healthy_and_replayable(
        dev_env: WorkflowEnvironment, catalog: Catalog) -> None:
    client = dev_env.client
    subject = f"Q-LONG-{uuid.uuid4().hex[:8]}"
    opening = OpenCase(rid(), Actor(TOWNSHIP, "officer"), "illegal-mining", subject,
                       "Night digging, month after month", jurisdiction="jinhaihu")
    async with case_worker(client, Recorder()) as (queue, recorder, _):
        # Continuing every 1,500 events, the case goes through several runs.
        case_id = (await open_case(client, catalog, opening, task_queue=queue,
                                   continue_after_events=1500)).case_id
        updates = 1
        first_dispatch = DispatchTask(rid(), Actor(TOWNSHIP), "work-safety",
                                      "emergency-management")
        first_task = (await send(client, case_id, first_dispatch)).task_ids
        updates += 1
        kinds = list(KINDS.items())
        for n in range(MAX_TASKS_PER_CASE - 5):
            kind, assignee = kinds[n % len(kinds)]
            await send(client, case_id, DispatchTask(rid(), Actor(TOWNSHIP), kind, assignee))
            updates += 1
        with pytest.raises(CaseRefused) as full:
            await send(client, case_id, DispatchTask(rid(), Actor(TOWNSHIP), "work-safety",
                                                     "emergency-management"))
        assert full.value.reason == "TOO_MANY_TASKS"

        # Every task done by its agency, four at a time.
        case = await read_case(client, case_id)
        gate = asyncio.Semaphore(4)

        async def one(task_id: str, assignee: str, presence: bool) -> int:
            async with gate:
                return await do_task(client, case_id, task_id, assignee, presence)
        updates += sum(await asyncio.gather(*(one(t.id, t.assignee, t.needs_presence)
                                              for t in case.tasks)))

        # The owner offers the case and withdraws the offer, again and again.
        while updates < UPDATES:
            offer = await send(client, case_id, OfferHandoff(rid(), Actor(TOWNSHIP),
                                                             "natural-resources", "theirs?"))
            await send(client, case_id, WithdrawHandoff(rid(), Actor(TOWNSHIP),
                                                        offer.handoff_id))
            updates += 2

        # A retry of a request from the first run still gets its first answer.
        assert (await send(client, case_id, first_dispatch)).task_ids == first_task

        case = await read_case(client, case_id)
        assert case.id == case_id and case.status is CaseStatus.OPEN
        assert case.owner == TOWNSHIP and len(case.tasks) == MAX_TASKS_PER_CASE
        assert all(t.state is TaskState.DONE and t.findings == FINDINGS for t in case.tasks)

        workflow_id, _ = split_case_id(case_id)
        runs = await runs_of(client, workflow_id)
        continued = [run for run, status in runs
                     if status is WorkflowExecutionStatus.CONTINUED_AS_NEW]
        assert len(continued) >= 3, runs

        # The ledger heard every event once, in order, across the runs.
        await ledger_heard_every_event_once(client, case_id, recorder, within=60)
        # Every task reached its agency's inbox (again after a run continued, at most).
        delivered = {d.task_id for d in recorder.deliveries if d.case_id == case_id}
        assert len(delivered) == MAX_TASKS_PER_CASE

        # Each run's history stays bounded, and replays against the code.
        replayer = Replayer(workflows=[CaseWorkflow],
                            interceptors=[RequestTraceInterceptor(),
                                          SealCheck(worker_seals(), "replay")])
        largest_carry = 0
        for run, _status in runs:
            history = await client.get_workflow_handle(workflow_id, run_id=run).fetch_history()
            assert len(history.events) < 1500 + 300, (run, len(history.events))
            assert (await replayer.replay_workflow(history)).replay_failure is None
            largest_carry = max(largest_carry, carried_bytes(client, history))
        print(f"\n{updates} updates, {len(runs)} runs, {len(recorder.events)} events; largest "  # noqa: T201
              f"hand-on {largest_carry / 1024:.0f} KiB")
        assert largest_carry < 2 * 1024 * 1024

        await send(client, case_id, CloseCase(rid(), Actor(TOWNSHIP), "quarry sealed"))
        outcome = await case_handle(client, case_id).result()
        assert outcome["tasks"] == MAX_TASKS_PER_CASE

        # A new case on the subject: the old one still reads as it closed, and refuses.
        again = await open_case(client, catalog, OpenCase(
            rid(), Actor(TOWNSHIP, "officer"), "illegal-mining", subject, "Back again",
            jurisdiction="jinhaihu"), task_queue=queue)
        assert again.case_id != case_id
        closed = await read_case(client, case_id)
        assert closed.status is CaseStatus.CLOSED and len(closed.tasks) == MAX_TASKS_PER_CASE
        assert (await read_case(client, again.case_id)).title == "Back again"
        with pytest.raises(CaseRefused) as refused:
            await send(client, case_id, SignTask(rid(), Actor("natural-resources"), "T1"))
        assert refused.value.reason == "CASE_CLOSED"


def carried_bytes(client: Client, history: WorkflowHistory) -> int:
    started = history.events[0].workflow_execution_started_event_attributes
    payload = started.input.payloads[0]
    (start,) = client.data_converter.payload_converter.from_payloads(
        [payload], [CaseWorkflowInput])
    assert isinstance(start, CaseWorkflowInput)
    if start.carried:  # what a run was handed reads back whole
        assert len(continuation.unpack(start.carried).state.tasks) == MAX_TASKS_PER_CASE
    return payload.ByteSize()
