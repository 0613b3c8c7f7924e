"""The console's pages for officers' work: the inbox, the coordinator's escalations, the
cases, a case's page with its swimlane, and the one door for commands: every command
is a form posted to `/act/<Method>` with a CSRF token; the form's fields are the
request's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console import forms, swimlane
from gateway.console.core import (
    HTTP_STATUS,
    ConsoleCore,
    field_refusal,
    flash_of,
    timestamp_of,
)
from gateway.console.i18n import TEXT, enum_label, local_name
from gateway.console.web import (
    FLASH_COOKIE,
    Reader,
    language,
    local_path,
    refusal_of,
    set_cookie,
)
from records.participation import OVERSIGHT
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as cs
from seamless.v1 import oversight_pb2 as ov
from seamless.v1 import report_pb2 as rp
from workflows.rules import limits
from workflows.rules.refusals import Reason

# A photo taken further than this from where a citizen located the matter is flagged.
FAR_FROM_SITE_KM = 2.0


def kilometres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance between two WGS84 points."""
    (lat1, lon1), (lat2, lon2) = (tuple(math.radians(v) for v in p) for p in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + \
        math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


# The notices the 通知 page shows, newest first; a case's reports on its page (the
# report service's largest page).
NOTICES_SHOWN = 100
REPORTS_SHOWN = 200

class WorkPages(ConsoleCore):
    """The inbox, escalations, cases, a case's page, and `/act/<Method>`."""

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
                           agencies=await self._agencies(reader),
                           unread=await self._unread(reader))

    async def inbox_items(self, request: Request, reader: Reader) -> Response:
        """The inbox's list alone: the page fetches it every few seconds, so new work
        (and a new notice) appears without a reload."""
        work = await self._work(reader)
        return self.render(request, reader, "inbox_items.html", work=work,
                           agencies=await self._agencies(reader),
                           unread=await self._unread(reader))

    async def _unread(self, reader: Reader) -> int | None:
        """How many of the agency's notices the officer has not seen; None when its
        service cannot say (the inbox shows without the count)."""
        try:
            reply = await self._call(reader, "CaseService/ListNotices",
                                     cs.ListNoticesRequest(page_size=1))
        except ConnectError as err:
            if err.code in (Code.UNAVAILABLE, Code.FAILED_PRECONDITION):
                return None
            raise
        return int(reply.unread)

    @staticmethod
    def _lane_words(lang: str) -> Callable[[str], str]:
        """What the swimlane calls its bars and markers, in the reader's language."""
        def words(key: str) -> str:
            what, _, value = key.partition(":")
            if what == "gap":
                return enum_label(value, "GapKind", lang)
            if what == "clock":
                return TEXT[f"clock_{value.replace(' ', '_')}"][lang]
            if what == "line":
                return TEXT[f"{value}_line"][lang]
            return TEXT["ownership"][lang]
        return words

    async def notices(self, request: Request, reader: Reader) -> Response:
        """通知: the notices the agency received (督办, escalations, offers, leads), the
        newest first, those the officer had not seen marked; seeing them marks them seen."""
        reply = await self._call(reader, "CaseService/ListNotices",
                                 cs.ListNoticesRequest(page_size=NOTICES_SHOWN,
                                                       mark_read=True))
        return self.render(request, reader, "notices.html", notices=reply.notices,
                           more=bool(reply.next_page_token))

    async def escalations(self, request: Request, reader: Reader) -> Response:
        work = await self._work(reader)
        queue = sorted((i for i in work.items if i.kind == cs.WORK_KIND_ESCALATION),
                       key=lambda i: i.since.ToDatetime())
        return self.render(request, reader, "escalations.html", queue=queue,
                           agencies=await self._agencies(reader))

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

    async def cases_like(self, request: Request, reader: Reader) -> Response:
        """The open form's "possible duplicates" (a fragment, asked as the subject is
        typed): open cases of the type on the subject typed (the open would be refused:
        go there), or beginning alike."""
        query = request.query_params
        case_type = query.get("type", "")[:64]
        subject = query.get("subject", "")[:limits.MAX_SUBJECT]
        if case_type not in self._catalog.playbooks:
            return self.render(request, reader, "duplicates.html", on_subject=[], alike=[])
        on_subject, alike = await self.duplicates(reader, case_type, subject)
        return self.render(request, reader, "duplicates.html", on_subject=on_subject,
                           alike=alike)

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
        lanes = swimlane.layout(timeline, case, now, words=self._lane_words(language(request)))
        agencies = await self._agencies(reader)
        playbooks = (await self._call(reader, "CaseService/ListPlaybooks",
                                      cs.ListPlaybooksRequest())).playbooks
        playbook = next((p for p in playbooks if p.id == case.type), None)
        capable = {k.id: self.able_to(case.type, k.id)
                   for k in (playbook.task_kinds if playbook else [])}
        started = {task: timestamp_of(at) for task, at in swimlane.phase_starts(timeline).items()}
        waiting = sorted((g for g in timeline.gaps if not g.end_time.ByteSize()),
                         key=lambda g: g.start_time.ToDatetime())
        actual = now - case.opened_at.ToDatetime(tzinfo=UTC)
        # A case's reports are in the whole case its lead and the coordinator read; an
        # assisting agency, which reads the header, asks for them (contacts masked).
        whole = reader.agency in (case.owner, self._coordinator)
        reports = await self._reports(reader, case) if case.reports or not whole else {}
        files = await self._evidence(reader, case, reports)
        return self.render(request, reader, "case.html", status=status, reports=reports,
                           evidence=files,
                           path=f"/cases/{case.number or case.id}", case=case,
                           timeline=timeline, lanes=lanes, agencies=agencies,
                           playbook=playbook, capable=capable, waiting=waiting,
                           actual=actual, started=started, close_errors=close_errors or {},
                           close_values=close_values or {})

    async def _evidence(self, reader: Reader, case: case_pb2.Case,
                        reports: dict[str, rp.Report]) -> list[dict[str, Any]]:
        """The case's evidence files the reader may know of, each with what its photo says
        checked against the case: taken before its task was dispatched, or far from where
        a citizen located the matter."""
        if self.evidence is None or not case.tasks:
            return []
        listed = await self.evidence.listing(reader.agency, reader.agency == OVERSIGHT,
                                             case.id)
        if listed is None:
            return []
        dispatched = {t.id: t.dispatched_at.ToDatetime(tzinfo=UTC) for t in case.tasks
                      if t.dispatched_at.ByteSize()}
        site = next(((r.lat, r.lon) for r in reports.values() if r.located), None)
        shown = []
        for file in listed["files"]:
            flags = []
            taken = datetime.fromisoformat(file["taken_at"]) if file.get("taken_at") \
                else None
            if taken is not None and file["task_id"] in dispatched and \
                    taken < dispatched[file["task_id"]]:
                flags.append("before_dispatch")
            if site is not None and file.get("location") and \
                    kilometres(site, file["location"]) > FAR_FROM_SITE_KM:
                flags.append("far_from_site")
            uploaded = datetime.fromisoformat(file["uploaded_at"]) if file.get("uploaded_at") \
                else None
            shown.append({**file, "taken": taken, "uploaded": uploaded, "flags": flags})
        return shown

    async def _reports(self, reader: Reader, case: case_pb2.Case) -> dict[str, rp.Report]:
        """What the citizens wrote, by report id, as the reader may read it (the contact
        in full for the hotline and the lead, masked for the others); nothing for a
        reader the reports are not shown to."""
        try:
            reply = await self._call(reader, "ReportService/ListReports",
                                     rp.ListReportsRequest(case_id=case.id,
                                                           page_size=REPORTS_SHOWN))
        except ConnectError as err:
            if err.code in (Code.NOT_FOUND, Code.PERMISSION_DENIED, Code.UNAVAILABLE):
                return {}
            raise
        return {r.id: r for r in reply.reports}

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
                               code=Code.INVALID_ARGUMENT,
                               message=str(err) if lang == "en" else
                               f"{TEXT['bad_form'][lang]}{TEXT.get(err.field, {}).get(lang, '')}")
        try:
            reply = await self._call(reader, f"{forms.SERVICE_OF[method]}/{method}", command)
        except ConnectError as err:
            reason, details = refusal_of(err)
            field = details.get("field", "")
            if method == "OpenCase" and reason == Reason.CASE_ALREADY_OPEN.value:
                # The case the subject already has: where the report belongs.
                number = details.get("case_number") or details.get("case_id", "")
                return self.render(
                    request, reader, "error.html", status=HTTP_STATUS[err.code],
                    code=err.code, message=TEXT["already_open"][lang].format(
                        number=number, owner=local_name(self._names, details.get("owner", ""),
                                                        lang)),
                    link=(f"/cases/{number}", TEXT["open_the_case"][lang]))
            if method == "CloseCase" and field in ("answer", "summary") and \
                    err.code in (Code.INVALID_ARGUMENT, Code.FAILED_PRECONDITION):
                # Shown next to the field on the close form, with what was typed.
                assert isinstance(command, cs.CloseCaseRequest)
                return await self._case_page(
                    request, reader, command.case_id, status=HTTP_STATUS[err.code],
                    close_errors={field: field_refusal(err, lang)},
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
