"""Every command of a case as an update of its workflow: one update and its validator per
command, each one line asking the rules (`CaseWorkflow._execute` and `_validate`), and
the table the clients send each command by. A validator runs the rules without applying
them, so a refused request writes nothing to the history. `CaseWorkflow` inherits them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from seamless.v1 import case_pb2
    from workflows.rules.commands import (
        AcceptHandoff,
        ArriveOnScene,
        AssignOwner,
        AttachReport,
        CloseCase,
        Command,
        CompleteTask,
        DecideExtension,
        DecideObjection,
        DeclineHandoff,
        DeclineTask,
        DetachReport,
        DispatchTask,
        ObjectToLead,
        OfferHandoff,
        RequestExtension,
        ResolveEscalation,
        ReviewDecline,
        SignTask,
        WithdrawHandoff,
        WithdrawTask,
    )
    from workflows.rules.model import CommandResult
    from workflows.rules.refusals import Refusal


@dataclass(frozen=True)
class CommandReply:
    """An update's answer: the result, and the case as the command left it (for a
    repeated request, which changes nothing, the case as it stands).

    The case travels as a serialized `seamless.v1.Case` (base64), decoded with protobuf
    rather than as nested dataclasses, which costs a caller several times more. An
    update leaves out a large case (see CaseWorkflow._reply) and the client then reads
    it with the `case_message` query.
    """

    result: CommandResult
    case: str

    def case_proto(self) -> case_pb2.Case:
        return case_pb2.Case.FromString(base64.b64decode(self.case))


def refusal_error(refusal: Refusal) -> ApplicationError:
    """The typed failure a caller receives; `type` is the stable reason code."""
    return ApplicationError(refusal.message, dict(refusal.details), type=refusal.reason.value,
                            non_retryable=True)


class CaseCommands:
    """The updates; `CaseWorkflow` carries them out."""

    def _validate(self, cmd: Command) -> None:
        raise NotImplementedError

    def _execute(self, cmd: Command) -> CommandReply:
        raise NotImplementedError

    @workflow.update
    def dispatch_task(self, cmd: DispatchTask) -> CommandReply:
        return self._execute(cmd)

    @dispatch_task.validator
    def _v_dispatch_task(self, cmd: DispatchTask) -> None:
        self._validate(cmd)

    @workflow.update
    def sign_task(self, cmd: SignTask) -> CommandReply:
        return self._execute(cmd)

    @sign_task.validator
    def _v_sign_task(self, cmd: SignTask) -> None:
        self._validate(cmd)

    @workflow.update
    def arrive_on_scene(self, cmd: ArriveOnScene) -> CommandReply:
        return self._execute(cmd)

    @arrive_on_scene.validator
    def _v_arrive_on_scene(self, cmd: ArriveOnScene) -> None:
        self._validate(cmd)

    @workflow.update
    def complete_task(self, cmd: CompleteTask) -> CommandReply:
        return self._execute(cmd)

    @complete_task.validator
    def _v_complete_task(self, cmd: CompleteTask) -> None:
        self._validate(cmd)

    @workflow.update
    def decline_task(self, cmd: DeclineTask) -> CommandReply:
        return self._execute(cmd)

    @decline_task.validator
    def _v_decline_task(self, cmd: DeclineTask) -> None:
        self._validate(cmd)

    @workflow.update
    def review_decline(self, cmd: ReviewDecline) -> CommandReply:
        return self._execute(cmd)

    @review_decline.validator
    def _v_review_decline(self, cmd: ReviewDecline) -> None:
        self._validate(cmd)

    @workflow.update
    def request_extension(self, cmd: RequestExtension) -> CommandReply:
        return self._execute(cmd)

    @request_extension.validator
    def _v_request_extension(self, cmd: RequestExtension) -> None:
        self._validate(cmd)

    @workflow.update
    def decide_extension(self, cmd: DecideExtension) -> CommandReply:
        return self._execute(cmd)

    @decide_extension.validator
    def _v_decide_extension(self, cmd: DecideExtension) -> None:
        self._validate(cmd)

    @workflow.update
    def withdraw_task(self, cmd: WithdrawTask) -> CommandReply:
        return self._execute(cmd)

    @withdraw_task.validator
    def _v_withdraw_task(self, cmd: WithdrawTask) -> None:
        self._validate(cmd)

    @workflow.update
    def offer_handoff(self, cmd: OfferHandoff) -> CommandReply:
        return self._execute(cmd)

    @offer_handoff.validator
    def _v_offer_handoff(self, cmd: OfferHandoff) -> None:
        self._validate(cmd)

    @workflow.update
    def accept_handoff(self, cmd: AcceptHandoff) -> CommandReply:
        return self._execute(cmd)

    @accept_handoff.validator
    def _v_accept_handoff(self, cmd: AcceptHandoff) -> None:
        self._validate(cmd)

    @workflow.update
    def decline_handoff(self, cmd: DeclineHandoff) -> CommandReply:
        return self._execute(cmd)

    @decline_handoff.validator
    def _v_decline_handoff(self, cmd: DeclineHandoff) -> None:
        self._validate(cmd)

    @workflow.update
    def withdraw_handoff(self, cmd: WithdrawHandoff) -> CommandReply:
        return self._execute(cmd)

    @withdraw_handoff.validator
    def _v_withdraw_handoff(self, cmd: WithdrawHandoff) -> None:
        self._validate(cmd)

    @workflow.update
    def assign_owner(self, cmd: AssignOwner) -> CommandReply:
        return self._execute(cmd)

    @assign_owner.validator
    def _v_assign_owner(self, cmd: AssignOwner) -> None:
        self._validate(cmd)

    @workflow.update
    def resolve_escalation(self, cmd: ResolveEscalation) -> CommandReply:
        return self._execute(cmd)

    @resolve_escalation.validator
    def _v_resolve_escalation(self, cmd: ResolveEscalation) -> None:
        self._validate(cmd)

    @workflow.update
    def close_case(self, cmd: CloseCase) -> CommandReply:
        return self._execute(cmd)

    @close_case.validator
    def _v_close_case(self, cmd: CloseCase) -> None:
        self._validate(cmd)

    @workflow.update
    def attach_report(self, cmd: AttachReport) -> CommandReply:
        return self._execute(cmd)

    @attach_report.validator
    def _v_attach_report(self, cmd: AttachReport) -> None:
        self._validate(cmd)

    @workflow.update
    def detach_report(self, cmd: DetachReport) -> CommandReply:
        return self._execute(cmd)

    @detach_report.validator
    def _v_detach_report(self, cmd: DetachReport) -> None:
        self._validate(cmd)

    @workflow.update
    def object_to_lead(self, cmd: ObjectToLead) -> CommandReply:
        return self._execute(cmd)

    @object_to_lead.validator
    def _v_object_to_lead(self, cmd: ObjectToLead) -> None:
        self._validate(cmd)

    @workflow.update
    def decide_objection(self, cmd: DecideObjection) -> CommandReply:
        return self._execute(cmd)

    @decide_objection.validator
    def _v_decide_objection(self, cmd: DecideObjection) -> None:
        self._validate(cmd)


UPDATE_FOR_COMMAND: dict[type, str] = {
    DispatchTask: "dispatch_task",
    SignTask: "sign_task",
    ArriveOnScene: "arrive_on_scene",
    CompleteTask: "complete_task",
    DeclineTask: "decline_task",
    ReviewDecline: "review_decline",
    RequestExtension: "request_extension",
    DecideExtension: "decide_extension",
    WithdrawTask: "withdraw_task",
    OfferHandoff: "offer_handoff",
    AcceptHandoff: "accept_handoff",
    DeclineHandoff: "decline_handoff",
    WithdrawHandoff: "withdraw_handoff",
    AssignOwner: "assign_owner",
    ResolveEscalation: "resolve_escalation",
    CloseCase: "close_case",
    AttachReport: "attach_report",
    DetachReport: "detach_report",
    ObjectToLead: "object_to_lead",
    DecideObjection: "decide_objection",
}
