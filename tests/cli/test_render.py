"""What `case show` prints for people: the page a case reads as without --json."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from cli import render
from seamless.v1 import case_pb2

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def at(minutes: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(NOW + timedelta(minutes=minutes))
    return stamp


def clock(minutes: float, misses: int = 0) -> case_pb2.Clock:
    return case_pb2.Clock(deadline=at(minutes), misses=misses)


def act(sequence: int, kind: str, agency: str, officer: str, minutes: float,
        task: str = "") -> case_pb2.CaseEvent:
    return case_pb2.CaseEvent(sequence=sequence, kind=f"CASE_EVENT_KIND_{kind}",
                              time=at(minutes), task_id=task,
                              actor=case_pb2.Actor(agency_id=agency, officer_id=officer))


def a_case() -> case_pb2.Case:
    return case_pb2.Case(
        id="case:illegal-mining:0123456789abcdef0123@run", number="20261130-0007",
        type="illegal-mining", title="Quarrying by night", subject_key="JHH-QUARRY-7",
        jurisdiction="jinhaihu", owner="jinhaihu-township",
        status=case_pb2.CASE_STATUS_OPEN, priority=2, opened_at=at(-30),
        opened_by=case_pb2.Actor(agency_id="jinhaihu-township", officer_id="dispatcher"),
        legal_deadline=at(60 * 24 * 18), promised_deadline=at(60 * 24 * 6),
        tasks=[
            case_pb2.Task(id="T1", kind="mining-investigation", title="Seize the diggers",
                          assignee="natural-resources", state=case_pb2.TASK_STATE_SIGNED,
                          delivered=True, sign_by=clock(-20), on_scene_by=clock(-5, 1),
                          due_by=clock(60 * 24 * 3), extension_pending=True,
                          extension_requested_due=at(60 * 24 * 5)),
            case_pb2.Task(id="T2", kind="criminal-investigation", title="Explosives",
                          assignee="public-security", state=case_pb2.TASK_STATE_DECLINED,
                          delivered=True, sign_by=clock(-20), due_by=clock(60),
                          decline_reason="no crime reported")],
        acts=[act(1, "OPENED", "jinhaihu-township", "dispatcher", -30),
              act(6, "TASK_SIGNED", "natural-resources",
                  "field-officer", -25, "T1")])


def test_a_case_reads_with_its_number_first_and_every_clock_with_its_zone() -> None:
    page = render.case_text(render.case_json(a_case()), {}, now=NOW)
    lines = page.splitlines()
    assert lines[0].split()[:2] == ["case", "20261130-0007"]
    sign, on_scene, due = (next(line for line in lines if line.strip().startswith(name))
                           for name in ("sign for by", "on scene by", "due by"))
    assert "2026-11-30 09:40 +08:00" in sign
    assert "met 2026-11-30 09:35 +08:00 by natural-resources / field-officer" in sign
    assert "OVERDUE by 0h05m" in on_scene and "supervision notice sent" in on_scene
    assert "3d 0h00m left" in due
    assert "EXTENSION asked: due by 2026-12-05 10:00 +08:00" in page
    assert "DECLINED: no crime reported; WAITING for the owner's review" in page
    assert "opened    2026-11-30 09:30 +08:00 by jinhaihu-township / dispatcher" in page


def test_a_closed_case_says_when_by_whom_and_how_it_ended() -> None:
    case = a_case()
    case.status, case.summary = case_pb2.CASE_STATUS_CLOSED, "site sealed"
    case.closed_at.CopyFrom(at(120))
    case.acts.append(act(20, "CLOSED", "jinhaihu-township",
                         "duty-officer", 120))
    page = render.case_text(render.case_json(case), {}, now=NOW)
    assert ("closed    2026-11-30 12:00 +08:00 by jinhaihu-township / duty-officer: "
            "site sealed") in page
