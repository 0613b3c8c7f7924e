"""Ownership operations: hand-off offers, coordinator assignment, escalations, closing.

The invariant: a case has exactly one owner at every instant. Ownership changes only in
`CaseEngine.transfer_ownership`, called by an accepted offer or a coordinator's
assignment; everything else here leaves the owner as it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from records import event_schema as schema
from workflows.rules import limits
from workflows.rules.commands import (
    AcceptHandoff,
    AssignOwner,
    CloseCase,
    DeclineHandoff,
    OfferHandoff,
    ResolveEscalation,
    WithdrawHandoff,
)
from workflows.rules.model import (
    PLATFORM,
    CaseStatus,
    CommandResult,
    EventKind,
    Handoff,
    HandoffState,
    NoticeKind,
    OwnershipVia,
)
from workflows.rules.phrases import Phrase
from workflows.rules.refusals import Reason, Refusal
from workflows.rules.registry import operation

if TYPE_CHECKING:
    from workflows.rules.case import CaseEngine


def _pending_handoff(engine: CaseEngine, handoff_id: str, now: datetime) -> Handoff:
    engine.check_open()
    handoff = next((h for h in engine.state.handoffs if h.id == handoff_id), None)
    if handoff is None:
        raise Refusal(Reason.HANDOFF_NOT_FOUND,
                      f"case {engine.state.reference} has no hand-off {handoff_id!r}")
    # (An offer past its expiry has already been expired: clocks due by `now` are settled
    # before any request is judged.)
    if handoff.state is not HandoffState.PENDING:
        raise Refusal(Reason.HANDOFF_NOT_FOUND,
                      f"hand-off {handoff_id} is no longer pending ({handoff.state.value})")
    return handoff


def _refuse_if_objection_pending(engine: CaseEngine) -> None:
    objection = engine.state.pending_objection
    if objection is not None:
        raise Refusal(Reason.OBJECTION_PENDING,
                      f"objection {objection.id} to the lead is with the coordinator; wait "
                      "for the decision")


def _offered_to(engine: CaseEngine, handoff_id: str, agency: str, now: datetime) -> Handoff:
    """The pending offer `agency` is answering; only the receiver may answer it."""
    handoff = _pending_handoff(engine, handoff_id, now)
    if agency != handoff.to_agency:
        raise Refusal(Reason.NOT_OFFERED,
                      f"hand-off {handoff.id} was offered to {handoff.to_agency}, not {agency}")
    return handoff


def _said_of(handoff: Handoff, key: str) -> Phrase:
    """A phrase about `handoff`, naming its parties."""
    return Phrase(key, handoff=handoff.id, to=handoff.to_agency,
                  **{"from": handoff.from_agency})


def _parties(handoff: Handoff) -> dict[str, str]:
    return {schema.HANDOFF_ID: handoff.id, schema.FROM_AGENCY: handoff.from_agency,
            schema.TO_AGENCY: handoff.to_agency}


def _end_handoff(engine: CaseEngine, handoff: Handoff, state: HandoffState, now: datetime
                 ) -> None:
    handoff.state = state
    handoff.ended_at = now


@operation(OfferHandoff)
def offer(engine: CaseEngine, cmd: OfferHandoff, now: datetime, apply: bool
          ) -> CommandResult | None:
    engine.check_open()
    engine.check_owner(cmd.actor)
    engine.check_agency(cmd.to_agency, "to_agency")
    if cmd.to_agency == engine.state.owner:
        raise Refusal(Reason.HANDOFF_TO_SELF,
                      f"{cmd.to_agency} already owns case {engine.state.reference}",
                      field="to_agency")
    pending = engine.state.pending_handoff
    if pending is not None:
        raise Refusal(Reason.HANDOFF_ALREADY_PENDING,
                      f"hand-off {pending.id} to {pending.to_agency} is still pending; "
                      "withdraw it first")
    _refuse_if_objection_pending(engine)
    limits.check_text("reason", cmd.reason, limits.MAX_REASON, required=True)
    expires_at = engine.deadline_after(
        now, cmd.expires_within or engine.rules.playbook.handoff_expires_within,
        "expires_within")
    if not apply:
        return None
    handoff = Handoff(id=f"H{len(engine.state.handoffs) + 1}", from_agency=engine.state.owner,
                      to_agency=cmd.to_agency, reason=cmd.reason, offered_at=now,
                      expires_at=expires_at)
    engine.state.handoffs.append(handoff)
    offered = Phrase("handoff_offered", handoff=handoff.id, to=cmd.to_agency,
                     **{"from": handoff.from_agency}).saying(cmd.reason)
    engine.record(EventKind.HANDOFF_OFFERED, cmd.actor, now,
                  phrase=offered, attributes={**_parties(handoff),
                                              schema.EXPIRES_AT: schema.timestamp(expires_at)})
    engine.notify(NoticeKind.HANDOFF_OFFER, [cmd.to_agency], offered, handoff_id=handoff.id)
    return engine.result(handoff_id=handoff.id)


@operation(AcceptHandoff)
def accept(engine: CaseEngine, cmd: AcceptHandoff, now: datetime, apply: bool
           ) -> CommandResult | None:
    handoff = _offered_to(engine, cmd.handoff_id, cmd.actor.agency, now)
    if not apply:
        return None
    _end_handoff(engine, handoff, HandoffState.ACCEPTED, now)
    engine.transfer_ownership(handoff.to_agency, now, OwnershipVia.HANDOFF)
    engine.record(EventKind.HANDOFF_ACCEPTED, cmd.actor, now,
                  phrase=_said_of(handoff, "handoff_accepted"),
                  attributes=_parties(handoff))
    return engine.result(handoff_id=handoff.id)


@operation(DeclineHandoff)
def decline(engine: CaseEngine, cmd: DeclineHandoff, now: datetime, apply: bool
            ) -> CommandResult | None:
    handoff = _offered_to(engine, cmd.handoff_id, cmd.actor.agency, now)
    limits.check_text("reason", cmd.reason, limits.MAX_REASON, required=True)
    if not apply:
        return None
    _end_handoff(engine, handoff, HandoffState.DECLINED, now)
    handoff.decline_reason = cmd.reason
    engine.record(EventKind.HANDOFF_DECLINED, cmd.actor, now,
                  phrase=_said_of(handoff, "handoff_declined").saying(cmd.reason),
                  attributes=_parties(handoff))
    return engine.result(handoff_id=handoff.id)


@operation(WithdrawHandoff)
def withdraw(engine: CaseEngine, cmd: WithdrawHandoff, now: datetime, apply: bool
             ) -> CommandResult | None:
    handoff = _pending_handoff(engine, cmd.handoff_id, now)
    engine.check_owner(cmd.actor)
    if not apply:
        return None
    _end_handoff(engine, handoff, HandoffState.WITHDRAWN, now)
    engine.record(EventKind.HANDOFF_WITHDRAWN, cmd.actor, now,
                  phrase=_said_of(handoff, "handoff_withdrawn"),
                  attributes=_parties(handoff))
    return engine.result(handoff_id=handoff.id)


def expire(engine: CaseEngine, handoff: Handoff, now: datetime) -> None:
    """A clock, not a person: the offer lapsed; the owner keeps the case; escalate."""
    _end_handoff(engine, handoff, HandoffState.EXPIRED, now)
    engine.record(EventKind.HANDOFF_EXPIRED, PLATFORM, now,
                  phrase=_said_of(handoff, "handoff_expired"), attributes=_parties(handoff))
    engine.escalate(_said_of(handoff, "handoff_expired"), now,
                    handoff_id=handoff.id, also_notify=(handoff.to_agency,))


@operation(AssignOwner)
def assign(engine: CaseEngine, cmd: AssignOwner, now: datetime, apply: bool
           ) -> CommandResult | None:
    engine.check_open()
    engine.check_coordinator(cmd.actor)
    engine.check_agency(cmd.agency, "agency")
    # Reassigning is one of the objection's outcomes: decided there, it is on record.
    _refuse_if_objection_pending(engine)
    if cmd.agency == engine.state.owner:
        raise Refusal(Reason.ALREADY_OWNER,
                      f"{cmd.agency} already owns case {engine.state.reference}",
                      field="agency")
    limits.check_text("reason", cmd.reason, limits.MAX_REASON, required=True)
    if not apply:
        return None
    pending = engine.state.pending_handoff
    if pending is not None:
        _end_handoff(engine, pending, HandoffState.SUPERSEDED, now)
    engine.transfer_ownership(cmd.agency, now, OwnershipVia.ASSIGNMENT)
    assigned = Phrase("owner_assigned", owner=cmd.agency).saying(cmd.reason)
    engine.record(EventKind.OWNER_ASSIGNED, cmd.actor, now, phrase=assigned,
                  attributes={schema.OWNER: cmd.agency,
                              **(_parties(pending) if pending is not None else {})})
    # Assigning an owner is the coordinator's answer to every open ownership escalation.
    for escalation in engine.state.escalations:
        if escalation.handoff_id and escalation.resolved_at is None:
            escalation.resolved_at = now
            escalation.resolution = f"owner assigned: {cmd.agency}"
            engine.record(EventKind.ESCALATION_RESOLVED, cmd.actor, now,
                          phrase=Phrase("escalation_answered", escalation=escalation.id),
                          attributes={schema.ESCALATION_ID: escalation.id})
    engine.notify(NoticeKind.OWNERSHIP, [cmd.agency], assigned)
    return engine.result()


@operation(ResolveEscalation)
def resolve_escalation(engine: CaseEngine, cmd: ResolveEscalation, now: datetime, apply: bool
                       ) -> CommandResult | None:
    engine.check_open()
    engine.check_coordinator(cmd.actor)
    escalation = next((e for e in engine.state.escalations if e.id == cmd.escalation_id), None)
    if escalation is None:
        raise Refusal(Reason.ESCALATION_NOT_FOUND,
                      f"case {engine.state.reference} has no escalation {cmd.escalation_id!r}")
    if escalation.resolved_at is not None:
        raise Refusal(Reason.ESCALATION_RESOLVED,
                      f"escalation {escalation.id} was already resolved")
    limits.check_text("resolution", cmd.resolution, limits.MAX_REASON, required=True)
    if not apply:
        return None
    escalation.resolved_at = now
    escalation.resolution = cmd.resolution
    engine.record(EventKind.ESCALATION_RESOLVED, cmd.actor, now, task_id=escalation.task_id,
                  phrase=Phrase("escalation_resolved", escalation=escalation.id)
                  .saying(cmd.resolution),
                  attributes={schema.ESCALATION_ID: escalation.id})
    return engine.result()


@operation(CloseCase)
def close(engine: CaseEngine, cmd: CloseCase, now: datetime, apply: bool
          ) -> CommandResult | None:
    engine.check_open()
    engine.check_owner(cmd.actor, or_coordinator=True)
    open_tasks = engine.state.open_tasks
    if open_tasks:
        raise Refusal(Reason.TASKS_OPEN,
                      f"tasks {', '.join(open_tasks)} are not finished; "
                      "complete or withdraw them before closing")
    pending = engine.state.pending_handoff
    if pending is not None:
        raise Refusal(Reason.HANDOFF_PENDING,
                      f"hand-off {pending.id} is pending; withdraw it before closing")
    _refuse_if_objection_pending(engine)
    limits.check_text("summary", cmd.summary, limits.MAX_TEXT)
    limits.check_text("answer", cmd.answer, limits.MAX_ANSWER)
    reports = len(engine.state.reports)
    if reports and not cmd.answer.strip():
        raise Refusal(Reason.ANSWER_REQUIRED,
                      f"answer: case {engine.state.reference} has {reports} citizen "
                      f"report{'s' if reports > 1 else ''}; closing it needs the answer "
                      "their reporters will be given", field="answer")
    if not apply:
        return None
    engine.state.status = CaseStatus.CLOSED
    engine.state.closed_at = now
    engine.state.summary = cmd.summary
    engine.state.answer = cmd.answer.strip() if reports else ""
    engine.state.ownership[-1].end = now
    engine.record(EventKind.CLOSED, cmd.actor, now, detail=cmd.summary,
                  attributes={schema.ANSWERED: "true"} if engine.state.answer else None)
    return engine.result()
