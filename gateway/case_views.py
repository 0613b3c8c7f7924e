"""A case as its viewer may see it (least knowledge, `records.need_to_know`).

Every case the gateway hands out passes here, on every transport: a read (GetCase), the
answer to a command (the case as the command left it), an agency's relayed act. The
caller may see the case at all (`records.participation`, checked before); this
decides how much: the whole case, its header and own tasks, a summary and the offer, or
its own part of the history.
"""

from __future__ import annotations

from records import need_to_know
from records.need_to_know import Part
from seamless.v1 import case_pb2

_KIND_PREFIX = "CASE_EVENT_KIND_"
# What every part sees: the header (no tasks, history, reports, objections, summary).
_HEADER_VALUES = ("id", "type", "title", "description", "subject_key", "jurisdiction",
                  "location", "stage", "priority", "owner", "status", "number",
                  "reopened_from")
_HEADER_TIMES = ("opened_at", "closed_at", "legal_deadline", "promised_deadline")


def part_in(viewer: str, case: case_pb2.Case, *, coordinator: str) -> Part:
    pending_to = case.handoff.to_agency if case.HasField("handoff") else ""
    return need_to_know.part_of(
        viewer, owner=case.owner, coordinator=coordinator,
        assignees={t.assignee for t in case.tasks}, offered={pending_to} - {""},
        participants={viewer})


def case_seen_by(viewer: str, case: case_pb2.Case, *, coordinator: str) -> case_pb2.Case:
    part = part_in(viewer, case, coordinator=coordinator)
    if part is Part.WHOLE:
        return case
    seen = case_pb2.Case(**{name: getattr(case, name) for name in _HEADER_VALUES})
    for name in _HEADER_TIMES:
        if case.HasField(name):
            getattr(seen, name).CopyFrom(getattr(case, name))
    seen.opened_by.agency_id = case.opened_by.agency_id
    if need_to_know.shows_officer(part, viewer, case.opened_by.agency_id):
        seen.opened_by.officer_id = case.opened_by.officer_id
    own = {t.id for t in case.tasks if t.assignee == viewer}
    seen.tasks.extend(t for t in case.tasks if t.id in own)
    seen.open_tasks.extend(t for t in case.open_tasks if t in own)
    seen.escalations.extend(e for e in case.escalations if e.task_id in own)
    if case.HasField("handoff") and case.handoff.to_agency == viewer:
        seen.handoff.CopyFrom(case.handoff)
    for act in case.acts:
        kind = case_pb2.CaseEventKind.Name(act.kind).removeprefix(_KIND_PREFIX)
        if need_to_know.shows_event(part, viewer, kind=kind, actor=act.actor.agency_id,
                                    task_id=act.task_id, attributes=act.attributes,
                                    own_tasks=own):
            shown = seen.acts.add()
            shown.CopyFrom(act)
            if not need_to_know.shows_officer(part, viewer, act.actor.agency_id):
                shown.actor.officer_id = ""
    return seen
