"""JSON bodies of the HTTP API, checked before the Connect library reads them.

A JSON string may spell a lone surrogate (`"\\ud800"`), which no UTF-8 text can hold:
the library, quoting the value back in its error, failed to encode its own answer and
the server answered a bare 500 (found by the fuzzer). And its words for a body that is
not JSON at all named Python's internals. So a JSON body that is not UTF-8 JSON text is
answered here, as Connect answers any bad request: 400, `invalid_argument`, and a
message a person can act on. Everything else goes on unchanged.
"""

from __future__ import annotations

import json
from typing import Any

ASGIApp = Any


class CheckedJson:
    """`app` (a Connect application: its `path` is kept), behind the check."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self._app = app
        self._max_bytes = max_bytes
        self.path: str = app.path

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers", ()))
        content_type = headers.get(b"content-type", b"").lower()
        length = headers.get(b"content-length", b"")
        if scope["type"] != "http" or scope["method"] != "POST" or \
                not content_type.startswith(b"application/json") or \
                not length.isdigit() or int(length) > self._max_bytes:
            await self._app(scope, receive, send)  # the library's own checks apply
            return
        body = await _body(receive)
        problem = json_problem(body)
        if problem:
            await _invalid(send, problem)
            return
        await self._app(scope, _replay(body, receive), send)


def json_problem(body: bytes) -> str:
    """What is wrong with a JSON request body ('' when nothing)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        return f"the body is not UTF-8 text (byte {err.start})"
    try:
        value = json.loads(text) if text.strip() else {}
    except (ValueError, RecursionError) as err:
        where = f" at line {err.lineno}, column {err.colno}" \
            if isinstance(err, json.JSONDecodeError) else ""
        return f"the body is not JSON{where}"
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "a string in the body spells a lone surrogate (\\ud800-\\udfff), which no " \
               "text can hold"
    except RecursionError:
        return "the body is nested too deep"
    return ""


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes, receive: Any) -> Any:
    """The body again, once; then the client's own messages (its disconnect, if it
    goes), which the library listens for while the call runs."""
    sent = False

    async def replayed() -> dict[str, Any]:
        nonlocal sent
        if sent:
            message: dict[str, Any] = await receive()
            return message
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}
    return replayed


async def _invalid(send: Any, message: str) -> None:
    answer = json.dumps({"code": "invalid_argument", "message": message}).encode()
    await send({"type": "http.response.start", "status": 400,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})
