"""The engine's codec endpoint: Temporal's remote codec protocol (`POST /codec/decode`).

What the engine holds is sealed (workflows.envelopes). So that oversight staff can still
read a case's history in Temporal's own tools, the gateway opens payloads for them: the
Temporal UI (its codec endpoint set by `seamless up` and compose), the `temporal` CLI
(`--codec-endpoint …/codec --codec-auth "Bearer <session>"`), any tool speaking the
protocol. Everyone else gets ciphertext, as from the engine itself.

* Only oversight staff (who may read every case anyway) are answered, by their signed
  session, which must still stand: `Authorization: Bearer <session>` or the console's
  cookie (the UI's "include cross-origin credentials"). Anyone else: 401 or 403.
* From a browser, only the Temporal UI's configured origin may call it (CORS with
  credentials for that origin alone; no other origin is answered at all).
* Decoding only: a payload encoded here would be one the platform trusts.
* Every call is traced (the HTTP span) and written to the audit log (the
  `seamless.audit` logger): who asked, for which workflows, how many payloads.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any, cast

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payloads

from gateway.callers import CallerKind
from gateway.console.web import SESSION_COOKIE
from gateway.http_api import CallContext, Identify
from trust.guard import bearer
from workflows.envelopes import WORKFLOW, EnvelopeCodec
from workflows.unopened import UNOPENED_ENCODING

PREFIX = "/codec"
# The most one call may ask to open (the UI sends a page of a history at a time).
MAX_PAYLOADS = 1000
# The method whose callers are checked (a read every signed-in person may make); the
# endpoint then answers oversight staff alone.
_AS_METHOD = "/seamless.v1.OversightService/VerifyLedger"

audit_log = logging.getLogger("seamless.audit")
_STATUS = {Code.UNAUTHENTICATED: 401, Code.PERMISSION_DENIED: 403,
           Code.RESOURCE_EXHAUSTED: 429, Code.UNAVAILABLE: 503}


def codec_app(codec: EnvelopeCodec, identify: Identify, *,
              ui_origins: Collection[str] = ()) -> Starlette:
    allowed = frozenset(ui_origins)

    def cors(request: Request, response: Response) -> Response:
        origin = request.headers.get("origin", "")
        if origin in allowed:
            response.headers.update({
                "access-control-allow-origin": origin,
                "access-control-allow-credentials": "true",
                "access-control-allow-methods": "POST, OPTIONS",
                "access-control-allow-headers": "content-type, x-namespace, authorization",
                "access-control-max-age": "600", "vary": "origin"})
        return response

    def refuse(request: Request, status: int, message: str) -> Response:
        return cors(request, JSONResponse({"message": message}, status_code=status))

    async def preflight(request: Request) -> Response:
        return cors(request, Response(status_code=204 if request.headers.get("origin", "")
                                      in allowed else 403))

    async def decode(request: Request) -> Response:
        origin = request.headers.get("origin", "")
        if origin and origin not in allowed:
            return refuse(request, 403, f"origin {origin[:100]} may not call the codec")
        # (the gRPC guard's reader of the header, as `gateway.sign_in` uses it)
        token = bearer(cast(Any, CallContext(request.headers.items()))) or \
            request.cookies.get(SESSION_COOKIE, "")
        if not token:
            return refuse(request, 401, "sign in as oversight staff and send "
                                        "'authorization: Bearer <session>'")
        try:
            caller = await identify(_AS_METHOD, CallContext(
                [("authorization", f"Bearer {token}")]))
        except ConnectError as err:  # refused, in the gateway's words
            return refuse(request, _STATUS.get(err.code, 401), err.message)
        if caller.kind is not CallerKind.OVERSIGHT:
            return refuse(request, 403, "the engine's payloads are opened for oversight "
                                        "staff alone")
        try:
            asked = json_format.Parse(await request.body(), Payloads())
        except (json_format.ParseError, UnicodeDecodeError) as err:
            return refuse(request, 400, f"not a codec request ({{\"payloads\": […]}}): "
                                        f"{str(err)[:200]}")
        if len(asked.payloads) > MAX_PAYLOADS:
            return refuse(request, 400, f"{len(asked.payloads)} payloads; at most "
                                        f"{MAX_PAYLOADS} a call")
        opened = await codec.decode(asked.payloads)
        workflows = sorted({p.metadata.get(WORKFLOW, b"").decode("utf-8", "replace")[:120]
                            for p in asked.payloads} - {""})
        audit_log.info("codec: %s/%s (oversight) opened %d of %d payloads of %s "
                       "(namespace %s)", caller.agency, caller.officer,
                       sum(p.metadata.get("encoding") != UNOPENED_ENCODING.encode()
                           for p in opened), len(opened),
                       ", ".join(workflows[:20]) or "no workflow",
                       request.headers.get("x-namespace", "")[:100])
        body = json_format.MessageToJson(Payloads(payloads=opened), indent=None)
        return cors(request, Response(body, media_type="application/json"))

    return Starlette(routes=[Route(f"{PREFIX}/decode", decode, methods=["POST"]),
                             Route(f"{PREFIX}/decode", preflight, methods=["OPTIONS"])])

