"""Oversight and the citizens' side across real processes (one platform for both: each
module's platform costs half a minute to start).

After a demo case, the oversight CLI reads its timeline, gaps, scorecards, hand-offs and
exports; `audit verify` passes, then catches an edit made behind the ledger's back; and
every process wrote its spans, joined in traces, to the OTLP-JSON lines files of the
data directory.

A reporter's whole journey over Open311: a client system with a key posts a report
(JSON), then another on the same subject (XML): the case opens with the lead the
catalog and the matrix name, and the second merges into it. GET shows it open, the
agency responsible and the promised time. The lead works and closes it with an answer:
GET shows it closed with the answer. The hotline records a dissatisfied, unsolved
rating: the matter reopens, and GET follows the new case. And the reporter's phone
number is in no other agency's view, in no export of the ledger, in no trace file and in
no log.
"""

from __future__ import annotations

import io
import json
import sqlite3
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from observability.spans import case_trace_id
from tests.e2e.platform import Platform, wait_for
from tests.gateway.test_evidence import photo

# The whole platform as real processes: left out of `make test-fast`.


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

    def trace_ids(process: str, agency: str = "") -> set[str]:
        """The traces of `process`'s spans (of those `agency` served, in the process every
        agency shares)."""
        return {s["traceId"] for s in spans_in(traces / f"{process}.otlp.jsonl")
                if not agency or {"key": "agency.id", "value": {"stringValue": agency}}
                in s.get("attributes", [])}

    def joined() -> bool:
        # Batches reach the files every few seconds.
        return bool(trace_ids("gateway") & trace_ids("worker")
                    & trace_ids("agencies", "public-security"))
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


PHONE = "13912345678"


def phone_photo() -> bytes:
    """A photo as a phone takes it: 5 megapixels of detail (noise does not compress),
    with its place and time in EXIF."""
    with Image.open(io.BytesIO(photo())) as small:
        exif = small.getexif()
    picture = Image.merge("RGB", [Image.effect_noise((2600, 1950), 60) for _ in range(3)])
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()
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
    # A connection per request (the CLI calls between them outlast the keep-alive).
    with httpx.Client(base_url=base, timeout=60,
                      limits=httpx.Limits(max_keepalive_connections=0)) as http:
        def request(report_id: str) -> dict[str, Any]:
            reply = http.get(f"/requests/{report_id}.json")
            assert reply.status_code == 200, reply.text
            found: list[dict[str, Any]] = reply.json()
            assert len(found) == 1
            return found[0]

        # With the photo the reporter took at the quarry: a phone's, of 4 MB, its place
        # and time in EXIF.
        taken = phone_photo()
        assert len(taken) > 2 * 1024 * 1024
        posted = http.post("/requests.json", data=form,
                           files={"media": ("quarry.jpg", taken, "image/jpeg")})
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
        # What the citizen wrote, for the officer reading the report in a terminal.
        printed = platform.cli("report", "show", second, "--as", HOTLINE).stdout
        assert "again tonight" in printed and second in printed
        case = platform.cli_json("case", "show", shown[0]["case_id"], "--as", HOTLINE)
        assert case["owner"] == TOWNSHIP and case["type"] == "illegal-mining"
        opened = request(first)
        assert opened["status"] == "open"
        assert "金海湖镇" in opened["agency_responsible"]
        assert opened["expected_datetime"] and opened["requested_datetime"]
        # The public sees the photo, and nothing of where or when it was taken.
        public = http.get(httpx.URL(opened["media_url"]).path.removeprefix("/open311/v2"))
        assert public.status_code == 200 and public.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(public.content)) as copy:
            assert not copy.getexif() and max(copy.size) == 2048

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
