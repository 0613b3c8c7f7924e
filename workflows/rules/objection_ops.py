"""派单异议: the agency made lead disputes the dispatch; the coordinator decides.

An agency the matrix (or the coordinator) made lead may object within the playbook's
`objection_within` of becoming owner, with a reason and, if it knows one, the agency
that should lead instead. It stays the owner while the coordinator reviews (one owner
always), and the review is a gap accountable to the coordinator, with a deadline
(`objection_decide_within`): missed once, a supervision notice; missed again, an
escalation. The coordinator upholds the dispatch (the objector keeps the case) or
reassigns it. An agency that accepted a hand-off, or asked to lead itself, chose the
case and has nothing to object to.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from records import event_schema as schema
from workflows.rules import limits
from workflows.rules.calendar import parse_duration
from workflows.rules.catalog import CaseRules
from workflows.rules.commands import DecideObjection, ObjectToLead
from workflows.rules.model import (
    CaseState,
    CaseStatus,
    Clock,
    CommandResult,
    EventKind,
    NoticeKind,
    Objection,
    ObjectionOutcome,
    OwnershipVia,
)
from workflows.rules.phrases import Phrase
from workflows.rules.refusals import Reason, Refusal
from workflows.rules.registry import operation

if TYPE_CHECKING:
    from workflows.rules.case import CaseEngine


def _chose_it(state: CaseState) -> bool:
    """Whether the owner took the case itself: accepted it, or opened it leading it."""
    period = state.ownership[-1]
    return period.via is OwnershipVia.HANDOFF or (
        period.via is OwnershipVia.OPEN and state.opened_by.agency == state.owner)


def _objected_already(state: CaseState) -> bool:
    """Whether the owner has objected since it became owner (its objection stands)."""
    period = state.ownership[-1]
    return any(o.objector == state.owner and o.objected_at >= period.start
               for o in state.objections)


def objection_window(state: CaseState, rules: CaseRules) -> datetime | None:
    """Until when the case's owner may object to leading it (派单异议); None when it may
    not at all (the case is closed, the owner chose it, or has objected already). The
    moment may have passed: the rules refuse an objection after it."""
    if state.status is not CaseStatus.OPEN or _chose_it(state) or _objected_already(state):
        return None
    return rules.calendar.add(state.ownership[-1].start,
                              parse_duration(rules.playbook.objection_within))


def _check_may_object(engine: CaseEngine, cmd: ObjectToLead, now: datetime) -> datetime:
    """The moment the objection window closes, if `cmd.actor` may object now."""
    state = engine.state
    engine.check_open()
    engine.check_owner(cmd.actor)
    if _chose_it(state):
        raise Refusal(Reason.OBJECTION_NOT_ALLOWED,
                      f"{state.owner} took case {state.reference} itself (by accepting it or "
                      "asking to lead); offer it to another agency instead")
    if _objected_already(state):
        raise Refusal(Reason.OBJECTION_NOT_ALLOWED,
                      f"{state.owner} has already objected to leading case "
                      f"{state.reference}; the coordinator's decision stands")
    # (The catalog's load refused any malformed objection_within.)
    window_ends = objection_window(state, engine.rules)
    assert window_ends is not None  # open, not chosen, not objected: checked above
    if now > window_ends:
        raise Refusal(Reason.OBJECTION_NOT_ALLOWED,
                      f"the time to object to leading case {state.reference} ended at "
                      f"{engine.rules.local(window_ends)}; offer it to another agency instead")
    if state.pending_handoff is not None:
        raise Refusal(Reason.HANDOFF_PENDING,
                      f"hand-off {state.pending_handoff.id} is pending; withdraw it first")
    return window_ends


@operation(ObjectToLead)
def object_to_lead(engine: CaseEngine, cmd: ObjectToLead, now: datetime, apply: bool
                   ) -> CommandResult | None:
    _check_may_object(engine, cmd, now)
    limits.check_text("reason", cmd.reason, limits.MAX_REASON, required=True)
    if cmd.suggested_agency:
        engine.check_agency(cmd.suggested_agency, "suggested_agency")
        if cmd.suggested_agency == engine.state.owner:
            raise Refusal(Reason.HANDOFF_TO_SELF, "suggested_agency: name another agency",
                          field="suggested_agency")
    decide_by = engine.deadline_after(now, engine.rules.playbook.objection_decide_within,
                                      "objection_decide_within")
    if not apply:
        return None
    state = engine.state
    objection = Objection(id=f"O{len(state.objections) + 1}", objector=state.owner,
                          reason=cmd.reason, suggested_agency=cmd.suggested_agency,
                          objected_at=now,
                          decide_by=Clock(decide_by, (decide_by - now).total_seconds()))
    state.objections.append(objection)
    coordinator = engine.rules.directory.coordinator
    raised = Phrase("objection_raised", owner=state.owner, objection=objection.id,
                    decide_time=schema.timestamp(decide_by)).saying(cmd.reason)
    engine.record(EventKind.LEAD_OBJECTED, cmd.actor, now,
                  phrase=raised,
                  attributes={schema.OBJECTION_ID: objection.id,
                              schema.COORDINATOR: coordinator,
                              schema.DECIDE_BY: schema.timestamp(decide_by),
                              **({schema.SUGGESTED: cmd.suggested_agency}
                                 if cmd.suggested_agency else {})})
    engine.notify(NoticeKind.ESCALATION, [coordinator], raised)
    return engine.result()


@operation(DecideObjection)
def decide_objection(engine: CaseEngine, cmd: DecideObjection, now: datetime, apply: bool
                     ) -> CommandResult | None:
    state = engine.state
    engine.check_open()
    engine.check_coordinator(cmd.actor)
    objection = next((o for o in state.objections if o.id == cmd.objection_id), None)
    if objection is None:
        raise Refusal(Reason.OBJECTION_NOT_FOUND,
                      f"case {state.reference} has no objection {cmd.objection_id!r}",
                      field="objection_id")
    if objection.outcome is not None:
        raise Refusal(Reason.OBJECTION_DECIDED,
                      f"objection {objection.id} was already decided ({objection.outcome})")
    limits.check_text("note", cmd.note, limits.MAX_REASON)
    new_owner = ""
    if cmd.outcome is ObjectionOutcome.REASSIGNED:
        new_owner = cmd.reassign_to or objection.suggested_agency
        if not new_owner:
            raise Refusal(Reason.MISSING_FIELD,
                          "reassign_to: the objection suggested nobody; name the new lead",
                          field="reassign_to")
        engine.check_agency(new_owner, "reassign_to")
        if new_owner == state.owner:
            raise Refusal(Reason.ALREADY_OWNER, f"{new_owner} already owns the case; "
                          "uphold the dispatch instead", field="reassign_to")
    if not apply:
        return None
    objection.outcome, objection.decided_at, objection.note = cmd.outcome, now, cmd.note
    attributes = {schema.OBJECTION_ID: objection.id, schema.OUTCOME: cmd.outcome.value}
    if new_owner:
        engine.transfer_ownership(new_owner, now, OwnershipVia.ASSIGNMENT)
        attributes[schema.OWNER] = new_owner
    decided = Phrase("objection_reassigned" if new_owner else "objection_upheld",
                     objection=objection.id, owner=state.owner)
    engine.record(EventKind.OBJECTION_DECIDED, cmd.actor, now,
                  phrase=decided.saying(cmd.note), attributes=attributes)
    # Reassigned, the new lead learns it leads (and the objector that it no longer does).
    engine.notify(NoticeKind.OWNERSHIP if new_owner else NoticeKind.SUPERVISION,
                  list(dict.fromkeys([state.owner, objection.objector])),
                  decided.saying(cmd.note))
    return engine.result()


def decision_missed(engine: CaseEngine, objection: Objection, now: datetime) -> None:
    """The coordinator let the objection's deadline pass: noticed, then escalated."""
    engine.supervise(objection.decide_by, Phrase("decision_missed", objection=objection.id),
                     now,
                     task_id="", recipients=[engine.rules.directory.coordinator,
                                             engine.state.owner])
