"""`seamless notify …`: how an agency's work reaches people and systems away from the
console (`agencies.outbox`), kept at the agency's own desk.

Heads add the agency's webhooks (the signing secret is shown once), keep the duty
roster and read the outbox; each officer adds its own e-mail with its quiet hours.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from agencies.outbox import EVENTS
from cli import datadir, render
from cli.api import AgencyDesk
from cli.arguments import leaf
from seamless.v1 import notify_pb2 as pb


def _at_desk(args: argparse.Namespace, method: str, request: Any) -> Any:
    if not args.as_agency:
        raise SystemExit("say which agency: --as AGENCY")
    desk = AgencyDesk(datadir.resolve(args.data_dir), str(args.as_agency))
    try:
        return desk.keep_notifications(method, request)
    finally:
        desk.close()


def _when(stamp: Timestamp) -> str:
    if not stamp.seconds and not stamp.nanos:
        return ""
    return stamp.ToDatetime(tzinfo=UTC).isoformat(timespec="seconds")


def _subscription(row: pb.Subscription) -> dict[str, Any]:
    return {"id": row.id, "channel": row.channel, "target": row.target,
            "officer": row.officer_id, "events": list(row.events),
            "quiet_hours": row.quiet_hours, "zone": row.zone}


def _moment(text: str) -> Timestamp:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"{text!r}: a time such as 2026-12-07T22:00+08:00") from None
    if moment.tzinfo is None:
        raise SystemExit(f"{text!r}: say its zone, such as 2026-12-07T22:00+08:00")
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def subscriptions(args: argparse.Namespace) -> Any:
    reply = _at_desk(args, "ListSubscriptions", pb.ListSubscriptionsRequest())
    rows = [_subscription(s) for s in reply.subscriptions]
    if args.json:
        return {"subscriptions": rows}
    return render.table(["id", "channel", "target", "officer", "events", "quiet hours"],
                        [[r["id"], r["channel"], r["target"], r["officer"] or "(agency)",
                          ", ".join(r["events"]) or "all",
                          f"{r['quiet_hours']} {r['zone']}".strip()] for r in rows])


def add_webhook(args: argparse.Namespace) -> Any:
    reply = _at_desk(args, "AddWebhook", pb.AddWebhookRequest(url=args.url,
                                                              events=args.event or []))
    if args.json:
        return {**_subscription(reply.subscription), "secret": reply.secret}
    return (f"webhook {reply.subscription.id} added: {reply.subscription.target}\n"
            f"signing secret (shown once; keep it with the receiver): {reply.secret}")


def add_email(args: argparse.Namespace) -> Any:
    reply = _at_desk(args, "AddEmail", pb.AddEmailRequest(
        address=args.address, events=args.event or [], quiet_hours=args.quiet or "",
        zone=args.zone or ""))
    if args.json:
        return _subscription(reply.subscription)
    quiet = f", quiet {args.quiet}" if args.quiet else ""
    return f"e-mail {reply.subscription.id} added: {reply.subscription.target}{quiet}"


def remove(args: argparse.Namespace) -> Any:
    _at_desk(args, "RemoveSubscription", pb.RemoveSubscriptionRequest(id=args.id))
    return {"removed": args.id} if args.json else f"subscription {args.id} removed"


def duty_add(args: argparse.Namespace) -> Any:
    reply = _at_desk(args, "AddDutyShift", pb.AddDutyShiftRequest(
        officer_id=args.officer, starts_at=_moment(args.starts),
        ends_at=_moment(args.ends)))
    shift = reply.shift
    document = {"id": shift.id, "officer": shift.officer_id,
                "starts_at": _when(shift.starts_at), "ends_at": _when(shift.ends_at)}
    if args.json:
        return document
    return f"{shift.officer_id} on duty {document['starts_at']} to {document['ends_at']}"


def duty_list(args: argparse.Namespace) -> Any:
    reply = _at_desk(args, "ListDutyShifts", pb.ListDutyShiftsRequest())
    rows = [{"id": s.id, "officer": s.officer_id, "starts_at": _when(s.starts_at),
             "ends_at": _when(s.ends_at)} for s in reply.shifts]
    if args.json:
        return {"shifts": rows}
    return render.table(["id", "officer", "from", "until"],
                        [[r["id"], r["officer"], r["starts_at"], r["ends_at"]] for r in rows])


def outbox(args: argparse.Namespace) -> Any:
    reply = _at_desk(args, "ListOutbox", pb.ListOutboxRequest(state=args.state or "",
                                                              page_size=args.limit))
    rows = [{"id": e.id, "event": e.event, "channel": e.channel, "target": e.target,
             "state": e.state, "attempts": e.attempts, "last_error": e.last_error,
             "case_id": e.case_id, "key": e.key, "created_at": _when(e.created_at),
             "next_attempt_at": _when(e.next_attempt_at),
             "delivered_at": _when(e.delivered_at)} for e in reply.entries]
    if args.json:
        return {"entries": rows}
    return render.table(["id", "event", "to", "state", "attempts", "last error"],
                        [[r["id"], r["event"], r["target"], r["state"], r["attempts"],
                          r["last_error"]] for r in rows])


def add_commands(commands: Any) -> None:
    notify = commands.add_parser("notify", help="notifications away from the console")
    group = notify.add_subparsers(dest="action", required=True, metavar="ACTION")
    leaf(group, "list", subscriptions, "the agency's subscriptions (an officer: its own)")
    events_help = f"only these (repeat): {', '.join(EVENTS)}; all when none"
    p = leaf(group, "webhook", add_webhook, "send the agency's work to one of its systems "
                                            "(heads); prints the signing secret once")
    p.add_argument("url")
    p.add_argument("--event", action="append", choices=EVENTS, help=events_help)
    p = leaf(group, "email", add_email, "mail your agency's work to you")
    p.add_argument("address")
    p.add_argument("--event", action="append", choices=EVENTS, help=events_help)
    p.add_argument("--quiet", help="quiet hours, such as 22:00-07:00: nothing then unless "
                                   "you are on duty")
    p.add_argument("--zone", help="the quiet hours' zone (default Asia/Shanghai)")
    p = leaf(group, "remove", remove, "stop a subscription")
    p.add_argument("id", type=int)
    p = leaf(group, "outbox", outbox, "every notification and its fate (heads)")
    p.add_argument("--state", choices=["pending", "delivered", "held", "failed"])
    p.add_argument("--limit", type=int, default=50)
    duty = group.add_parser("duty", help="值班: who is reached at night")
    shifts = duty.add_subparsers(dest="duty_action", required=True, metavar="ACTION")
    leaf(shifts, "list", duty_list, "the shifts not yet over")
    p = leaf(shifts, "add", duty_add, "put an officer on duty (heads)")
    p.add_argument("officer")
    p.add_argument("--from", dest="starts", required=True, help="2026-12-07T22:00+08:00")
    p.add_argument("--until", dest="ends", required=True, help="2026-12-08T08:00+08:00")
