"""Replay each playbook's recorded history against the current workflow code.

A change that would make running cases non-deterministic fails here. If the change is
deliberate, version it (workflow.patched) and then `make histories`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.trust.kit import worker_seals
from tests.workflows.scenarios import SCENARIOS
from workflows.case_workflow import CaseWorkflow
from workflows.request_trace import RequestTraceInterceptor
from workflows.seals import SealCheck

HISTORIES = Path(__file__).parent / "histories"
# Recorded before commands were sealed and receipts kept (no seal headers, deliveries
# answering their attempt alone, no notice receipts): cases running when that was
# deployed.
BEFORE_SEALS = HISTORIES / "before-seals"
# Recorded before deliveries became ledger events, likewise.
BEFORE_DELIVERY_EVENTS = HISTORIES / "before-delivery-events"
# Recorded when ledger appends were local activities (before versions.LEDGER_ACTIVITY).
BEFORE_LEDGER_ACTIVITIES = HISTORIES / "before-ledger-activities"
# Recorded before each batch carried the read model and the participants and awaited
# agencies were upserted at every step (before versions.PROJECTION).
BEFORE_READ_MODEL = HISTORIES / "before-read-model"


@pytest.mark.parametrize("folder", [HISTORIES, BEFORE_SEALS, BEFORE_DELIVERY_EVENTS,
                                    BEFORE_LEDGER_ACTIVITIES, BEFORE_READ_MODEL],
                         ids=["current", "before-seals", "before-delivery-events",
                              "before-ledger-activities", "before-read-model"])
@pytest.mark.parametrize("playbook", sorted(SCENARIOS))
async def test_recorded_history_replays(playbook: str, folder: Path) -> None:
    path = folder / f"{playbook}.json"
    text = path.read_text(encoding="utf-8")
    history = WorkflowHistory.from_json(_recorded_workflow_id(text), text)
    assert len(history.events) > 20, "the recorded scenario should be a whole case"
    # As the production worker runs it: the seal check replays without checking again.
    replayer = Replayer(workflows=[CaseWorkflow],
                        interceptors=[RequestTraceInterceptor(),
                                      SealCheck(worker_seals(), "replay")])
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None


def _recorded_workflow_id(text: str) -> str:
    """The id the case ran under (the case's id is made from it, and so are the ids of
    its activities): "<workflow id>@<run>/…" names it in each scheduled activity."""
    history = WorkflowHistory.from_json("unknown", text)
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            activity_id = event.activity_task_scheduled_event_attributes.activity_id
            if "@" in activity_id:  # (the ledger's activities have plain numbers)
                return activity_id.partition("/")[0].rpartition("@")[0]
    raise AssertionError("the recorded case scheduled no activity")
