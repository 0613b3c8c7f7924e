"""The case state in the wire form of the contract (`seamless.v1.Case`).

The rules use plain dataclasses (what Temporal serialises); callers that speak gRPC
convert here, in one place, so the contract and the model cannot drift apart unnoticed.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import StrEnum
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from records.event_schema import PLATFORM_ACTOR, TO_AGENCY
from seamless.v1 import agency_pb2, case_pb2, case_service_pb2
from workflows.rules.catalog import Agency, CaseRules, Playbook
from workflows.rules.model import (
    CaseEvent,
    CaseState,
    CaseStatus,
    Clock,
    Escalation,
    EventKind,
    Handoff,
    HandoffState,
    NoticeKind,
    Objection,
    ObjectionOutcome,
    OwnershipInterval,
    OwnershipVia,
    ReportRef,
    ReviewOutcome,
    Task,
    TaskState,
)
from workflows.rules.objection_ops import objection_window
from workflows.rules.work import WorkItem, next_step

# Python enum -> (proto enum wrapper, value prefix). Values share their names.
_ENUMS: dict[type[StrEnum], tuple[object, str]] = {
    CaseStatus: (case_pb2.CaseStatus, "CASE_STATUS_"),
    TaskState: (case_pb2.TaskState, "TASK_STATE_"),
    ReviewOutcome: (case_pb2.DeclineReviewOutcome, "DECLINE_REVIEW_OUTCOME_"),
    HandoffState: (case_pb2.HandoffState, "HANDOFF_STATE_"),
    OwnershipVia: (case_pb2.OwnershipVia, "OWNERSHIP_VIA_"),
    EventKind: (case_pb2.CaseEventKind, "CASE_EVENT_KIND_"),
    NoticeKind: (case_pb2.NoticeKind, "NOTICE_KIND_"),
    ObjectionOutcome: (case_pb2.ObjectionOutcome, "OBJECTION_OUTCOME_"),
}


def enum_value(member: StrEnum | None) -> Any:
    """The proto number of a model enum member; 0 (UNSPECIFIED) for None.

    Typed Any because each generated proto enum is its own int subtype; that every
    member has its counterpart is what tests/workflows/test_to_proto.py checks.
    """
    if member is None:
        return 0
    wrapper, prefix = _ENUMS[type(member)]
    return wrapper.Value(prefix + member.value)  # type: ignore[attr-defined]


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _clock(clock: Clock | None) -> case_pb2.Clock | None:
    if clock is None:
        return None
    return case_pb2.Clock(deadline=timestamp(clock.deadline), misses=clock.misses)


def task_to_proto(task: Task) -> case_pb2.Task:
    return case_pb2.Task(
        id=task.id, kind=task.kind, title=task.title, assignee=task.assignee,
        state=enum_value(task.state), needs_presence=task.needs_presence,
        is_approval=task.is_approval, sign_by=_clock(task.sign_by),
        on_scene_by=_clock(task.on_scene_by), due_by=_clock(task.due_by),
        instructions=task.instructions, findings=task.findings,
        evidence_refs=task.evidence_refs, decline_reason=task.decline_reason,
        suggested_agency=task.suggested_agency, review_outcome=enum_value(task.review_outcome),
        redispatched_from=task.redispatched_from, bounce_count=task.bounce_count,
        extension_pending=task.extension_pending,
        extension_requested_due=timestamp(task.extension_requested_due),
        extension_reason=task.extension_reason if task.extension_pending else "",
        dispatched_at=timestamp(task.dispatched_at), round=task.round,
        delivered=task.delivered, delivered_at=timestamp(task.delivered_at),
        running_clock=_running_clock(task))


def _running_clock(task: Task) -> str:
    """The name of the clock the assignee's next step runs against (`work.next_step`)."""
    _action, clock = next_step(task)
    return next((name for name in ("sign_by", "on_scene_by", "due_by")
                 if clock is not None and getattr(task, name) is clock), "")


def handoff_to_proto(handoff: Handoff) -> case_pb2.Handoff:
    return case_pb2.Handoff(
        id=handoff.id, from_agency=handoff.from_agency, to_agency=handoff.to_agency,
        reason=handoff.reason, state=enum_value(handoff.state),
        offered_at=timestamp(handoff.offered_at), expires_at=timestamp(handoff.expires_at),
        ended_at=timestamp(handoff.ended_at), decline_reason=handoff.decline_reason)


def interval_to_proto(interval: OwnershipInterval) -> case_pb2.OwnershipInterval:
    return case_pb2.OwnershipInterval(
        owner=interval.owner, start_time=timestamp(interval.start),
        end_time=timestamp(interval.end), via=enum_value(interval.via))


def escalation_to_proto(escalation: Escalation) -> case_pb2.Escalation:
    return case_pb2.Escalation(
        id=escalation.id, reason=escalation.reason, task_id=escalation.task_id,
        raised_at=timestamp(escalation.raised_at), resolved_at=timestamp(escalation.resolved_at),
        resolution=escalation.resolution, phrase=escalation.phrase)


def event_to_proto(case_id: str, event: CaseEvent) -> case_pb2.CaseEvent:
    return case_pb2.CaseEvent(
        case_id=case_id, sequence=event.sequence, kind=enum_value(event.kind),
        actor=case_pb2.Actor(agency_id=event.actor.agency, officer_id=event.actor.officer),
        time=timestamp(event.at), task_id=event.task_id, detail=event.detail,
        attributes=event.attributes, trace_id=event.trace_id, span_id=event.span_id)


def agency_to_proto(agency: Agency) -> agency_pb2.Agency:
    return agency_pb2.Agency(id=agency.id, name_zh=agency.name_zh, name_en=agency.name_en,
                             jurisdictions=agency.jurisdictions,
                             capabilities=agency.capabilities)


# The latest acts a case shows (all of a usual case's): the timeline (oversight) holds
# every one, and a case read on every command must stay small however long it runs.
MAX_ACTS = 1000


def acts_shown(state: CaseState) -> list[CaseEvent]:
    """The events a case shows as its acts: the latest MAX_ACTS by an agency."""
    return [e for e in state.events if e.actor.agency != PLATFORM_ACTOR][-MAX_ACTS:]


def as_read(state: CaseState) -> CaseState:
    """The case as its readers need it: all it shows (case_to_proto) and its latest
    event (when it last changed, whoever made it), without the answers it keeps for
    retried requests or the events it does not show. A long case's whole state is past
    gRPC's 4 MiB; this stays well inside it."""
    events = acts_shown(state)
    if state.events and (not events or events[-1] is not state.events[-1]):
        events.append(state.events[-1])
    # Nor the proofs the events carry (signatures: the ledger has them, to be checked).
    return dataclasses.replace(state, answers={},
                               events=[dataclasses.replace(e, proofs=()) for e in events])


def case_to_proto(state: CaseState, rules: CaseRules | None = None) -> case_pb2.Case:
    """The case as callers read it; with its `rules`, also what they decide (until when
    its owner may object to leading it)."""
    pending = state.pending_handoff
    window = objection_window(state, rules) if rules is not None else None
    return case_pb2.Case(
        id=state.id, type=state.type, title=state.title, description=state.description,
        subject_key=state.subject_key, jurisdiction=state.jurisdiction,
        location=state.location, stage=state.stage, priority=state.priority,
        opened_by=case_pb2.Actor(agency_id=state.opened_by.agency,
                                 officer_id=state.opened_by.officer),
        owner=state.owner, status=enum_value(state.status),
        opened_at=timestamp(state.opened_at), closed_at=timestamp(state.closed_at),
        legal_deadline=timestamp(state.legal_line.deadline),
        promised_deadline=timestamp(state.promised_line.deadline),
        tasks=[task_to_proto(t) for t in state.tasks],
        handoff=handoff_to_proto(pending) if pending else None,
        ownership=[interval_to_proto(i) for i in state.ownership],
        escalations=[escalation_to_proto(e) for e in state.escalations],
        number=state.number, summary=state.summary, open_tasks=state.open_tasks,
        acts=[_act(e) for e in acts_shown(state)],
        reports=[report_to_proto(r) for r in state.reports], answer=state.answer,
        reopened_from=state.reopened_from,
        objections=[_objection(o) for o in state.objections],
        objection_window_ends=timestamp(window))


def report_to_proto(report: ReportRef) -> case_pb2.CaseReport:
    return case_pb2.CaseReport(id=report.id, channel=report.channel,
                               service_code=report.service_code, area=report.area,
                               received_time=timestamp(report.received_at))


def _objection(objection: Objection) -> case_pb2.Objection:
    return case_pb2.Objection(
        id=objection.id, objector=objection.objector, reason=objection.reason,
        suggested_agency=objection.suggested_agency,
        objected_time=timestamp(objection.objected_at),
        decide_by=_clock(objection.decide_by), outcome=enum_value(objection.outcome),
        decided_time=timestamp(objection.decided_at), note=objection.note)


def _act(event: CaseEvent) -> case_pb2.CaseEvent:
    # Of the attributes, only the agency an offer was made to: what least knowledge
    # (records.need_to_know) needs to show an agency the offers made to it.
    addressed = event.attributes.get(TO_AGENCY)
    return case_pb2.CaseEvent(
        sequence=event.sequence, kind=enum_value(event.kind),
        actor=case_pb2.Actor(agency_id=event.actor.agency, officer_id=event.actor.officer),
        time=timestamp(event.at), task_id=event.task_id, detail=event.detail,
        attributes={TO_AGENCY: addressed} if addressed else None)


def playbook_to_proto(playbook: Playbook) -> case_service_pb2.Playbook:
    named = {r.jurisdiction for r in playbook.matrix if r.jurisdiction != "*"}
    return case_service_pb2.Playbook(
        id=playbook.id, name_zh=playbook.name_zh, name_en=playbook.name_en,
        description=playbook.description, stages=playbook.stages,
        jurisdictions=sorted(named),
        matrix=[case_service_pb2.PlaybookLead(
            stage=r.stage, jurisdiction=r.jurisdiction, lead=r.lead,
            first_receiver_may_lead=r.first_receiver_may_lead,
            opening_tasks=[f"{t.kind} -> {t.assignee}" for t in r.opening_tasks])
            for r in playbook.matrix],
        task_kinds=[case_service_pb2.PlaybookTaskKind(
            id=k.id, title=k.title, capability=k.capability, sign_within=k.sign_within,
            on_scene_within=k.on_scene_within or "", due_within=k.due_within,
            needs_presence=k.needs_presence, is_approval=k.is_approval)
            for k in playbook.task_kinds],
        legal_line=playbook.legal_line, promised_line=playbook.promised_line,
        handoff_expires_within=playbook.handoff_expires_within,
        decline_review_within=playbook.decline_review_within)


# How much of a case's description an inbox card carries (its page shows it whole).
DESCRIPTION_ON_A_CARD = 280


def work_to_proto(state: CaseState, items: list[WorkItem]) -> list[case_service_pb2.WorkItem]:
    """The items the case asks of an agency, without what depends on the moment they are
    read (time left, overdue: the reader adds those); a missed step's lateness is in
    overdue_since already."""
    return [case_service_pb2.WorkItem(
        case_id=state.id, case_number=state.number, case_type=state.type,
        case_title=state.title, owner=state.owner,
        kind=f"WORK_KIND_{item.kind.value}", ref=item.ref, title=item.title,
        action=f"WORK_ACTION_{item.action.value}", next_step=item.next_step,
        open=item.open, since=timestamp(item.since), deadline=timestamp(item.deadline),
        overdue_since=timestamp(item.missed_at) if item.open else None,
        misses=item.misses, task_state=enum_value(item.task_state), detail=item.detail,
        asked_due=timestamp(item.asked_due), delivered=item.delivered,
        case_location=state.location, case_subject=state.subject_key,
        case_description=state.description[:DESCRIPTION_ON_A_CARD], task_kind=item.task_kind,
        on_scene_by=timestamp(item.on_scene_by), raised_by=item.raised_by,
        suggested_agency=item.suggested_agency, phrase=item.phrase) for item in items]
