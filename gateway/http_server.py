"""The gateway's HTTP port: the Connect (HTTP/JSON) API, Open311 GeoReport v2 and the
console, one uvicorn server inside the gateway's own event loop.

Requests under a service's path (`/seamless.v1.CaseService/…`) go to the Connect
applications, under `/open311/v2/` to Open311, anything else to the console.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import uvicorn

ASGIApp = Any

# Request lines and headers beyond this are refused by uvicorn before any handler runs
# (a GET carries its message in the query string, so this also bounds those).
MAX_HEADER_BYTES = 64 * 1024


class Dispatch:
    """Routes each request to the Connect application serving its path, a mounted one
    (Open311's, the engine's codec), or the console."""

    def __init__(self, services: Sequence[Any], console: ASGIApp,
                 mounts: Sequence[tuple[str, ASGIApp]] = ()) -> None:
        self._services = {f"{app.path}/": app for app in services}
        for prefix, app in mounts:  # Open311's, the engine's codec
            self._services[f"{prefix}/"] = app
        self._console = console

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if _is_grpc(scope):
                await _unsupported(send)
                return
            path: str = scope["path"]
            for prefix, app in self._services.items():
                if path.startswith(prefix):
                    await app(scope, receive, send)
                    return
        await self._console(scope, receive, send)


class ByPrefix:
    """Paths under `prefix` to `inner`, the others to `outer`: a door with a body bound
    of its own (evidence files) beside the rest."""

    def __init__(self, prefix: str, inner: ASGIApp, outer: ASGIApp) -> None:
        self._prefix = prefix.rstrip("/") + "/"
        self._inner, self._outer = inner, outer

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        inside = scope["type"] == "http" and str(scope["path"]).startswith(self._prefix)
        await (self._inner if inside else self._outer)(scope, receive, send)


def _is_grpc(scope: dict[str, Any]) -> bool:
    """gRPC over HTTP/2 needs trailers, which this server cannot send: it is served on
    the gateway's gRPC ports (gRPC-Web, which needs none, is served here)."""
    content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
    return content_type.startswith(b"application/grpc") and \
        not content_type.startswith(b"application/grpc-web")


async def _unsupported(send: Any) -> None:
    await send({"type": "http.response.start", "status": 415,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body",
                "body": b"gRPC is served on the gateway's gRPC ports; this port serves "
                        b"Connect (application/json, application/proto) and gRPC-Web"})


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside a process that handles its own signals (the gateway stops it)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class BodyLimit:
    """Refuses a request body over `max_bytes` (413), sent in chunks of no declared
    length (411), or declaring a length and chunks at once (400), before any handler
    reads it; and counts the bytes as they arrive, so a body larger than it declared is
    cut off at `max_bytes` whatever the server made of its headers.

    `declared=False` leaves a declared length over `max_bytes` to the application (which
    answers it in its own protocol: Connect's RESOURCE_EXHAUSTED) and still cuts the
    body off at `max_bytes` if it reads that far."""

    def __init__(self, app: ASGIApp, max_bytes: int, *, declared: bool = True) -> None:
        self._app = app
        self._max_bytes = max_bytes
        self._declared = declared

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _refuse(send, *refusal)
            return
        received, over, started = 0, False, False

        async def counted() -> Any:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._max_bytes:
                    # The handler sees the client gone; the client gets a 413.
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Any) -> None:
            nonlocal started
            if over and not started:
                return  # a handler answering a body it never had whole
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, counted, watched)
        except Exception:
            if not over:
                raise
        if over and not started:
            await _refuse(send, 413, self._too_large())

    def _refusal(self, scope: dict[str, Any]) -> tuple[int, bytes] | None:
        names = [name.lower() for name, _ in scope["headers"]]
        lengths = [v for k, v in scope["headers"] if k.lower() == b"content-length"]
        chunked = b"transfer-encoding" in names
        if chunked and lengths:
            # h11 lets the chunks win, so the declared length would bound nothing.
            return 400, (b"Content-Length and Transfer-Encoding together: send the body "
                         b"with its Content-Length alone")
        if scope["method"] in ("GET", "HEAD") and not chunked:
            return None
        # No length and no chunks is an empty body; chunks must say their length.
        length = lengths[-1] if lengths else b"" if chunked else b"0"
        if len(set(lengths)) > 1 or not length.isdigit():
            return 411, self._too_large()
        if self._declared and int(length) > self._max_bytes:
            return 413, self._too_large()
        return None

    def _too_large(self) -> bytes:
        return b"a request body of at most %d bytes, with its Content-Length" % self._max_bytes


async def _refuse(send: Any, status: int, text: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": text})


@asynccontextmanager
async def serve_http(app: ASGIApp, host: str, port: int, *, trusted_proxies: str = ""
                     ) -> AsyncIterator[int]:
    """Serve `app` on host:port (0 picks a port) until the block ends; yields the port.

    A client's address (which sign-in and Open311 throttle by) is the connection's, and
    X-Forwarded-For is believed only from `trusted_proxies` (comma-separated addresses
    or networks): uvicorn's default believes it from loopback, where every local user
    could name a fresh address for each guess."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False,
                            proxy_headers=bool(trusted_proxies),
                            forwarded_allow_ips=trusted_proxies or "",
                            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
                            server_header=False, timeout_graceful_shutdown=5)
    server = _EmbeddedServer(config)
    running = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if running.done():
            running.result()  # raises why it could not start
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await running
        sock.close()
