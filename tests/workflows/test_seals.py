"""Sealed commands: a case acts only on what the gateway signed, on the real workflow.

Each test sends what an attacker on the host could send to Temporal directly (no seal,
a seal for another command or case, an old seal, a seal by a party that is not the
gateway) and checks that the case and its events are exactly as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowUpdateInput,
    WorkflowFailureError,
    WorkflowQueryFailedError,
    WorkflowUpdateHandle,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

from tests.trust.kit import session_kit, worker_seals
from tests.workflows.harness import Recorder, case_worker, eventually
from trust.pki import Role
from trust.statements import StatementType, verify
from workflows.case_workflow import CaseWorkflow, CaseWorkflowInput
from workflows.catalog_loader import Catalog
from workflows.client import CaseRefused, case_handle, get_case, open_case, send
from workflows.rules.commands import AssignOwner, OpenCase, SignTask
from workflows.rules.model import Actor
from workflows.rules.opening import split_case_id, subject_lock
from workflows.rules.refusals import Reason
from workflows.seals import Sealer, digest
from workflows.worker import build_worker

TOWNSHIP = "jinhaihu-township"
COORDINATOR = "command-center"


def _client(env: WorkflowEnvironment, interceptors: Sequence[Interceptor]) -> Client:
    """The environment's server, reached with `interceptors` instead of the gateway's."""
    return Client(env.client.service_client, namespace=env.client.namespace,
                  interceptors=interceptors)


def _mining() -> OpenCase:
    return OpenCase(f"req-{uuid.uuid4()}", Actor(TOWNSHIP, "duty-officer"), "illegal-mining",
                    f"JHH-{uuid.uuid4().hex[:8]}", "Night digging", jurisdiction="jinhaihu")


async def _delivered(client: Client, case_id: str) -> bool:
    return all(t.delivered for t in (await get_case(client, case_id)).tasks)


async def test_an_unsealed_update_is_refused_and_changes_nothing(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog) -> None:
    env = time_skipping_env
    async with case_worker(env.client) as (queue, _, _):
        case_id = (await open_case(env.client, catalog, _mining(), task_queue=queue)).case_id
        await eventually(lambda: _delivered(env.client, case_id))
        before = await get_case(env.client, case_id)
        forged = AssignOwner("x", Actor(COORDINATOR, "mallory"), "health", "taking over")
        with pytest.raises(CaseRefused) as refused:
            await send(_client(env, []), case_id, forged)
        assert refused.value.reason == Reason.COMMAND_NOT_SEALED.value
        assert "no seal of the gateway" in refused.value.message
        after = await get_case(env.client, case_id)
        assert (after.owner, len(after.events)) == (before.owner, len(before.events))
        history = await case_handle(env.client, case_id).fetch_history()
        assert not any(e.HasField("workflow_execution_update_accepted_event_attributes")
                       and e.workflow_execution_update_accepted_event_attributes
                       .accepted_request.input.name == "assign_owner"
                       for e in history.events)


class _SealOf(Interceptor):
    """Sends each update with the gateway's seal of *another* command or case."""

    def __init__(self, workflow_id: str, run_id: str, command: object) -> None:
        self.target = (workflow_id, run_id, command)

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        sealer = Sealer(session_kit().signer("gateway", Role.GATEWAY))
        workflow_id, run_id, command = self.target

        class Outbound(OutboundInterceptor):
            async def start_workflow_update(self, input: StartWorkflowUpdateInput
                                            ) -> WorkflowUpdateHandle[Any]:
                input.headers = sealer.headers(input.headers, sealer.seal(
                    operation=input.update, workflow_id=workflow_id, run_id=run_id,
                    command=command))
                return await super().start_workflow_update(input)

        return Outbound(next)


async def test_a_seal_for_another_command_or_case_or_by_another_party_is_refused(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog) -> None:
    env = time_skipping_env
    async with case_worker(env.client) as (queue, _, _):
        case_id = (await open_case(env.client, catalog, _mining(), task_queue=queue)).case_id
        other_id = (await open_case(env.client, catalog, _mining(), task_queue=queue)).case_id
        sign = SignTask("s1", Actor("natural-resources", "duty-officer"), "T1")
        (workflow_id, run_id), (other_workflow, other_run) = (
            split_case_id(case_id), split_case_id(other_id))
        for what, forger in {
                "another case": _SealOf(other_workflow, other_run, sign),
                "another command": _SealOf(workflow_id, run_id, SignTask(
                    "s1", Actor("natural-resources", "duty-officer"), "T2"))}.items():
            with pytest.raises(CaseRefused) as refused:
                await send(_client(env, [forger]), case_id, sign)
            assert refused.value.reason == Reason.COMMAND_NOT_SEALED.value, what
            assert "another command" in refused.value.message, what

        # Sealed with an agency's key instead of the gateway's.
        agency_sealer = Sealer(session_kit().signer("natural-resources", Role.AGENCY))
        with pytest.raises(CaseRefused) as refused:
            await send(_client(env, [agency_sealer]), case_id, sign)
        assert "may not make it" in refused.value.message
        assert (await get_case(env.client, case_id)).tasks[0].state.value == "DISPATCHED"


async def test_an_old_seal_is_refused(time_skipping_env: WorkflowEnvironment,
                                      catalog: Catalog) -> None:
    env = time_skipping_env
    queue = f"cases-{uuid.uuid4()}"
    recorder = Recorder()
    worker = build_worker(env.client, task_queue=queue, activities=recorder.bound(),
                          seals=worker_seals(max_age=timedelta(minutes=2)))
    async with worker:
        case_id = (await open_case(env.client, catalog, _mining(), task_queue=queue)).case_id
        late = Sealer(session_kit().signer("gateway", Role.GATEWAY),
                      clock=lambda: datetime.now(UTC) - timedelta(minutes=3))
        with pytest.raises(CaseRefused) as refused:
            await send(_client(env, [late]), case_id,
                       SignTask("s1", Actor("natural-resources", "duty-officer"), "T1"))
        assert "older than 0:02:00" in refused.value.message


async def test_an_unsealed_start_ends_at_once_having_recorded_and_sent_nothing(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog) -> None:
    env = time_skipping_env
    async with case_worker(env.client) as (queue, recorder, _):
        cmd = _mining()
        rules = catalog.rules_for(cmd.type)
        assert rules is not None
        handle = await _client(env, []).start_workflow(
            CaseWorkflow.run, CaseWorkflowInput(open=cmd, rules=rules),
            id=subject_lock(cmd.type, cmd.subject_key), task_queue=queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        assert "no seal of the gateway" in str(failed.value.cause)
        assert recorder.events == [] and recorder.deliveries == []
        # Nor does the case it claims exist for anyone who asks the engine.
        with pytest.raises(WorkflowQueryFailedError):
            await get_case(env.client, f"{handle.id}@{handle.result_run_id}")
        # The subject is free again: the gateway's open makes the real case.
        opened = await open_case(env.client, catalog, cmd, task_queue=queue)
        await eventually(lambda: _has_events(recorder))
        assert opened.owner == TOWNSHIP


async def _has_events(recorder: Recorder) -> bool:
    return bool(recorder.events)


async def test_every_event_a_command_causes_carries_the_gateways_seal(
        time_skipping_env: WorkflowEnvironment, catalog: Catalog) -> None:
    env = time_skipping_env
    store = session_kit().store()
    async with case_worker(env.client) as (queue, _, _):
        cmd = _mining()
        case_id = (await open_case(env.client, catalog, cmd, task_queue=queue)).case_id
        await send(env.client, case_id,
                   SignTask("s1", Actor("natural-resources", "duty-officer"), "T1"))
        state = await get_case(env.client, case_id)
        by_people = [e for e in state.events if e.actor.officer != "clock"]
        assert by_people and all(len(e.proofs) == 1 for e in by_people)
        opened = verify(by_people[0].proofs[0], store, StatementType.COMMAND,
                        roles=(Role.GATEWAY,))
        rules = catalog.rules_for(cmd.type)
        assert rules is not None
        assert opened.claims["op"] == "start"
        assert opened.claims["cmd"] == digest(CaseWorkflowInput(open=cmd, rules=rules))
        signed = verify(by_people[-1].proofs[0], store, StatementType.COMMAND,
                        roles=(Role.GATEWAY,))
        assert (signed.claims["op"], signed.claims["actor"]) == (
            "sign_task", {"agency": "natural-resources", "officer": "duty-officer"})


def test_every_update_of_a_case_has_a_validator_so_its_seal_is_checked() -> None:
    # Temporal runs the interceptor's validator only for an update that has one: an
    # update without would take commands nobody sealed.
    from temporalio import workflow
    updates = workflow._Definition.must_from_class(CaseWorkflow).updates
    assert updates and all(u.validator is not None for u in updates.values())
