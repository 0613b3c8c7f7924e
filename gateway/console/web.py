"""The console's plumbing: who the reader is (the signed session in a cookie), CSRF
tokens, the reader's language, and calling an operation as the reader.

The cookie holds the session the reader's own agency signed at sign-in, the same
credential the CLI sends; every page and action calls the gateway's operations with
it, so the console goes through the authentication and authorization of the API and
knows nothing the API would not tell that reader.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from connectrpc.errors import ConnectError
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from starlette.requests import Request
from starlette.responses import Response

from gateway import authorization
from gateway.callers import Caller, CallerKind
from gateway.console.i18n import DEFAULT, LANGUAGES
from gateway.errors import GatewayError
from gateway.http_api import CallContext, Operations
from trust.pki import CertificateStore, Role
from trust.sessions import Session, SessionError, verify_session

_TRACER = trace.get_tracer("seamless.console")
SESSION_COOKIE = "seamless_session"
LANG_COOKIE = "seamless_lang"
# Before sign-in, the login form's CSRF token is bound to this random cookie.
LOGIN_COOKIE = "seamless_login"
FLASH_COOKIE = "seamless_flash"


@dataclass(frozen=True)
class Reader:
    """The signed-in person reading a page."""

    token: str
    session: Session

    @property
    def agency(self) -> str:
        return self.session.agency


class Keys:
    """The console's CSRF key: fresh for each gateway process, so a form rendered before
    a restart is refused with a message that says to reload the page."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def csrf(self, binding: str) -> str:
        return hmac.new(self._key, binding.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, binding: str, token: str) -> bool:
        return bool(binding) and hmac.compare_digest(self.csrf(binding).encode(),
                                                     token.encode())


def language(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, DEFAULT)
    return lang if lang in LANGUAGES else DEFAULT


def reader_of(request: Request, store: CertificateStore) -> Reader | None:
    """The reader whose signed session the cookie holds, if its signature and lifetime
    hold; whether the session still stands, the agency says on the first call."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    try:
        return Reader(token, verify_session(token, store, now=datetime.now(UTC)))
    except SessionError:
        return None


def local_path(target: str, default: str) -> str:
    """`target` if it is a path of this console; `default` otherwise (no open
    redirects: a scheme, a host or a protocol-relative `//` are refused)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or \
            target.startswith("//") or "\\" in target:
        return default
    return target


def set_cookie(response: Response, name: str, value: str, *, max_age: int | None = None,
               same_site: Literal["lax", "strict"] = "strict") -> None:
    # Secure: browsers send it only over HTTPS, and to http://localhost and 127.0.0.1,
    # which they count as secure. SameSite=Strict: never on a request another site
    # starts; the session is Lax, so a link to a case from elsewhere opens it signed in
    # (every page it opens is a read; every change is a post with a CSRF token; a heavy
    # read another site starts asks first: `started_elsewhere`).
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True,
                        httponly=True, samesite=same_site)


def started_elsewhere(request: Request) -> bool:
    """Whether another site started this request (the browser says so): the session
    cookie is Lax, so that a link to a case from elsewhere opens signed in, and such a
    navigation must not start heavy work (the whole-ledger audit, an export) unasked."""
    # Same-site is elsewhere too: another port of this host (another local service) is
    # the same site, and gets the Lax cookie even on an image's request.
    return request.headers.get("sec-fetch-site", "none") not in ("same-origin", "none")


def may(reader: Reader, method: str) -> bool:
    """Whether the reader's role allows `method` ("CaseService/CloseCase") at all, by the
    gateway's own table (whether this case allows it is the case's to say)."""
    kind = CallerKind.OVERSIGHT if reader.session.issuer_role is Role.OVERSIGHT \
        else CallerKind.OFFICER
    try:
        authorization.authorize(f"/seamless.v1.{method}", Caller(
            kind, reader.agency, reader.session.officer, reader.session.roles))
    except GatewayError:
        return False
    return True


async def call(operations: Operations, reader: Reader, method: str, request: Message
               ) -> Any:
    """`method` ("CaseService/GetCase") as the reader; ConnectError as the API says.
    Traced as a call of the method, like those of the API's other doors."""
    context = CallContext([("authorization", f"Bearer {reader.token}")])
    with _TRACER.start_as_current_span(f"seamless.v1.{method}",
                                       kind=SpanKind.SERVER,
                                       attributes={"rpc.system": "console"}):
        return await operations.call(f"/seamless.v1.{method}", request, context)


def refusal_of(err: ConnectError) -> tuple[str, dict[str, str]]:
    """The ErrorInfo of a refused call: its reason ("ANSWER_REQUIRED") and metadata
    ({"field": "answer"}); empty when the refusal carries none."""
    for detail in err.details:
        if detail.type_name == error_details_pb2.ErrorInfo.DESCRIPTOR.full_name:
            info = error_details_pb2.ErrorInfo.FromString(detail.message_bytes)
            return info.reason, dict(info.metadata)
    return "", {}


def stream(operations: Operations, reader: Reader, method: str, request: Message) -> Any:
    context = CallContext([("authorization", f"Bearer {reader.token}")])
    return operations.stream(f"/seamless.v1.{method}", request, context)


