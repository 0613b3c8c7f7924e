"""Open311 GeoReport v2 at the gateway: every answer checked against the specification's
fields (http://wiki.open311.org/GeoReport_v2 and its Service Discovery page) in XML and
JSON, posts that are refused storing nothing, a reporter's contact never shown, and the
rates. The intake is the real one, routing onto real cases of a real worker.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import Engine, func
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from gateway.case_numbers import CaseNumbers
from gateway.http_server import serve_http
from gateway.open311.app import open311_app
from gateway.open311.keys import ApiKeyError, ApiKeys, Open311Key
from gateway.open311.limits import Open311Limits
from gateway.open311.service_requests import public_text
from gateway.reports.intake import Intake
from gateway.reports.photos import ReportPhoto
from gateway.reports.store import Report, ReportStore
from records.event_schema import Satisfaction
from seamless.v1 import case_service_pb2 as cs
from tests.gateway import harness
from tests.gateway.test_evidence import photo
from tests.gateway.test_reports import quarry_report
from tests.workflows.harness import eventually
from workflows.catalog_loader import Catalog
from workflows.dispatch_catalog import load_dispatch_catalog
from workflows.rules.model import Actor
from workflows.seals import Vouch

FORMATS = ("xml", "json")
BINHE = (117.12, 40.14)  # Pinggu's town centre: the command centre leads hotline cases
JINHAIHU = (117.35, 40.17)  # the township leads quarrying cases here
HOTLINE, TOWNSHIP = "command-center", "jinhaihu-township"
BASE = "/open311/v2"

# ----- the specification's fields ---------------------------------------------------------
# name -> (kind, required). A kind is text, bool, int, number, datetime (W3C, with its
# offset), or ("many", element, item schema | "text") for a container of repeated elements.
Kind = Any
Schema = dict[str, tuple[Kind, bool]]
VALUE: Schema = {"key": ("text", True), "name": ("text", True)}
ATTRIBUTE: Schema = {
    "variable": ("bool", True), "code": ("text", True), "datatype": ("text", True),
    "required": ("bool", True), "datatype_description": ("text", False),
    "order": ("int", True), "description": ("text", True),
    "values": (("many", "value", VALUE), False)}
SERVICE_DEFINITION: Schema = {"service_code": ("text", True),
                              "attributes": (("many", "attribute", ATTRIBUTE), True)}
SERVICE: Schema = {
    "service_code": ("text", True), "service_name": ("text", True),
    "description": ("text", False), "metadata": ("bool", True), "type": ("text", True),
    "keywords": ("text", False), "group": ("text", False)}
ENDPOINT: Schema = {
    "specification": ("text", True), "url": ("text", True), "changeset": ("text", True),
    "type": ("text", True), "formats": (("many", "format", "text"), True)}
DISCOVERY: Schema = {
    "changeset": ("text", True), "contact": ("text", True), "key_service": ("text", True),
    "endpoints": (("many", "endpoint", ENDPOINT), True)}
# POST: service_request_id or token (checked apart: exactly one of them).
CREATED: Schema = {"service_request_id": ("text", False), "token": ("text", False),
                   "service_notice": ("text", False), "account_id": ("text", False)}
TOKEN: Schema = {"service_request_id": ("text", False), "token": ("text", True)}
REQUEST: Schema = {
    "service_request_id": ("text", True), "status": ("text", True),
    "status_notes": ("text", False), "service_name": ("text", True),
    "service_code": ("text", True), "description": ("text", False),
    "agency_responsible": ("text", False), "service_notice": ("text", False),
    "requested_datetime": ("datetime", True), "updated_datetime": ("datetime", True),
    "expected_datetime": ("datetime", False), "address": ("text", False),
    "address_id": ("text", False), "zipcode": ("text", False), "lat": ("number", False),
    "long": ("number", False), "media_url": ("text", False)}
ERROR: Schema = {"code": ("int", True), "description": ("text", True)}
W3C = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)")


def _json_value(value: Any, kind: Kind, where: str) -> Any:
    if isinstance(kind, tuple):
        _, _, item = kind
        assert isinstance(value, list), where
        return [_json_value(v, "text", where) if item == "text" else _json_record(v, item, where)
                for v in value]
    checks = {"text": lambda v: isinstance(v, str),
              "bool": lambda v: isinstance(v, bool),
              "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
              "datetime": lambda v: isinstance(v, str) and W3C.fullmatch(v) is not None}
    assert checks[kind](value), f"{where}: {value!r} is not {kind}"
    return value


def _json_record(value: Any, schema: Schema, where: str) -> dict[str, Any]:
    assert isinstance(value, dict), where
    assert set(value) <= set(schema), f"{where}: fields the spec lacks {set(value) - set(schema)}"
    found: dict[str, Any] = {}
    for name, (kind, required) in schema.items():
        if value.get(name) is None:
            assert not required, f"{where}.{name} is required"
            found[name] = None
        else:
            found[name] = _json_value(value[name], kind, f"{where}.{name}")
    return found


def _xml_value(element: ET.Element, kind: Kind, where: str) -> Any:
    if isinstance(kind, tuple):
        _, tag, item = kind
        assert all(child.tag == tag for child in element), f"{where}: only <{tag}>"
        return [_xml_value(c, "text", where) if item == "text" else _xml_record(c, item, where)
                for c in element]
    text = element.text or ""
    parse: dict[str, Callable[[str], Any]] = {
        "text": str, "bool": lambda t: {"true": True, "false": False}[t], "int": int,
        "number": float, "datetime": lambda t: t if W3C.fullmatch(t) else ValueError(t)}
    parsed = parse[kind](text)
    assert not isinstance(parsed, ValueError), f"{where}: {text!r} is not {kind}"
    return parsed


def _xml_record(element: ET.Element, schema: Schema, where: str) -> dict[str, Any]:
    tags = [child.tag for child in element]
    assert len(tags) == len(set(tags)), f"{where}: repeated fields {tags}"
    assert set(tags) <= set(schema), f"{where}: fields the spec lacks {set(tags) - set(schema)}"
    found: dict[str, Any] = {}
    for name, (kind, required) in schema.items():
        child = element.find(name)
        empty = child is None or (not isinstance(kind, tuple) and not (child.text or ""))
        if empty:
            assert not required, f"{where}.{name} is required"
            found[name] = [] if isinstance(kind, tuple) and child is not None else None
        else:
            assert child is not None
            found[name] = _xml_value(child, kind, f"{where}.{name}")
    return found


def document(reply: httpx.Response, fmt: str, root: str, schema: Schema,
             item: str | None = None) -> Any:
    """The answer checked against the spec: one record, or (`item`) a list of them."""
    if fmt == "json":
        assert reply.headers["content-type"] == "application/json; charset=utf-8"
        body = reply.json()
        if item is None:
            return _json_record(body, schema, root)
        assert isinstance(body, list), root
        return [_json_record(v, schema, f"{root}[{i}]") for i, v in enumerate(body)]
    assert reply.headers["content-type"] == "text/xml; charset=utf-8"
    assert reply.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    element = ET.fromstring(reply.content)
    assert element.tag == root
    if item is None:
        return _xml_record(element, schema, root)
    assert all(child.tag == item for child in element), f"<{root}> holds only <{item}>"
    return [_xml_record(c, schema, f"{root}/{item}[{i}]") for i, c in enumerate(element)]


def refusal(reply: httpx.Response, fmt: str, status: int) -> str:
    """The spec's error document, with the HTTP status as its code; its description."""
    assert reply.status_code == status, reply.text
    found = document(reply, fmt, "errors", ERROR, "error")
    assert len(found) == 1 and found[0]["code"] == status
    description: str = found[0]["description"]
    return description


# ----- a gateway with the Open311 door ------------------------------------------------------

@dataclass
class Site:
    gw: harness.Gateway
    http: httpx.AsyncClient
    keys: ApiKeys
    key: str
    intake: Intake
    engine: Engine
    client: Client
    catalog: Catalog
    # Every GET answer's body, to check no reporter's contact was ever shown.
    read: list[str] = field(default_factory=list)

    def rows(self) -> int:
        with Session(self.engine) as session:
            return session.exec(select(func.count()).select_from(Report)).one()

    async def post(self, fmt: str = "json", **fields: str) -> httpx.Response:
        return await self.http.post(f"{BASE}/requests.{fmt}", data=fields)

    async def get(self, path: str, **params: str) -> httpx.Response:
        return await self.http.get(f"{BASE}/{path}", params=params)

    async def request_once(self, request_id: str, fmt: str,
                           ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The request as the public reads it once `ready` holds: the list is the read
        model's, which has a change once the ledger has it (a moment after the answer
        to the one who acted)."""
        shown: dict[str, Any] = {}

        async def has_it() -> bool:
            nonlocal shown
            [shown] = document(await self.get(f"requests/{request_id}.{fmt}"), fmt,
                               "service_requests", REQUEST, "request")
            return ready(shown)
        await eventually(has_it)
        return shown


@pytest.fixture(scope="module")
async def site(dev_env: WorkflowEnvironment, catalog: Catalog,
               tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    root: Path = tmp_path_factory.mktemp("open311")
    async with AsyncExitStack() as stack:
        gw = await stack.enter_async_context(harness.running_gateway(
            dev_env.client, catalog, root))
        engine, client = gw.numbers_engine, gw.client
        assert engine is not None and client is not None
        zone = catalog.calendar.tz
        intake = Intake(client=client, catalog=catalog,
                        dispatch=load_dispatch_catalog(catalog),
                        store=ReportStore(engine, zone), numbers=CaseNumbers(engine, zone),
                        task_queue=gw.task_queue)
        keys = ApiKeys(engine)
        app = open311_app(intake, keys, ledger=gw.ledger, catalog=catalog)
        port = await stack.enter_async_context(serve_http(app, "127.0.0.1", 0))
        read: list[str] = []

        async def keep(reply: httpx.Response) -> None:
            if reply.request.method == "GET":
                await reply.aread()
                read.append(reply.text)
        http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30,
                                 limits=harness.FRESH_CONNECTIONS,
                                 event_hooks={"response": [keep]})
        stack.push_async_callback(http.aclose)
        yield Site(gw, http, keys, keys.add("citylink"), intake, engine, client, catalog, read)


def fumes(site: Site, **extra: str) -> dict[str, str]:
    """A complete, valid post: restaurant fumes in Binhe, on a restaurant of its own."""
    return {"api_key": site.key, "service_code": "restaurant-fumes",
            "lat": str(BINHE[1]), "long": str(BINHE[0]),
            "attribute[business]": f"测试餐馆 {uuid.uuid4().hex[:8]}",
            "attribute[nuisance][]": "fumes", "description": "油烟很大 Heavy fumes every night",
            **extra}


# ----- discovery and services ---------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
async def test_discovery_names_this_endpoint(site: Site, fmt: str) -> None:
    reply = await site.get(f"discovery.{fmt}")
    found = document(reply, fmt, "discovery", DISCOVERY)
    [endpoint] = found["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == f"{site.http.base_url}".rstrip("/") + BASE
    assert endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}


@pytest.mark.parametrize("fmt", FORMATS)
async def test_the_service_list_is_the_dispatch_catalog(site: Site, fmt: str) -> None:
    reply = await site.get(f"services.{fmt}")
    found = document(reply, fmt, "services", SERVICE, "service")
    catalog = site.intake.dispatch.services()
    assert [s["service_code"] for s in found] == [s.code for s in catalog]
    for listed, service in zip(found, catalog, strict=True):
        assert listed["metadata"] is bool(service.attributes)
        assert listed["type"] == "realtime"
        assert listed["service_name"] == f"{service.name_zh} {service.name_en}"
        assert listed["keywords"].split(", ") == list(service.keywords)
        # Open311 asks for no language: groups as "中文 English", descriptions English.
        assert listed["group"] == f"{service.group_zh} {service.group_en}"
        assert listed["description"] == service.description
    assert {"资源 Natural resources", "交通 Traffic"} <= {s["group"] for s in found}
    noise = next(s for s in found if s["service_code"] == "construction-noise-night")
    assert noise["description"] == "Building work making noise between 22:00 and 06:00."


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_service_definition_asks_the_catalogs_questions(site: Site, fmt: str
                                                                   ) -> None:
    reply = await site.get(f"services/black-smoke-vehicle.{fmt}")
    found = document(reply, fmt, "service_definition", SERVICE_DEFINITION)
    assert found["service_code"] == "black-smoke-vehicle"
    by_code = {a["code"]: a for a in found["attributes"]}
    assert [a["order"] for a in found["attributes"]] == [1, 2, 3]
    vehicle = by_code["vehicle"]
    assert (vehicle["datatype"], vehicle["required"], vehicle["variable"]) == \
        ("singlevaluelist", True, True)
    assert {"key": "bus", "name": "客车 Bus"} in vehicle["values"]
    assert vehicle["description"] == "What kind of vehicle?"
    assert by_code["plate"]["required"] is False and not by_code["plate"]["values"]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_what_does_not_exist_is_a_404_error_document(site: Site, fmt: str) -> None:
    assert "no-such-service" in refusal(await site.get(f"services/no-such-service.{fmt}"),
                                        fmt, 404)
    refusal(await site.get(f"requests/R20000101-0001.{fmt}"), fmt, 404)
    refusal(await site.get(f"tokens/{'0' * 32}.{fmt}"), fmt, 404)
    refusal(await site.get(f"nothing-here.{fmt}"), fmt, 404)
    refusal(await site.http.delete(f"{BASE}/requests.{fmt}"), fmt, 405)
    refusal(await site.get(f"services.{fmt}", jurisdiction_id="sfgov.org"), fmt, 404)
    document(await site.get(f"services.{fmt}", jurisdiction_id="bjpg.gov.cn"), fmt,
             "services", SERVICE, "service")
    # A format we do not offer: said in XML, the spec's required format.
    refusal(await site.get("services.html"), "xml", 404)


# ----- posting and following ----------------------------------------------------------------

CONTACT = {"first_name": "Sanfeng", "last_name": "Zhang", "phone": "138 0013 8000",
           "email": "sanfeng.zhang@example.cn"}


def assert_no_contact(bodies: list[str]) -> None:
    assert bodies
    for body in bodies:
        for value in ("Sanfeng", "Zhang", "sanfeng.zhang@example.cn", "138 0013 8000"):
            assert value.lower() not in body.lower()
        assert "13800138000" not in re.sub(r"\D", "", body)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_posted_report_is_on_its_case_and_public_without_its_reporter(
        site: Site, fmt: str) -> None:
    site.read.clear()
    form = fumes(site, **CONTACT, media_url="https://img.example.cn/fumes.jpg",
                 description="油烟 <b>&amp; noise</b>; call Sanfeng Zhang on 138-0013-8000 "
                             "or SANFENG.ZHANG@example.cn", address_string="平谷区新平北路 1 号")
    before = site.rows()
    reply = await site.post(fmt, **form)
    [created] = document(reply, fmt, "service_requests", CREATED, "request")
    assert created["token"] is None and created["service_request_id"]
    assert "7" in created["service_notice"]  # the general tier: answered within 7 days
    request_id = created["service_request_id"]
    assert site.rows() == before + 1

    # The same post again (a retry after a lost answer) is the same report.
    again = document(await site.post(fmt, **form), fmt, "service_requests", CREATED,
                     "request")
    assert again[0]["service_request_id"] == request_id and site.rows() == before + 1

    shown = await site.request_once(request_id, fmt,
                                    lambda shown: bool(shown["agency_responsible"]))
    lead = site.catalog.directory.get("command-center")
    assert lead is not None
    assert shown["service_request_id"] == request_id and shown["status"] == "open"
    assert shown["agency_responsible"] == f"{lead.name_zh} {lead.name_en}"
    assert shown["service_code"] == "restaurant-fumes"
    assert shown["description"].startswith("油烟 <b>&amp; noise</b>; call ***")
    assert shown["address"] == "平谷区新平北路 1 号"
    assert shown["media_url"] == "https://img.example.cn/fumes.jpg"
    assert float(shown["lat"]) == BINHE[1] and float(shown["long"]) == BINHE[0]
    for stamp in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert shown[stamp].endswith("+08:00")  # the district's own time
    assert datetime.fromisoformat(shown["expected_datetime"]) > datetime.now(UTC)

    listed = document(await site.get(f"requests.{fmt}", service_code="restaurant-fumes",
                                     status="open"), fmt, "service_requests", REQUEST,
                      "request")
    assert request_id in [r["service_request_id"] for r in listed]
    by_id = document(await site.get(f"requests.{fmt}", service_request_id=request_id,
                                     status="closed"), fmt, "service_requests", REQUEST,
                     "request")  # ids override every other argument
    assert [r["service_request_id"] for r in by_id] == [request_id]
    closed = document(await site.get(f"requests.{fmt}", status="closed"), fmt,
                      "service_requests", REQUEST, "request")
    assert request_id not in [r["service_request_id"] for r in closed]

    token = site.intake.store.get(request_id)
    assert token is not None
    [known] = document(await site.get(f"tokens/{token.token}.{fmt}"), fmt,
                       "service_requests", TOKEN, "request")
    assert known == {"service_request_id": request_id, "token": token.token}
    assert_no_contact(site.read)


async def test_a_report_the_case_engine_did_not_take_yet_answers_with_a_token(
        site: Site) -> None:
    # An intake whose engine refuses everything (a namespace that does not exist): the
    # report is kept, unrouted, and the client gets a token.
    away = Client(site.client.service_client, namespace=f"absent-{uuid.uuid4().hex[:8]}")
    intake = Intake(client=away, catalog=site.catalog, dispatch=site.intake.dispatch,
                    store=site.intake.store, numbers=CaseNumbers(site.engine, UTC),
                    task_queue="nobody-polls")
    app = open311_app(intake, site.keys, ledger=site.gw.ledger, catalog=site.catalog)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://open311.test") as http:
        reply = await http.post(f"{BASE}/requests.xml", data=fumes(site, **CONTACT))
        [created] = document(reply, "xml", "service_requests", CREATED, "request")
        assert created["service_request_id"] is None and created["token"]
        token = created["token"]
        pending = await http.get(f"{BASE}/tokens/{token}.json")
        assert document(pending, "json", "service_requests", TOKEN, "request") == [
            {"service_request_id": None, "token": token}]

    report = site.intake.store.by_token(token)
    assert report is not None and not report.case_id
    [shown] = document(await site.get(f"requests/{report.id}.json"), "json",
                       "service_requests", REQUEST, "request")
    assert (shown["status"], shown["agency_responsible"]) == ("open", None)

    # Routed later, the token names the request.
    await site.intake.route_pending()
    [known] = document(await site.get(f"tokens/{token}.json"), "json", "service_requests",
                       TOKEN, "request")
    assert known["service_request_id"] == report.id
    [shown] = document(await site.get(f"requests/{report.id}.json"), "json",
                       "service_requests", REQUEST, "request")
    assert shown["agency_responsible"] is not None
    assert_no_contact(site.read)


async def test_a_closed_case_gives_its_answer_and_a_reopened_one_is_followed(
        site: Site) -> None:
    form = {"api_key": site.key, "service_code": "night-quarrying",
            "lat": str(JINHAIHU[1]), "long": str(JINHAIHU[0]),
            "attribute[site]": f"quarry {uuid.uuid4().hex[:8]}",
            "attribute[machines]": "2", "description": "Excavators at night", **CONTACT}
    [created] = document(await site.post(**form), "json", "service_requests", CREATED,
                         "request")
    report = site.intake.store.get(created["service_request_id"])
    assert report is not None and report.case_id
    case = (await site.gw.call("GetCase", cs.GetCaseRequest(case_id=report.case_id),
                               HOTLINE)).case
    for task in case.tasks:
        await site.gw.call("WithdrawTask", cs.CaseServiceWithdrawTaskRequest(
            request_id=f"t-{uuid.uuid4()}", case_id=case.id, task_id=task.id), TOWNSHIP)
    answer = "已查封 The quarry was sealed and the excavators taken away."
    await site.gw.call("CloseCase", cs.CloseCaseRequest(
        request_id=f"t-{uuid.uuid4()}", case_id=case.id, summary="sealed", answer=answer),
        TOWNSHIP)
    closed_at = (await site.gw.call("GetCase", cs.GetCaseRequest(case_id=case.id),
                                    HOTLINE)).case.closed_at.ToDatetime(UTC)
    for fmt in FORMATS:
        shown = await site.request_once(report.id, fmt,
                                        lambda shown: shown["status"] == "closed")
        assert (shown["status"], shown["status_notes"]) == ("closed", answer)
        # For a closed request, updated_datetime is when it was closed.
        updated = datetime.fromisoformat(shown["updated_datetime"])
        assert abs(updated - closed_at) < timedelta(seconds=1)
    closed = document(await site.get("requests.json", status="closed"), "json",
                      "service_requests", REQUEST, "request")
    assert report.id in [r["service_request_id"] for r in closed]

    # 重办: the reporter was not helped nor satisfied; the report follows the new case.
    await site.intake.rate(report.id, solved=False, satisfaction=Satisfaction.DISSATISFIED,
                           actor=Actor(HOTLINE, "op-open311-test"),
                           vouch=Vouch(session_id="open311-test"))
    # The report moves to the new case a moment before its note says why: wait for both.
    shown = await site.request_once(report.id, "xml",
                                    lambda shown: shown["status"] == "open"
                                    and "Reopened" in (shown["status_notes"] or ""))
    township = site.catalog.directory.get(TOWNSHIP)
    assert township is not None
    assert shown["status"] == "open" and "Reopened" in shown["status_notes"]
    assert shown["agency_responsible"] == f"{township.name_zh} {township.name_en}"
    assert_no_contact(site.read)


# ----- refusals -----------------------------------------------------------------------------

def _revoked(site: Site) -> str:
    name = f"gone-{uuid.uuid4().hex[:8]}"
    key = site.keys.add(name)
    site.keys.revoke(name)
    return key


REFUSED: list[tuple[str, int, Any, str]] = [
    ("no key", 403, lambda s: {"api_key": ""}, "api_key"),
    ("a wrong key", 403, lambda s: {"api_key": s.key[:-4] + "AAAA"}, "api_key"),
    ("a made-up key", 403, lambda s: {"api_key": "o311.citylink.guessed"}, "api_key"),
    ("a revoked key", 403, lambda s: {"api_key": _revoked(s)}, "api_key"),
    ("an unknown service", 404, lambda s: {"service_code": "no-such-service"},
     "no-such-service"),
    ("no service", 400, lambda s: {"service_code": ""}, "service_code"),
    ("a missing required answer", 400, lambda s: {"attribute[nuisance][]": ""},
     "nuisance"),
    ("an unknown question", 400, lambda s: {"attribute[colour]": "red"}, "colour"),
    ("an answer not among the values", 400, lambda s: {"attribute[nuisance][]": "mice"},
     "mice"),
    ("a description over 4000 characters", 400, lambda s: {"description": "油" * 4001},
     "4000"),
    ("no location", 400, lambda s: {"lat": "", "long": ""}, "lat and long"),
    ("a point outside the district", 400, lambda s: {"lat": "39.9087", "long": "116.3975"},
     "outside"),
    ("half a point", 400, lambda s: {"long": ""}, "lat and long"),
    ("a bad phone number", 400, lambda s: {"phone": "call me"}, "phone"),
    ("another jurisdiction", 404, lambda s: {"jurisdiction_id": "sfgov.org"}, "sfgov.org"),
    ("a control character", 400, lambda s: {"description": "a\x00b"}, "control"),
]


@pytest.mark.parametrize(("case", "status", "change", "says"), REFUSED,
                         ids=[r[0] for r in REFUSED])
async def test_a_refused_post_stores_nothing(site: Site, case: str, status: int,
                                             change: Any, says: str) -> None:
    before = site.rows()
    fmt = "xml" if status == 403 else "json"
    description = refusal(await site.post(fmt, **{**fumes(site), **change(site)}), fmt,
                          status)
    assert says in description
    assert site.rows() == before


async def test_a_post_that_is_not_a_form_is_refused(site: Site) -> None:
    reply = await site.http.post(f"{BASE}/requests.json", json=fumes(site))
    assert "x-www-form-urlencoded" in refusal(reply, "json", 400)
    reply = await site.http.post(f"{BASE}/requests.json", content=b"api_key=%FF%FE",
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    refusal(reply, "json", 400)


async def test_api6_sensitive_business_flows_a_key_over_its_rate_waits(site: Site) -> None:
    name = f"slow-{uuid.uuid4().hex[:8]}"
    key = site.keys.add(name, per_minute=2)
    for _ in range(2):  # refused posts count too: they cost work
        refusal(await site.post(api_key=key, service_code=""), "json", 400)
    reply = await site.post(api_key=key, service_code="")
    refusal(reply, "json", 429)
    assert 1 <= int(reply.headers["retry-after"]) <= 30
    # Another client is not held up.
    refusal(await site.post(api_key=site.key, service_code=""), "json", 400)


async def test_an_address_over_its_rate_waits(site: Site) -> None:
    app = open311_app(site.intake, site.keys, ledger=site.gw.ledger, catalog=site.catalog,
                      limits=Open311Limits(address_per_minute=3))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://open311.test") as http:
        for _ in range(3):
            assert (await http.get(f"{BASE}/services.json")).status_code == 200
        reply = await http.get(f"{BASE}/services.xml")
        refusal(reply, "xml", 429)
        assert int(reply.headers["retry-after"]) >= 1


@pytest.mark.parametrize(("params", "says"), [
    ({"status": "pending"}, "status"),
    ({"start_date": "yesterday"}, "start_date"),
    ({"start_date": "2026-01-01T00:00:00"}, "offset"),
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90"),
    ({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "start"),
    ({"service_code": ",".join(f"c{i}" for i in range(60))}, "service_code"),
])
async def test_bad_listing_arguments_are_400(site: Site, params: dict[str, str],
                                             says: str) -> None:
    assert says in refusal(await site.get("requests.json", **params), "json", 400)


async def test_a_listing_window_takes_an_offset_sent_unencoded(site: Site) -> None:
    since = (datetime.now(UTC) - timedelta(days=1)).astimezone(site.catalog.calendar.tz)
    # "+08:00" in a query string unencoded arrives as " 08:00".
    query = f"start_date={since.isoformat(timespec='seconds')}"
    reply = await site.http.get(f"{BASE}/requests.json?{query}")
    assert reply.status_code == 200, reply.text
    for shown in document(reply, "json", "service_requests", REQUEST, "request"):
        assert datetime.fromisoformat(shown["requested_datetime"]) >= since


# ----- keys ---------------------------------------------------------------------------------

def test_keys_are_kept_as_hashes_and_refused_once_revoked(site: Site) -> None:
    name = f"app-{uuid.uuid4().hex[:8]}"
    key = site.keys.add(name, per_minute=30)
    assert site.keys.verify(key) == name
    with Session(site.engine) as session:
        dumped = repr(session.exec(select(Open311Key)).all())
    assert key.rsplit(".", 1)[1] not in dumped
    with pytest.raises(ApiKeyError, match="already"):
        site.keys.add(name)
    assert site.keys.revoke(name) and not site.keys.revoke(name)
    assert site.keys.verify(key) is None
    again = site.keys.add(name)  # a new key for the same client
    assert site.keys.verify(again) == name and site.keys.verify(key) is None
    listed = {k.name: k for k in site.keys.list()}
    assert listed[name].active and listed[name].per_minute == 60
    for bad in ("Upper", "has space", "x" * 57, ""):
        with pytest.raises(ApiKeyError, match="name"):
            site.keys.add(bad)
    with pytest.raises(ApiKeyError, match="per_minute"):
        site.keys.add(f"zero-{uuid.uuid4().hex[:8]}", per_minute=0)
    assert site.keys.verify("") is None and site.keys.verify("o311..") is None
    assert listed[name].created_at.tzinfo is not None


def test_the_reporters_contact_is_masked_however_it_was_typed() -> None:
    report = Report(id="R20261201-0001", day="20261201", sequence=1, request_key="k",
                    token="t", channel="open311", service_code="general-request",
                    received_by="open311/citylink", received_at=datetime.now(UTC),
                    contact_name="Li 王小明", contact_phone="138-0013-8000",
                    contact_email="li@example.cn")
    text = ("王小明 (Li) on 13800138000, 138 0013 8000 or LI@EXAMPLE.CN told the police; "
            "batch 1380013800099 is not a phone number")
    assert public_text(text, report) == (
        "*** (***) on ***, *** or *** told the police; batch 1380013800099 is not a phone "
        "number")


async def test_the_gateway_serves_open311_on_its_http_port(site: Site) -> None:
    """The door the tests above drive is the one the gateway mounts beside the console."""
    reply = await site.gw.http.get(f"{BASE}/services.json")
    assert reply.status_code == 200
    assert {s["service_code"] for s in reply.json()} == {
        s.code for s in site.intake.dispatch.services()}


async def test_a_call_to_the_hotline_is_not_published(site: Site) -> None:
    """Open311 lists what was asked through it; a phone call's description and address
    stay with the agencies."""
    taken = (await site.gw.call("SubmitReport", quarry_report("quarry by phone"), HOTLINE)).report
    assert (await site.get(f"requests/{taken.id}.json")).status_code == 404
    listed = await site.get("requests.json", service_request_id=taken.id)
    assert listed.status_code == 200 and listed.json() == []


@pytest.mark.parametrize("query", [{"start_date": "9999-12-31T00:00:00Z"},
                                   {"end_date": "0001-01-02T00:00:00Z"}])
async def test_a_date_at_the_ends_of_time_is_a_bad_request(site: Site,
                                                           query: dict[str, str]) -> None:
    reply = await site.get("requests.json", **query)
    assert reply.status_code == 400 and reply.json()[0]["code"] == 400


async def test_discovery_never_names_the_host_a_client_wrote(site: Site) -> None:
    reply = await site.http.get(f"{BASE}/discovery.json", headers={"host": "evil.example"})
    [endpoint] = reply.json()["endpoints"]
    assert endpoint["url"] == f"{site.http.base_url}".rstrip("/") + BASE


# ----- a reporter's photo -------------------------------------------------------------------

async def test_a_photo_sent_with_a_report_is_public_without_its_place_or_time(
        site: Site) -> None:
    # It says where it was taken, in EXIF and in a comment some phones write.
    with Image.open(io.BytesIO(photo())) as camera:
        out = io.BytesIO()
        camera.save(out, "JPEG", exif=camera.getexif(), comment=b"GPS 40.17N 117.35E IMEI 8614")
        taken = out.getvalue()
    with Image.open(io.BytesIO(taken)) as sent:
        assert sent.getexif().get_ifd(0x8825) and b"IMEI" in sent.info["comment"]
    form = fumes(site)
    before = site.rows()
    reply = await site.http.post(f"{BASE}/requests.json", data=form,
                                 files={"media": ("fumes.jpg", taken, "image/jpeg")})
    [created] = document(reply, "json", "service_requests", CREATED, "request")
    request_id = created["service_request_id"]
    # Posted again with the same photo (a retry): the same report, the photo kept once.
    again = await site.http.post(f"{BASE}/requests.json", data=form,
                                 files={"media": ("fumes.jpg", taken, "image/jpeg")})
    assert document(again, "json", "service_requests", CREATED,
                    "request")[0]["service_request_id"] == request_id
    assert site.rows() == before + 1

    shown = await site.request_once(request_id, "json", lambda s: bool(s["media_url"]))
    url = httpx.URL(shown["media_url"])
    assert url.path.startswith(f"{BASE}/media/") and url.path.endswith(".jpg")
    public = await site.http.get(url.path)
    assert public.status_code == 200 and public.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(public.content)) as copy:
        assert copy.size == (1200, 900)
        assert not copy.getexif() and not {"exif", "comment", "icc_profile", "xmp"} & \
            set(copy.info)  # no place, no time, no device
    assert b"IMEI" not in public.content and b"GPS" not in public.content
    # The desk keeps the public copy, and the digest of the file as it came.
    with Session(site.engine) as session:
        kept = session.get(ReportPhoto, hashlib.sha256(taken).hexdigest())
        assert kept is not None and kept.public == public.content


def _huge_png() -> bytes:
    """A small file that claims a huge picture (a decompression bomb)."""
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("media, says", [
    (b"%PDF-1.4\n% a leaflet\n", "send a photo as JPEG, PNG or WebP"),
    (b"\xff\xd8\xff\xe0 not really a jpeg", "could not be read"),
    (_huge_png(), "over 50 million pixels"),
])
async def test_what_is_not_a_photo_is_refused_and_nothing_stored(
        site: Site, media: bytes, says: str) -> None:
    before = site.rows()
    reply = await site.http.post(f"{BASE}/requests.json", data=fumes(site),
                                 files={"media": ("x.jpg", media, "image/jpeg")})
    assert says in refusal(reply, "json", 400)
    assert site.rows() == before


async def test_a_public_copy_is_found_only_by_its_exact_name(site: Site) -> None:
    for name in ("0" * 64 + ".jpg", "../" + "0" * 61 + ".jpg", "x.jpg"):
        assert (await site.http.get(f"{BASE}/media/{name}")).status_code == 404


async def test_a_refused_post_keeps_not_even_its_photo(site: Site) -> None:
    taken = photo(lat=40.2)
    reply = await site.http.post(f"{BASE}/requests.json",
                                 data=fumes(site, service_code="no-such-service"),
                                 files={"media": ("x.jpg", taken, "image/jpeg")})
    assert reply.status_code >= 400
    with Session(site.engine) as session:
        assert session.get(ReportPhoto, hashlib.sha256(taken).hexdigest()) is None


async def test_an_empty_photo_field_is_no_photo(site: Site) -> None:
    # A browser's form with no file chosen sends the field with nothing in it.
    reply = await site.http.post(f"{BASE}/requests.json", data=fumes(site),
                                 files={"media": ("", b"", "application/octet-stream")})
    [created] = document(reply, "json", "service_requests", CREATED, "request")
    assert created["service_request_id"]


async def test_a_photo_needs_a_valid_key_before_it_is_read(site: Site) -> None:
    reply = await site.http.post(f"{BASE}/requests.json", data=fumes(site, api_key="x"),
                                 files={"media": ("x.png", _huge_png(), "image/png")})
    refusal(reply, "json", 403)
