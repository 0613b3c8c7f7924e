"""A reporter's whole journey over Open311, across the platform's real processes.

A client system with a key posts a report (JSON), then another on the same subject
(XML): the case opens with the lead the catalogue and the matrix name, and the second
merges into it. GET shows it open, the agency responsible and the promised time. The
lead works and closes it with an answer: GET shows it closed with the answer. The
hotline records a dissatisfied, unsolved rating: the matter reopens, and GET follows
the new case. And the reporter's phone number is in no other agency's view, in no
export of the ledger, in no trace file and in no log.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from tests.e2e.platform import Platform, wait_for

pytestmark = pytest.mark.e2e

PHONE = "13912345678"
HOTLINE, TOWNSHIP, NR = "command-center", "jinhaihu-township", "natural-resources"
JINHAIHU = {"lat": "40.17", "long": "117.35"}
ANSWER = "The quarry was sealed and its operator fined; the site is watched at night."


def test_a_reporter_follows_a_report_from_post_to_reopening(platform: Platform) -> None:
    key = platform.cli_json("open311", "key", "add", "citylink")["api_key"]
    base = f"http://127.0.0.1:{platform.ports.gateway_http}/open311/v2"
    site = f"north quarry {uuid.uuid4().hex[:6]}"
    form = {"api_key": key, "service_code": "night-quarrying", **JINHAIHU,
            "address_string": "north of the reservoir", "attribute[site]": site,
            "description": "blasting and lorries after midnight", "first_name": "小明",
            "last_name": "王", "phone": PHONE, "email": "wang@example.cn"}
    with httpx.Client(base_url=base, timeout=60) as http:
        def request(report_id: str) -> dict[str, Any]:
            reply = http.get(f"/requests/{report_id}.json")
            assert reply.status_code == 200, reply.text
            found: list[dict[str, Any]] = reply.json()
            assert len(found) == 1
            return found[0]

        posted = http.post("/requests.json", data=form)
        assert posted.status_code == 200, posted.text
        first = posted.json()[0]["service_request_id"]
        xml = http.post("/requests.xml", data={**form, "description": "again tonight",
                                               "phone": "13900000000"})
        assert xml.status_code == 200, xml.text
        second = ET.fromstring(xml.content).findtext("request/service_request_id")
        assert second and second != first

        shown = [platform.cli_json("report", "show", r, "--as", HOTLINE)
                 for r in (first, second)]
        assert shown[0]["case_id"] == shown[1]["case_id"]  # 并单: one case
        case = platform.cli_json("case", "show", shown[0]["case_id"], "--as", HOTLINE)
        assert case["owner"] == TOWNSHIP and case["type"] == "illegal-mining"
        opened = request(first)
        assert opened["status"] == "open"
        assert "金海湖镇" in opened["agency_responsible"]
        assert opened["expected_datetime"] and opened["requested_datetime"]

        for task in case["tasks"]:
            platform.cli("task", "withdraw", case["number"], task["id"], "--as", TOWNSHIP)
        platform.cli("case", "close", case["number"], "--summary", "sealed",
                     "--answer", ANSWER, "--as", TOWNSHIP)
        wait_for(lambda: request(first)["status"] == "closed", "GET shows the case closed",
                 timeout=60)
        assert request(first)["status_notes"] == ANSWER

        rated = platform.cli_json("report", "rate", first, "--solved", "no",
                                  "--satisfaction", "dissatisfied", "--as", HOTLINE)
        reopened = rated["reopened_as"]
        assert reopened and reopened != case["id"]
        new = platform.cli_json("case", "show", reopened, "--as", HOTLINE)
        assert new["owner"] == TOWNSHIP and new["reopened_from"] == case["id"]
        wait_for(lambda: request(first)["status"] == "open", "GET follows the new case",
                 timeout=60)

    # The phone number: masked for an assisting agency, absent from what the ledger
    # gives out and from every trace and log the processes wrote.
    assisting = platform.cli_json("report", "show", first, "--as", NR)
    assert assisting["contact"]["masked"] and PHONE not in str(assisting)
    assert platform.cli_json("report", "show", first, "--as", TOWNSHIP)["contact"][
        "phone"] == PHONE  # the lead calls back if it must
    export = platform.data_dir / "export.ocel.json"
    platform.cli("oversight", "export", "--out", str(export))
    assert case["id"] in export.read_text(encoding="utf-8")
    written = [p for folder in ("traces", "logs", "run") if (platform.data_dir / folder).exists()
               for p in (platform.data_dir / folder).rglob("*") if p.is_file()]
    assert any(p.parent.name == "traces" for p in written)
    for path in [export, *written]:
        assert PHONE.encode() not in path.read_bytes(), path


def test_the_hotline_demo_merges_answers_and_reopens(platform: Platform) -> None:
    reopened = platform.cli_json("demo", "hotline")
    assert reopened["reopened_from"] and reopened["owner"] == TOWNSHIP
    assert len(reopened["reports"]) == 2  # both callers follow the new case
    scorecards = platform.cli_json("oversight", "scorecard")
    township = next(c for c in scorecards["scorecards"] if c["agency"] == TOWNSHIP)
    assert township["hotline"]["ratings"] >= 2
