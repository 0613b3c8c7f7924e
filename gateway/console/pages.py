"""The console's pages and its one door for commands.

Every page reads through the gateway's operations as the signed-in reader, so what a
page shows is what the API shows that reader: a case the reader may not see answers
"not found", worded as for a wrong number. Every command is a form posted to
`/act/<Method>` with a CSRF token; the form's fields are the request's.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import quote

import grpc
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from gateway.agency_links import AgencyLinks
from gateway.console import forms, swimlane
from gateway.console.i18n import LANGUAGES, TEXT, enum_label, local_name, translator
from gateway.console.web import (
    FLASH_COOKIE,
    LANG_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Keys,
    Reader,
    call,
    language,
    local_path,
    may,
    reader_of,
    refusal_of,
    set_cookie,
    started_elsewhere,
    stream,
)
from gateway.http_api import Operations
from observability import analysis
from observability.participation import OVERSIGHT, OVERSIGHT_NAMES
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as cs
from seamless.v1 import oversight_pb2 as ov
from seamless.v1 import report_pb2 as rp
from trust.pki import CertificateStore
from trust.throttle import Throttle
from workflows import command_table, reconcile
from workflows.catalog_loader import Catalog
from workflows.dispatch_catalog import DispatchCatalog
from workflows.rules import limits

Page = Callable[[Request, Reader], Awaitable[Response]]
# The statuses a refused command or read shows with.
_HTTP_STATUS = {Code.NOT_FOUND: 404, Code.PERMISSION_DENIED: 403,
                Code.INVALID_ARGUMENT: 400, Code.FAILED_PRECONDITION: 409,
                Code.ALREADY_EXISTS: 409, Code.RESOURCE_EXHAUSTED: 429,
                Code.UNAVAILABLE: 503}
# What the confirmation after each command calls it: its declaration's words.
DONE_WORDS = {call.rpc: call.words[0] for call in command_table.WORDED}
# What a flash cookie may carry after its key: report ids and case numbers (cookies
# carry no Chinese, nor anything a cookie would have to quote).
_FLASH_ARG = re.compile(r"[A-Za-z0-9-]{1,64}")
STALLED_PAGE = 200
STALLED_MAX = 1000


class Console:
    def __init__(self, *, operations: Operations, links: AgencyLinks,
                 store: CertificateStore, catalog: Catalog, throttle: Throttle,
                 dispatch: DispatchCatalog) -> None:
        self._ops = operations
        self.dispatch = dispatch
        self._links = links
        self._store = store
        self._catalog = catalog
        self._keys = Keys()
        self._throttle = throttle
        self._zone = catalog.calendar.tz
        directory = catalog.directory
        self._names = {a.id: (a.name_zh, a.name_en) for a in directory.agencies}
        self._names[OVERSIGHT] = OVERSIGHT_NAMES
        self._coordinator = directory.coordinator
        self._type_names = {p.id: (p.name_zh, p.name_en) for p in catalog.playbooks.values()}
        self._env = Environment(loader=PackageLoader("gateway.console", "templates"),
                                autoescape=select_autoescape(default=True),
                                trim_blocks=True, lstrip_blocks=True)
        self._env.filters.update(when=self._when, left=_left, duration=_duration,
                                 rate=_rate, enum=_enum)
        self._env.globals.update(optional=_optional, when=self._when,
                                 running_clock=swimlane.running_clock)

    # ----- rendering -------------------------------------------------------------------

    def _when(self, stamp: Any, seconds: bool = False) -> str:
        if stamp is None:
            return ""
        moment = stamp if isinstance(stamp, datetime) else (
            stamp.ToDatetime(tzinfo=UTC) if stamp.ByteSize() else None)
        if moment is None:
            return ""
        local = moment.astimezone(self._zone)
        offset = local.strftime("%z")
        shown = local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
        return f"{shown} UTC{offset[:3]}:{offset[3:]}"

    def render(self, request: Request, reader: Reader | None, template: str,
               status: int = 200, path: str = "", **context: Any) -> HTMLResponse:
        lang = language(request)
        flash_key = request.cookies.get(FLASH_COOKIE, "")
        page = self._env.get_template(template).render(
            t=translator(lang), lang=lang, reader=reader,
            # A word that may be missing from the table (a value from elsewhere).
            say=lambda key, default: TEXT.get(key, {}).get(lang, default),
            name=lambda agency: local_name(self._names, agency, lang),
            names=self._names, coordinator=self._coordinator, oversight=OVERSIGHT,
            csrf=self._keys.csrf(reader.token) if reader else "",
            path=path or request.url.path, now=datetime.now(UTC),
            rid=lambda: str(uuid.uuid4()), flash=_flash(flash_key, lang),
            service_name=lambda code: self._service_name(code, lang),
            place_name=lambda place: self._place_name(place, lang),
            pb=cs, pb_case=case_pb2, zone=_zone_name(self._zone), utc=UTC,
            gap_classes=swimlane.GAP_CLASSES, limit=limits,
            type_name=lambda type_id: local_name(self._type_names, type_id, lang),
            # "CloseCase" (a CaseService method) or "ReportService/MergeReport".
            may=(lambda method: may(reader, method if "/" in method
                                    else f"CaseService/{method}")) if reader
            else (lambda method: False),
            label=lambda value, enum: enum_label(_enum(value, enum), enum, lang),
            **context)
        response = HTMLResponse(page, status_code=status)
        if flash_key:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response

    def _service_name(self, code: str, lang: str) -> str:
        """A category of the dispatch catalog by name; its code if it left the catalog."""
        service = self.dispatch.service(code)
        if service is None:
            return code
        return service.name_zh if lang == "zh" else service.name_en

    def _place_name(self, place: str, lang: str) -> str:
        """An area or jurisdiction of the gazetteer by name; its id if it has none."""
        area = self.dispatch.gazetteer.area(place)
        if area is None:
            return place
        return area.name_zh if lang == "zh" else area.name_en

    @property
    def hotline(self) -> str:
        return self._catalog.directory.hotline

    def csrf_ok(self, reader: Reader, token: str) -> bool:
        return self._keys.csrf_ok(reader.token, token)

    def refuse(self, request: Request, reader: Reader, status: int, code: Code,
               message: str) -> HTMLResponse:
        """The error page, for a refusal of the console's own."""
        return self.render(request, reader, "error.html", status=status, code=code,
                           message=message)

    async def call(self, reader: Reader, method: str, request: Message) -> Any:
        return await self._call(reader, method, request)

    def _refused(self, request: Request, reader: Reader, err: ConnectError) -> Response:
        if err.code is Code.UNAUTHENTICATED:  # the session ended (signed out, disabled)
            return self._to_sign_in(request, "expired", forget=True)
        return self.render(request, reader, "error.html",
                           status=_HTTP_STATUS.get(err.code, 500),
                           code=err.code, message=err.message)

    def _to_sign_in(self, request: Request, flash: str = "", forget: bool = False
                    ) -> Response:
        """To the sign-in page, then back here; `flash` is a key of the text table. The
        session cookie is forgotten only when it was sent and does not hold: a request
        that came without it (one another site started) leaves it be."""
        response = RedirectResponse(f"/login?next={quote(request.url.path)}",
                                    status_code=303)
        if forget:
            response.delete_cookie(SESSION_COOKIE, path="/")
        if flash:
            set_cookie(response, FLASH_COOKIE, flash, max_age=60)
        return response

    def page(self, handler: Page) -> Callable[[Request], Awaitable[Response]]:
        """A page for signed-in readers; anyone else is sent to sign in."""
        async def serve(request: Request) -> Response:
            reader = reader_of(request, self._store)
            if reader is None:
                return self._to_sign_in(request, forget=SESSION_COOKIE in request.cookies)
            try:
                return await handler(request, reader)
            except ConnectError as err:
                return self._refused(request, reader, err)
        return serve

    async def _call(self, reader: Reader, method: str, request: Message) -> Any:
        return await call(self._ops, reader, method, request)

    # ----- signing in and out, language ----------------------------------------------

    async def login_form(self, request: Request) -> Response:
        binding = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
        response = self.render(request, None, "login.html", login_csrf=self._keys.csrf(
            binding), agencies=self.sign_in_bodies(), next=request.query_params.get(
                "next", "/inbox"), error="")
        set_cookie(response, LOGIN_COOKIE, binding, max_age=3600)
        return response

    def sign_in_bodies(self) -> list[str]:
        return [a.id for a in self._catalog.directory.agencies] + [OVERSIGHT]

    async def login(self, request: Request) -> Response:
        address = request.client.host if request.client else ""
        wait = self._throttle.wait(address)
        if wait:
            return self.render(request, None, "error.html", status=429,
                               code=Code.RESOURCE_EXHAUSTED,
                               message=TEXT["too_many"][language(request)] % wait)
        form = await request.form(max_files=0, max_fields=10)
        binding = request.cookies.get(LOGIN_COOKIE, "")
        if not self._keys.csrf_ok(binding, str(form.get("csrf", ""))):
            return self.render(request, None, "error.html", status=403,
                               code=Code.PERMISSION_DENIED,
                               message=TEXT["csrf"][language(request)])
        agency = str(form.get("agency", ""))[:64]
        officer = str(form.get("officer_id", ""))[:64]
        password = str(form.get("password", ""))[:256]
        new_password = str(form.get("new_password", ""))[:256]
        target = local_path(str(form.get("next", "")), "/inbox")
        # Counted before the agency is asked and forgiven when it was no failure, so
        # attempts sent all at once meet the bound as well (gateway/sign_in.py).
        self._throttle.failed(address)
        try:
            if agency not in self.sign_in_bodies():
                raise KeyError(agency)
            answer = await self._links.sign_in(agency, officer, password,
                                               client_address=address,
                                               new_password=new_password)
        except grpc.aio.AioRpcError as err:
            must_change = err.code() is grpc.StatusCode.FAILED_PRECONDITION or (
                err.code() is grpc.StatusCode.INVALID_ARGUMENT and bool(new_password))
            if not must_change:
                return self._refused_sign_in(request, binding, target, address, err)
            self._throttle.forgive(address)
            # A one-time password: the officer sets their own here and now.
            return self.render(
                request, None, "login.html", status=400,
                login_csrf=self._keys.csrf(binding), agencies=self.sign_in_bodies(),
                next=target, must_change=True, chosen_agency=agency,
                chosen_officer=officer, error=TEXT["must_change"][language(request)]
                if err.code() is grpc.StatusCode.FAILED_PRECONDITION else err.details())
        except KeyError as err:
            return self._refused_sign_in(request, binding, target, address, err)
        self._throttle.forgive(address)
        response = RedirectResponse(target, status_code=303)
        lifetime = answer.expires_at.ToDatetime(tzinfo=UTC) - datetime.now(UTC)
        set_cookie(response, SESSION_COOKIE, answer.session,
                   max_age=max(int(lifetime.total_seconds()), 0), same_site="lax")
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    def _refused_sign_in(self, request: Request, binding: str, target: str, address: str,
                         err: KeyError | grpc.aio.AioRpcError) -> Response:
        # Wrong is one answer; slowed down by the agency another; an agency not
        # answering a third, in words of ours (the channel's own would name internal
        # addresses).
        refused = isinstance(err, KeyError) or \
            err.code() is grpc.StatusCode.UNAUTHENTICATED
        slowed = isinstance(err, grpc.aio.AioRpcError) and \
            err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        if not refused:
            self._throttle.forgive(address)
        status, words = (401, "bad_sign_in") if refused else (
            (429, "slowed_sign_in") if slowed else (503, "agency_unavailable"))
        return self.render(
            request, None, "login.html", status=status,
            login_csrf=self._keys.csrf(binding), agencies=self.sign_in_bodies(),
            next=target, error=TEXT[words][language(request)])

    async def logout(self, request: Request) -> Response:
        reader = reader_of(request, self._store)
        form = await request.form(max_files=0, max_fields=10)
        if reader is not None and \
                not self._keys.csrf_ok(reader.token, str(form.get("csrf", ""))):
            return self.render(request, reader, "error.html", status=403,
                               code=Code.PERMISSION_DENIED,
                               message=TEXT["csrf"][language(request)])
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        if reader is not None:
            try:
                await self._links.sign_out(reader.agency, reader.token)
            except (KeyError, grpc.aio.AioRpcError):
                pass  # the cookie is gone either way; the session expires on its own
        return response

    async def switch_language(self, request: Request) -> Response:
        lang = request.path_params["lang"]
        response = RedirectResponse(local_path(request.query_params.get("next", "/"),
                                               "/"), status_code=303)
        if lang in LANGUAGES:
            set_cookie(response, LANG_COOKIE, lang, max_age=365 * 86400)
        return response

    async def home(self, request: Request) -> Response:
        reader = reader_of(request, self._store)
        if reader is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse("/oversight" if reader.agency == OVERSIGHT else "/inbox",
                                status_code=303)

    # ----- the inbox -----------------------------------------------------------------

    async def _work(self, reader: Reader) -> cs.CaseServiceListInboxResponse:
        reply: cs.CaseServiceListInboxResponse = await self._call(
            reader, "CaseService/ListInbox", cs.CaseServiceListInboxRequest(
                page_size=200, open_only=True))
        return reply

    async def _agencies(self, reader: Reader) -> list[Any]:
        reply = await self._call(reader, "CaseService/ListAgencies", cs.ListAgenciesRequest())
        return list(reply.agencies)

    async def inbox(self, request: Request, reader: Reader) -> Response:
        work = await self._work(reader)
        return self.render(request, reader, "inbox.html", work=work,
                           agencies=await self._agencies(reader))

    async def inbox_items(self, request: Request, reader: Reader) -> Response:
        """The inbox's list alone: the page fetches it every few seconds, so new work
        appears without a reload."""
        work = await self._work(reader)
        return self.render(request, reader, "inbox_items.html", work=work,
                           agencies=await self._agencies(reader))

    async def escalations(self, request: Request, reader: Reader) -> Response:
        work = await self._work(reader)
        queue = sorted((i for i in work.items if i.kind == cs.WORK_KIND_ESCALATION),
                       key=lambda i: i.since.ToDatetime())
        return self.render(request, reader, "escalations.html", queue=queue,
                           agencies=await self._agencies(reader))

    # ----- cases -----------------------------------------------------------------------

    async def cases(self, request: Request, reader: Reader) -> Response:
        listed = await self._call(reader, "CaseService/ListCases",
                                  cs.ListCasesRequest(page_size=100))
        playbooks = (await self._call(reader, "CaseService/ListPlaybooks",
                                      cs.ListPlaybooksRequest())).playbooks
        lang = language(request)
        leads = {a: local_name(self._names, a, lang) for a in self._names}
        # Each stage and jurisdiction once, with the case types that offer it.
        stages: dict[str, list[str]] = {}
        jurisdictions: dict[str, list[str]] = {}
        for p in playbooks:
            for stage in p.stages:
                stages.setdefault(stage, []).append(p.id)
            for place in p.jurisdictions:
                jurisdictions.setdefault(place, []).append(p.id)
        return self.render(request, reader, "cases.html", cases=listed.cases,
                           playbooks=playbooks, matrix_json=json.dumps(
                               self._leads(stages, jurisdictions)),
                           leads_json=json.dumps(leads, ensure_ascii=False),
                           stages=stages, jurisdictions=jurisdictions)

    def _leads(self, stages: dict[str, list[str]], jurisdictions: dict[str, list[str]]
               ) -> dict[str, dict[str, str]]:
        """The lead the responsibility matrix names for every choice the open form
        offers ("stage|jurisdiction" by case type), by the matrix's own rule."""
        leads: dict[str, dict[str, str]] = {}
        for type_id, playbook in self._catalog.playbooks.items():
            choices = leads[type_id] = {}
            for stage in ["", *(s for s, types in stages.items() if type_id in types)]:
                for place in (j for j, types in jurisdictions.items() if type_id in types):
                    rule = playbook.lead_rule(stage=stage, jurisdiction=place)
                    if rule is not None:
                        choices[f"{stage}|{place}"] = rule.lead
        return leads

    async def case(self, request: Request, reader: Reader) -> Response:
        return await self._case_page(request, reader, request.path_params["ref"][:200])

    async def _timeline(self, reader: Reader, case: case_pb2.Case) -> ov.GetTimelineResponse:
        """The case's timeline; none yet for a case the ledger has not heard of. Its first
        events are appended a moment after it opens, and on a busy machine that is after
        the page the dispatcher lands on is asked for."""
        try:
            timeline: ov.GetTimelineResponse = await self._call(
                reader, "OversightService/GetTimeline", ov.GetTimelineRequest(case_id=case.id))
        except ConnectError as err:
            if err.code is not Code.NOT_FOUND:
                raise
            return ov.GetTimelineResponse(case_id=case.id)
        return timeline

    async def _case_page(self, request: Request, reader: Reader, reference: str,
                         status: int = 200, close_errors: dict[str, str] | None = None,
                         close_values: dict[str, str] | None = None) -> Response:
        """The case's page; after a refused close, with the refusal next to its field
        and what was typed kept."""
        case = (await self._call(reader, "CaseService/GetCase",
                                 cs.GetCaseRequest(case_id=reference))).case
        timeline = await self._timeline(reader, case)
        # A closed case is drawn, and its time counted, up to its closing.
        now = case.closed_at.ToDatetime(tzinfo=UTC) if case.closed_at.ByteSize() \
            else datetime.now(UTC)
        lanes = swimlane.layout(timeline, case, now)
        agencies = await self._agencies(reader)
        playbooks = (await self._call(reader, "CaseService/ListPlaybooks",
                                      cs.ListPlaybooksRequest())).playbooks
        playbook = next((p for p in playbooks if p.id == case.type), None)
        capable = {k.id: [a.id for a in agencies if k.capability in a.capabilities]
                   for k in (playbook.task_kinds if playbook else [])}
        started = {task: _stamp(at) for task, at in swimlane.phase_starts(timeline).items()}
        waiting = sorted((g for g in timeline.gaps if not g.end_time.ByteSize()),
                         key=lambda g: g.start_time.ToDatetime())
        actual = now - case.opened_at.ToDatetime(tzinfo=UTC)
        return self.render(request, reader, "case.html", status=status,
                           path=f"/cases/{case.number or case.id}", case=case,
                           timeline=timeline, lanes=lanes, agencies=agencies,
                           playbook=playbook, capable=capable, waiting=waiting,
                           actual=actual, started=started, close_errors=close_errors or {},
                           close_values=close_values or {})

    # ----- oversight -------------------------------------------------------------------

    async def oversight(self, request: Request, reader: Reader) -> Response:
        if started_elsewhere(request):
            return self._confirm(request, reader)
        query = request.query_params
        kinds = case_pb2.GapKind.keys()[1:]
        kind = query["kind"] if query.get("kind") in kinds else None
        filtered = await self._call(reader, "OversightService/ListGaps", ov.ListGapsRequest(
            agency=query.get("agency", "")[:64], kind=kind,
            breached_only=query.get("breached") == "on", page_size=100))
        stalled, more_stalled = await self._stalled(reader)
        scores = await self._call(reader, "OversightService/GetScorecards",
                                  ov.GetScorecardsRequest())
        ranked = sorted((s for s in scores.scorecards if s.HasField("score")),
                        key=lambda s: s.rank)
        best, worst = analysis.red_and_black(ranked)
        red, black = {s.agency for s in best}, {s.agency for s in worst}
        matrix = await self._call(reader, "OversightService/GetHandoffMatrix",
                                  ov.GetHandoffMatrixRequest())
        parties = sorted({c.from_agency for c in matrix.cells} |
                         {c.to_agency for c in matrix.cells})
        cells = {(c.from_agency, c.to_agency): c for c in matrix.cells}
        busiest = max((c.offers for c in matrix.cells), default=0)
        verdict = await self._call(reader, "OversightService/VerifyLedger",
                                   ov.VerifyLedgerRequest())
        longest = max((max(line.median_legal.ToTimedelta(),
                           line.median_promised.ToTimedelta(),
                           line.median_actual.ToTimedelta())
                       for line in scores.case_type_lines), default=timedelta(0))
        # A case the engine ended or forgot past the platform waits on nobody: its last
        # gap shows the intervention, not the last agency's wait.
        intervened = {f.case_id: f for f in verdict.engine_findings
                      if f.kind in (reconcile.ENDED_BY_ENGINE, reconcile.GONE_FROM_ENGINE)}
        return self.render(request, reader, "oversight.html", stalled=stalled,
                           intervened=intervened,
                           gaps=filtered.gaps, query=query, kinds=kinds,
                           scorecards=scores.scorecards, ranked=ranked, red=red,
                           black=black, parties=parties, cells=cells, busiest=busiest,
                           lines=scores.case_type_lines, longest=longest,
                           types=scores.case_type_scorecards, areas=scores.area_reports,
                           verdict=verdict, more_stalled=more_stalled)

    async def _stalled(self, reader: Reader) -> tuple[list[Any], bool]:
        """Every open gap past its deadline, the longest first; past STALLED_MAX, the
        ones that began last (the gap list's order) and a flag saying so."""
        gaps: list[Any] = []
        token = ""
        while len(gaps) < STALLED_MAX:
            page = await self._call(reader, "OversightService/ListGaps", ov.ListGapsRequest(
                breached_only=True, open_only=True, page_size=STALLED_PAGE,
                page_token=token))
            gaps += page.gaps
            token = page.next_page_token
            if not token:
                break
        return sorted(gaps, key=lambda g: g.start_time.ToDatetime()), bool(token)

    def _confirm(self, request: Request, reader: Reader) -> Response:
        """A heavy page another site opened: one click of the reader's own runs it."""
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return self.render(request, reader, "confirm.html", target=target)

    async def export(self, request: Request, reader: Reader) -> Response:
        if started_elsewhere(request):
            return self._confirm(request, reader)
        formats = {"csv": (ov.EXPORT_FORMAT_CSV, "text/csv", "seamless-events.csv"),
                   "ocel": (ov.EXPORT_FORMAT_OCEL2_JSON, "application/json",
                            "seamless-events.ocel.json")}
        chosen = formats.get(request.path_params["format"])
        if chosen is None:
            return self.render(request, reader, "error.html", status=404,
                               code=Code.NOT_FOUND, message="csv or ocel")
        export_format, media, filename = chosen
        chunks = stream(self._ops, reader, "OversightService/ExportEventLog",
                        ov.ExportEventLogRequest(format=export_format))
        # The first chunk before the answer starts: a refusal is still a page.
        try:
            first = await anext(chunks, None)
        except BaseException:
            await chunks.aclose()
            raise

        async def body() -> AsyncIterator[bytes]:
            async with aclosing(chunks):
                if first is not None:
                    yield first.data
                async for chunk in chunks:
                    yield chunk.data
        return StreamingResponse(body(), media_type=media, headers={
            "content-disposition": f'attachment; filename="{filename}"'})

    # ----- the one door for commands -------------------------------------------------

    async def act(self, request: Request, reader: Reader) -> Response:
        method = request.path_params["method"]
        form = await request.form(max_files=0, max_fields=40)
        lang = language(request)
        back = local_path(str(form.get("next", "")), "/inbox")
        if not self._keys.csrf_ok(reader.token, str(form.get("csrf", ""))):
            return self.render(request, reader, "error.html", status=403,
                               code=Code.PERMISSION_DENIED, message=TEXT["csrf"][lang])
        try:
            fields = {k: [str(v) for v in form.getlist(k)] for k in form}
            command = forms.request_of(method, fields, self._zone)
        except forms.FormError as err:
            return self.render(request, reader, "error.html", status=400,
                               code=Code.INVALID_ARGUMENT, message=str(err))
        try:
            reply = await self._call(reader, f"{forms.SERVICE_OF[method]}/{method}", command)
        except ConnectError as err:
            _reason, details = refusal_of(err)
            field = details.get("field", "")
            if method == "CloseCase" and field in ("answer", "summary") and \
                    err.code in (Code.INVALID_ARGUMENT, Code.FAILED_PRECONDITION):
                # Shown next to the field on the close form, with what was typed.
                assert isinstance(command, cs.CloseCaseRequest)
                return await self._case_page(
                    request, reader, command.case_id, status=_HTTP_STATUS[err.code],
                    close_errors={field: err.message},
                    close_values={"summary": command.summary, "answer": command.answer})
            raise
        flash = method
        if method == "OpenCase":
            back = f"/cases/{reply.case.number or reply.case.id}"
        elif method in forms.REPORT_COMMANDS:
            flash = _report_flash(method, reply.report)
        response = RedirectResponse(back, status_code=303)
        set_cookie(response, FLASH_COOKIE, flash, max_age=60)
        return response


def flash_of(key: str, *args: str) -> str:
    """A flash cookie's value: a key of the text table (or a command just done) and the
    report ids or case numbers its words name, each dropped if it is not one."""
    return "|".join([key, *(a if _FLASH_ARG.fullmatch(a) else "?" for a in args)])


def _flash(value: str, lang: str) -> str:
    """The words of a flash cookie (`flash_of`) in the reader's language; nothing for a
    value that is not one."""
    key, *args = value.split("|")
    if key in DONE_WORDS and not args:
        return f"{TEXT['done'][lang]} {TEXT[DONE_WORDS[key]][lang]}"
    words = TEXT.get(key, {}).get(lang, "")
    if words.count("{}") != len(args) or not all(_FLASH_ARG.fullmatch(a) or a == "?"
                                                 for a in args):
        return ""
    return words.format(*args)


def _report_flash(method: str, report: rp.Report) -> str:
    """What the confirmation of a report's command says: which report, and the case it
    is on now when that changed (split off, reopened by its rating)."""
    if method == "MergeReport":
        return flash_of("merged_into", report.id)
    if method == "SplitReport":
        return flash_of("split_to", report.id, report.case_number) if report.case_number \
            else flash_of("report_unrouted", report.id)
    if report.reopened_as:
        return flash_of("rated_reopened", report.id, report.case_number or "?")
    return flash_of("rated", report.id)


def _left(seconds: int) -> str:
    """Time left (or, negative, overdue by) in a few characters: 3d 4h, 2h 05m, 45s."""
    sign, seconds = ("-" if seconds < 0 else ""), abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


def _duration(value: Any) -> str:
    if isinstance(value, timedelta):
        return _left(int(value.total_seconds()))
    if value is None or not value.ByteSize():
        return "–"
    return _left(int(value.ToTimedelta().total_seconds()))


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _enum(value: int, enum: str) -> str:
    """A proto enum's value by its short name: TASK_STATE_SIGNED -> signed."""
    wrapper = getattr(case_pb2, enum, None) or getattr(cs, enum)
    prefix = wrapper.Name(0).removesuffix("UNSPECIFIED")
    return str(wrapper.Name(value)).removeprefix(prefix).lower().replace("_", " ")


def _stamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _zone_name(zone: tzinfo) -> str:
    """The platform's zone as browsers name it, for the swimlane's axis: its IANA name,
    or Etc/GMT-8 for a fixed UTC+08:00."""
    key = getattr(zone, "key", None)
    if key:
        return str(key)
    offset = zone.utcoffset(None) or timedelta(0)
    hours = int(offset.total_seconds() // 3600)
    return f"Etc/GMT{-hours:+d}" if hours else "UTC"


def _optional(message: Message, field: str) -> float | None:
    """An optional field's value, None when unset (a rate with nothing to judge)."""
    return getattr(message, field) if message.HasField(field) else None
