"""Signing in over HTTP/JSON, for programs and curl: `POST /auth/sign-in` relays the
officer's id and password to the officer's own agency (which checks them, counts
failures and signs the session) and answers with the session to send as
`Authorization: Bearer …`; `POST /auth/sign-out` ends it there at once.

The gateway keeps nothing: the agency holds its officers and their sessions.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any, cast

import grpc
from google.protobuf import json_format
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.agency_links import AgencyLinks
from gateway.http_api import CallContext
from trust.guard import bearer
from trust.pki import CertificateStore
from trust.sessions import SessionError, verify_session
from trust.throttle import Throttle

# An agency, an officer id and a password: anything longer is not a sign-in.
MAX_BODY_BYTES = 4096


def _error(status: int, code: str, message: str) -> JSONResponse:
    # The shape of a Connect error, so a client reads both doors' errors alike.
    return JSONResponse({"code": code, "message": message}, status_code=status)


class SignIn:
    def __init__(self, links: AgencyLinks, store: CertificateStore,
                 bodies: Collection[str], throttle: Throttle) -> None:
        self._links = links
        self._store = store
        self._bodies = frozenset(bodies)
        self._throttle = throttle

    async def sign_in(self, request: Request) -> Response:
        # JSON only: a form another site posts (text/plain needs no permission) is not
        # a sign-in, so no page can make its readers' browsers guess passwords.
        if request.headers.get("content-type", "").split(";")[0].strip() != \
                "application/json":
            return _error(415, "invalid_argument", "send the sign-in as application/json")
        address = request.client.host if request.client else ""
        wait = self._throttle.wait(address)
        if wait:
            return JSONResponse({"code": "resource_exhausted",
                                 "message": f"too many sign-in attempts; try again in "
                                            f"{wait:.0f} s"}, status_code=429,
                                headers={"retry-after": str(int(wait) + 1)})
        body = await request.body()  # bounded by the HTTP port's BodyLimit
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "resource_exhausted", f"at most {MAX_BODY_BYTES} bytes")
        try:
            fields = json.loads(body)
            agency, officer, password = (str(fields[k]) for k in
                                         ("agency", "officer_id", "password"))
            new_password = str(fields.get("new_password", ""))
        except (ValueError, KeyError, TypeError):
            return _error(400, "invalid_argument", 'send {"agency": …, "officer_id": …, '
                                                   '"password": …} as JSON')
        refused = _error(401, "unauthenticated", "wrong agency, officer id or password")
        # Counted as a failure before the agency is asked, and forgiven when it was
        # none: attempts sent all at once are held to the bound too, not only those
        # that follow an answer.
        self._throttle.failed(address)
        if agency not in self._bodies:
            return refused
        try:
            answer = await self._links.sign_in(agency, officer[:64], password[:256],
                                               client_address=address,
                                               new_password=new_password[:256])
        except grpc.aio.AioRpcError as err:
            if err.code() is grpc.StatusCode.UNAUTHENTICATED:
                return refused
            self._throttle.forgive(address)
            if err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED:  # the agency slows it
                return _error(429, "resource_exhausted", err.details() or "")
            if err.code() in (grpc.StatusCode.FAILED_PRECONDITION,  # a one-time password
                              grpc.StatusCode.INVALID_ARGUMENT):
                return _error(400, err.code().name.lower(), err.details() or "")
            return _error(503, "unavailable", f"{agency} is not answering; try again")
        self._throttle.forgive(address)
        return JSONResponse(json_format.MessageToDict(answer))

    async def sign_out(self, request: Request) -> Response:
        token = bearer(cast(Any, CallContext(request.headers.items())))
        try:
            session = verify_session(token, self._store, now=datetime.now(UTC))
        except SessionError:
            return _error(401, "unauthenticated", "send the session to end as "
                                                  "'Authorization: Bearer …'")
        agency = session.agency
        if agency not in self._bodies:
            return _error(401, "unauthenticated", f"{agency} signs no sessions here")
        try:
            await self._links.sign_out(agency, token)
        except grpc.aio.AioRpcError as err:
            if err.code() is grpc.StatusCode.UNAUTHENTICATED:
                return _error(401, "unauthenticated", err.details() or "")
            return _error(503, "unavailable", f"{agency} is not answering; try again")
        return JSONResponse({})
