"""The Open311 GeoReport v2 door: citizens' apps and outside systems post reports and
follow them, over HTTP, in XML or JSON.

Every resource answers in the format its suffix names (.xml, .json); errors are the
spec's error documents with the HTTP status as their code: 400 bad input, 403 a missing
or wrong api_key, 404 an unknown service, request, token or jurisdiction, 429 over a
rate (with Retry-After), 503 when the case engine does not answer; anything else is a
500 that says nothing of why (the log says which operation failed and the exception's
type, never a message: those can carry a reporter's contact).

Posting needs an API key (`gateway.open311.keys`) and goes through the intake like every
other door; reading is public and shows no reporter's contact
(`gateway.open311.service_requests`).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from gateway.http_server import BodyLimit
from gateway.open311 import service_requests as published
from gateway.open311.arguments import PUBLISHED_CHANNELS, Refused, listing, refusal_of
from gateway.open311.fields import (
    CONTENT_TYPES,
    CREATED,
    CREATED_TOKEN,
    DISCOVERY,
    DISCOVERY_FORMATS,
    ENDPOINT,
    ENDPOINT_TYPE,
    JURISDICTION_ID,
    SPECIFICATION,
    Format,
)
from gateway.open311.formats import Many, answer, errors, record
from gateway.open311.keys import OFFICER_PREFIX, ApiKeys
from gateway.open311.limits import Open311Limits
from gateway.open311.services import definition_record, service_notice, service_record
from gateway.open311.submission import BadForm, api_key_of, parse_form, read_submission, request_id
from gateway.reports import photos
from gateway.reports.drafts import IntakeError, Taker
from gateway.reports.intake import Intake
from gateway.reports.store import Report
from workflows.catalog_loader import Catalog
from workflows.seals import Vouch

logger = logging.getLogger(__name__)

PREFIX = "/open311/v2"
# A form of a few fields and a description of 4,000 characters, percent-encoded (a
# Chinese character is 9 bytes so), fits in this.
MAX_BODY_BYTES = 64 * 1024
CONTACT = "北京市平谷区 12345 市民服务热线 Pinggu District 12345 citizen service hotline"
KEY_SERVICE = ("API keys are issued by the platform's operator (seamless open311 key add "
               "NAME); ask the district's 12345 hotline office for one")
# Longer than any request id or token: not looked up at all.
MAX_ID = 64
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
# A post's fields, a service's questions' answers included.
MAX_FIELDS = 100
# Photos decoded at once (each takes up to a few hundred MB while it is).
PHOTOS_AT_ONCE = 2


Handler = Callable[[Request, Format], Awaitable[Response]]


def _format_of(path: str) -> Format:
    return "json" if path.endswith(".json") else "xml"


class Open311:
    def __init__(self, intake: Intake, keys: ApiKeys, *, ledger: Engine, catalog: Catalog,
                 jurisdiction_id: str, public_url: str, contact: str, key_service: str,
                 limits: Open311Limits, prefix: str = PREFIX) -> None:
        self._prefix = prefix
        self._decoding = asyncio.Semaphore(PHOTOS_AT_ONCE)
        self._intake = intake
        self._keys = keys
        self._catalog = catalog
        self._views = published.CaseViews(ledger)
        self._jurisdiction_id = jurisdiction_id
        self._public_url = public_url.rstrip("/")
        self._contact, self._key_service = contact, key_service
        self._limits = limits
        # The catalog is read when the gateway starts, so its start is when the
        # services last changed, as far as a client can tell.
        self._changeset = datetime.now(UTC).isoformat(timespec="seconds")

    def endpoint(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            suffix = str(request.path_params.get("fmt", ""))
            fmt = cast(Format, suffix) if suffix in CONTENT_TYPES else "xml"
            try:
                if suffix not in CONTENT_TYPES:
                    raise Refused(404, "no such format: the formats are .xml and .json")
                wait = self._limits.addresses.take(
                    request.client.host if request.client else "",
                    self._limits.address_per_minute)
                if wait:
                    raise Refused(429, "too many calls from this address; try again later",
                                  headers={"retry-after": str(math.ceil(wait))})
                self._check_jurisdiction(request.query_params.get("jurisdiction_id", ""))
                return await handler(request, fmt)
            except Refused as refused:
                return errors(refused.status, refused.description, fmt,
                              headers=refused.headers)
            except SQLAlchemyError as err:  # the read model's database; never its words
                logger.error("open311 %s: the read model failed: %s", handler.__name__,
                             type(err).__name__)
                return errors(503, "the case records are not answering; try again shortly",
                              fmt, headers={"retry-after": "5"})
            except Exception as err:  # noqa: BLE001 - answered without its message
                logger.error("open311 %s failed: %s", handler.__name__, type(err).__name__)
                return errors(500, "the request could not be completed; try again later",
                              fmt)
        return run

    def _check_jurisdiction(self, jurisdiction_id: str) -> None:
        given = jurisdiction_id.strip()
        if given and given != self._jurisdiction_id:
            raise Refused(404, f"jurisdiction_id {given[:64]!r} was not found; this endpoint "
                               f"serves {self._jurisdiction_id}")

    # ----- discovery and services ----------------------------------------------------

    async def discovery(self, request: Request, fmt: Format) -> Response:
        url = self._public_url or _bound_url(request)
        endpoint = record(ENDPOINT, specification=SPECIFICATION, url=url,
                          changeset=self._changeset, type=ENDPOINT_TYPE,
                          formats=Many("format", list(DISCOVERY_FORMATS)))
        return answer("discovery", record(
            DISCOVERY, changeset=self._changeset, contact=self._contact,
            key_service=self._key_service, endpoints=Many("endpoint", [endpoint])), fmt)

    async def services(self, request: Request, fmt: Format) -> Response:
        listed = [service_record(s) for s in self._intake.dispatch.services()]
        return answer("services", Many("service", listed), fmt)

    async def service(self, request: Request, fmt: Format) -> Response:
        code = str(request.path_params["code"])
        service = self._intake.dispatch.service(code)
        if service is None:
            raise Refused(404, f"service_code {code[:64]!r} was not found (GET services "
                               "lists them)")
        return answer("service_definition", definition_record(service), fmt)

    # ----- posting -------------------------------------------------------------------

    async def _read_post(self, request: Request) -> tuple[list[tuple[str, str]],
                                                          bytes | None]:
        """The post's fields, and the photo's bytes sent with it (`media`, in a multipart
        post; an empty file field is no photo)."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == _FORM:
            if int(request.headers.get("content-length", "0")) > MAX_BODY_BYTES:
                raise Refused(413, f"the form is over {MAX_BODY_BYTES // 1024} KiB")
            try:
                return parse_form(await request.body()), None  # bounded by BodyLimit
            except BadForm as bad:
                raise Refused(400, bad.message) from None
        if kind != _MULTIPART:
            raise Refused(400, f"send the request as {_FORM} (UTF-8), or as {_MULTIPART} "
                               "with a photo as `media`")
        try:
            form = await request.form(max_files=1, max_fields=MAX_FIELDS,
                                      max_part_size=MAX_BODY_BYTES)
        except HTTPException as bad:
            raise Refused(400, f"the multipart form could not be read: {bad.detail}") \
                from None
        try:
            pairs = [(name, value) for name, value in form.multi_items()
                     if isinstance(value, str)]
            media = form.get("media")
            if media is None or isinstance(media, str):
                return pairs, None
            data = await media.read(photos.MAX_PHOTO_BYTES + 1)
            return pairs, data or None
        finally:
            await form.close()

    async def _photo(self, data: bytes) -> photos.Prepared:
        """The photo and its public copy, a few at a time (decoding takes memory)."""
        async with self._decoding:
            try:
                return await asyncio.to_thread(photos.prepare, data)
            except photos.PhotoRefused as refused:
                raise Refused(400, str(refused)) from None

    async def post_request(self, request: Request, fmt: Format) -> Response:
        pairs, media = await self._read_post(request)
        key = await asyncio.to_thread(self._keys.check, api_key_of(pairs))
        if key is None:
            raise Refused(403, "api_key was not provided or is not valid (discovery's "
                               "key_service says how to get one)")
        wait = self._limits.keys.take(key.name, key.per_minute)
        if wait:
            raise Refused(429, f"over this key's rate of {key.per_minute} requests a "
                               "minute; try again later",
                          headers={"retry-after": str(math.ceil(wait))})
        # The key and its rate first: a photo is decoded only for a client that may post.
        photo = await self._photo(media) if media is not None else None
        photo_url = ""
        if photo is not None:
            photo_url = f"{self._endpoint(request)}/media/{photo.public_sha256}.jpg"
            # The same photo posted again is the same post (a retry keeps its report).
            pairs = [*pairs, ("media_sha256", photo.sha256)]
        try:
            submission = read_submission(pairs, photo_url)
        except BadForm as bad:
            raise Refused(400, bad.message) from None
        self._check_jurisdiction(submission.jurisdiction_id)
        taker = Taker(officer=f"{OFFICER_PREFIX}{key.name}",
                      vouch=Vouch(session_id=f"open311-key:{key.name}"),
                      label=f"open311/{key.name}")
        try:
            report = await self._intake.submit(
                submission.draft, request_id=request_id(key.name, submission,
                                                        datetime.now(UTC)), taker=taker)
        except IntakeError as err:
            raise refusal_of(err) from None
        if photo is not None:
            # Kept once the report is (a refused post keeps nothing); a retry of a post
            # whose photo was lost to a crash here keeps it then.
            await asyncio.to_thread(self._intake.store.keep_photo, photo)
        service = self._intake.dispatch.service(report.service_code)
        notice = service_notice(service) if service else None
        # On a case: its id. Not yet (the case engine did not take it): a token, which
        # names the id once the report is on a case. We keep no accounts: no account_id.
        created = (record(CREATED, service_request_id=report.id, service_notice=notice,
                          account_id=None) if report.case_id else
                   record(CREATED_TOKEN, token=report.token, service_notice=notice,
                          account_id=None))
        return answer("service_requests", Many("request", [created]), fmt)

    def _endpoint(self, request: Request) -> str:
        """This endpoint as clients reach it: the configured address, else the one the
        server is bound to (never the request's Host)."""
        if self._public_url:
            return self._public_url
        host, port = request.scope["server"]
        host = f"[{host}]" if ":" in host else host
        return f"{request.scope['scheme']}://{host}:{port}{self._prefix}"

    async def media(self, request: Request) -> Response:
        """A reporter's photo as the public sees it: re-encoded, nothing but pixels."""
        if self._limits.addresses.take(request.client.host if request.client else "",
                                       self._limits.address_per_minute):
            return Response(status_code=429, headers={"retry-after": "60"})
        name = str(request.path_params["name"])
        if not photos.PUBLIC_NAME.fullmatch(name):
            return Response(status_code=404)
        copy = await asyncio.to_thread(self._intake.store.public_photo, name[:64])
        if copy is None:
            return Response(status_code=404)
        return Response(copy, media_type="image/jpeg",
                        headers={"cache-control": "public, max-age=31536000, immutable",
                                 "x-content-type-options": "nosniff"})

    # ----- following -----------------------------------------------------------------

    async def requests(self, request: Request, fmt: Format) -> Response:
        query, statuses = listing(request)
        reports = await asyncio.to_thread(self._intake.store.search, query)
        views = await self._views.views(r.case_id for r in reports)
        shown = [(r, views.get(r.case_id)) for r in reports]
        return self._requests(fmt, [(r, v) for r, v in shown
                                    if not statuses or published.status_of(r, v) in statuses])

    async def request(self, request: Request, fmt: Format) -> Response:
        report_id = str(request.path_params["id"])
        report = (await asyncio.to_thread(self._intake.store.get, report_id)
                  if len(report_id) <= MAX_ID else None)
        if report is None or report.channel not in PUBLISHED_CHANNELS:
            raise Refused(404, f"service_request_id {report_id[:64]!r} was not found")
        view = await self._views.view(report.case_id) if report.case_id else None
        return self._requests(fmt, [(report, view)])

    async def token(self, request: Request, fmt: Format) -> Response:
        token = str(request.path_params["token"])
        report = (await asyncio.to_thread(self._intake.store.by_token, token)
                  if len(token) <= MAX_ID else None)
        if report is None or report.channel not in PUBLISHED_CHANNELS:
            raise Refused(404, f"token {token[:64]!r} was not found")
        return answer("service_requests", Many("request", [published.token_record(report)]),
                      fmt)

    def _requests(self, fmt: Format, shown: list[tuple[Report, published.CaseView | None]]
                  ) -> Response:
        listed = [published.request_record(
            r, v, dispatch=self._intake.dispatch, directory=self._catalog.directory,
            zone=self._catalog.calendar.tz) for r, v in shown]
        return answer("service_requests", Many("request", listed), fmt)


def _bound_url(request: Request) -> str:
    """This endpoint at the address the server is bound to: never from the request's
    Host header, which any client writes (and a cache in front would keep)."""
    host, port = request.scope["server"]
    host = f"[{host}]" if ":" in host else host
    path = request.scope["path"]
    return f"{request.scope['scheme']}://{host}:{port}{path[:path.rfind('/discovery.')]}"


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    described = {404: "no such resource (see discovery for the endpoints)",
                 405: "this resource does not take that method"}
    return errors(status, described.get(status, "the request is not valid"),
                  _format_of(request.url.path))


def open311_app(intake: Intake, keys: ApiKeys, *, ledger: Engine, catalog: Catalog,
                prefix: str = PREFIX, jurisdiction_id: str = JURISDICTION_ID,
                public_url: str = "", contact: str = CONTACT, key_service: str = KEY_SERVICE,
                limits: Open311Limits | None = None) -> Starlette:
    """The GeoReport v2 endpoint under `prefix` (its paths keep the prefix, so a plain
    prefix dispatch can hand requests over unchanged). `public_url` is the endpoint's
    address as clients reach it (discovery's url; else the address the server is bound
    to, never the request's Host)."""
    door = Open311(intake, keys, ledger=ledger, catalog=catalog,
                   jurisdiction_id=jurisdiction_id, public_url=public_url, contact=contact,
                   key_service=key_service, limits=limits or Open311Limits(), prefix=prefix)
    e = door.endpoint
    return Starlette(
        # A form is held to MAX_BODY_BYTES by the handler; a post with a photo to this.
        middleware=[Middleware(BodyLimit, max_bytes=MAX_BODY_BYTES + photos.MAX_PHOTO_BYTES)],
        exception_handlers={404: _not_found, 405: _not_found},
        routes=[Mount(prefix, routes=[
            Route("/discovery.{fmt}", e(door.discovery)),
            Route("/services.{fmt}", e(door.services)),
            Route("/services/{code}.{fmt}", e(door.service)),
            Route("/requests.{fmt}", e(door.requests), methods=["GET"]),
            Route("/requests.{fmt}", e(door.post_request), methods=["POST"]),
            Route("/requests/{id}.{fmt}", e(door.request)),
            Route("/tokens/{token}.{fmt}", e(door.token)),
            Route("/media/{name}", door.media),
        ])])
