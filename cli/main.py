"""`seamless`: argument parsing and the commands that act on cases as an agency."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format

from cli import datadir, render
from cli.api import AgencyDesk, CallFailed, Gateway, new_request_id
from cli.arguments import Handler, leaf, options, timestamp
from seamless.v1 import agency_pb2, case_pb2
from seamless.v1 import case_service_pb2 as pb
from workflows import command_table
from workflows.rules.calendar import is_duration

CASE_HELP = "the case number (20261130-0042), or the case id"
# How long an act waits for a task still on its way to the agency's inbox.
DELIVERY_WAIT_SECONDS = 10.0


# ----- helpers ------------------------------------------------------------------------

def gateway(args: argparse.Namespace, *, default_identity: str = "") -> Gateway:
    identity = args.as_agency or os.environ.get("SEAMLESS_AS") or default_identity
    if not identity:
        raise SystemExit("say who is acting: --as AGENCY (or set SEAMLESS_AS)")
    return Gateway(datadir.resolve(args.data_dir), identity)


def names(api: Gateway) -> dict[str, tuple[str, str]]:
    reply = api.call("ListAgencies", pb.ListAgenciesRequest())
    return {a.id: (a.name_zh, a.name_en) for a in reply.agencies}


def show_case(args: argparse.Namespace, api: Gateway, case: case_pb2.Case,
              **extra: str) -> Any:
    document = render.case_json(case)
    if args.json:
        return {**document, **extra} if extra else document
    text = render.case_text(document, names(api))
    for key, value in extra.items():
        if value:
            text += f"\n{key.replace('_', ' ')}: {value}"
    return text


def common(request: Any, args: argparse.Namespace) -> None:
    """Fields every case-changing request shares."""
    request.request_id = args.request_id or new_request_id()
    request.officer_id = args.officer or ""


# ----- case commands ------------------------------------------------------------------

def case_open(args: argparse.Namespace) -> Any:
    api = gateway(args)
    request = pb.OpenCaseRequest(type=args.type, subject_key=args.subject, title=args.title,
                                 description=args.description, stage=args.stage,
                                 lead=args.lead, jurisdiction=args.jurisdiction,
                                 location=args.location, priority=args.priority)
    common(request, args)
    return show_case(args, api, api.call("OpenCase", request).case)


def case_list(args: argparse.Namespace) -> Any:
    api = gateway(args)
    status = {"": case_pb2.CASE_STATUS_UNSPECIFIED, "open": case_pb2.CASE_STATUS_OPEN,
              "closed": case_pb2.CASE_STATUS_CLOSED}[args.status]
    reply = api.call("ListCases", pb.ListCasesRequest(
        owner=args.owner, status=status, type=args.type, subject=args.subject,
        page_size=args.page_size, page_token=args.page_token))
    lines = [render.summary_json(c) for c in reply.cases]
    if args.json:
        return {"cases": lines, "next_page_token": reply.next_page_token}
    who = names(api)
    text = render.table(["case", "status", "type", "subject", "owner", "title",
                         f"opened ({render.ZONE})"],
                        [[c["number"] or c["id"], c["status"], c["type"], c["subject"],
                          render.name(who, c["owner"]), c["title"],
                          render.local(c["opened_at"])] for c in lines])
    if reply.next_page_token:
        text += f"\nmore: --page-token {reply.next_page_token}"
    return text


def case_show(args: argparse.Namespace) -> Any:
    api = gateway(args)
    return show_case(args, api, api.call("GetCase", pb.GetCaseRequest(case_id=args.case)).case)


def _change(method: str, build: Callable[[argparse.Namespace], Any],
            extra: Callable[[Any], dict[str, str]] = lambda _reply: {}) -> Handler:
    def run(args: argparse.Namespace) -> Any:
        api = gateway(args)
        request = build(args)
        common(request, args)
        request.case_id = args.case
        reply = api.call(method, request)
        return show_case(args, api, reply.case, **extra(reply))
    return run


def _at_the_agency(action: int, **fields: Callable[[argparse.Namespace], Any]) -> Handler:
    """An officer's action on the inbox, made at the agency's own desk (which keeps the
    task's state and the findings, and forwards the action, signed, to the gateway)."""
    def run(args: argparse.Namespace) -> Any:
        api = gateway(args)
        desk = AgencyDesk(datadir.resolve(args.data_dir), api.identity, api.credential)
        request = agency_pb2.ActOnTaskRequest(
            request_id=args.request_id or new_request_id(), case_id=args.case,
            task_id=args.task, action=action, officer_id=args.officer or "",  # type: ignore[arg-type]
            **{name: get(args) for name, get in fields.items()})
        try:
            try:
                reply = desk.act(request)
            except CallFailed as failure:
                if failure.status != "NOT_FOUND" or not _arrives(api, args.case, args.task):
                    raise
                reply = desk.act(request)  # it has arrived now
        finally:
            desk.close()
        return show_case(args, api, reply.case)
    return run


def _arrives(api: Gateway, case: str, task: str) -> bool:
    """Whether a task the agency's desk did not find is the caller's and on its way (the
    platform delivers it a moment after dispatch); waits for it to arrive."""
    give_up = time.monotonic() + DELIVERY_WAIT_SECONDS
    while time.monotonic() < give_up:
        try:
            found = api.call("GetCase", pb.GetCaseRequest(case_id=case)).case
        except CallFailed:
            return False
        mine = next((t for t in found.tasks if t.id == task
                     and t.assignee == api.identity), None)
        if mine is None:
            return False
        if mine.delivered:
            return True
        time.sleep(0.2)
    raise SystemExit(f"task {task} is still on its way to the inbox of {api.identity} "
                     f"after {DELIVERY_WAIT_SECONDS:.0f} s (is its service up? 'seamless "
                     "status'); try again later")


def _dispatch_request(args: argparse.Namespace) -> pb.DispatchTaskRequest:
    request = pb.DispatchTaskRequest(
        kind=args.kind, assignee=args.to, title=args.title, instructions=args.instructions,
        sign_within=args.sign_within, on_scene_within=args.on_scene_within,
        due_within=args.due_within)
    if args.due_at:
        request.due_time.CopyFrom(timestamp(args.due_at, "--due-at"))
    return request


def _extend(args: argparse.Namespace) -> Any:
    if args.grant or args.refuse:
        return _change("DecideExtension", lambda a: pb.DecideExtensionRequest(
            task_id=a.task, grant=bool(a.grant), note=a.note))(args)
    if not args.until or not args.reason:
        raise SystemExit("ask with --until TIME-OR-DURATION --reason TEXT, or decide with "
                         "--grant or --refuse")

    def ask(a: argparse.Namespace) -> pb.RequestExtensionRequest:
        if is_duration(a.until):  # 5d, 3wd: from now, counted by the case's calendar
            return pb.RequestExtensionRequest(task_id=a.task, new_due_within=a.until,
                                              reason=a.reason)
        return pb.RequestExtensionRequest(task_id=a.task, reason=a.reason,
                                          new_due_time=timestamp(a.until, "--until"))
    return _change("RequestExtension", ask)(args)


def _review(args: argparse.Namespace) -> Any:
    outcome = (case_pb2.DECLINE_REVIEW_OUTCOME_UPHELD if args.uphold
               else case_pb2.DECLINE_REVIEW_OUTCOME_OVERRULED)
    return _change("ReviewDecline", lambda a: pb.ReviewDeclineRequest(
        task_id=a.task, outcome=outcome, redispatch_to=a.to, note=a.note),
        lambda reply: {"redispatched_task_id": reply.redispatched_task_id,
                       "redispatched_to": reply.redispatched_to})(args)


# The command for each next step of the inbox, CASE and ITEM as its columns say.
_HOW = {
    "SIGN": "seamless task sign CASE ITEM",
    "ARRIVE": "seamless task arrive CASE ITEM",
    "COMPLETE": "seamless task complete CASE ITEM --findings TEXT [--evidence REF]",
    "ANSWER_HANDOFF": "seamless case accept CASE ITEM, or seamless case decline-handoff "
                      "CASE ITEM --reason TEXT",
    "REVIEW_DECLINE": "seamless task review CASE ITEM --uphold [--to AGENCY], or --overrule",
    "DECIDE_EXTENSION": "seamless task extend CASE ITEM --grant, or --refuse",
    "RESOLVE_ESCALATION": "seamless case resolve CASE ITEM --resolution TEXT",
    "DISPATCH": "seamless case dispatch CASE --kind KIND --to AGENCY",
    "CLOSE": "seamless case close CASE --summary TEXT",
}


def inbox(args: argparse.Namespace) -> Any:
    api = gateway(args)
    reply = api.call("ListInbox", pb.CaseServiceListInboxRequest(
        page_size=args.page_size, page_token=args.page_token, open_only=args.open_only))
    items = [render.work_json(i) for i in reply.items]
    if args.json:
        return {"agency": api.identity, "items": items,
                "next_page_token": reply.next_page_token}
    who = names(api)
    waiting = sum(1 for i in items if i["open"])
    overdue = sum(1 for i in items if i["overdue"])
    text = (f"inbox of {render.name(who, api.identity)}: {waiting} waiting for you"
            + (f", {overdue} OVERDUE" if overdue else "") + "\n")
    text += render.work_table(items) if items else "nothing here"
    steps = dict.fromkeys(i["action"] for i in items if i["open"])
    if steps:
        text += "\n\nhow:\n" + "\n".join(f"  {step.lower():<18} {_HOW[step]}"
                                        for step in steps if step in _HOW)
    if reply.next_page_token:
        text += f"\nmore: --page-token {reply.next_page_token}"
    return text


def notices(args: argparse.Namespace) -> Any:
    api = gateway(args)
    reply = api.call("ListNotices", pb.ListNoticesRequest(page_size=args.page_size,
                                                          page_token=args.page_token))
    rows = [render.notice_json(n) for n in reply.notices]
    if args.json:
        return {"agency": api.identity, "notices": rows,
                "next_page_token": reply.next_page_token}
    text = render.table(["received", "case", "kind", "about", "notice"],
                        [[render.local(n["received_at"]), n["case_number"] or n["case_id"],
                          n["kind"], n["task_id"] or n["handoff_id"], n["text"]]
                         for n in rows]) if rows else "no notices"
    if reply.next_page_token:
        text += f"\nmore: --page-token {reply.next_page_token}"
    return text


def agencies(args: argparse.Namespace) -> Any:
    # The directory is no secret within the platform, but every call is authenticated:
    # without --as, the demo district's coordinator asks.
    api = gateway(args, default_identity="command-center")
    reply = api.call("ListAgencies", pb.ListAgenciesRequest())
    rows = [render.agency_json(a) for a in reply.agencies]
    if args.json:
        return {"coordinator": reply.coordinator, "agencies": rows}
    return render.table(["id", "名称", "name", "capabilities"],
                        [[a["id"] + (" *" if a["id"] == reply.coordinator else ""),
                          a["name_zh"], a["name_en"], ", ".join(a["capabilities"])]
                         for a in rows]) + "\n* the coordinator"


def playbooks(args: argparse.Namespace) -> Any:
    api = gateway(args, default_identity="command-center")
    reply = api.call("ListPlaybooks", pb.ListPlaybooksRequest())
    if args.json:
        return json_format.MessageToDict(reply, preserving_proto_field_name=True)
    shown = [p for p in reply.playbooks if not args.type or p.id == args.type]
    if args.type and not shown:
        raise SystemExit(f"no case type {args.type!r}: "
                         f"{', '.join(p.id for p in reply.playbooks)}")
    return "\n\n".join(render.playbook_text(p) for p in shown)


# ----- the parser ---------------------------------------------------------------------

def _case_commands(group: Any) -> None:
    p = leaf(group, "open", case_open, "open a case (the matrix picks the lead)")
    p.add_argument("--type", required=True, help="case type, e.g. illegal-mining")
    p.add_argument("--subject", required=True, help="what the case is about (one open "
                                                    "case per type and subject)")
    p.add_argument("--title", required=True)
    p.add_argument("--description", default="")
    p.add_argument("--stage", default="",
                   help="required where the case type has stages ('seamless playbooks')")
    p.add_argument("--jurisdiction", default="",
                   help="where it is: decides who leads; required where the matrix names "
                        "jurisdictions ('seamless playbooks')")
    p.add_argument("--location", default="")
    p.add_argument("--priority", type=int, default=0, help="1 (urgent) to 5; default 3")
    p.add_argument("--lead", default="", help="ask to lead (首接负责) where the matrix allows")

    p = leaf(group, "list", case_list, "the cases you can see")
    p.add_argument("--owner", default="")
    p.add_argument("--status", choices=["", "open", "closed"], default="")
    p.add_argument("--type", default="")
    p.add_argument("--subject", default="", help="cases about this subject (case and "
                                                 "spaces do not matter)")
    p.add_argument("--page-size", type=int, default=0)
    p.add_argument("--page-token", default="")

    p = leaf(group, "show", case_show, "one case with its tasks")
    p.add_argument("case", help=CASE_HELP)

    p = leaf(group, "dispatch", _change(
        "DispatchTask", _dispatch_request, lambda r: {"task_id": r.task_id}),
        "dispatch a task to an assisting agency (owner)")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("--kind", required=True, help="a task kind of the case's playbook")
    p.add_argument("--to", required=True, metavar="AGENCY")
    p.add_argument("--title", default="")
    p.add_argument("--instructions", default="")
    p.add_argument("--sign-within", default="", help="e.g. 30m, 2h, 3wd")
    p.add_argument("--on-scene-within", default="")
    p.add_argument("--due-within", default="")
    p.add_argument("--due-at", default="", help="ISO time (Beijing time if no offset)")

    p = leaf(group, "handoff", _change("OfferHandoff", lambda a: pb.OfferHandoffRequest(
        to_agency=a.to, reason=a.reason, expires_within=a.expires_within),
        lambda r: {"handoff_id": r.handoff_id}), "offer the case to another agency (owner)")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("--to", required=True, metavar="AGENCY")
    p.add_argument("--reason", required=True)
    p.add_argument("--expires-within", default="")

    p = leaf(group, "accept", _change("AcceptHandoff", lambda a: pb.AcceptHandoffRequest(
        handoff_id=a.handoff)), "accept an offered case")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("handoff")

    p = leaf(group, "withdraw-handoff", _change("WithdrawHandoff", lambda a: (
        pb.WithdrawHandoffRequest(handoff_id=a.handoff))), "withdraw your offer")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("handoff")

    p = leaf(group, "decline-handoff", _change("DeclineHandoff", lambda a: (
        pb.DeclineHandoffRequest(handoff_id=a.handoff, reason=a.reason))),
        "decline an offered case, with a reason")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("handoff")
    p.add_argument("--reason", required=True)

    p = leaf(group, "assign", _change("AssignOwner", lambda a: pb.AssignOwnerRequest(
        agency=a.to, reason=a.reason)), "make an agency the owner (coordinator)")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("--to", required=True, metavar="AGENCY")
    p.add_argument("--reason", required=True)

    p = leaf(group, "resolve", _change("ResolveEscalation", lambda a: (
        pb.ResolveEscalationRequest(escalation_id=a.escalation, resolution=a.resolution))),
        "settle an escalation (coordinator)")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("escalation")
    p.add_argument("--resolution", required=True)

    p = leaf(group, "close", _change("CloseCase", lambda a: pb.CloseCaseRequest(
        summary=a.summary, answer=a.answer)),
        "close the case once every task is finished (owner)")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("--summary", default="")
    p.add_argument("--answer", default="", help="答复: what the reporters are told "
                                                "(required when the case has reports)")

    p = leaf(group, "object", _change("ObjectToLead", lambda a: pb.ObjectToLeadRequest(
        reason=a.reason, suggested_agency=a.suggest)),
        "派单异议: object to leading the case, within the playbook's deadline (lead)")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("--reason", required=True)
    p.add_argument("--suggest", default="", metavar="AGENCY", help="who should lead instead")

    p = leaf(group, "decide-objection", _change("DecideObjection", lambda a: (
        pb.DecideObjectionRequest(
            objection_id=a.objection, reassign_to=a.to, note=a.note,
            outcome=case_pb2.OBJECTION_OUTCOME_REASSIGNED if a.to or a.reassign
            else case_pb2.OBJECTION_OUTCOME_UPHELD))),
        "uphold the dispatch, or reassign the case with --to/--reassign (coordinator)")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("objection")
    p.add_argument("--reassign", action="store_true",
                   help="reassign to the agency the objection suggested")
    p.add_argument("--to", default="", metavar="AGENCY")
    p.add_argument("--note", default="")


def _task_commands(group: Any) -> None:
    def task_leaf(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        p = leaf(group, name, handler, help)
        p.add_argument("case", help=CASE_HELP)
        p.add_argument("task")
        return p

    # The assignee's actions go through its own agency service, which signs and
    # forwards them (workflows.command_table declares each).
    def desk_help(action: agency_pb2.TaskAction) -> str:
        return command_table.BY_DESK_ACTION[action].desk_help

    task_leaf("sign", _at_the_agency(agency_pb2.TASK_ACTION_SIGN),
              desk_help(agency_pb2.TASK_ACTION_SIGN))
    task_leaf("arrive", _at_the_agency(agency_pb2.TASK_ACTION_ARRIVE),
              desk_help(agency_pb2.TASK_ACTION_ARRIVE))
    p = task_leaf("complete", _at_the_agency(
        agency_pb2.TASK_ACTION_COMPLETE, findings=lambda a: a.findings,
        evidence_refs=lambda a: a.evidence), desk_help(agency_pb2.TASK_ACTION_COMPLETE))
    p.add_argument("--findings", required=True)
    p.add_argument("--evidence", action="append", default=[], metavar="REF")
    p = task_leaf("decline", _at_the_agency(
        agency_pb2.TASK_ACTION_DECLINE, reason=lambda a: a.reason,
        suggested_agency=lambda a: a.suggest), desk_help(agency_pb2.TASK_ACTION_DECLINE))
    p.add_argument("--reason", required=True)
    p.add_argument("--suggest", default="", metavar="AGENCY")
    p = task_leaf("review", _review, "review a declined task (owner)")
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--uphold", action="store_true", help="the decline stands")
    decision.add_argument("--overrule", action="store_true", help="the task goes back")
    p.add_argument("--to", default="", metavar="AGENCY", help="who gets the work if upheld")
    p.add_argument("--note", default="")
    p = task_leaf("extend", _extend, "ask for more time (assignee), or decide (owner)")
    p.add_argument("--until", default="",
                   help="the new due time you ask for: a time (2026-12-04T17:00) or a "
                        "duration from now (5d, 3wd)")
    p.add_argument("--reason", default="")
    p.add_argument("--grant", action="store_true")
    p.add_argument("--refuse", action="store_true")
    p.add_argument("--note", default="")
    p = task_leaf("withdraw", _change("WithdrawTask", lambda a: (
        pb.CaseServiceWithdrawTaskRequest(task_id=a.task, reason=a.reason))),
        "withdraw a task (owner)")
    p.add_argument("--reason", default="")


def build_parser() -> argparse.ArgumentParser:
    from cli import demo, health, officers, open311, oversight, platform, provision, reports
    from cli.up import Ports

    parser = argparse.ArgumentParser(
        prog="seamless", description="Seamless: joint enforcement cases across agencies.")
    options(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = leaf(commands, "up", platform.up_command, "start the whole platform", acting=False)
    ports = Ports()
    for option, variable, default, help in (
            ("--temporal-port", "SEAMLESS_TEMPORAL_PORT", ports.temporal,
             "Temporal's gRPC port"),
            ("--ui-port", "SEAMLESS_UI_PORT", ports.temporal_ui, "the Temporal UI"),
            ("--gateway-port", "SEAMLESS_GATEWAY_PORT", ports.gateway,
             "the gateway, for people (TLS)"),
            ("--gateway-mtls-port", "SEAMLESS_GATEWAY_MTLS_PORT", ports.gateway_mtls,
             "the gateway, for the agencies' services (mutual TLS)"),
            ("--gateway-http-port", "SEAMLESS_GATEWAY_HTTP_PORT", ports.gateway_http,
             "the gateway's HTTP/JSON API and console"),
            ("--agency-base-port", "SEAMLESS_AGENCY_BASE_PORT", ports.agency_base,
             "agencies listen for the platform's parties on consecutive ports from here"),
            ("--desk-base-port", "SEAMLESS_DESK_BASE_PORT", ports.desk_base,
             "agencies' officers' desks, on consecutive ports from here")):
        p.add_argument(option, type=int, default=int(os.environ.get(variable, default)),
                       help=f"{help} (${variable}, default {default})")
    p.add_argument("--database-url", default=os.environ.get("SEAMLESS_DATABASE_URL", ""),
                   help="keep the records on this PostgreSQL server, a database per owner "
                        "made when missing (postgresql://user:password@host:port/postgres; "
                        "better in $SEAMLESS_DATABASE_URL, which other users cannot read "
                        "as they can a command line; default: SQLite files in the data "
                        "directory)")
    leaf(commands, "status", platform.status_command, "health of every component",
          acting=False)
    leaf(commands, "agencies", agencies, "the district directory")
    p = leaf(commands, "playbooks", playbooks, "the case types: stages, jurisdictions, who "
              "leads, task kinds and their clocks")
    p.add_argument("type", nargs="?", default="", help="one case type (default: all)")
    p = leaf(commands, "inbox", inbox, "your work: what waits for you, what to do next "
              "and by when (overdue first)")
    p.add_argument("--open-only", action="store_true",
                   help="only what waits for you (not finished work or work waiting on "
                        "others)")
    p.add_argument("--page-size", type=int, default=0)
    p.add_argument("--page-token", default="")
    p = leaf(commands, "notices", notices, "the notices your agency received (督办, "
              "escalations, offers), newest first")
    p.add_argument("--page-size", type=int, default=0)
    p.add_argument("--page-token", default="")
    p = leaf(commands, "demo", demo.demo_command,
              "drive realistic cases end to end (day: a morning for the console)",
              acting=False)
    p.add_argument("scenario", choices=sorted(demo.SCENARIOS))
    case = commands.add_parser("case", help="open, list, show and run cases")
    _case_commands(case.add_subparsers(dest="action", required=True, metavar="ACTION"))
    task = commands.add_parser("task", help="act on a task of a case")
    _task_commands(task.add_subparsers(dest="action", required=True, metavar="ACTION"))
    reports.add_commands(commands)
    open311.add_commands(commands)
    oversight.add_commands(commands)
    # For docker-compose.yml: its one-shot job, and its containers' health checks.
    provision.add_command(commands)
    health.add_command(commands)
    officers.add_commands(commands)
    return parser


DEFAULTS = {"data_dir": None, "json": False, "as_agency": None, "officer": "",
            "request_id": ""}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for key, value in DEFAULTS.items():
        if not hasattr(args, key):
            setattr(args, key, value)
    try:
        output = args.handler(args)
    except CallFailed as failure:
        if args.json:
            print(render.dumps({"error": {  # noqa: T201
                "status": failure.status, "message": failure.message,
                "reason": failure.reason, "metadata": failure.metadata}}))
        else:
            print(f"error: {failure.status}: {failure.message}", file=sys.stderr)  # noqa: T201
        return 1
    if isinstance(output, int):
        return output
    if output is not None:
        print(render.dumps(output) if args.json else output)  # noqa: T201
    return 0


def entry_point() -> None:
    try:
        sys.exit(main())
    except BrokenPipeError:  # `seamless … | head`: the reader has what it wanted
        sys.stderr.close()
        sys.exit(0)
