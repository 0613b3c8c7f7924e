"""Page tokens for the lists the gateway pages by offset (gaps, the work queue): the
offset, bound to the query it was made for, so a token is refused for another query
and a forged one cannot ask for an absurd offset."""

from __future__ import annotations

import base64
import binascii
import hashlib

from google.protobuf.message import Message

from gateway.errors import invalid

MAX_OFFSET = 10**9


def _fingerprint(request: Message) -> str:
    """The query a request asks, whatever page of it."""
    filters = type(request)()
    filters.CopyFrom(request)
    filters.ClearField("page_token")
    return hashlib.sha256(filters.SerializeToString(deterministic=True)).hexdigest()[:16]


def next_token(offset: int, request: Message) -> str:
    return base64.urlsafe_b64encode(f"{offset}:{_fingerprint(request)}".encode()).decode()


def offset_of(request: Message) -> int:
    """Where the request's page starts: 0 without a token."""
    token: str = request.page_token  # type: ignore[attr-defined]  # every paged request
    if not token:
        return 0
    try:
        offset, _, made_for = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        value = int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _bad("is not a token this service gave out") from None
    if made_for != _fingerprint(request):
        raise _bad("belongs to a different query; start again without it")
    if not 0 <= value <= MAX_OFFSET:
        raise _bad("is not a token this service gave out")
    return value


def _bad(problem: str) -> Exception:
    return invalid("page_token", problem, "BAD_PAGE_TOKEN")
