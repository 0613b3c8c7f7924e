"""The platform across real processes: Temporal's dev server, fifteen agency services,
the worker and the gateway, driven through the `seamless` command line."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.platform import Platform, wait_for
from tests.workflows.builders import stranger_guesses
from workflows.rules.opening import subject_digest, subject_lock

# The whole platform as real processes: left out of `make test-fast`.

BIN = Path(__file__).parents[2] / ".venv" / "bin"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """As compose runs it: each agency in a process of its own, so one can be down
    while the others serve (`seamless up` runs them in one; see test_faults)."""
    running = Platform(tmp_path_factory.mktemp("seamless"), agencies_apart=True)
    running.start_all()
    yield running
    running.stop_all()


def open_mining(platform: Platform) -> dict[str, Any]:
    subject = f"JHH-{uuid.uuid4().hex[:8].upper()}"
    case: dict[str, Any] = platform.cli_json(
        "case", "open", "--type", "illegal-mining", "--subject", subject,
        "--title", "Quarrying by night", "--jurisdiction", "jinhaihu",
        "--as", "jinhaihu-township")
    return case


def show(platform: Platform, case_id: str, agency: str = "jinhaihu-township"
         ) -> dict[str, Any]:
    case: dict[str, Any] = platform.cli_json("case", "show", case_id, "--as", agency)
    return case


def inbox_rows(platform: Platform, agency: str, case_id: str) -> list[dict[str, Any]]:
    """The case's rows in the agency's own database: what was delivered to it."""
    database = sqlite3.connect(platform.data_dir / "agencies" / agency / "agency.db")
    database.row_factory = sqlite3.Row
    rows = [dict(row) for row in database.execute(
        "SELECT task_id, withdrawn, task_state, case_number FROM inbox_item "
        "WHERE case_id = ? ORDER BY id", (case_id,))]
    database.close()
    return rows


def all_delivered(platform: Platform, case_id: str) -> bool:
    return all(t["delivered"] for t in show(platform, case_id)["tasks"])


def test_mining_and_food_run_end_to_end_and_are_listed_by_temporal(
        platform: Platform) -> None:
    mining = platform.cli_json("demo", "mining")
    assert mining["status"] == "CLOSED"
    assert {t["assignee"]: t["state"] for t in mining["tasks"]} == {
        "natural-resources": "DONE", "public-security": "DONE",
        "emergency-management": "DONE", "ecology-environment": "DONE"}
    food = platform.cli_json("demo", "food")
    assert (food["status"], food["owner"]) == ("CLOSED", "agriculture-rural")
    assert [t["state"] for t in food["tasks"]] == ["DONE", "DECLINED", "DONE"]

    # Each task reached its agency's own database, once.
    for task in mining["tasks"]:
        assert len(inbox_rows(platform, task["assignee"], mining["id"])) == 1

    # The engine indexes the subject by its keyed digest (the one in the workflow id),
    # never in clear: what anyone reaching Temporal can list.
    workflow_id = mining["id"].rpartition("@")[0]
    listed = subprocess.run(
        [str(BIN / "temporal"), "workflow", "list", "--address", platform.endpoints.temporal,
         "--query", f"SeamlessSubject = '{subject_digest(workflow_id)}' AND "
                    "SeamlessOwner = 'jinhaihu-township'", "--output", "json"],
        capture_output=True, text=True, check=True, timeout=60)
    executions = json.loads(listed.stdout)
    assert [e["execution"]["workflowId"] for e in executions] == [workflow_id]
    attributes = json.dumps(executions[0]["searchAttributes"])
    assert "SeamlessOwner" in attributes and "SeamlessCaseType" in attributes
    assert mining["subject"].upper() not in (listed.stdout + workflow_id).upper()
    # ...and keyed: hashing the subject as a stranger can does not give the lock.
    unkeyed = {subject_lock("illegal-mining", mining["subject"]),
               *stranger_guesses("illegal-mining", mining["subject"])}
    assert workflow_id not in unkeyed


def test_a_task_for_an_agency_that_is_down_arrives_once_when_it_returns(
        platform: Platform) -> None:
    platform.kill("public-security")
    case = open_mining(platform)
    police_task = next(t["id"] for t in case["tasks"] if t["assignee"] == "public-security")
    # The case carries on: the others get their tasks, the police's shows undelivered.
    wait_for(lambda: all(t["delivered"] for t in show(platform, case["id"])["tasks"]
                         if t["assignee"] != "public-security"), "the other deliveries")
    assert not next(t for t in show(platform, case["id"])["tasks"]
                    if t["id"] == police_task)["delivered"]
    platform.start("public-security")
    platform.wait_healthy(["public-security"])
    wait_for(lambda: all_delivered(platform, case["id"]), "the delivery after the restart")
    rows = inbox_rows(platform, "public-security", case["id"])
    assert [(r["task_id"], r["withdrawn"], r["case_number"]) for r in rows] == [
        (police_task, 0, case["number"])]


def test_officers_act_only_on_their_own_agency_inbox(platform: Platform) -> None:
    case = open_mining(platform)
    wait_for(lambda: all_delivered(platform, case["id"]), "the opening deliveries")
    police = platform.cli_json("task", "sign", case["id"], "T1", "--as", "public-security",
                               check=False)
    assert police["error"]["status"] == "NOT_FOUND"
    assert show(platform, case["id"])["tasks"][0]["state"] == "DISPATCHED"
    # Through its own desk an agency gets the gateway's refusal, reason and all.
    early = platform.cli_json("task", "complete", case["id"], "T1", "--findings", "x",
                              "--as", "natural-resources", check=False)
    assert (early["error"]["status"], early["error"]["reason"]) == \
        ("FAILED_PRECONDITION", "INVALID_TASK_STATE")


def test_stopping_and_starting_everything_keeps_cases_clocks_and_inboxes(
        platform: Platform) -> None:
    case = open_mining(platform)
    wait_for(lambda: all_delivered(platform, case["id"]), "the opening deliveries")
    before = show(platform, case["id"])
    platform.stop_all()
    platform.start_all()
    after = show(platform, case["id"])
    assert [(t["id"], t["sign_by"], t["due_by"], t["state"]) for t in after["tasks"]] == \
        [(t["id"], t["sign_by"], t["due_by"], t["state"]) for t in before["tasks"]]
    assert len(inbox_rows(platform, "natural-resources", case["id"])) == 1
    signed = platform.cli_json("task", "sign", case["id"], "T1", "--as", "natural-resources")
    assert signed["tasks"][0]["state"] == "SIGNED"
