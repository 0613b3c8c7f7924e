"""From CaseService requests to the rules' commands, and from their answers back.

Field checks that need no case (present, well-formed, known enum value) happen here; all
the others (lengths, known agencies, roles, states) are the rules' own, so the gateway
and the workflow can never disagree about what is allowed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.errors import invalid
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as pb
from trust.attestations import Act, content_digest
from workflows import command_table
from workflows.rules import commands as c
from workflows.rules.limits import MAX_CASE_ID
from workflows.rules.model import Actor, CommandResult, ObjectionOutcome, ReviewOutcome


def request_id(request: Any) -> str:
    """The caller's idempotency key, or a fresh one (then a retry is a new request)."""
    return str(request.request_id) or f"gw-{uuid.uuid4()}"


def requested_case_id(request: Any) -> str:
    value = str(request.case_id)
    if not value:
        raise invalid("case_id", "is required")
    if len(value) > MAX_CASE_ID:
        raise invalid("case_id", f"is {len(value)} characters; the limit is {MAX_CASE_ID}",
                      "TEXT_TOO_LONG")
    return value


def _time(request: Message, field: str, *, required: bool = False) -> datetime | None:
    if not request.HasField(field):
        if required:
            raise invalid(field, "is required")
        return None
    stamp: Timestamp = getattr(request, field)
    try:
        return stamp.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise invalid(field, "is not a valid time", "BAD_TIMESTAMP") from None


def _outcome(value: int) -> ReviewOutcome:
    if value == case_pb2.DECLINE_REVIEW_OUTCOME_UPHELD:
        return ReviewOutcome.UPHELD
    if value == case_pb2.DECLINE_REVIEW_OUTCOME_OVERRULED:
        return ReviewOutcome.OVERRULED
    raise invalid("outcome", f"{value} is not UPHELD (1) or OVERRULED (2)")


def _objection_outcome(value: int) -> ObjectionOutcome:
    if value == case_pb2.OBJECTION_OUTCOME_UPHELD:
        return ObjectionOutcome.UPHELD
    if value == case_pb2.OBJECTION_OUTCOME_REASSIGNED:
        return ObjectionOutcome.REASSIGNED
    raise invalid("outcome", f"{value} is not UPHELD (1) or REASSIGNED (2)")


def open_command(request: pb.OpenCaseRequest, actor: Actor) -> c.OpenCase:
    if request.priority < 0:  # 0 is proto's "unset"; the rules refuse the rest of 1..5
        raise invalid("priority", "must be between 1 and 5 (0 means 3)")
    return c.OpenCase(
        request_id=request_id(request), actor=actor,
        type=request.type, subject_key=request.subject_key, title=request.title,
        description=request.description, jurisdiction=request.jurisdiction,
        location=request.location, stage=request.stage, priority=request.priority or 3,
        lead=request.lead)


@dataclass(frozen=True)
class CommandRpc:
    """How one case-changing RPC becomes a command and its answer a response."""

    build: Callable[[Any, Actor], c.Command]
    respond: Callable[[CommandResult, case_pb2.Case], Message]


def _plain(response: Callable[..., Message]) -> Callable[[CommandResult, case_pb2.Case], Message]:
    return lambda _result, case: response(case=case)


RPCS: dict[str, CommandRpc] = {
    "DispatchTask": CommandRpc(
        lambda r, a: c.DispatchTask(
            request_id(r), a, kind=r.kind, assignee=r.assignee, title=r.title,
            instructions=r.instructions, sign_within=r.sign_within,
            on_scene_within=r.on_scene_within, due_within=r.due_within,
            due_at=_time(r, "due_time")),
        lambda result, case: pb.DispatchTaskResponse(case=case, task_id=result.task_ids[0])),
    "SignTask": CommandRpc(
        lambda r, a: c.SignTask(request_id(r), a, r.task_id), _plain(pb.SignTaskResponse)),
    "ArriveOnScene": CommandRpc(
        lambda r, a: c.ArriveOnScene(request_id(r), a, r.task_id),
        _plain(pb.ArriveOnSceneResponse)),
    "CompleteTask": CommandRpc(
        lambda r, a: c.CompleteTask(request_id(r), a, r.task_id, r.findings,
                                    tuple(r.evidence_refs)),
        _plain(pb.CompleteTaskResponse)),
    "DeclineTask": CommandRpc(
        lambda r, a: c.DeclineTask(request_id(r), a, r.task_id, r.reason, r.suggested_agency),
        _plain(pb.DeclineTaskResponse)),
    "ReviewDecline": CommandRpc(
        lambda r, a: c.ReviewDecline(request_id(r), a, r.task_id, _outcome(r.outcome),
                                     r.redispatch_to, r.note),
        # An upheld decline answers [declined task, the task that takes over its work].
        lambda result, case: _reviewed(result, case)),
    "RequestExtension": CommandRpc(
        lambda r, a: c.RequestExtension(
            request_id(r), a, r.task_id, _time(r, "new_due_time"), r.reason,
            new_due_within=r.new_due_within),
        _plain(pb.RequestExtensionResponse)),
    "DecideExtension": CommandRpc(
        lambda r, a: c.DecideExtension(request_id(r), a, r.task_id, r.grant, r.note),
        _plain(pb.DecideExtensionResponse)),
    "WithdrawTask": CommandRpc(
        lambda r, a: c.WithdrawTask(request_id(r), a, r.task_id, r.reason),
        _plain(pb.CaseServiceWithdrawTaskResponse)),
    "OfferHandoff": CommandRpc(
        lambda r, a: c.OfferHandoff(request_id(r), a, r.to_agency, r.reason,
                                    r.expires_within),
        lambda result, case: pb.OfferHandoffResponse(case=case,
                                                     handoff_id=result.handoff_id)),
    "AcceptHandoff": CommandRpc(
        lambda r, a: c.AcceptHandoff(request_id(r), a, r.handoff_id),
        _plain(pb.AcceptHandoffResponse)),
    "DeclineHandoff": CommandRpc(
        lambda r, a: c.DeclineHandoff(request_id(r), a, r.handoff_id, r.reason),
        _plain(pb.DeclineHandoffResponse)),
    "WithdrawHandoff": CommandRpc(
        lambda r, a: c.WithdrawHandoff(request_id(r), a, r.handoff_id),
        _plain(pb.WithdrawHandoffResponse)),
    "AssignOwner": CommandRpc(
        lambda r, a: c.AssignOwner(request_id(r), a, r.agency, r.reason),
        _plain(pb.AssignOwnerResponse)),
    "ResolveEscalation": CommandRpc(
        lambda r, a: c.ResolveEscalation(request_id(r), a, r.escalation_id, r.resolution),
        _plain(pb.ResolveEscalationResponse)),
    "CloseCase": CommandRpc(
        lambda r, a: c.CloseCase(request_id(r), a, r.summary, r.answer),
        _plain(pb.CloseCaseResponse)),
    "ObjectToLead": CommandRpc(
        lambda r, a: c.ObjectToLead(request_id(r), a, r.reason, r.suggested_agency),
        _plain(pb.ObjectToLeadResponse)),
    "DecideObjection": CommandRpc(
        lambda r, a: c.DecideObjection(request_id(r), a, r.objection_id,
                                       _objection_outcome(r.outcome), r.reassign_to, r.note),
        _plain(pb.DecideObjectionResponse)),
}


def _reviewed(result: CommandResult, case: case_pb2.Case) -> pb.ReviewDeclineResponse:
    new = result.task_ids[1] if len(result.task_ids) > 1 else ""
    taken_by = next((t.assignee for t in case.tasks if new and t.id == new), "")
    return pb.ReviewDeclineResponse(case=case, redispatched_task_id=new,
                                    redispatched_to=taken_by)


# The acts an agency forwards for its officers, as its signed act names them.
FORWARDED_ACTIONS = {call.rpc: call.act for call in command_table.FORWARDED}


def forwarded_act(name: str, request: Any, *, officer: str) -> Act:
    """The act a forwarded request must have been signed as (the session id is the
    agency's to know)."""
    action = FORWARDED_ACTIONS[name]
    content = content_digest(
        action, findings=getattr(request, "findings", ""),
        evidence_refs=list(getattr(request, "evidence_refs", ())),
        reason=getattr(request, "reason", ""),
        suggested_agency=getattr(request, "suggested_agency", ""))
    return Act(case_id=str(request.case_id), task_id=str(request.task_id),
               action=action, officer=officer,
               request_id=str(request.request_id), session_id="", content=content)
