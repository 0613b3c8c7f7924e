"""`seamless`: argument parsing, and the entry point that runs the command asked for
(the case commands are in `cli.case_commands`, the others in their own modules)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from cli import render
from cli.api import CallFailed
from cli.arguments import Handler, leaf, options
from cli.case_commands import (
    agencies,
    at_the_agency,
    case_list,
    case_open,
    case_show,
    change,
    dispatch_request,
    extend,
    inbox,
    notices,
    playbooks,
    review,
    task_attach,
)
from seamless.v1 import agency_pb2, case_pb2
from seamless.v1 import case_service_pb2 as pb
from workflows import command_table

CASE_HELP = "the case number (20261130-0042), or the case id"

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

    p = leaf(group, "dispatch", change(
        "DispatchTask", dispatch_request, lambda r: {"task_id": r.task_id}),
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

    p = leaf(group, "handoff", change("OfferHandoff", lambda a: pb.OfferHandoffRequest(
        to_agency=a.to, reason=a.reason, expires_within=a.expires_within),
        lambda r: {"handoff_id": r.handoff_id}), "offer the case to another agency (owner)")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("--to", required=True, metavar="AGENCY")
    p.add_argument("--reason", required=True)
    p.add_argument("--expires-within", default="")

    p = leaf(group, "accept", change("AcceptHandoff", lambda a: pb.AcceptHandoffRequest(
        handoff_id=a.handoff)), "accept an offered case")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("handoff")

    p = leaf(group, "withdraw-handoff", change("WithdrawHandoff", lambda a: (
        pb.WithdrawHandoffRequest(handoff_id=a.handoff))), "withdraw your offer")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("handoff")

    p = leaf(group, "decline-handoff", change("DeclineHandoff", lambda a: (
        pb.DeclineHandoffRequest(handoff_id=a.handoff, reason=a.reason))),
        "decline an offered case, with a reason")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("handoff")
    p.add_argument("--reason", required=True)

    p = leaf(group, "assign", change("AssignOwner", lambda a: pb.AssignOwnerRequest(
        agency=a.to, reason=a.reason)), "make an agency the owner (coordinator)")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("--to", required=True, metavar="AGENCY")
    p.add_argument("--reason", required=True)

    p = leaf(group, "resolve", change("ResolveEscalation", lambda a: (
        pb.ResolveEscalationRequest(escalation_id=a.escalation, resolution=a.resolution))),
        "settle an escalation (coordinator)")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("escalation")
    p.add_argument("--resolution", required=True)

    p = leaf(group, "close", change("CloseCase", lambda a: pb.CloseCaseRequest(
        summary=a.summary, answer=a.answer)),
        "close the case once every task is finished (owner)")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("--summary", default="")
    p.add_argument("--answer", default="", help="答复: what the reporters are told "
                                                "(required when the case has reports)")

    p = leaf(group, "object", change("ObjectToLead", lambda a: pb.ObjectToLeadRequest(
        reason=a.reason, suggested_agency=a.suggest)),
        "派单异议: object to leading the case, within the playbook's deadline (lead)")
    p.add_argument("case", help=CASE_HELP)
    p.add_argument("--reason", required=True)
    p.add_argument("--suggest", default="", metavar="AGENCY", help="who should lead instead")

    p = leaf(group, "decide-objection", change("DecideObjection", lambda a: (
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

    task_leaf("sign", at_the_agency(agency_pb2.TASK_ACTION_SIGN),
              desk_help(agency_pb2.TASK_ACTION_SIGN))
    task_leaf("arrive", at_the_agency(agency_pb2.TASK_ACTION_ARRIVE),
              desk_help(agency_pb2.TASK_ACTION_ARRIVE))
    p = task_leaf("complete", at_the_agency(
        agency_pb2.TASK_ACTION_COMPLETE, findings=lambda a: a.findings,
        evidence_refs=lambda a: a.evidence), desk_help(agency_pb2.TASK_ACTION_COMPLETE))
    p.add_argument("--findings", required=True)
    p.add_argument("--evidence", action="append", default=[], metavar="REF",
                   help="a reference `task attach` printed (or another record's)")
    p = task_leaf("attach", task_attach,
                  "attach photos, PDFs or videos as evidence (现场取证); prints the "
                  "references `complete --evidence` names")
    p.add_argument("files", nargs="+", metavar="FILE")
    p = task_leaf("decline", at_the_agency(
        agency_pb2.TASK_ACTION_DECLINE, reason=lambda a: a.reason,
        suggested_agency=lambda a: a.suggest), desk_help(agency_pb2.TASK_ACTION_DECLINE))
    p.add_argument("--reason", required=True)
    p.add_argument("--suggest", default="", metavar="AGENCY")
    p = task_leaf("review", review, "review a declined task (owner)")
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--uphold", action="store_true", help="the decline stands")
    decision.add_argument("--overrule", action="store_true", help="the task goes back")
    p.add_argument("--to", default="", metavar="AGENCY", help="who gets the work if upheld")
    p.add_argument("--note", default="")
    p = task_leaf("extend", extend, "ask for more time (assignee), or decide (owner)")
    p.add_argument("--until", default="",
                   help="the new due time you ask for: a time (2026-12-04T17:00) or a "
                        "duration from now (5d, 3wd)")
    p.add_argument("--reason", default="")
    p.add_argument("--grant", action="store_true")
    p.add_argument("--refuse", action="store_true")
    p.add_argument("--note", default="")
    p = task_leaf("withdraw", change("WithdrawTask", lambda a: (
        pb.CaseServiceWithdrawTaskRequest(task_id=a.task, reason=a.reason))),
        "withdraw a task (owner)")
    p.add_argument("--reason", default="")


def build_parser() -> argparse.ArgumentParser:
    from cli import (
        demo,
        health,
        notifications,
        officers,
        open311,
        oversight,
        platform,
        provision,
        reports,
    )
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
    notifications.add_commands(commands)
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
