"""Page tokens: where the next page starts, sealed so that only this gateway's own are
taken back.

A token carries its position (an offset into the gap store or the work queue, or
Temporal's own opaque token for the case list) and an HMAC-SHA256 over that position,
the query it was made for (the request without its token) and who asked for it. So a
token is refused for another query, for another caller, and when forged or edited: a
client can neither jump to an absurd offset nor hand Temporal bytes of its own making.

The key is made when the gateway starts and never leaves it: a restart makes earlier
tokens stale (the caller starts the list again), which is the price of keeping no
secret on disk for a convenience.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from google.protobuf.message import Message

from gateway.callers import CURRENT
from gateway.errors import invalid

MAX_OFFSET = 10**9
_KEY = secrets.token_bytes(32)
_MAC_BYTES = 16


def _bound_to(request: Message) -> bytes:
    """The query a request asks, whatever page of it, and who asks it."""
    filters = type(request)()
    filters.CopyFrom(request)
    filters.ClearField("page_token")
    who = CURRENT.get(None)
    asker = f"{who.agency}/{who.officer}" if who is not None else ""
    return asker.encode() + b"\0" + filters.SerializeToString(deterministic=True)


def _mac(position: bytes, request: Message) -> bytes:
    return hmac.new(_KEY, position + b"\0" + _bound_to(request),
                    hashlib.sha256).digest()[:_MAC_BYTES]


def seal(position: bytes, request: Message) -> str:
    """The token of the page at `position` of the query `request` asks."""
    return base64.urlsafe_b64encode(_mac(position, request) + position).decode()


def opened(request: Message) -> bytes | None:
    """The position the request's token names; None without a token."""
    token: str = request.page_token  # type: ignore[attr-defined]  # every paged request
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise _bad() from None
    mac, position = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, _mac(position, request)):
        raise _bad()
    return position


def next_token(offset: int, request: Message) -> str:
    return seal(str(offset).encode(), request)


def offset_of(request: Message) -> int:
    """Where the request's page starts: 0 without a token."""
    position = opened(request)
    if position is None:
        return 0
    value = int(position)  # sealed by us: always a number we wrote
    if not 0 <= value <= MAX_OFFSET:
        raise _bad()
    return value


def _bad() -> Exception:
    return invalid("page_token", "is not a token this gateway gave out for this query "
                                 "and caller (or the gateway has restarted since); start "
                                 "again without it", "BAD_PAGE_TOKEN")
