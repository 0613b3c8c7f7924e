"""The console: the web pages officers, coordinators and oversight staff work in."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("SERVING")


def console_app() -> Starlette:
    return Starlette(routes=[Route("/healthz", healthz)])
