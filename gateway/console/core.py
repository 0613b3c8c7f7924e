"""The console's core: rendering a page in the reader's language, calling the gateway's
operations as the signed-in reader, and sending anyone else to sign in. The pages
(`sign_in_pages`, `work_pages`, `oversight_pages`, `hotline`) are built on it.

Every page reads through the gateway's operations as the signed-in reader, so what a
page shows is what the API shows that reader: a case the reader may not see answers
"not found", worded as for a wrong number.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gateway.agency_links import AgencyLinks
from gateway.console import swimlane
from gateway.console.i18n import TEXT, enum_label, local_name, translator
from gateway.console.refusal_words import refusal_words
from gateway.console.web import (
    FLASH_COOKIE,
    SESSION_COOKIE,
    Keys,
    Reader,
    call,
    language,
    may,
    reader_of,
    refusal_of,
    set_cookie,
)
from gateway.evidence_refs import parse_ref
from gateway.http_api import Operations
from gateway.open311.app import PREFIX as OPEN311_PREFIX
from gateway.reports import photos
from records.event_schema import PLATFORM_ACTOR
from records.participation import OVERSIGHT, OVERSIGHT_NAMES
from records.subjects import subject_identity
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as cs
from trust.pki import CertificateStore
from trust.throttle import Throttle
from workflows import command_table
from workflows.catalog_loader import Catalog
from workflows.dispatch_catalog import DispatchCatalog
from workflows.rules import limits, phrases
from workflows.rules.catalog import TaskKind
from workflows.rules.work import STEP_WORDS, WorkAction

if TYPE_CHECKING:  # the evidence door uses the console's session cookie and keys
    from gateway.evidence_http import EvidenceDoor

Page = Callable[[Request, Reader], Awaitable[Response]]
# Open cases shown as ones a report could join or a new case may duplicate, each list.
MAX_CANDIDATES = 10
# The statuses a refused command or read shows with.
HTTP_STATUS = {Code.NOT_FOUND: 404, Code.PERMISSION_DENIED: 403,
                Code.INVALID_ARGUMENT: 400, Code.FAILED_PRECONDITION: 409,
                Code.ALREADY_EXISTS: 409, Code.RESOURCE_EXHAUSTED: 429,
                Code.UNAVAILABLE: 503}
# What the confirmation after each command calls it: its declaration's words.
DONE_WORDS = {call.rpc: call.words[0] for call in command_table.WORDED}
# What a flash cookie may carry after its key: report ids and case numbers (cookies
# carry no Chinese, nor anything a cookie would have to quote).
_FLASH_ARG = re.compile(r"[A-Za-z0-9-]{1,64}")


class ConsoleCore:
    def __init__(self, *, operations: Operations, links: AgencyLinks,
                 store: CertificateStore, catalog: Catalog, throttle: Throttle,
                 dispatch: DispatchCatalog, keys: Keys | None = None,
                 evidence: EvidenceDoor | None = None) -> None:
        self._ops = operations
        self.dispatch = dispatch
        self._links = links
        self._store = store
        self._catalog = catalog
        # The CSRF key: the evidence door checks an upload's token with it too.
        self._keys = keys or Keys()
        # The case page's evidence files (none without the door: a console alone).
        self.evidence = evidence
        self._throttle = throttle
        self._zone = catalog.calendar.tz
        directory = catalog.directory
        self._names = {a.id: (a.name_zh, a.name_en) for a in directory.agencies}
        self._names[OVERSIGHT] = OVERSIGHT_NAMES
        # What its clocks and deliveries record is the platform's own act.
        self._names[PLATFORM_ACTOR] = ("平台", "the platform")
        self._coordinator = directory.coordinator
        self._type_names = {p.id: (p.name_zh, p.name_en) for p in catalog.playbooks.values()}
        # A case a report opened is titled by its category in both languages.
        self._made_titles = {s.case_title: (s.name_zh, s.name_en)
                             for s in dispatch.services()}
        self._env = Environment(loader=PackageLoader("gateway.console", "templates"),
                                autoescape=select_autoescape(default=True),
                                trim_blocks=True, lstrip_blocks=True)
        self._env.filters.update(when=self._when, left=time_left, duration=_duration,
                                 rate=_rate, enum=enum_short_name)
        # A completion's reference to a file the agency holds (gateway.evidence_http).
        self._env.tests["evidence_file"] = lambda ref: parse_ref(str(ref)) is not None
        # A reporter's photo the desk keeps (its public copy, served on this origin), or
        # a link the reporter gave (shown as a link only, never loaded by the page).
        self._env.filters["own_photo"] = own_photo_path
        self._env.tests["own_photo"] = lambda url: bool(own_photo_path(str(url)))
        self._env.tests["web_link"] = lambda url: str(url).startswith(("https://", "http://"))
        self._env.globals.update(optional=_optional, when=self._when,
                                 running_clock=swimlane.running_clock)

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
            label=lambda value, enum: enum_label(enum_short_name(value, enum), enum, lang),
            able_to=self.able_to, map_search=map_search,
            step=lambda action: step_words(action, lang),
            task_title=lambda case_type, kind, title: self.task_title(case_type, kind, title,
                                                                      lang),
            item_title=lambda item: self.item_title(item, lang),
            said=lambda stored, english, case_type="": self.said(stored, english, case_type,
                                                                  lang),
            stage_name=lambda case_type, stage: self.stage_name(case_type, stage, lang),
            answers=lambda report: self.answers(report, lang),
            case_title=lambda title: local_name(self._made_titles, title, lang),
            **context)
        response = HTMLResponse(page, status_code=status)
        if flash_key:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response

    def _task_kind(self, case_type: str, task_kind: str) -> TaskKind | None:
        playbook = self._catalog.playbooks.get(case_type)
        return playbook.task_kind(task_kind) if playbook else None

    def able_to(self, case_type: str, task_kind: str, besides: str = "") -> list[str]:
        """The agencies able to do a task of `task_kind` (the rules' own test, asked, not
        copied): what a decline may suggest and an upheld decline may send the work to."""
        kind = self._task_kind(case_type, task_kind)
        if kind is None:
            return []
        return self._catalog.directory.able_to(kind.capability, besides=besides)

    def task_title(self, case_type: str, task_kind: str, title: str, lang: str) -> str:
        """A task's title in the reader's language: its kind's, unless the dispatcher
        wrote one of their own (shown as written)."""
        kind = self._task_kind(case_type, task_kind)
        if kind is None or title not in ("", kind.title):
            return title
        return kind.title_zh if lang == "zh" and kind.title_zh else kind.title

    def item_title(self, item: cs.WorkItem, lang: str) -> str:
        """A work item's title in the reader's language, made from what it is about (the
        API's `title` is in English)."""
        if item.kind == cs.WORK_KIND_TASK:
            return self.task_title(item.case_type, item.task_kind, item.title, lang)
        if item.phrase:
            return self.said(item.phrase, item.title, item.case_type, lang)
        words = _ITEM_TITLES.get(item.kind)
        if words is None or not item.raised_by:
            return item.title
        task = self.task_title(item.case_type, item.task_kind, "", lang) if item.task_kind \
            else ""
        return TEXT[words][lang].format(agency=local_name(self._names, item.raised_by, lang),
                                        task=task)

    def said(self, stored: str, english: str, case_type: str, lang: str) -> str:
        """What the platform said (an event's detail, a notice, an escalation's reason) in
        the reader's language, from its phrase; the English it was stored with when it
        has none (recorded before phrases)."""
        phrase = phrases.decode(stored) if stored else None
        if phrase is None:
            return english
        return phrases.render(
            phrase, lang, name=lambda agency: local_name(self._names, agency, lang),
            when=lambda iso: self._when(datetime.fromisoformat(iso)),
            kind=lambda kind: self.task_title(case_type, kind, "", lang) or kind,
            service=lambda code: self._service_name(code, lang))

    def answers(self, report: Any, lang: str) -> list[tuple[str, str]]:
        """A report's answers to its category's questions, both in the reader's language:
        (question, answer), a list's keys by their names."""
        service = self.dispatch.service(report.service_code)
        shown = []
        for answer in report.attributes:
            question = service.attribute(answer.code) if service else None
            if question is None:
                shown.append((answer.code, answer.value))
                continue
            names = {v.key: v.name_in(lang) for v in question.values}
            value = "、".join(names.get(k, k) for k in answer.value.split(",")) \
                if names else answer.value
            shown.append((question.description_in(lang), value))
        return shown

    async def duplicates(self, reader: Reader, case_type: str, subject: str
                         ) -> tuple[list[cs.CaseSummary], list[cs.CaseSummary]]:
        """Open cases of `case_type` that a new report or case on `subject` may
        duplicate, from the read model alone (two indexed lists, no case asked): those
        on its subject (an opening is refused for them, a report joins one by itself),
        and those whose subject begins alike (one a person may see is the same), at
        most MAX_CANDIDATES each."""
        identity = subject_identity(subject)
        if not identity:
            return [], []

        async def listing(**filters: Any) -> list[cs.CaseSummary]:
            reply = await self._call(reader, "CaseService/ListCases", cs.ListCasesRequest(
                type=case_type, status=case_pb2.CASE_STATUS_OPEN,
                page_size=MAX_CANDIDATES, **filters))
            return list(reply.cases)

        async def none() -> list[cs.CaseSummary]:
            return []
        same, alike = await asyncio.gather(
            listing(subject=identity),
            listing(subject=similar_start(identity), subject_begins=True)
            if len(identity) >= 2 else none())
        on_subject = {c.id for c in same}
        return same, [c for c in alike if c.id not in on_subject]

    async def read_cases(self, reader: Reader, ids: list[str]) -> dict[str, case_pb2.Case]:
        """The cases, read at once, by id; one that does not answer is left out."""
        replies = await asyncio.gather(
            *(self._call(reader, "CaseService/GetCase", cs.GetCaseRequest(case_id=i))
              for i in ids), return_exceptions=True)
        return {r.case.id: r.case for r in replies if not isinstance(r, BaseException)}

    def stage_name(self, case_type: str, stage: str, lang: str) -> str:
        playbook = self._catalog.playbooks.get(case_type)
        return playbook.stage_name(stage, lang) if playbook else stage

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
        message, detail = refusal_text(err, language(request))
        return self.render(request, reader, "error.html",
                           status=HTTP_STATUS.get(err.code, 500),
                           code=err.code, message=message, detail=detail)

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


# The words of a work item's title, by what the item is (the agency named is `raised_by`).
_ITEM_TITLES = {cs.WORK_KIND_DECLINE_REVIEW: "title_declined",
                cs.WORK_KIND_EXTENSION_DECISION: "title_asks_time",
                cs.WORK_KIND_HANDOFF_OFFER: "title_offers",
                cs.WORK_KIND_OBJECTION: "title_objects"}


# A place's search in a map app (高德's URI opens the app on a phone, its web page on a
# desk): a link the officer follows, nothing the page downloads.
MAP_SEARCH = "https://uri.amap.com/search?keyword={}"


def own_photo_path(url: str) -> str:
    """The path of a reporter's photo on this gateway (Open311's public copy), else ''."""
    path = urlsplit(url).path
    return path if _OWN_PHOTO.fullmatch(path) else ""


_OWN_PHOTO = re.compile(rf"{re.escape(OPEN311_PREFIX)}/media/{photos.PUBLIC_NAME.pattern}")


def similar_start(identity: str) -> str:
    """The beginning a "possible duplicate" shares with a subject: its first half, two to
    six characters (老王饭店平谷店 finds 老王饭店; 京A12345 finds 京A1…)."""
    return identity[:max(2, min(6, (len(identity) + 1) // 2))]


def refusal_text(err: ConnectError, lang: str) -> tuple[str, str]:
    """A refusal as a page shows it: the sentence for its reason in the reader's language
    (naming the field, where the words have it) and, in English, the API's own message
    beside it. A reason without words shows the API's message (English) rather than
    nothing."""
    reason, metadata = refusal_of(err)
    sentence = refusal_words(reason, lang)
    if not sentence:
        return err.message, ""
    field = TEXT.get(metadata.get("field", ""), {}).get(lang)
    if field:
        sentence = f"{sentence}（{field}）" if lang == "zh" else f"{sentence} ({field})"
    return sentence, ("" if lang == "zh" or err.message == sentence else err.message)


def field_refusal(err: ConnectError, lang: str) -> str:
    """A refusal shown next to its field: in English the API's precise message, in
    Chinese the sentence for its reason."""
    if lang == "en":
        return err.message
    return refusal_words(refusal_of(err)[0], lang) or err.message


def map_search(place: str) -> str:
    return MAP_SEARCH.format(quote(place, safe=""))


def step_words(action: int, lang: str) -> str:
    """A work item's next step in the reader's language (the rules' words for it)."""
    name = cs.WorkAction.Name(action).removeprefix("WORK_ACTION_")
    words = STEP_WORDS.get(WorkAction(name)) if name in WorkAction.__members__ else None
    if words is None:
        return ""
    return words[0] if lang == "zh" else words[1]


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


def time_left(seconds: int) -> str:
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
        return time_left(int(value.total_seconds()))
    if value is None or not value.ByteSize():
        return "–"
    return time_left(int(value.ToTimedelta().total_seconds()))


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def enum_short_name(value: int, enum: str) -> str:
    """A proto enum's value by its short name: TASK_STATE_SIGNED -> signed."""
    wrapper = getattr(case_pb2, enum, None) or getattr(cs, enum)
    prefix = wrapper.Name(0).removesuffix("UNSPECIFIED")
    return str(wrapper.Name(value)).removeprefix(prefix).lower().replace("_", " ")


def timestamp_of(moment: datetime) -> Timestamp:
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
