"""The `seamless case`, `task`, `inbox`, `notices`, `agencies` and `playbooks` commands:
what an agency's officer does to cases, through the gateway and the agency's desk."""

from __future__ import annotations

import argparse
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from google.protobuf import json_format

from cli import datadir, render
from cli.api import AgencyDesk, CallFailed, Gateway, new_request_id
from cli.arguments import Handler, timestamp
from seamless.v1 import agency_pb2, case_pb2
from seamless.v1 import case_service_pb2 as pb
from workflows.rules.calendar import is_duration

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


def change(method: str, build: Callable[[argparse.Namespace], Any],
            extra: Callable[[Any], dict[str, str]] = lambda _reply: {}) -> Handler:
    def run(args: argparse.Namespace) -> Any:
        api = gateway(args)
        request = build(args)
        common(request, args)
        request.case_id = args.case
        reply = api.call(method, request)
        return show_case(args, api, reply.case, **extra(reply))
    return run


def at_the_agency(action: int, **fields: Callable[[argparse.Namespace], Any]) -> Handler:
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


def dispatch_request(args: argparse.Namespace) -> pb.DispatchTaskRequest:
    request = pb.DispatchTaskRequest(
        kind=args.kind, assignee=args.to, title=args.title, instructions=args.instructions,
        sign_within=args.sign_within, on_scene_within=args.on_scene_within,
        due_within=args.due_within)
    if args.due_at:
        request.due_time.CopyFrom(timestamp(args.due_at, "--due-at"))
    return request


def extend(args: argparse.Namespace) -> Any:
    if args.grant or args.refuse:
        return change("DecideExtension", lambda a: pb.DecideExtensionRequest(
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
    return change("RequestExtension", ask)(args)


def review(args: argparse.Namespace) -> Any:
    outcome = (case_pb2.DECLINE_REVIEW_OUTCOME_UPHELD if args.uphold
               else case_pb2.DECLINE_REVIEW_OUTCOME_OVERRULED)
    return change("ReviewDecline", lambda a: pb.ReviewDeclineRequest(
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


# ----- evidence files -----------------------------------------------------------------

def task_attach(args: argparse.Namespace) -> Any:
    """Attach files to a task (现场取证): each streamed to the officer's own agency
    through the gateway's evidence door; the references printed are what
    `task complete --evidence` names (inside the act the agency signs)."""
    api = gateway(args)
    endpoints = datadir.Endpoints.read(datadir.resolve(args.data_dir))
    stored = []
    for path in args.files:
        stored.append(_upload(endpoints.http, api, args.case, args.task, Path(path)))
    if args.json:
        return {"files": stored}
    return render.table(["file", "ref", "type", "bytes", "taken"],
                        [[s["name"], s["ref"], s["media_type"], str(s["size"]),
                          render.local(s["taken_at"] or "")] for s in stored])


def _upload(http: str, api: Gateway, case: str, task: str, path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SystemExit(f"{path}: no such file")
    target = (f"{http}/evidence/{quote(case, safe='')}/{quote(task, safe='')}"
              f"?name={quote(path.name, safe='')}")

    def send(token: str) -> dict[str, Any]:
        with path.open("rb") as body:  # streamed: never read whole into memory
            request = urllib.request.Request(target, data=body, method="POST", headers={
                "authorization": f"Bearer {token}",
                "content-length": str(path.stat().st_size),
                "content-type": "application/octet-stream"})
            with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310
                stored: dict[str, Any] = json.loads(answer.read())
                return stored
    try:
        return send(api.credential.token())
    except urllib.error.HTTPError as err:
        if err.code == 401 and api.credential.renew():
            return send(api.credential.token())
        try:
            refusal = json.loads(err.read())["error"]
        except (ValueError, KeyError):
            refusal = {"reason": "", "message": err.reason}
        raise CallFailed(str(err.code), f"{path.name}: {refusal['message']}",
                         refusal.get("reason", "")) from None
