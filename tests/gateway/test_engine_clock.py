"""A gateway whose host clock jumps refuses commands itself, saying why, rather than
sealing commands the engine would refuse (gateway/engine_clock.py) — against a real
Temporal server and a worker polling it; the gateway's clock is moved, never the
machine's."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from gateway.engine_clock import EngineClock
from gateway.errors import GatewayError
from tests.trust.kit import session_kit
from trust.pki import Role
from trust.statements import StatementType, verify
from workflows.seals import Sealer, proofs_of

HOUR = 3600.0


@workflow.defn(name="EngineClockIdle", sandboxed=False)
class Idle:
    @workflow.run
    async def run(self) -> None:
        return None


class Wall:
    """The gateway host's wall clock: the real one, moved by `offset` seconds."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)


async def _read_once_polled(clock: EngineClock, wall: Wall) -> None:
    """Until the server has seen the worker poll (its first poll takes a moment)."""
    give_up = time.monotonic() + 30
    while clock.skew(wall()) is None and time.monotonic() < give_up:
        clock._read_at = float("-inf")  # noqa: SLF001 - read again now
        await clock.check(wall())


async def test_a_clock_stepped_an_hour_is_refused_at_once_and_believed_again_when_back(
        dev_env: WorkflowEnvironment) -> None:
    queue = f"engine-clock-{uuid.uuid4().hex}"
    wall = Wall()
    clock = EngineClock(dev_env.client.namespace, queue)
    clock.client = dev_env.client
    async with Worker(dev_env.client, task_queue=queue, workflows=[Idle]):
        await _read_once_polled(clock, wall)
        skew = clock.skew(wall())
        assert skew is not None and abs(skew) < timedelta(minutes=2)

        # A step is seen before the next command, not at the next periodic reading.
        wall.offset = HOUR
        with pytest.raises(GatewayError) as ahead:
            await clock.check(wall())
        assert ahead.value.code == grpc.StatusCode.UNAVAILABLE
        assert ahead.value.reason == "CLOCK_SKEWED"
        assert "about 60 min ahead of the case engine's" in ahead.value.message
        assert "NTP" in ahead.value.message

        wall.offset = -HOUR
        with pytest.raises(GatewayError) as behind:
            await clock.check(wall())
        assert "about 60 min behind the case engine's" in behind.value.message

        wall.offset = 0.0
        await clock.check(wall())  # corrected: believed again at once

        # Within the engine's bound, nothing is refused.
        wall.offset = 5 * 60.0
        await clock.check(wall())


async def test_commands_checked_while_the_clock_is_read_wait_for_the_reading(
        dev_env: WorkflowEnvironment) -> None:
    """A gateway started with its clock an hour ahead: the first commands, arriving
    together, are all refused — none slips through while the engine's time is asked."""
    queue = f"engine-clock-{uuid.uuid4().hex}"
    async with Worker(dev_env.client, task_queue=queue, workflows=[Idle]):
        probe = EngineClock(dev_env.client.namespace, queue)
        probe.client = dev_env.client
        await _read_once_polled(probe, Wall())  # the worker seen polling
        clock = EngineClock(dev_env.client.namespace, queue)
        clock.client = dev_env.client
        wall = Wall()
        wall.offset = HOUR
        outcomes = await asyncio.gather(*(clock.check(wall()) for _ in range(5)),
                                        return_exceptions=True)
    assert all(isinstance(o, GatewayError) for o in outcomes), outcomes


async def test_with_no_worker_polling_nothing_is_refused_for_a_clock_it_cannot_compare(
        dev_env: WorkflowEnvironment) -> None:
    wall = Wall()
    wall.offset = HOUR
    clock = EngineClock(dev_env.client.namespace, f"engine-clock-{uuid.uuid4().hex}")
    clock.client = dev_env.client
    await clock.check(wall())
    assert clock.skew(wall()) is None


async def test_a_refused_command_is_never_sent(dev_env: WorkflowEnvironment) -> None:
    async def refuse(at: datetime) -> None:
        raise GatewayError(grpc.StatusCode.UNAVAILABLE, "CLOCK_SKEWED", "clock off")

    sealer = Sealer(session_kit().signer("gateway", Role.GATEWAY), before_sealing=refuse)
    client = Client(dev_env.client.service_client, namespace=dev_env.client.namespace,
                    interceptors=[sealer])
    workflow_id = f"engine-clock-{uuid.uuid4().hex}"
    with pytest.raises(GatewayError):
        await client.start_workflow("EngineClockIdle", id=workflow_id,
                                    task_queue="engine-clock-nowhere")
    with pytest.raises(RPCError):  # no such workflow: nothing reached the engine
        await dev_env.client.get_workflow_handle(workflow_id).describe()


async def test_the_seal_carries_the_very_moment_that_was_checked(
        dev_env: WorkflowEnvironment) -> None:
    """A step between the check and the seal cannot slip through: the time read once is
    both checked and sealed."""
    before = datetime.now(UTC)
    readings = iter([before, before + timedelta(hours=1)])  # stepped right after
    checked: list[datetime] = []

    async def check(at: datetime) -> None:
        checked.append(at)

    sealer = Sealer(session_kit().signer("gateway", Role.GATEWAY), clock=lambda: next(readings),
                    before_sealing=check)
    client = Client(dev_env.client.service_client, namespace=dev_env.client.namespace,
                    interceptors=[sealer])
    workflow_id = f"engine-clock-{uuid.uuid4().hex}"
    handle = await client.start_workflow("EngineClockIdle", id=workflow_id,
                                         task_queue="engine-clock-nowhere")
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    seal = proofs_of(started.header.fields)[0]
    sealed_at = verify(seal, session_kit().store(), StatementType.COMMAND,
                       roles=(Role.GATEWAY,)).issued_at
    await handle.terminate()
    assert checked == [before]
    assert abs(sealed_at - before) < timedelta(milliseconds=1)
