"""Replay each playbook's recorded history against the current workflow code.

A change that would make running cases non-deterministic fails here. If the change is
deliberate, declare it as a patch (workflows.versions), move these histories to a folder
named for their version (they must still replay, until the patch is removed), record the
new ones with `make histories`, and replay both folders here.
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

# The histories of release 1 (workflows.versions): a change that replays them differently
# must be a patch declared there, with its old path kept for them.
HISTORIES = Path(__file__).parent / "histories"


@pytest.mark.parametrize("playbook", sorted(SCENARIOS))
async def test_recorded_history_replays(playbook: str) -> None:
    path = HISTORIES / f"{playbook}.json"
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
