"""What the CLI prints: one JSON document with --json, readable tables otherwise."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from seamless.v1 import agency_pb2, case_pb2
from seamless.v1 import case_service_pb2 as pb

# Officers read times in the district's own time.
BEIJING = timezone(timedelta(hours=8))


def _time(stamp: Timestamp, present: bool) -> str | None:
    if not present:
        return None
    return stamp.ToDatetime(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _enum(wrapper: Any, value: int, prefix: str) -> str:
    return str(wrapper.Name(value)).removeprefix(prefix)


def _clock(message: Any, field: str) -> str | None:
    if not message.HasField(field):
        return None
    clock = getattr(message, field)
    return _time(clock.deadline, clock.HasField("deadline"))


def task_json(task: case_pb2.Task) -> dict[str, Any]:
    return {
        "id": task.id, "kind": task.kind, "title": task.title, "assignee": task.assignee,
        "state": _enum(case_pb2.TaskState, task.state, "TASK_STATE_"),
        "delivered": task.delivered, "round": task.round,
        "sign_by": _clock(task, "sign_by"), "on_scene_by": _clock(task, "on_scene_by"),
        "due_by": _clock(task, "due_by"), "findings": task.findings,
        "evidence_refs": list(task.evidence_refs), "decline_reason": task.decline_reason,
        "suggested_agency": task.suggested_agency, "redispatched_from": task.redispatched_from,
        "extension_pending": task.extension_pending,
    }


def handoff_json(handoff: case_pb2.Handoff) -> dict[str, Any]:
    return {"id": handoff.id, "from": handoff.from_agency, "to": handoff.to_agency,
            "reason": handoff.reason,
            "state": _enum(case_pb2.HandoffState, handoff.state, "HANDOFF_STATE_"),
            "offered_at": _time(handoff.offered_at, handoff.HasField("offered_at")),
            "expires_at": _time(handoff.expires_at, handoff.HasField("expires_at"))}


def case_json(case: case_pb2.Case) -> dict[str, Any]:
    return {
        "id": case.id, "type": case.type, "subject": case.subject_key, "title": case.title,
        "owner": case.owner, "status": _enum(case_pb2.CaseStatus, case.status, "CASE_STATUS_"),
        "stage": case.stage, "jurisdiction": case.jurisdiction, "priority": case.priority,
        "opened_by": case.opened_by.agency_id,
        "opened_at": _time(case.opened_at, case.HasField("opened_at")),
        "closed_at": _time(case.closed_at, case.HasField("closed_at")),
        "legal_deadline": _time(case.legal_deadline, case.HasField("legal_deadline")),
        "promised_deadline": _time(case.promised_deadline,
                                   case.HasField("promised_deadline")),
        "tasks": [task_json(t) for t in case.tasks],
        "handoff": handoff_json(case.handoff) if case.HasField("handoff") else None,
        "escalations": [{"id": e.id, "reason": e.reason, "task_id": e.task_id,
                         "resolved": e.HasField("resolved_at")} for e in case.escalations],
        "ownership": [{"owner": o.owner,
                       "via": _enum(case_pb2.OwnershipVia, o.via, "OWNERSHIP_VIA_"),
                       "start": _time(o.start_time, o.HasField("start_time")),
                       "end": _time(o.end_time, o.HasField("end_time"))}
                      for o in case.ownership],
    }


def summary_json(line: pb.CaseSummary) -> dict[str, Any]:
    return {"id": line.id, "type": line.type, "subject": line.subject_key,
            "title": line.title, "owner": line.owner,
            "status": _enum(case_pb2.CaseStatus, line.status, "CASE_STATUS_"),
            "opened_at": _time(line.opened_at, line.HasField("opened_at"))}


def inbox_json(item: agency_pb2.InboxItem) -> dict[str, Any]:
    return {"case_id": item.case_id, "task_id": item.task_id, "round": item.round,
            "case_type": item.case_type, "case_title": item.case_title, "owner": item.owner,
            "kind": item.kind, "title": item.title,
            "state": _enum(agency_pb2.InboxItemState, item.state, "INBOX_ITEM_STATE_"),
            "task_state": _enum(case_pb2.TaskState, item.task_state, "TASK_STATE_"),
            "sign_by": _time(item.sign_by, item.HasField("sign_by")),
            "due_by": _time(item.due_by, item.HasField("due_by"))}


def agency_json(agency: agency_pb2.Agency) -> dict[str, Any]:
    return {"id": agency.id, "name_zh": agency.name_zh, "name_en": agency.name_en,
            "jurisdictions": list(agency.jurisdictions),
            "capabilities": list(agency.capabilities)}


def dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)


# ----- human output -------------------------------------------------------------------

def local(value: str | None) -> str:
    """An ISO time in Beijing time, minutes precision ('' for none)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A plain text table; widths count East Asian characters as two columns."""
    grid = [list(headers), *[[str(c) for c in row] for row in rows]]
    widths = [max(_width(row[i]) for row in grid) for i in range(len(headers))]
    lines = ["  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip()
             for row in grid]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def name(names: Mapping[str, tuple[str, str]], agency: str) -> str:
    """'区公安分局 Public Security Bureau (public-security)' or the id when unknown."""
    zh_en = names.get(agency)
    return f"{zh_en[0]} {zh_en[1]}" if zh_en else agency


def case_text(case: dict[str, Any], names: Mapping[str, tuple[str, str]]) -> str:
    lines = [f"case     {case['id']}",
             f"type     {case['type']}   subject {case['subject']}",
             f"title    {case['title']}",
             f"owner    {name(names, case['owner'])} ({case['owner']})",
             f"status   {case['status']}   opened {local(case['opened_at'])}"
             f"   promised by {local(case['promised_deadline'])}"
             f"   legal by {local(case['legal_deadline'])}"]
    handoff = case["handoff"]
    if handoff:
        lines.append(f"handoff  {handoff['id']}: offered to {name(names, handoff['to'])}, "
                     f"expires {local(handoff['expires_at'])}")
    if case["tasks"]:
        lines += ["", table(
            ["task", "assignee", "state", "delivered", "sign by", "due by", "kind"],
            [[t["id"], name(names, t["assignee"]), t["state"],
              "yes" if t["delivered"] else "NOT YET", local(t["sign_by"]),
              local(t["due_by"]), t["kind"]] for t in case["tasks"]])]
    open_escalations = [e for e in case["escalations"] if not e["resolved"]]
    for escalation in open_escalations:
        lines.append(f"ESCALATED {escalation['id']}: {escalation['reason']}")
    return "\n".join(lines)
