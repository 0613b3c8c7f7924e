"""The console: the web pages officers, coordinators and oversight staff work in,
served by the gateway beside its HTTP/JSON API (`gateway.console.pages`), and the
JSON sign-in for programs (`gateway.sign_in`)."""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.agency_links import AgencyLinks
from gateway.console.hotline import HotlineDesk
from gateway.console.live import LiveHub, LiveLine
from gateway.console.pages import Console
from gateway.console.web import Keys
from gateway.http_api import Operations
from gateway.http_server import BodyLimit
from gateway.sign_in import SignIn
from trust.pki import CertificateStore
from trust.throttle import Throttle
from workflows.catalog_loader import Catalog
from workflows.dispatch_catalog import DispatchCatalog, load_dispatch_catalog

if TYPE_CHECKING:  # the evidence door uses the console's session cookie and keys
    from gateway.evidence_http import EvidenceDoor

# A form of the console (findings, evidence references, a summary) fits in this.
MAX_FORM_BYTES = 64 * 1024
# Pages may be framed by nobody, scripts and styles come from this console alone.
SECURITY_HEADERS = {
    # Inline style attributes place the swimlane's bars; scripts come from our files only.
    "content-security-policy": "default-src 'self'; img-src 'self' data:; "
                               "style-src 'self' 'unsafe-inline'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    # A page shows a case as the reader may see it now: never from a cache (nor by Back
    # after signing out).
    "cache-control": "no-store",
}


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("SERVING")


async def no_icon(request: Request) -> Response:
    return Response(status_code=204)  # browsers ask; there is none


def console_app(*, operations: Operations, links: AgencyLinks, store: CertificateStore,
                catalog: Catalog, dispatch: DispatchCatalog | None = None,
                keys: Keys | None = None, evidence: EvidenceDoor | None = None,
                ledger: Engine | None = None) -> Starlette:
    """`dispatch` is the intake's catalog (the categories the hotline picks from);
    by default the one beside `catalog`'s files. With the `ledger`, open inboxes hear
    of their agency's changes at once (`gateway.console.live`); without, they poll."""
    # One count of sign-in attempts per address, whichever door they come through.
    throttle = Throttle()
    console = Console(operations=operations, links=links, store=store, catalog=catalog,
                      throttle=throttle, keys=keys, evidence=evidence,
                      dispatch=dispatch or load_dispatch_catalog(catalog))
    desk = HotlineDesk(console, catalog.calendar.tz)
    sessions = SignIn(links, store, console.sign_in_bodies(), throttle)
    page = console.page
    app = Starlette(middleware=[Middleware(SecurityHeaders),
                                Middleware(BodyLimit, max_bytes=MAX_FORM_BYTES)], routes=[
        Route("/healthz", healthz),
        Route("/favicon.ico", no_icon),
        Route("/auth/sign-in", sessions.sign_in, methods=["POST"]),
        Route("/auth/sign-out", sessions.sign_out, methods=["POST"]),
        Route("/", console.home),
        Route("/login", console.login_form, methods=["GET"]),
        Route("/login", console.login, methods=["POST"]),
        Route("/logout", console.logout, methods=["POST"]),
        Route("/lang/{lang}", console.switch_language),
        Route("/inbox", page(console.inbox)),
        Route("/inbox/items", page(console.inbox_items)),
        Route("/escalations", page(console.escalations)),
        Route("/notices", page(console.notices)),
        Route("/notifications", page(console.notifications), methods=["GET"]),
        Route("/notifications/{action}", page(console.change_notifications),
              methods=["POST"]),
        Route("/cases", page(console.cases)),
        Route("/cases-like", page(console.cases_like)),
        Route("/cases/{ref:path}", page(console.case)),
        Route("/intake", page(desk.intake), methods=["GET"]),
        Route("/intake", page(desk.submit), methods=["POST"]),
        Route("/intake/services", page(desk.services)),
        Route("/follow-up", page(desk.follow_up)),
        Route("/oversight", page(console.oversight)),
        Route("/oversight/export/{format}", page(console.export)),
        Route("/act/{method}", page(console.act), methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(files("gateway.console") / "static")),
              name="static"),
    ])
    if ledger is not None:
        live = LiveLine(links, LiveHub(ledger, catalog.directory.coordinator))
        app.add_route("/events", page(live.events))

    return app


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every answer of the console."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)
        await self._app(scope, receive, with_headers)


_HEADERS = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
