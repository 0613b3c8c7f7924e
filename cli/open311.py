"""`seamless open311 key …`: the API keys of Open311 client systems (an operator's job).

Keys live in the gateway's own database: by default the data directory's (as `seamless
up` made it, on SQLite or the server `$SEAMLESS_DATABASE_URL` names), or, inside the
gateway's container, the one its settings name (`$SEAMLESS_GATEWAY_DATABASE_URL`, with
its `_PASSWORD_FILE`). A key is shown once, when it is made; only its digest is kept.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from cli import datadir, render
from cli.arguments import leaf
from cli.databases import GATEWAY, chosen
from gateway.case_numbers import open_case_numbers
from gateway.open311.keys import ApiKeyError, ApiKeys


def _engine(args: argparse.Namespace) -> Engine:
    url = os.environ.get("SEAMLESS_GATEWAY_DATABASE_URL", "")
    password = os.environ.get("SEAMLESS_GATEWAY_DATABASE_PASSWORD_FILE", "")
    if not url:
        data_dir = datadir.resolve(args.data_dir)
        databases = chosen(os.environ.get("SEAMLESS_DATABASE_URL", ""), data_dir, [])
        url = databases.urls[GATEWAY]
        password = str(databases.password_file or "")
    return open_case_numbers(url, password_file=Path(password) if password else None)


def add(args: argparse.Namespace) -> Any:
    try:
        key = ApiKeys(_engine(args)).add(args.name, per_minute=args.per_minute)
    except ApiKeyError as err:
        raise SystemExit(f"error: {err}") from None
    if args.json:
        return {"name": args.name, "api_key": key, "per_minute": args.per_minute}
    return (f"{key}\n(the key of {args.name}, shown this once: give it to the client "
            f"system; {args.per_minute} reports a minute)")


def list_keys(args: argparse.Namespace) -> Any:
    keys = ApiKeys(_engine(args)).list()
    if args.json:
        return {"keys": [{"name": k.name, "per_minute": k.per_minute, "active": k.active,
                          "created_at": k.created_at.isoformat(),
                          "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None}
                         for k in keys]}
    return render.table(["name", "per minute", "created", "revoked"],
                        [[k.name, str(k.per_minute), k.created_at.isoformat(),
                          k.revoked_at.isoformat() if k.revoked_at else ""] for k in keys])


def revoke(args: argparse.Namespace) -> Any:
    if not ApiKeys(_engine(args)).revoke(args.name):
        raise SystemExit(f"error: no active key named {args.name!r}")
    return {"revoked": args.name} if args.json else f"revoked the key of {args.name}"


def add_commands(commands: Any) -> None:
    group = commands.add_parser("open311", help="Open311 GeoReport v2: client systems' keys")
    things = group.add_subparsers(dest="thing", required=True, metavar="THING")
    key = things.add_parser("key", help="API keys of client systems")
    actions = key.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = leaf(actions, "add", add, "make a key for a client system (shown once)",
             acting=False)
    p.add_argument("name", help="the client system ([a-z0-9-], e.g. citylink)")
    p.add_argument("--per-minute", type=int, default=60,
                   help="reports it may post a minute (default 60)")
    leaf(actions, "list", list_keys, "every key, active and revoked", acting=False)
    p = leaf(actions, "revoke", revoke, "revoke a client's key at once", acting=False)
    p.add_argument("name")
