"""The gateway's HTTP port: the Connect (HTTP/JSON) API and the console, one uvicorn
server inside the gateway's own event loop.

Requests under a service's path (`/seamless.v1.CaseService/…`) go to the Connect
applications, anything else to the console.
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
    """Routes each request to the Connect application serving its path, or the console."""

    def __init__(self, services: Sequence[Any], console: ASGIApp) -> None:
        self._services = {f"{app.path}/": app for app in services}
        self._console = console

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for prefix, app in self._services.items():
                if path.startswith(prefix):
                    await app(scope, receive, send)
                    return
        await self._console(scope, receive, send)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside a process that handles its own signals (the gateway stops it)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def serve_http(app: ASGIApp, host: str, port: int) -> AsyncIterator[int]:
    """Serve `app` on host:port (0 picks a port) until the block ends; yields the port."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False,
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
