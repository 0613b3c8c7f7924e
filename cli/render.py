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
from seamless.v1 import oversight_pb2 as ov

# Officers read times in the district's own time; every time printed says so.
BEIJING = timezone(timedelta(hours=8))
ZONE = "+08:00"


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


def _misses(message: Any, field: str) -> int:
    return int(getattr(message, field).misses) if message.HasField(field) else 0


def task_json(task: case_pb2.Task) -> dict[str, Any]:
    return {
        "id": task.id, "kind": task.kind, "title": task.title, "assignee": task.assignee,
        "state": _enum(case_pb2.TaskState, task.state, "TASK_STATE_"),
        "instructions": task.instructions,
        "delivered": task.delivered, "round": task.round,
        "dispatched_at": _time(task.dispatched_at, task.HasField("dispatched_at")),
        "needs_presence": task.needs_presence,
        "sign_by": _clock(task, "sign_by"), "sign_by_misses": _misses(task, "sign_by"),
        "on_scene_by": _clock(task, "on_scene_by"),
        "on_scene_by_misses": _misses(task, "on_scene_by"),
        "due_by": _clock(task, "due_by"), "due_by_misses": _misses(task, "due_by"),
        "findings": task.findings,
        "evidence_refs": list(task.evidence_refs), "decline_reason": task.decline_reason,
        "suggested_agency": task.suggested_agency,
        "review_outcome": _enum(case_pb2.DeclineReviewOutcome, task.review_outcome,
                                "DECLINE_REVIEW_OUTCOME_") if task.review_outcome else None,
        "redispatched_from": task.redispatched_from, "bounce_count": task.bounce_count,
        "extension_pending": task.extension_pending,
        "extension_requested_due": _time(task.extension_requested_due,
                                         task.HasField("extension_requested_due")),
    }


def handoff_json(handoff: case_pb2.Handoff) -> dict[str, Any]:
    return {"id": handoff.id, "from": handoff.from_agency, "to": handoff.to_agency,
            "reason": handoff.reason,
            "state": _enum(case_pb2.HandoffState, handoff.state, "HANDOFF_STATE_"),
            "offered_at": _time(handoff.offered_at, handoff.HasField("offered_at")),
            "expires_at": _time(handoff.expires_at, handoff.HasField("expires_at"))}


def act_json(event: case_pb2.CaseEvent) -> dict[str, Any]:
    return {"sequence": event.sequence,
            "kind": _enum(case_pb2.CaseEventKind, event.kind, "CASE_EVENT_KIND_"),
            "agency": event.actor.agency_id, "officer": event.actor.officer_id,
            "time": _time(event.time, event.HasField("time")), "task_id": event.task_id,
            "detail": event.detail}


def case_json(case: case_pb2.Case) -> dict[str, Any]:
    return {
        "number": case.number, "id": case.id, "type": case.type,
        "subject": case.subject_key, "title": case.title, "description": case.description,
        "owner": case.owner,
        "status": _enum(case_pb2.CaseStatus, case.status, "CASE_STATUS_"),
        "stage": case.stage, "jurisdiction": case.jurisdiction, "location": case.location,
        "priority": case.priority,
        "opened_by": case.opened_by.agency_id, "opened_by_officer": case.opened_by.officer_id,
        "opened_at": _time(case.opened_at, case.HasField("opened_at")),
        "closed_at": _time(case.closed_at, case.HasField("closed_at")),
        "summary": case.summary,
        "legal_deadline": _time(case.legal_deadline, case.HasField("legal_deadline")),
        "promised_deadline": _time(case.promised_deadline,
                                   case.HasField("promised_deadline")),
        "tasks": [task_json(t) for t in case.tasks],
        "handoff": handoff_json(case.handoff) if case.HasField("handoff") else None,
        "escalations": [{"id": e.id, "reason": e.reason, "task_id": e.task_id,
                         "raised_at": _time(e.raised_at, e.HasField("raised_at")),
                         "resolved": e.HasField("resolved_at"),
                         "resolution": e.resolution} for e in case.escalations],
        "ownership": [{"owner": o.owner,
                       "via": _enum(case_pb2.OwnershipVia, o.via, "OWNERSHIP_VIA_"),
                       "start": _time(o.start_time, o.HasField("start_time")),
                       "end": _time(o.end_time, o.HasField("end_time"))}
                      for o in case.ownership],
        "acts": [act_json(e) for e in case.acts],
        "reports": [{"id": r.id, "channel": r.channel, "service_code": r.service_code,
                     "area": r.area,
                     "received_at": _time(r.received_time, r.HasField("received_time"))}
                    for r in case.reports],
        "answer": case.answer, "reopened_from": case.reopened_from,
        "objections": [{
            "id": o.id, "objector": o.objector, "reason": o.reason,
            "suggested_agency": o.suggested_agency,
            "outcome": _enum(case_pb2.ObjectionOutcome, o.outcome, "OBJECTION_OUTCOME_")
            if o.outcome else "", "decide_by": _time(o.decide_by.deadline,
                                                    o.decide_by.HasField("deadline")),
            "note": o.note} for o in case.objections],
    }


def summary_json(line: pb.CaseSummary) -> dict[str, Any]:
    return {"number": line.number, "id": line.id, "type": line.type, "subject": line.subject_key,
            "title": line.title, "owner": line.owner,
            "status": _enum(case_pb2.CaseStatus, line.status, "CASE_STATUS_"),
            "opened_at": _time(line.opened_at, line.HasField("opened_at"))}


def work_json(item: pb.WorkItem) -> dict[str, Any]:
    return {
        "case_number": item.case_number, "case_id": item.case_id,
        "case_type": item.case_type, "case_title": item.case_title, "owner": item.owner,
        "kind": _enum(pb.WorkKind, item.kind, "WORK_KIND_"), "ref": item.ref,
        "title": item.title, "action": _enum(pb.WorkAction, item.action, "WORK_ACTION_"),
        "next_step": item.next_step, "open": item.open,
        "since": _time(item.since, item.HasField("since")),
        "deadline": _time(item.deadline, item.HasField("deadline")),
        "time_left": span(item.seconds_left) if item.HasField("deadline") else None,
        "time_left_seconds": item.seconds_left if item.HasField("deadline") else None,
        "overdue": item.overdue,
        "overdue_since": _time(item.overdue_since, item.HasField("overdue_since")),
        "misses": item.misses,
        "task_state": _enum(case_pb2.TaskState, item.task_state, "TASK_STATE_")
        if item.task_state else None,
        "detail": item.detail,
        "asked_due": _time(item.asked_due, item.HasField("asked_due")),
        "delivered": item.delivered,
    }


def notice_json(notice: agency_pb2.Notice) -> dict[str, Any]:
    return {"case_number": notice.case_number, "case_id": notice.case_id,
            "kind": _enum(case_pb2.NoticeKind, notice.kind, "NOTICE_KIND_"),
            "text": notice.text, "task_id": notice.task_id, "handoff_id": notice.handoff_id,
            "received_at": _time(notice.received_at, notice.HasField("received_at"))}


def agency_json(agency: agency_pb2.Agency) -> dict[str, Any]:
    return {"id": agency.id, "name_zh": agency.name_zh, "name_en": agency.name_en,
            "jurisdictions": list(agency.jurisdictions),
            "capabilities": list(agency.capabilities)}


def dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2)


# ----- human output -------------------------------------------------------------------

def local(value: str | None) -> str:
    """An ISO time in Beijing time, to the minute, with its zone ('' for none)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") + f" {ZONE}"


def span(seconds: float) -> str:
    """A duration people read at a glance: 2d 3h05m, 0h45m."""
    minutes = round(abs(seconds) / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return ("-" if seconds < 0 else "") + (f"{days}d " if days else "") + \
        f"{hours}h{minutes:02d}m"


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


def _percent(message: Any, field: str) -> str:
    return f"{getattr(message, field):.0%}" if message.HasField(field) else "-"


_HOTLINE_HEADERS = ["response", "ratings", "solved", "satisfied (S/B/D)", "reopened",
                    "objections (upheld/reassigned/raised)"]


def _hotline_cells(figures: ov.HotlineFigures) -> list[str]:
    """响应率, 解决率, 满意率 (基本满意 counted as satisfied, the three counts beside it),
    重办率 and the objections to a lead."""
    return [_percent(figures, "response_rate"), str(figures.ratings),
            _percent(figures, "solved_rate"),
            f"{_percent(figures, 'satisfaction_rate')} ({figures.satisfied}/"
            f"{figures.basically_satisfied}/{figures.dissatisfied})",
            _percent(figures, "reopen_rate"),
            f"{figures.objections_upheld}/{figures.objections_reassigned}/"
            f"{figures.objections}"]


def hotline_text(cards: Sequence[ov.AgencyScorecard], reply: ov.GetScorecardsResponse
                 ) -> str:
    """The 12345 (接诉即办) columns of the scorecards: per agency in `cards`' order, per
    case type, and the reports per area."""
    agencies = table(["agency", *_HOTLINE_HEADERS],
                     [[c.agency, *_hotline_cells(c.hotline)] for c in cards])
    types = table(["case type", "cases", "closed", "reports", *_HOTLINE_HEADERS],
                  [[t.case_type, str(t.cases), str(t.closed), str(t.reports),
                    *_hotline_cells(t.hotline)] for t in reply.case_type_scorecards])
    areas = table(["area", "reports"], [[a.area or "(none given)", str(a.reports)]
                                        for a in reply.area_reports])
    return (f"12345 接诉即办 per agency\n{agencies}\n\nper case type\n{types}"
            f"\n\nreports per area\n{areas}")


def name(names: Mapping[str, tuple[str, str]], agency: str) -> str:
    """'区公安分局 Public Security Bureau (public-security)' or the id when unknown."""
    zh_en = names.get(agency)
    return f"{zh_en[0]} {zh_en[1]}" if zh_en else agency


def _who(act: Mapping[str, Any]) -> str:
    return str(act["agency"]) + (f" / {act['officer']}" if act["officer"] else "")


# The act that meets each clock of a task, and the states a task is in once it is met.
_MEETS = {"sign_by": "TASK_SIGNED", "on_scene_by": "TASK_ON_SCENE", "due_by": "TASK_DONE"}
_MET_IN = {"sign_by": {"SIGNED", "ON_SCENE", "DONE"}, "on_scene_by": {"ON_SCENE", "DONE"},
           "due_by": {"DONE"}}
_CLOCK_NAMES = {"sign_by": "sign for by", "on_scene_by": "on scene by", "due_by": "due by"}


def _clock_line(task: Mapping[str, Any], field: str, acts: Sequence[Mapping[str, Any]],
                now: datetime) -> str | None:
    deadline = task[field]
    if deadline is None:
        return None
    # The latest such act: a task sent back after an overruled decline is signed again.
    met = next((a for a in reversed(acts) if a["task_id"] == task["id"]
                and a["kind"] == _MEETS[field]), None) if task["state"] in _MET_IN[field] \
        else None
    misses = task[f"{field}_misses"]
    if met is not None:
        status = f"met {local(met['time'])} by {_who(met)}"
    elif task["state"] in ("DONE", "WITHDRAWN", "DECLINED", "DEEMED_CONSENT"):
        status = ""
    else:
        left = (datetime.fromisoformat(deadline.replace("Z", "+00:00")) - now).total_seconds()
        status = f"{span(left)} left" if left >= 0 else f"OVERDUE by {span(-left)}"
    if misses:
        status += ("; " if status else "") + ("missed: supervision notice sent" if misses == 1
                                             else "missed twice: escalated")
    return f"    {_CLOCK_NAMES[field]:<12} {local(deadline)}   {status}".rstrip()


def _task_lines(task: Mapping[str, Any], names: Mapping[str, tuple[str, str]],
                acts: Sequence[Mapping[str, Any]], now: datetime) -> list[str]:
    lines = [f"{task['id']}  {task['title'] or task['kind']}  [{task['kind']}]  "
             f"{name(names, task['assignee'])} ({task['assignee']})  {task['state']}"
             + ("" if task["delivered"] else "  (on its way to the agency's inbox)")]
    if task["instructions"]:
        lines.append(f"    instructions {task['instructions']}")
    lines += [line for field in ("sign_by", "on_scene_by", "due_by")
              if (line := _clock_line(task, field, acts, now)) is not None]
    if task["extension_pending"]:
        lines.append(f"    EXTENSION asked: due by {local(task['extension_requested_due'])}, "
                     "waiting for the owner's decision")
    if task["decline_reason"]:
        suggestion = (f"; suggests {name(names, task['suggested_agency'])}"
                      if task["suggested_agency"] else "")
        review = (f"; {task['review_outcome'].lower()}" if task["review_outcome"]
                  else "; WAITING for the owner's review")
        lines.append(f"    DECLINED: {task['decline_reason']}{suggestion}{review}")
    if task["redispatched_from"]:
        lines.append(f"    re-dispatched from {task['redispatched_from']} "
                     f"(been through {task['bounce_count'] + 1} agencies)")
    if task["findings"]:
        lines.append(f"    findings     {task['findings']}")
    if task["evidence_refs"]:
        lines.append(f"    evidence     {', '.join(task['evidence_refs'])}")
    return lines


def case_text(case: dict[str, Any], names: Mapping[str, tuple[str, str]],
              now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    acts = case["acts"]
    opened_by = {"agency": case["opened_by"], "officer": case["opened_by_officer"]}
    where = ", ".join(part for part in (case["jurisdiction"], case["location"],
                                        case["stage"] and f"stage {case['stage']}") if part)
    lines = [f"case      {case['number'] or case['id']}   {case['type']}   {case['status']}"
             f"   priority {case['priority']}",
             f"title     {case['title']}",
             f"subject   {case['subject']}" + (f"   ({where})" if where else ""),
             f"owner     {name(names, case['owner'])} ({case['owner']})",
             f"opened    {local(case['opened_at'])} by {_who(opened_by)}",
             f"lines     promised by {local(case['promised_deadline'])}   legal by "
             f"{local(case['legal_deadline'])}"]
    if case["description"]:
        lines.insert(2, f"about     {case['description']}")
    if case["closed_at"]:
        closer = next((a for a in reversed(acts) if a["kind"] == "CLOSED"), None)
        lines.append(f"closed    {local(case['closed_at'])}"
                     + (f" by {_who(closer)}" if closer else "")
                     + (f": {case['summary']}" if case["summary"] else ""))
    if case["answer"]:
        lines.append(f"answer    {case['answer']}")
    if case["reports"]:
        lines.append(f"reports   {len(case['reports'])}: "
                     + ", ".join(r["id"] for r in case["reports"][:10])
                     + (" …" if len(case["reports"]) > 10 else ""))
    if case["reopened_from"]:
        lines.append(f"reopens   {case['reopened_from']} (重办)")
    for objection in case["objections"]:
        lines.append(f"OBJECTION {objection['id']} by {objection['objector']}: "
                     f"{objection['reason']}; "
                     + (objection["outcome"].lower() if objection["outcome"]
                        else f"the coordinator decides by {local(objection['decide_by'])}"))
    if case["number"]:
        lines.append(f"id        {case['id']}")
    handoff = case["handoff"]
    if handoff:
        lines.append(f"HAND-OFF  {handoff['id']} offered by {handoff['from']} to "
                     f"{name(names, handoff['to'])}: {handoff['reason']}; answer by "
                     f"{local(handoff['expires_at'])}")
    for escalation in case["escalations"]:
        if escalation["resolved"]:
            continue
        lines.append(f"ESCALATED {escalation['id']} ({local(escalation['raised_at'])}): "
                     f"{escalation['reason']}; waiting for the coordinator")
    if case["tasks"]:
        lines += ["", "tasks"]
        for task in case["tasks"]:
            lines += _task_lines(task, names, acts, now)
    if acts:
        lines += ["", "who did what", table(
            ["#", f"time ({ZONE})", "act", "by", "task"],
            [[str(a["sequence"]), local(a["time"]).removesuffix(f" {ZONE}"), a["kind"],
              _who(a), a["task_id"]] for a in acts])]
    return "\n".join(lines)


def playbook_text(playbook: pb.Playbook) -> str:
    lines = [f"{playbook.id}   {playbook.name_zh} {playbook.name_en}"]
    if playbook.description:
        lines.append(f"  {playbook.description}")
    lines += [f"  stages          {', '.join(playbook.stages) or '(none: leave --stage out)'}",
              f"  jurisdictions   {', '.join(playbook.jurisdictions) or 'any'}",
              f"  lines           promised {playbook.promised_line}, legal "
              f"{playbook.legal_line} (wd: working days)",
              f"  answers         a hand-off within {playbook.handoff_expires_within}, a "
              f"decline review within {playbook.decline_review_within}",
              "", "  who leads", _indent(table(
                  ["stage", "jurisdiction", "lead", "首接负责", "tasks at opening"],
                  [[r.stage, r.jurisdiction, r.lead,
                    "yes" if r.first_receiver_may_lead else "no",
                    ", ".join(r.opening_tasks)] for r in playbook.matrix])),
              "", "  task kinds", _indent(table(
                  ["kind", "title", "needs", "sign for within", "on scene within",
                   "due within", ""],
                  [[k.id, k.title, k.capability, k.sign_within, k.on_scene_within or "-",
                    k.due_within, "approval: silence consents" if k.is_approval else ""]
                   for k in playbook.task_kinds]))]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _left(item: Mapping[str, Any]) -> str:
    if item["deadline"] is None or not item["open"]:
        return ""
    if item["overdue"]:
        late = datetime.fromisoformat(item["overdue_since"].replace("Z", "+00:00"))
        return f"OVERDUE {span((datetime.now(UTC) - late).total_seconds())}"
    return str(item["time_left"])


def _step(item: Mapping[str, Any]) -> str:
    step = str(item["next_step"])
    if not item["delivered"]:
        step += " (still on its way to your agency's inbox)"
    if item["asked_due"]:
        step += f" (asks for {local(item['asked_due'])})"
    if item["detail"]:
        step += f" [{item['detail']}]"
    if item["misses"]:
        step += " 督办: missed once, supervised" if item["misses"] == 1 else \
            " 督办: missed twice, escalated"
    return step


def work_table(items: Sequence[Mapping[str, Any]]) -> str:
    return table(
        ["case", "item", "what", "next step", f"due ({ZONE})", "left", "owner"],
        [[i["case_number"] or i["case_id"], i["ref"] or "case",
          f"{i['title']}" + (f" ({i['task_state']})" if i["task_state"] else ""),
          _step(i), local(i["deadline"]).removesuffix(f" {ZONE}"), _left(i), i["owner"]]
         for i in items])
