"""`seamless login`, `logout`, `passwd` and `officer …`: people and their sessions.

An officer signs in at its own agency's desk; the session is kept in the person's own
config folder (`cli.sessions`). An agency's heads keep its roster: add officers,
disable them (their sessions end at once; the gateway refuses them within a second),
reset passwords.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

import grpc

from cli import datadir, render
from cli.api import AgencyDesk, CallFailed
from cli.arguments import leaf
from cli.sessions import SessionBook, sign_in
from seamless.v1 import roster_pb2 as pb
from trust.passwords import MIN_PASSWORD

Handler = Callable[[argparse.Namespace], Any]
ROLES = {"officer": pb.OFFICER_ROLE_OFFICER, "dispatcher": pb.OFFICER_ROLE_DISPATCHER,
         "head": pb.OFFICER_ROLE_HEAD}


def _agency(args: argparse.Namespace) -> str:
    if not args.as_agency:
        raise SystemExit("say which agency: --as AGENCY")
    return str(args.as_agency)


def _password(args: argparse.Namespace, prompt: str) -> str:
    """From stdin with --password-stdin (scripts), else asked without echo."""
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    return getpass.getpass(prompt)


def _officer_json(officer: pb.Officer) -> dict[str, Any]:
    return {"id": officer.id, "name": officer.name,
            "roles": [pb.OfficerRole.Name(r).removeprefix("OFFICER_ROLE_").lower()
                      for r in officer.roles],
            "disabled": officer.disabled, "disabled_reason": officer.disabled_reason}


def login(args: argparse.Namespace) -> Any:
    agency, data_dir = _agency(args), datadir.resolve(args.data_dir)
    if not args.officer:
        raise SystemExit("say who signs in: --officer ID")
    password = _password(args, f"password of {args.officer} at {agency}: ")
    try:
        try:
            stored = sign_in(data_dir, agency, args.officer, password)
        except grpc.RpcError as err:
            if err.code() is not grpc.StatusCode.FAILED_PRECONDITION:
                raise
            # A one-time password (a first head's): the officer chooses their own now.
            chosen = _password(args, f"a new password for {args.officer} (at least "
                                     f"{MIN_PASSWORD} characters): ")
            if not getattr(args, "password_stdin", False) and \
                    getpass.getpass("the same again: ") != chosen:
                raise SystemExit("the two new passwords differ; nothing was changed") \
                    from None
            stored = sign_in(data_dir, agency, args.officer, password, new_password=chosen)
    except grpc.RpcError as err:
        raise CallFailed(err.code().name, err.details() or "") from None
    if args.json:
        return {"agency": stored.agency, "officer": stored.officer,
                "expires_at": stored.expires_at}
    return (f"signed in as {stored.officer} of {stored.agency} until "
            f"{render.local(stored.expires_at)}")


def logout(args: argparse.Namespace) -> Any:
    agency, data_dir = _agency(args), datadir.resolve(args.data_dir)
    stored = SessionBook(data_dir).get(agency)
    if stored is not None:
        desk = AgencyDesk(data_dir, agency)
        try:
            desk.keep_roster("SignOut", pb.SignOutRequest())
        except CallFailed as failure:
            if failure.status != "UNAUTHENTICATED":  # already ended: nothing to end
                raise
        finally:
            desk.close()
    SessionBook(data_dir).forget(agency)
    if args.json:
        return {"agency": agency, "signed_out": stored is not None}
    return f"signed out of {agency}" if stored else f"no session for {agency} was kept"


def passwd(args: argparse.Namespace) -> Any:
    agency = _agency(args)
    current = _password(args, "current password: ")
    new = _password(args, "new password: ")
    reply = _at_desk(args, "ChangePassword", pb.ChangePasswordRequest(
        current_password=current, new_password=new))
    if args.json:
        return {"agency": agency, "sessions_ended": reply.sessions_ended}
    return f"password changed; {reply.sessions_ended} other session(s) ended"


def _at_desk(args: argparse.Namespace, method: str, request: Any) -> Any:
    desk = AgencyDesk(datadir.resolve(args.data_dir), _agency(args))
    try:
        return desk.keep_roster(method, request)
    finally:
        desk.close()


def officer_list(args: argparse.Namespace) -> Any:
    reply = _at_desk(args, "ListOfficers", pb.ListOfficersRequest())
    rows = [_officer_json(o) for o in reply.officers]
    if args.json:
        return {"agency": args.as_agency, "officers": rows}
    return render.table(["officer", "name", "roles", "status"],
                        [[o["id"], o["name"], ", ".join(o["roles"]),
                          f"disabled: {o['disabled_reason']}" if o["disabled"] else "active"]
                         for o in rows])


def officer_add(args: argparse.Namespace) -> Any:
    password = _password(args, "initial password: ") if args.password_stdin else ""
    reply = _at_desk(args, "AddOfficer", pb.AddOfficerRequest(
        officer_id=args.id, name=args.name, roles=[ROLES[r] for r in args.role],
        password=password))
    document = {**_officer_json(reply.officer), "initial_password": reply.initial_password}
    if args.json:
        return document
    text = f"added {reply.officer.id} ({', '.join(document['roles'])})"
    if reply.initial_password:
        text += (f"\none-time password (shown once; give it to the officer, who "
                 f"chooses their own at their first sign-in): {reply.initial_password}")
    return text


def officer_disable(args: argparse.Namespace) -> Any:
    reply = _at_desk(args, "DisableOfficer", pb.DisableOfficerRequest(
        officer_id=args.id, reason=args.reason))
    if args.json:
        return {**_officer_json(reply.officer), "sessions_ended": reply.sessions_ended}
    return f"disabled {reply.officer.id}; {reply.sessions_ended} session(s) ended at once"


def officer_reset_password(args: argparse.Namespace) -> Any:
    password = _password(args, "new password: ") if args.password_stdin else ""
    reply = _at_desk(args, "ResetPassword", pb.ResetPasswordRequest(
        officer_id=args.id, password=password))
    if args.json:
        return {"id": args.id, "new_password": reply.new_password,
                "sessions_ended": reply.sessions_ended}
    text = f"password of {args.id} reset; {reply.sessions_ended} session(s) ended"
    if reply.new_password:
        text += (f"\none-time password (shown once; the officer chooses their own at "
                 f"their next sign-in): {reply.new_password}")
    return text


def add_commands(commands: Any) -> None:
    p = leaf(commands, "login", login, "sign in at your agency (asks for the password)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of standard input")
    p = leaf(commands, "logout", logout, "end your session at an agency")
    p = leaf(commands, "passwd", passwd, "change your own password (asks for both)")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the current, then the new password from standard input")
    officer = commands.add_parser("officer", help="an agency's roster (heads)")
    group = officer.add_subparsers(dest="action", required=True, metavar="ACTION")
    leaf(group, "list", officer_list, "the agency's officers")
    p = leaf(group, "add", officer_add, "add an officer with a one-time password, "
                                        "generated unless given with --password-stdin; "
                                        "they choose their own at their first sign-in")
    p.add_argument("id", help="the officer's id (a-z, 0-9, '.', '_', '-')")
    p.add_argument("--name", required=True)
    p.add_argument("--role", action="append", required=True, choices=sorted(ROLES),
                   help="officer, dispatcher or head (repeat for several)")
    p.add_argument("--password-stdin", action="store_true")
    p = leaf(group, "disable", officer_disable, "disable an officer: their sessions end")
    p.add_argument("id")
    p.add_argument("--reason", required=True)
    p = leaf(group, "reset-password", officer_reset_password,
             "give an officer a one-time password (they choose their own at their "
             "next sign-in); their sessions end")
    p.add_argument("id")
    p.add_argument("--password-stdin", action="store_true")
