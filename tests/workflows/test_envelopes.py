"""Sealed envelopes: what the platform hands Temporal is ciphertext, and what it did not
seal changes nothing, on the real workflow and the real dev server.

The attacker here reaches Temporal's frontend as anyone on the host can, with the SDK:
they read histories, start a case with a genuine seal copied into a plaintext start,
and run a workflow of their own that calls the platform's activities.
"""

from __future__ import annotations

import base64
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RawValue, RetryPolicy
from temporalio.converter import WorkflowSerializationContext
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.trust.kit import gateway_sealer
from tests.workflows.harness import Recorder, case_worker, eventually
from trust import engine_keys
from trust.engine_keys import EngineKeys
from workflows import activities, envelopes
from workflows.case_workflow import CaseWorkflow, CaseWorkflowInput
from workflows.catalog_loader import Catalog
from workflows.client import case_handle, get_case, open_case
from workflows.ratings import rating_workflow_id
from workflows.rules.commands import OpenCase
from workflows.rules.model import Actor
from workflows.rules.refusals import Reason
from workflows.unopened import PlatformPayloadConverter, Unopened

TOWNSHIP = "jinhaihu-township"


def _keys() -> EngineKeys:
    return EngineKeys("k1", {"k1": b"\x01" * 32}, b"\x02" * 32)


def _payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


async def test_a_sealed_payload_is_ciphertext_that_opens_only_unchanged() -> None:
    codec = envelopes.EnvelopeCodec(_keys())
    [sealed] = await codec.encode([_payload("Night digging at Huangsongyu")])
    assert b"Huangsongyu" not in sealed.SerializeToString()
    assert sealed.metadata["seamless-key"] == b"k1"
    assert await codec.decode([sealed]) == [_payload("Night digging at Huangsongyu")]
    changed = Payload()
    changed.CopyFrom(sealed)
    changed.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    [refused] = await codec.decode([changed])
    [value] = PlatformPayloadConverter().from_payloads([refused], [CaseWorkflowInput])
    assert isinstance(value, Unopened)
    assert "changed since it was sealed" in value.reason


async def test_plaintext_and_foreign_keys_do_not_open_whatever_type_is_expected() -> None:
    codec = envelopes.EnvelopeCodec(_keys())
    [foreign] = await envelopes.EnvelopeCodec(
        EngineKeys("k9", {"k9": b"\x09" * 32}, b"\x02" * 32)).encode([_payload("x")])
    opened = await codec.decode([_payload("forged"), foreign])
    values = PlatformPayloadConverter().from_payloads(opened, [CaseWorkflowInput, str])
    assert [type(v) for v in values] == [Unopened, Unopened]
    assert "plaintext (json/plain)" in values[0].reason
    assert "key 'k9', which this platform does not hold" in values[1].reason


async def test_a_rotated_key_seals_and_the_old_one_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "engine" / "keys.json"
    first = engine_keys.ensure(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert engine_keys.ensure(path) == first
    [old] = await envelopes.EnvelopeCodec(first).encode([_payload("before")])
    rotated = engine_keys.rotate(path)
    assert rotated.current != first.current and first.current in rotated.keys
    codec = envelopes.EnvelopeCodec(EngineKeys.load(path))
    [new] = await codec.encode([_payload("after")])
    assert new.metadata["seamless-key"] == rotated.current.encode()
    assert await codec.decode([old, new]) == [_payload("before"), _payload("after")]
    # The subject secret is never rotated: a subject's lock must not move under its case.
    assert rotated.subject_secret == first.subject_secret


def test_keys_made_before_the_subject_secret_are_given_one(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text('{"current": "k1", "keys": {"k1": "%s"}}' % ("AQEB" * 10 + "AQE="))
    keys = engine_keys.ensure(path)
    assert len(keys.subject_secret) == 32
    assert engine_keys.ensure(path).subject_secret == keys.subject_secret


def _sealed_client(env: WorkflowEnvironment, keys: EngineKeys) -> Client:
    """The gateway's and the worker's client: sealed commands, sealed payloads."""
    return Client(env.client.service_client, namespace=env.client.namespace,
                  interceptors=[gateway_sealer()], data_converter=envelopes.data_converter(keys))


def _mining(subject: str) -> OpenCase:
    return OpenCase(f"req-{uuid.uuid4()}", Actor(TOWNSHIP, "duty-officer"), "illegal-mining",
                    subject, "Night digging", jurisdiction="jinhaihu")


async def test_the_engine_holds_only_ciphertext_of_a_case(dev_env: WorkflowEnvironment,
                                                          catalog: Catalog) -> None:
    sealed = _sealed_client(dev_env, _keys())
    subject = f"JHH-{uuid.uuid4().hex[:8]}"
    async with case_worker(sealed) as (queue, recorder, _):
        case_id = (await open_case(sealed, catalog, _mining(subject), task_queue=queue)).case_id
        await eventually(lambda: _recorded(recorder, 1))
        assert (await get_case(sealed, case_id)).title == "Night digging"
    # What anyone reaching the engine reads: `temporal workflow show`, the UI.
    history = await case_handle(dev_env.client, case_id).fetch_history()
    stored = b"".join(event.SerializeToString() for event in history.events)
    assert b"Night digging" not in stored
    inputs = history.events[0].workflow_execution_started_event_attributes.input.payloads
    assert [p.metadata["encoding"] for p in inputs] == [b"binary/seamless-sealed"]


async def _recorded(recorder: Recorder, count: int) -> bool:
    return len(recorder.events) >= count


async def test_a_plaintext_start_with_a_genuine_seal_opens_nothing(
        dev_env: WorkflowEnvironment, catalog: Catalog) -> None:
    sealed = _sealed_client(dev_env, _keys())
    rules = catalog.rules_for("illegal-mining")
    assert rules is not None
    subject = f"FORGED-{uuid.uuid4().hex[:8]}"
    async with case_worker(sealed) as (queue, recorder, _):
        # dev_env's client seals as the gateway does, but hands the engine plaintext.
        handle = await dev_env.client.start_workflow(
            CaseWorkflow.run, CaseWorkflowInput(_mining(subject), rules),
            id=f"case:illegal-mining:{subject}", task_queue=queue)
        with pytest.raises(WorkflowFailureError) as refused:
            # (read as the platform reads it: the refusal's details are sealed too)
            await sealed.get_workflow_handle(handle.id).result()
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == Reason.COMMAND_NOT_SEALED.value
    assert "not sealed by the platform" in cause.message
    assert recorder.events == [] and recorder.deliveries == []


@dataclasses.dataclass(frozen=True)
class _Errand:
    queue: str
    batch: str  # the payload handed to the ledger activity, serialized, base64-encoded


@workflow.defn(name="ForeignErrand", sandboxed=False)
class _ForeignErrand:
    """A workflow of the attacker's own, on their own queue, that hands the platform's
    ledger activity a payload of its choosing, byte for byte."""

    @workflow.run
    async def run(self, errand: _Errand) -> str:
        try:
            await workflow.execute_activity(
                activities.RECORD_CASE_EVENTS,
                RawValue(Payload.FromString(base64.b64decode(errand.batch))),
                task_queue=errand.queue, start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=3))
        except ActivityError as err:
            cause = err.cause
            return f"refused: {cause.message if isinstance(cause, ApplicationError) else cause}"
        return "appended"


async def _run_errand(env: WorkflowEnvironment, queue: str, batch: Payload, *,
                      workflow_id: str = "") -> str:
    """What the attacker's errand brought back: "appended", or "refused: <why>"."""
    attacker = Client(env.client.service_client, namespace=env.client.namespace)
    own_queue = f"foreign-{uuid.uuid4()}"
    async with Worker(attacker, task_queue=own_queue, workflows=[_ForeignErrand]):
        outcome: str = await attacker.execute_workflow(
            _ForeignErrand.run,
            _Errand(queue, base64.b64encode(batch.SerializeToString()).decode()),
            id=workflow_id or f"foreign-{uuid.uuid4()}", task_queue=own_queue)
    return outcome


def _heard_once(recorder: Recorder) -> bool:
    """Whether the ledger heard each event once (a replayed batch is heard twice)."""
    sequences = [event.sequence for event in recorder.events]
    return len(sequences) == len(set(sequences))


async def test_a_foreign_workflow_cannot_drive_the_platforms_activities(
        dev_env: WorkflowEnvironment, catalog: Catalog) -> None:
    forged = {"chain": "case:illegal-mining:X@run", "events": [{
        "sequence": 99, "kind": "ESCALATION", "at": datetime.now(UTC).isoformat(),
        "actor": {"agency": "platform", "officer": "clock"},
        "detail": "blamed on public-security"}]}
    [plaintext] = dev_env.client.data_converter.payload_converter.to_payloads([forged])
    async with case_worker(_sealed_client(dev_env, _keys())) as (queue, recorder, _):
        outcome = await _run_errand(dev_env, queue, plaintext)
    assert outcome.startswith("refused: command refused: its payload was not sealed by the "
                              "platform (plaintext (json/plain)")
    assert recorder.events == []


async def _first_ledger_batch(client: Client, case_id: str) -> Payload:
    """The sealed input of the case's first ledger append, as its history holds it."""
    history = await case_handle(client, case_id).fetch_history()
    return next(event.activity_task_scheduled_event_attributes.input.payloads[0]
                for event in history.events
                if event.activity_task_scheduled_event_attributes.activity_type.name
                == activities.RECORD_CASE_EVENTS)


async def test_a_sealed_payload_copied_into_another_workflow_does_not_open(
        dev_env: WorkflowEnvironment, catalog: Catalog) -> None:
    sealed = _sealed_client(dev_env, _keys())
    async with case_worker(sealed) as (queue, recorder, _):
        case_id = (await open_case(sealed, catalog, _mining(f"JHH-{uuid.uuid4().hex[:8]}"),
                                   task_queue=queue)).case_id
        await eventually(lambda: _recorded(recorder, 1))
        batch = await _first_ledger_batch(dev_env.client, case_id)
        assert batch.metadata["encoding"] == b"binary/seamless-sealed"
        outcome = await _run_errand(dev_env, queue, batch)
    assert outcome.startswith("refused: command refused: its payload was not sealed by the "
                              "platform (sealed for another workflow (case:illegal-mining:")
    # (The case itself goes on recording; the copied batch would have been heard twice.)
    assert _heard_once(recorder)


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class _Squatter:
    """Named like the platform's case, on the attacker's own queue: it holds whatever
    id it is started under and answers nothing."""

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


async def test_a_workflow_squatting_a_subject_lock_on_a_foreign_queue_is_evicted(
        dev_env: WorkflowEnvironment, catalog: Catalog) -> None:
    sealed = _sealed_client(dev_env, _keys())
    attacker = Client(dev_env.client.service_client, namespace=dev_env.client.namespace)
    own_queue = f"foreign-{uuid.uuid4()}"
    subject = f"JHH-{uuid.uuid4().hex[:8]}"
    async with case_worker(sealed) as (queue, recorder, _):
        first = await open_case(sealed, catalog, _mining(subject), task_queue=queue)
        lock = first.case_id.rpartition("@")[0]
        await sealed.get_workflow_handle(lock).terminate(reason="(the case ended)")
        async with Worker(attacker, task_queue=own_queue, workflows=[_Squatter]):
            # The lock of a closed case is in every workflow list: taken first.
            squatter = await attacker.start_workflow(_Squatter.run, id=lock,
                                                     task_queue=own_queue)
            again = await open_case(sealed, catalog, _mining(subject), task_queue=queue)
    assert again.case_id.startswith(lock + "@") and again.case_id != first.case_id
    assert again.status.value == "OPEN"
    squatted = attacker.get_workflow_handle(lock, run_id=squatter.result_run_id)
    ended = await squatted.describe()
    assert ended.status is not None and ended.status.name == "TERMINATED"
    history = await squatted.fetch_history()
    reason = history.events[-1].workflow_execution_terminated_event_attributes.reason
    assert f"queue {own_queue!r}, which the platform does not serve" in reason


def test_a_reports_rating_runs_under_an_id_nobody_can_take_first() -> None:
    # Started first under a report's id by someone else, a workflow would block the
    # report's rating forever (its id is never reused): without the secret, it is not
    # known before the rating is.
    secret = _keys().subject_secret
    rating_id = rating_workflow_id("R-20261130-0042", secret)
    assert rating_id.startswith("rating:") and "0042" not in rating_id
    assert rating_id == rating_workflow_id("R-20261130-0042", secret)
    assert rating_id != rating_workflow_id("R-20261130-0042", b"\x03" * 32)


async def test_a_payload_sealed_before_payloads_were_bound_still_opens() -> None:
    """A case running when the binding came replays its history: its payloads carry no
    workflow. Stripping the workflow from a bound payload does not make it one."""
    keys = _keys()
    key_id, sealed = keys.seal(_payload("before").SerializeToString(),
                               b"seamless engine payload v1")
    unbound = Payload(metadata={"encoding": b"binary/seamless-sealed",
                                "seamless-key": key_id.encode()}, data=sealed)
    codec = envelopes.EnvelopeCodec(keys).with_context(
        WorkflowSerializationContext(namespace="default", workflow_id="case:x:1"))
    assert await codec.decode([unbound]) == [_payload("before")]
    [bound] = await codec.encode([_payload("after")])
    stripped = Payload()
    stripped.CopyFrom(bound)
    del stripped.metadata["seamless-workflow"]
    [refused] = await codec.decode([stripped])
    assert refused.metadata["encoding"] == b"binary/seamless-unopened"


async def test_a_copied_input_does_nothing_under_the_same_id_in_another_run(
        dev_env: WorkflowEnvironment, catalog: Catalog) -> None:
    """A closed case's id is free for anyone to start under, and a payload copied out of
    its history opens there: the activity still runs only for the run that asked."""
    sealed = _sealed_client(dev_env, _keys())
    async with case_worker(sealed) as (queue, recorder, _):
        case_id = (await open_case(sealed, catalog, _mining(f"JHH-{uuid.uuid4().hex[:8]}"),
                                   task_queue=queue)).case_id
        await eventually(lambda: _recorded(recorder, 1))
        lock = case_id.rpartition("@")[0]
        batch = await _first_ledger_batch(dev_env.client, case_id)
        await dev_env.client.get_workflow_handle(lock).terminate(reason="(the case ended)")
        outcome = await _run_errand(dev_env, queue, batch, workflow_id=lock)
    assert outcome.startswith("refused: command refused: its payload was asked for by "
                              "another run")
    assert _heard_once(recorder)
