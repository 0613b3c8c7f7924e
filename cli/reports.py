"""`seamless report …`: the hotline desk's reports from the command line.

Take a call in (`submit`), see a report (`show`) or a case's reports (`list`), merge a
report into a case or split it off (`merge`, `split`: 并单), list the closed cases
awaiting a rating (`follow-up`) and record the reporter's rating (`rate`: 回访/评价).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from google.protobuf import json_format

from cli import datadir, render
from cli.api import Gateway, new_request_id
from cli.arguments import leaf
from seamless.v1 import report_pb2 as pb
from workflows.rules.report_ops import DESK_CHANNELS

SATISFACTION = {"satisfied": pb.SATISFACTION_SATISFIED,
                "basically": pb.SATISFACTION_BASICALLY_SATISFIED,
                "dissatisfied": pb.SATISFACTION_DISSATISFIED}


def _gateway(args: argparse.Namespace) -> Gateway:
    identity = args.as_agency or os.environ.get("SEAMLESS_AS")
    if not identity:
        raise SystemExit("say who is acting: --as AGENCY (or set SEAMLESS_AS)")
    return Gateway(datadir.resolve(args.data_dir), identity)


def _show(args: argparse.Namespace, reports: list[pb.Report]) -> Any:
    documents = [json_format.MessageToDict(r, preserving_proto_field_name=True)
                 for r in reports]
    if args.json:
        return documents[0] if len(documents) == 1 and not args.action.startswith(
            ("list", "follow")) else {"reports": documents}
    rows = [[r.id, r.service_code, r.case_number or r.case_id or f"(waiting: "
             f"{r.routing_problem or 'routing'})", r.area or r.jurisdiction,
             f"{r.contact.name} {r.contact.phone}".strip(),
             render.local(json_format.MessageToDict(r).get("receivedTime", "")),
             ("solved " if r.solved else "unsolved ")
             + pb.Satisfaction.Name(r.satisfaction).removeprefix("SATISFACTION_").lower()
             if r.rated else ""] for r in reports]
    return render.table(["report", "category", "case", "area", "reporter",
                         f"received ({render.ZONE})", "rating"], rows)


def submit(args: argparse.Namespace) -> Any:
    located = args.lat is not None and args.lon is not None
    request = pb.SubmitReportRequest(
        request_id=args.request_id or new_request_id(), channel=args.channel,
        service_code=args.service, description=args.description, address=args.address,
        lat=args.lat or 0.0, lon=args.lon or 0.0, located=located,
        jurisdiction=args.jurisdiction,
        attributes=[pb.ReportAttribute(code=code, value=value)
                    for code, _, value in (a.partition("=") for a in args.attribute)],
        media_urls=args.media_url,
        contact=pb.ReporterContact(name=args.name, phone=args.phone, email=args.email),
        officer_id=args.officer or "")
    return _show(args, [_gateway(args).reports("SubmitReport", request).report])


def show(args: argparse.Namespace) -> Any:
    """One report: the table's row, then what the citizen wrote (its text, address and
    answers), which an officer reads before acting on it."""
    report = _gateway(args).reports("GetReport",
                                    pb.GetReportRequest(report_id=args.report)).report
    shown = _show(args, [report])
    if args.json:
        return shown
    said = [f"{name}: {value}" for name, value in (
        ("description", report.description), ("address", report.address),
        *((a.code, a.value) for a in report.attributes)) if value]
    return "\n".join([str(shown), *said])


def list_reports(args: argparse.Namespace) -> Any:
    reply = _gateway(args).reports("ListReports", pb.ListReportsRequest(
        case_id=args.case, page_size=args.page_size))
    return _show(args, list(reply.reports))


def follow_up(args: argparse.Namespace) -> Any:
    reply = _gateway(args).reports("ListReports", pb.ListReportsRequest(
        follow_up=True, page_size=args.page_size))
    return _show(args, list(reply.reports))


def merge(args: argparse.Namespace) -> Any:
    reply = _gateway(args).reports("MergeReport", pb.MergeReportRequest(
        request_id=args.request_id or new_request_id(), report_id=args.report,
        case_id=args.into, officer_id=args.officer or ""))
    return _show(args, [reply.report])


def split(args: argparse.Namespace) -> Any:
    reply = _gateway(args).reports("SplitReport", pb.SplitReportRequest(
        request_id=args.request_id or new_request_id(), report_id=args.report,
        reason=args.reason, officer_id=args.officer or ""))
    return _show(args, [reply.report])


def rate(args: argparse.Namespace) -> Any:
    reply = _gateway(args).reports("RateReport", pb.RateReportRequest(
        report_id=args.report, solved=args.solved == "yes",
        satisfaction=SATISFACTION[args.satisfaction], reopen_lead=args.reopen_lead,
        officer_id=args.officer or ""))
    report = reply.report
    text = _show(args, [report])
    if report.reopened_as and not args.json:
        text += f"\nreopened (重办) as {report.reopened_as}"
    return text


def add_commands(commands: Any) -> None:
    group = commands.add_parser("report", help="citizens' reports: take in, merge, rate "
                                               "(the hotline desk)")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = leaf(actions, "submit", submit, "take a report in; it joins the open case on its "
             "subject or opens one (hotline)")
    p.add_argument("--service", required=True, help="the category (seamless report "
                                                    "categories / Open311 services)")
    p.add_argument("--description", default="")
    p.add_argument("--address", default="")
    p.add_argument("--lat", type=float)
    p.add_argument("--lon", type=float)
    p.add_argument("--jurisdiction", default="")
    p.add_argument("--attribute", action="append", default=[], metavar="CODE=VALUE",
                   help="an answer of the category's form, e.g. site=北山采石场")
    p.add_argument("--media-url", action="append", default=[])
    p.add_argument("--name", default="")
    p.add_argument("--phone", default="")
    p.add_argument("--email", default="")
    p.add_argument("--channel", choices=DESK_CHANNELS, default=DESK_CHANNELS[0])
    p = leaf(actions, "show", show, "one report (its reporter masked unless you are the "
             "hotline or the lead)")
    p.add_argument("report")
    p = leaf(actions, "list", list_reports, "the reports of a case")
    p.add_argument("case")
    p.add_argument("--page-size", type=int, default=0)
    p = leaf(actions, "follow-up", follow_up, "closed cases' reports awaiting a rating "
             "(hotline)")
    p.add_argument("--page-size", type=int, default=0)
    p = leaf(actions, "merge", merge, "并单: move a report onto a case (hotline or owner)")
    p.add_argument("report")
    p.add_argument("--into", required=True, metavar="CASE")
    p = leaf(actions, "split", split, "split a report merged by mistake off its case")
    p.add_argument("report")
    p.add_argument("--reason", required=True)
    p = leaf(actions, "rate", rate, "回访: record the reporter's rating of the closed case; "
             "unsolved and dissatisfied reopens it (hotline)")
    p.add_argument("report")
    p.add_argument("--solved", choices=["yes", "no"], required=True)
    p.add_argument("--satisfaction", choices=sorted(SATISFACTION), required=True)
    p.add_argument("--reopen-lead", default="", metavar="AGENCY",
                   help="the reopened case's lead, when not the same (coordinator)")
