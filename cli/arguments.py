"""What every `seamless` command shares: its common options, how a command is added,
and reading a time given on the command line. The command modules import this; nothing
here imports them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from cli import render

Handler = Callable[[argparse.Namespace], Any]


def timestamp(text: str, option: str) -> Timestamp:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"{option}: {text!r} is not an ISO time such as "
                         "2026-11-20T17:00+08:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=render.BEIJING)
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def options(parser: argparse.ArgumentParser, *, acting: bool = True) -> None:
    """Options every command takes, after its own arguments as well as before."""
    parser.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="the platform's data directory (default: $SEAMLESS_DATA_DIR "
                             "or ./.seamless)")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print one JSON document")
    if acting:
        parser.add_argument("--as", dest="as_agency", default=argparse.SUPPRESS,
                            metavar="AGENCY",
                            help="act with your session at this agency ('seamless login'; "
                                 "on a demo platform, its duty officer's)")
        parser.add_argument("--officer", default=argparse.SUPPRESS,
                            help="who you are signed in as (refused if you are not); for "
                                 "login, who signs in")
        parser.add_argument("--request-id", default=argparse.SUPPRESS,
                            help="idempotency key: a retry with it changes nothing")


def leaf(group: Any, name: str, handler: Handler, help: str,
          acting: bool = True) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, help=help, description=help)
    options(parser, acting=acting)
    parser.set_defaults(handler=handler)
    return parser
