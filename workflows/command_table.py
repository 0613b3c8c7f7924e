"""Every call of the gateway's services, declared once.

For each RPC people and systems call (`CaseService`, `ReportService`,
`OversightService`): the officer's role it needs, whether it changes anything (never for
oversight staff), whether an agency may forward it as a signed act of its officer (and
as which act), and what the console calls it. The tables the doors use are derived
from this one: the gateway's permissions (`gateway.authorization`), the acts it accepts
forwarded (`gateway.command_rpcs`), the acts an agency signs and how it forwards them
(`agencies.server`, `agencies.gateway_link`), the console's words for each command
(`gateway.console.i18n`) and the CLI's help for the acts at an agency's desk.
`tests/test_command_table.py` holds every derived table and the services' own
descriptors to it; docs/adding-a-command.md walks through adding one.
"""

from __future__ import annotations

from dataclasses import dataclass

from seamless.v1 import agency_pb2
from trust.sessions import OfficerRole

CASE, REPORT, OVERSIGHT = "CaseService", "ReportService", "OversightService"
PACKAGE = "seamless.v1"


@dataclass(frozen=True)
class Call:
    service: str
    rpc: str
    # The role the officer needs; None: any signed-in officer.
    role: OfficerRole | None
    # A change (to a case, a report): never for oversight staff, who read only.
    changes: bool
    # What the console calls the command (its key in the console's words, then the
    # words in Chinese and in English): its buttons and its confirmations.
    words: tuple[str, str, str] = ("", "", "")
    # The act an agency signs when it forwards this for one of its officers, and the
    # action its own desk takes it as (`ActOnTask`); none for what officers ask
    # themselves, signed in.
    act: str = ""
    desk_action: agency_pb2.TaskAction = agency_pb2.TASK_ACTION_UNSPECIFIED
    # What the act says beyond naming the task: the fields the agency's signature
    # covers (`trust.attestations.content_digest`), and the only ones it forwards.
    said: tuple[str, ...] = ()
    # The CLI's help for the act at the desk.
    desk_help: str = ""

    @property
    def method(self) -> str:
        """The full gRPC method name, as a server's handler sees it."""
        return f"/{PACKAGE}.{self.service}/{self.rpc}"

    @property
    def forwarded(self) -> bool:
        return bool(self.act)


def _read(service: str, rpc: str) -> Call:
    return Call(service, rpc, None, changes=False)


def _command(service: str, rpc: str, role: OfficerRole,
             words: tuple[str, str, str] = ("", "", "")) -> Call:
    return Call(service, rpc, role, changes=True, words=words)


def _act(rpc: str, act: str, action: agency_pb2.TaskAction, words: tuple[str, str, str],
         desk_help: str, said: tuple[str, ...] = ()) -> Call:
    """An assignee officer's act on a task: at the gateway signed in, or at the
    agency's desk, which signs it and forwards it."""
    return Call(CASE, rpc, OfficerRole.OFFICER, changes=True, words=words, act=act,
                desk_action=action, said=said, desk_help=desk_help)


_OFFICER, _DISPATCHER, _HEAD = OfficerRole.OFFICER, OfficerRole.DISPATCHER, OfficerRole.HEAD

CALLS: tuple[Call, ...] = (
    _command(CASE, "OpenCase", _DISPATCHER, ("open_case", "新建案件", "Open a case")),
    _read(CASE, "GetCase"),
    _read(CASE, "ListCases"),
    _command(CASE, "DispatchTask", _DISPATCHER, ("dispatch", "派发任务", "Dispatch a task")),
    _act("SignTask", "SIGN", agency_pb2.TASK_ACTION_SIGN, ("sign", "签收", "Sign for"),
         "sign for a task (签收)"),
    _act("ArriveOnScene", "ARRIVE", agency_pb2.TASK_ACTION_ARRIVE,
         ("arrive", "到场", "On scene"), "report arrival on scene (报到)"),
    _act("CompleteTask", "COMPLETE", agency_pb2.TASK_ACTION_COMPLETE,
         ("complete", "办结", "Complete"), "submit findings",
         said=("findings", "evidence_refs")),
    _act("DeclineTask", "DECLINE", agency_pb2.TASK_ACTION_DECLINE,
         ("decline", "退回", "Decline"), "decline a task with a reason (退单)",
         said=("reason", "suggested_agency")),
    _command(CASE, "ReviewDecline", _HEAD,
             ("review_decline", "审核退回", "Review the decline")),
    _command(CASE, "RequestExtension", _OFFICER,
             ("ask_time", "申请延期", "Ask for more time")),
    _command(CASE, "DecideExtension", _HEAD,
             ("decide_extension", "延期决定", "Decide the extension")),
    _command(CASE, "WithdrawTask", _DISPATCHER, ("withdraw", "撤回", "Withdraw")),
    _command(CASE, "OfferHandoff", _DISPATCHER,
             ("offer_handoff", "移交案件", "Offer a hand-off")),
    _command(CASE, "AcceptHandoff", _DISPATCHER, ("accept", "接收", "Accept")),
    _command(CASE, "DeclineHandoff", _DISPATCHER, ("decline_offer", "拒绝", "Decline")),
    _command(CASE, "WithdrawHandoff", _DISPATCHER,
             ("withdraw_offer", "撤回移交", "Withdraw the offer")),
    # The coordinator's own acts; the engine checks it is the coordinator.
    _command(CASE, "AssignOwner", _HEAD, ("assign_owner", "指定牵头单位", "Assign owner")),
    _command(CASE, "ResolveEscalation", _HEAD, ("resolve", "办结督办", "Resolve")),
    _command(CASE, "CloseCase", _HEAD, ("close", "结案", "Close")),
    # 派单异议: the lead's head objects, the coordinator's head decides.
    _command(CASE, "ObjectToLead", _HEAD,
             ("object_to_lead", "派单异议", "Object to leading")),
    _command(CASE, "DecideObjection", _HEAD,
             ("decide_objection", "裁定异议", "Decide the objection")),
    _read(CASE, "ListInbox"),
    _read(CASE, "ListNotices"),
    _read(CASE, "ListAgencies"),
    _read(CASE, "ListPlaybooks"),
    # The hotline desk: the service checks it is the hotline (or the owner, to merge).
    # Taking a report in is confirmed with the report's own number, not a word.
    _command(REPORT, "SubmitReport", _OFFICER),
    _read(REPORT, "GetReport"),
    _read(REPORT, "ListReports"),
    _command(REPORT, "MergeReport", _DISPATCHER, ("merge_report", "并单", "Merge a report")),
    _command(REPORT, "SplitReport", _DISPATCHER, ("split_report", "拆单", "Split off")),
    _command(REPORT, "RateReport", _OFFICER, ("rate", "记录评价", "Record the rating")),
    _read(OVERSIGHT, "GetTimeline"),
    _read(OVERSIGHT, "ListGaps"),
    _read(OVERSIGHT, "GetScorecards"),
    _read(OVERSIGHT, "GetHandoffMatrix"),
    _read(OVERSIGHT, "ExportEventLog"),
    _read(OVERSIGHT, "VerifyLedger"),
)

BY_METHOD = {call.method: call for call in CALLS}
BY_RPC = {call.rpc: call for call in CALLS}
FORWARDED = tuple(call for call in CALLS if call.forwarded)
BY_DESK_ACTION = {call.desk_action: call for call in FORWARDED}
WORDED = tuple(call for call in CALLS if call.words[0])
