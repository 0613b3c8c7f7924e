"""Oversight across real processes: after a demo case, the oversight CLI reads its
timeline, gaps, scorecards, hand-offs and exports; `audit verify` passes, then catches an
edit made behind the ledger's back; and every process wrote its spans, joined in traces,
to the OTLP-JSON lines files of the data directory."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from observability.spans import case_trace_id
from tests.e2e.platform import Platform, wait_for

# The whole platform as real processes: left out of `make test-fast`.
pytestmark = pytest.mark.e2e


def spans_in(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                found += scope["spans"]
    return found


def test_oversight_reads_a_demo_case_and_audit_catches_tampering(platform: Platform) -> None:
    food = platform.cli_json("demo", "food")
    case_id = food["id"]
    timeline = platform.cli_json("oversight", "timeline", case_id)  # as oversight
    assert [p["owner"] for p in timeline["ownership"]] == ["market-regulation",
                                                           "agriculture-rural"]
    assert timeline["events"][-1]["kind"] == "CLOSED"
    assert any(g["kind"] == "DECLINE_REVIEW" for g in timeline["gaps"])
    gaps = platform.cli_json("oversight", "gaps", "--kind", "handoff_pending")
    assert case_id in {g["case_id"] for g in gaps["gaps"]}
    scorecards = platform.cli_json("oversight", "scorecard")
    assert "agriculture-rural" in {c["agency"] for c in scorecards["scorecards"]}
    matrix = platform.cli_json("oversight", "handoffs")
    assert ("market-regulation", "agriculture-rural") in {
        (c["from_agency"], c["to_agency"]) for c in matrix["cells"]}
    out = platform.data_dir / "log.ocel.json"
    platform.cli("oversight", "export", "--out", str(out))  # OCEL by default
    assert case_id in {o["id"] for o in json.loads(out.read_text())["objects"]}
    # A stranger to the case sees none of it.
    refused = platform.cli("oversight", "timeline", case_id, "--as", "traffic-police",
                           check=False)
    assert refused.returncode == 1 and "NOT_FOUND" in refused.stderr
    # Human output reads as tables.
    assert "who owned it" in platform.cli("oversight", "timeline", case_id).stdout

    verified = platform.cli_json("audit", "verify")
    assert verified["cases_checked"] >= 1 and verified.get("cases_broken", 0) == 0
    with sqlite3.connect(platform.data_dir / "ledger" / "ledger.db") as ledger:
        ledger.execute("UPDATE ledger_entry SET detail = 'nothing found' "
                       "WHERE case_id = ? AND sequence = 2", (case_id,))
    tampered = platform.cli("audit", "verify", case_id, check=False)
    assert tampered.returncode == 1
    assert "broken at event 2" in tampered.stdout and "altered" in tampered.stdout


def test_every_process_writes_spans_and_a_request_is_one_trace(platform: Platform) -> None:
    mining = platform.cli_json("demo", "mining")
    traces = platform.data_dir / "traces"

    def trace_ids(process: str) -> set[str]:
        return {s["traceId"] for s in spans_in(traces / f"{process}.otlp.jsonl")}

    def joined() -> bool:
        # Batches reach the files every few seconds.
        return bool(trace_ids("gateway") & trace_ids("worker") & trace_ids("public-security"))
    wait_for(joined, "one trace across gateway, worker and an agency", timeout=60)
    case_trace = f"{case_trace_id(mining['id']):032x}"

    def case_spans() -> list[dict[str, Any]]:
        return [s for s in spans_in(traces / "worker.otlp.jsonl")
                if s["traceId"] == case_trace]
    wait_for(lambda: any(s["name"] == "case" for s in case_spans()),
             "the case's own span in its derived trace", timeout=60)
    names = {s["name"] for s in case_spans()}
    assert "owned by jinhaihu-township" in names
    assert any(n.startswith("gap ") for n in names)
