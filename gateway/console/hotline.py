"""The hotline's desk in the console: taking a call (受理, `/intake`) and calling the
reporters of closed cases back for their rating (回访, `/follow-up`).

The desk is the coordinator's (the command centre runs the hotline). The category
picker reads the dispatch catalog, which is public; everything else goes through the
ReportService and CaseService operations as the signed-in officer, so the service's own
rules (only the hotline takes reports, the catalog's checks, idempotency by the
form's request id) judge what the form sends.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console.core import MAX_CANDIDATES, ConsoleCore, field_refusal, flash_of
from gateway.console.forms import MAX_FIELD_CHARS
from gateway.console.i18n import TEXT
from gateway.console.web import FLASH_COOKIE, Reader, language, refusal_of, set_cookie
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as cs
from seamless.v1 import report_pb2 as rp
from workflows.dispatch_catalog import MAX_SEARCH, Datatype, RouteError, Service
from workflows.rules.report_ops import DESK_CHANNELS

# The follow-up list's length (ListReports takes up to 200).
FOLLOW_UP_PAGE = 100
CHANNELS = DESK_CHANNELS
# The form's own fields; an attribute's is "attributes.<code>", as the service names it
# in a refusal.
TEXT_FIELDS = ("description", "address", "jurisdiction", "contact_name", "contact_phone",
               "contact_email")
# Where a refusal naming one of these fields is shown.
_SHOWN_AT = {"location": "lat", "lon": "lat", "text": "description"}


@dataclass
class IntakeForm:
    """What the operator typed, as typed (to show again), and the request it makes."""

    service: Service
    values: dict[str, str] = field(default_factory=dict)
    chosen: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    request: rp.SubmitReportRequest = field(default_factory=rp.SubmitReportRequest)

    @property
    def subject(self) -> str:
        attribute = self.service.subject_attribute
        return self.values.get(f"attributes.{attribute.code}", "").strip() if attribute \
            else ""

    def unplaced_errors(self) -> list[str]:
        """Refusals naming no field the form shows (they are shown above it)."""
        placed = {*TEXT_FIELDS, "lat", "channel",
                  *(f"attributes.{a.code}" for a in self.service.attributes)}
        return [message for name, message in self.errors.items() if name not in placed]


def blank_form(service: Service) -> IntakeForm:
    return IntakeForm(service, values={"request_id": str(uuid.uuid4()),
                                       "channel": CHANNELS[0]})


def read_intake(service: Service, form: Mapping[str, list[str]], zone: tzinfo) -> IntakeForm:
    """The intake form read into a SubmitReportRequest: text as typed (trimmed), the
    point only with both coordinates, a multivaluelist's answers joined by commas, a
    date and time without a zone in the platform's. What cannot be read is an error on
    its field; the service checks the rest."""
    def one(name: str) -> str:
        values = form.get(name) or [""]
        return values[0].strip()

    intake = IntakeForm(service)
    for name in ("request_id", "channel", "lat", "lon", *TEXT_FIELDS):
        intake.values[name] = one(name)
    for name, value in intake.values.items():
        if len(value) > MAX_FIELD_CHARS:
            intake.errors[name] = f"{name}: at most {MAX_FIELD_CHARS} characters"
    values = intake.values
    values["request_id"] = values["request_id"][:64] or str(uuid.uuid4())
    if values["channel"] not in CHANNELS:
        values["channel"] = CHANNELS[0]
    request = rp.SubmitReportRequest(
        request_id=values["request_id"], channel=values["channel"],
        service_code=service.code, description=values["description"],
        address=values["address"], jurisdiction=values["jurisdiction"],
        contact=rp.ReporterContact(name=values["contact_name"],
                                   phone=values["contact_phone"],
                                   email=values["contact_email"]))
    _read_point(intake, request)
    for attribute in service.attributes:
        name = f"attributes.{attribute.code}"
        if attribute.datatype == Datatype.MULTIVALUELIST:
            picked = [v.strip() for v in form.get(name, []) if v.strip()]
            intake.chosen[name] = picked
            answer = ",".join(picked)
        else:
            answer = values[name] = one(name)
        if len(answer) > MAX_FIELD_CHARS:
            intake.errors[name] = f"{attribute.code}: at most {MAX_FIELD_CHARS} characters"
            continue
        if attribute.datatype == Datatype.DATETIME:
            answer = _zoned(answer, zone)
        if answer:
            request.attributes.append(rp.ReportAttribute(code=attribute.code, value=answer))
    intake.request = request
    return intake


def _read_point(intake: IntakeForm, request: rp.SubmitReportRequest) -> None:
    lat, lon = intake.values["lat"], intake.values["lon"]
    if not lat and not lon:
        return
    if not lat or not lon:
        intake.errors["lat"] = "lat, lon: both or neither"
        return
    try:
        request.lat, request.lon = float(lat), float(lon)
    except ValueError:
        intake.errors["lat"] = "lat, lon: WGS84 degrees, such as 40.17 and 117.35"
        return
    if not (math.isfinite(request.lat) and math.isfinite(request.lon)):
        intake.errors["lat"] = "lat, lon: finite WGS84 coordinates"
        return
    request.located = True


def _zoned(answer: str, zone: tzinfo) -> str:
    """A browser's local date and time (2026-12-01T21:30) in the platform's zone."""
    try:
        moment = datetime.fromisoformat(answer)
    except ValueError:
        return answer  # the catalog's check says what is wrong with it
    return moment.replace(tzinfo=zone).isoformat() if moment.tzinfo is None else answer


class HotlineDesk:
    """The pages of `/intake` and `/follow-up`, beside the console's others."""

    def __init__(self, console: ConsoleCore, zone: tzinfo) -> None:
        self._console = console
        self._dispatch = console.dispatch
        self._zone = zone

    def _not_hotline(self, request: Request, reader: Reader) -> Response | None:
        if reader.agency == self._console.hotline:
            return None
        return self._console.refuse(request, reader, 403, Code.PERMISSION_DENIED,
                                    TEXT["only_hotline"][language(request)])

    def _search(self, query: str) -> tuple[list[Service], str]:
        try:
            return self._dispatch.search(query[:MAX_SEARCH + 1]), ""
        except RouteError as err:
            return [], str(err)

    # ----- intake ----------------------------------------------------------------------

    async def intake(self, request: Request, reader: Reader) -> Response:
        """The category picker (`?q=` searches the catalog) or, with `?service=`, the
        form of that category and the open cases it could join."""
        refused = self._not_hotline(request, reader)
        if refused:
            return refused
        code = request.query_params.get("service", "")[:64]
        if code:
            service = self._dispatch.service(code)
            if service is None:
                return self._console.refuse(
                    request, reader, 404, Code.NOT_FOUND,
                    f"{TEXT['unknown_service'][language(request)]} {code}")
            return await self._form_page(request, reader, blank_form(service))
        query = request.query_params.get("q", "")
        services, problem = self._search(query)
        return self._console.render(request, reader, "intake.html", q=query[:MAX_SEARCH],
                                    services=services, search_error=problem, form=None)

    async def services(self, request: Request, reader: Reader) -> Response:
        """The picker's list alone, for the page's search-as-you-type."""
        refused = self._not_hotline(request, reader)
        if refused:
            return refused
        services, problem = self._search(request.query_params.get("q", ""))
        return self._console.render(request, reader, "intake_services.html",
                                    services=services, search_error=problem)

    async def submit(self, request: Request, reader: Reader) -> Response:
        """The form posted: "check" shows it again with the cases it could join;
        "submit" takes the report in (SubmitReport, once per the form's request id) and
        goes to its case, saying whether the report opened it or joined it."""
        form = await request.form(max_files=0, max_fields=80)
        lang = language(request)
        if not self._console.csrf_ok(reader, str(form.get("csrf", ""))):
            return self._console.refuse(request, reader, 403, Code.PERMISSION_DENIED,
                                        TEXT["csrf"][lang])
        refused = self._not_hotline(request, reader)
        if refused:
            return refused
        code = str(form.get("service_code", ""))[:64]
        service = self._dispatch.service(code)
        if service is None:
            return self._console.refuse(request, reader, 404, Code.NOT_FOUND,
                                        f"{TEXT['unknown_service'][lang]} {code}")
        fields = {k: [str(v) for v in form.getlist(k)] for k in form}
        intake = read_intake(service, fields, self._zone)
        if intake.errors:
            return await self._form_page(request, reader, intake, status=400)
        if form.get("intent") != "submit":
            return await self._form_page(request, reader, intake)
        try:
            reply = await self._console.call(reader, "ReportService/SubmitReport",
                                             intake.request)
        except ConnectError as err:
            if err.code not in (Code.INVALID_ARGUMENT, Code.FAILED_PRECONDITION):
                raise
            _reason, details = refusal_of(err)
            name = details.get("field", "")
            intake.errors[_SHOWN_AT.get(name, name) or "form"] = field_refusal(err, lang)
            return await self._form_page(request, reader, intake,
                                         status=400 if err.code is Code.INVALID_ARGUMENT
                                         else 409)
        report: rp.Report = reply.report
        if not report.case_id:
            response = RedirectResponse(f"/intake?service={service.code}", status_code=303)
            set_cookie(response, FLASH_COOKIE, flash_of("report_unrouted", report.id),
                       max_age=60)
            return response
        case = (await self._console.call(reader, "CaseService/GetCase", cs.GetCaseRequest(
            case_id=report.case_id))).case
        # The report that opened a case is its first; a later one joined it (并单).
        opened = bool(case.reports) and case.reports[0].id == report.id
        response = RedirectResponse(f"/cases/{case.number or case.id}", status_code=303)
        set_cookie(response, FLASH_COOKIE, flash_of(
            "report_opened" if opened else "report_merged", report.id), max_age=60)
        return response

    async def _form_page(self, request: Request, reader: Reader, intake: IntakeForm,
                         status: int = 200) -> Response:
        service = intake.service
        where = self._where(intake)
        on_subject, nearby = await self._candidates(reader, service, intake.subject, where)
        return self._console.render(
            request, reader, "intake.html", status=status, path="/intake", form=intake,
            service=service, q="", services=[], search_error="",
            places=self._dispatch.served_in(service), on_subject=on_subject,
            nearby=nearby, where=where)

    async def _candidates(self, reader: Reader, service: Service, subject: str,
                          where: str) -> tuple[list[case_pb2.Case], list[case_pb2.Case]]:
        """Open cases of the category's case type the report could join: those on its
        subject (it joins one by itself), then those whose subject begins alike or in
        its jurisdiction `where` (a merge by hand), each read whole for the desk."""
        (same, alike), newest = await asyncio.gather(
            self._console.duplicates(reader, service.case_type, subject),
            self._console.call(reader, "CaseService/ListCases", cs.ListCasesRequest(
                type=service.case_type, status=case_pb2.CASE_STATUS_OPEN,
                page_size=MAX_CANDIDATES)))
        ids = [c.id for c in [*same, *alike, *newest.cases]]
        cases = await self._console.read_cases(reader, list(dict.fromkeys(ids)))
        on_subject = [cases[c.id] for c in same if c.id in cases]
        in_place = [c.id for c in newest.cases if c.id in cases and
                    (not where or cases[c.id].jurisdiction == where)]
        shown = {c.id for c in same}
        nearby = [cases[i] for i in dict.fromkeys([*(c.id for c in alike), *in_place])
                  if i in cases and i not in shown]
        return on_subject, nearby[:MAX_CANDIDATES]

    def _where(self, intake: IntakeForm) -> str:
        """The jurisdiction the report would go to, as far as the form tells yet."""
        request = intake.request
        if request.jurisdiction:
            return request.jurisdiction
        if request.located:
            area = self._dispatch.locate(request.lon, request.lat)
            return area.jurisdiction if area else ""
        return ""

    # ----- follow-up -------------------------------------------------------------------

    async def follow_up(self, request: Request, reader: Reader) -> Response:
        """Reports of closed cases awaiting the reporter's rating, each with the case's
        answer and the reporter's contact (the hotline sees it in full: it calls back)."""
        listed = await self._console.call(reader, "ReportService/ListReports",
                                          rp.ListReportsRequest(follow_up=True,
                                                                page_size=FOLLOW_UP_PAGE))
        ids = list(dict.fromkeys(r.case_id for r in listed.reports if r.case_id))
        cases = await self._console.read_cases(reader, ids)
        agencies = (await self._console.call(reader, "CaseService/ListAgencies",
                                             cs.ListAgenciesRequest())).agencies
        return self._console.render(
            request, reader, "follow_up.html", agencies=agencies,
            rows=[(r, cases.get(r.case_id)) for r in listed.reports])
