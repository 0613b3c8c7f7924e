"""What was done to cases past the platform is found and named, case by case: on the
real dev server, with the real ledger and read model, each intervention made the way
anyone reaching the engine makes it (terminate, delete, a forged start, a workflow of
their own on their own queue)."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from temporalio import workflow
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.observability.test_ground_truth import worker_with_ledger
from tests.trust.kit import gateway_sealer
from tests.workflows.harness import Recorder, eventually
from trust.engine_keys import EngineKeys
from workflows import envelopes, reconcile
from workflows.case_workflow import CaseWorkflow, CaseWorkflowInput
from workflows.catalog_loader import Catalog
from workflows.client import open_case
from workflows.rules.commands import OpenCase
from workflows.rules.model import Actor

TOWNSHIP = "jinhaihu-township"


def _mining() -> OpenCase:
    return OpenCase(f"req-{uuid.uuid4()}", Actor(TOWNSHIP, "duty-officer"), "illegal-mining",
                    f"JHH-{uuid.uuid4().hex[:8]}", "Night digging", jurisdiction="jinhaihu",
                    number=f"20261207-{uuid.uuid4().int % 10_000:04d}")


def _sealed(env: WorkflowEnvironment) -> Client:
    """The gateway's and the worker's client: sealed commands, sealed payloads."""
    keys = EngineKeys("k1", {"k1": b"\x01" * 32}, b"\x02" * 32)
    return Client(env.client.service_client, namespace=env.client.namespace,
                  interceptors=[gateway_sealer()], data_converter=envelopes.data_converter(keys))


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class _Squatter:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


async def _recorded(engine: Engine, case_id: str) -> bool:
    with engine.connect() as connection:
        return bool(connection.exec_driver_sql(
            "SELECT 1 FROM ledger_entry WHERE case_id = ?", (case_id,)).first())


async def _failed(client: Client, workflow_id: str) -> bool:
    """The worker has refused the run: only then does the reconciler see "failed"."""
    description = await client.get_workflow_handle(workflow_id).describe()
    return description.status == WorkflowExecutionStatus.FAILED


async def test_every_intervention_on_the_engine_is_named_by_case(
        dev_env: WorkflowEnvironment, catalog: Catalog, tmp_path: Path) -> None:
    sealed = _sealed(dev_env)
    anyone = dev_env.client  # no engine key: whoever reaches the engine
    database = f"sqlite:///{tmp_path / 'ledger.db'}"
    async with worker_with_ledger(sealed, database, Recorder()) as (queue, engine):
        openings = [_mining() for _ in range(3)]
        numbers = [opening.number for opening in openings]
        healthy, terminated, deleted = [
            await open_case(sealed, catalog, opening, task_queue=queue)
            for opening in openings]
        for case in (healthy, terminated, deleted):
            await eventually(functools.partial(_recorded, engine, case.case_id))
        await anyone.get_workflow_handle(terminated.case_id.rpartition("@")[0]).terminate(
            reason="tidying up")
        await anyone.workflow_service.delete_workflow_execution(
            DeleteWorkflowExecutionRequest(namespace=anyone.namespace,
                                           workflow_execution=WorkflowExecution(
                                               workflow_id=deleted.case_id.rpartition("@")[0],
                                               run_id=deleted.case_id.rpartition("@")[2])))
        rules = catalog.rules_for("illegal-mining")
        assert rules is not None
        forged = await anyone.start_workflow(
            CaseWorkflow.run, CaseWorkflowInput(_mining(), rules),
            id=f"case:illegal-mining:forged-{uuid.uuid4().hex[:8]}", task_queue=queue)
        await eventually(functools.partial(_failed, sealed, forged.id))
        own_queue = f"foreign-{uuid.uuid4()}"
        async with Worker(anyone, task_queue=own_queue, workflows=[_Squatter]):
            squatter = await anyone.start_workflow(
                _Squatter.run, id=f"case:illegal-mining:squat-{uuid.uuid4().hex[:8]}",
                task_queue=own_queue)
            later = datetime.now(UTC) + reconcile.SETTLING + timedelta(seconds=5)

            async def deleted_from_visibility() -> bool:
                found = await reconcile.reconcile(sealed, engine, task_queue=queue,
                                                  now=later)
                return any(f.kind == reconcile.GONE_FROM_ENGINE and
                           f.case_id == deleted.case_id for f in found)
            await eventually(deleted_from_visibility, within=30)
            findings = await reconcile.reconcile(sealed, engine, task_queue=queue, now=later)

    mine = {f.workflow_id: f for f in findings}
    assert healthy.case_id.rpartition("@")[0] not in mine
    ended = mine[terminated.case_id.rpartition("@")[0]]
    assert (ended.kind, ended.case_id, ended.case_number) == (
        reconcile.ENDED_BY_ENGINE, terminated.case_id, numbers[1])
    assert "the engine terminated this run of the case" in ended.detail
    assert "'tidying up'" in ended.detail and ended.at is not None
    gone = mine[deleted.case_id.rpartition("@")[0]]
    assert (gone.kind, gone.case_number) == (reconcile.GONE_FROM_ENGINE, numbers[2])
    refused = mine[forged.id]
    assert refused.kind == reconcile.UNKNOWN_TO_LEDGER and "failed" in refused.detail
    foreign = mine[squatter.id]
    assert foreign.kind == reconcile.FOREIGN_QUEUE
    assert f"on queue {own_queue!r}, which the platform does not serve" in foreign.detail
