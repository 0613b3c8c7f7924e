"""The hotline's desk in the console, over real HTTP against the real gateway: the
category picker searches the dispatch catalog, a call taken through the intake form
opens a case and a second call on the same subject joins it (并单), the owner closes
with an answer (答复), and the follow-up (回访) records a rating that reopens the case
(重办). Other agencies get neither page, and a form without its CSRF token changes
nothing."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta, timezone

import pytest

from gateway.console.hotline import read_intake
from gateway.console.i18n import TEXT
from gateway.console.refusal_words import REFUSALS
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as cs
from seamless.v1 import report_pb2 as rp
from tests.gateway.harness import Gateway
from tests.gateway.test_console import Browser, _csrf
from tests.workflows.harness import eventually
from workflows.catalog_loader import Catalog, load_catalog
from workflows.dispatch_catalog import load_dispatch_catalog

HOTLINE, TOWNSHIP, NR, STRANGER = ("command-center", "jinhaihu-township",
                                   "natural-resources", "traffic-police")
NOISE = "construction-noise-night"
PHONE = "13812345678"
# A point in Jinhaihu township, where the township leads hotline work orders.
JINHAIHU = {"lat": "40.17", "lon": "117.35"}
BEIJING = timezone(timedelta(hours=8))


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert found, f"the page has no hidden {name}"
    return found.group(1)


def _flash(page: str) -> str:
    found = re.search(r'<p class="flash" role="status">([^<]*)</p>', page)
    return html.unescape(found.group(1)) if found else ""


def _reports_count(page: str) -> int:
    found = re.search(r'data-testid="reports-count">(\d+)<', page)
    assert found, "the case page shows no count of reports"
    return int(found.group(1))


async def _signed_in(gw: Gateway, agency: str, officer: str = "duty-officer") -> Browser:
    reader = Browser(gw)
    reply = await reader.sign_in(agency, officer)
    assert reply.status_code == 303, reply.text
    return reader


@pytest.fixture
async def hotline(gw: Gateway) -> AsyncIterator[Browser]:
    reader = await _signed_in(gw, HOTLINE)
    yield reader
    await reader.http.aclose()


async def _intake(desk: Browser, site: str, *, intent: str = "submit",
                  form_page: str = "", **fields: str) -> tuple[str, dict[str, str]]:
    """The noise form filled in for `site` and posted; the reply's location (or body)."""
    page = form_page or (await desk.get(f"/intake?service={NOISE}")).text
    form = {"csrf": _csrf(page), "request_id": _hidden(page, "request_id"),
            "service_code": NOISE, "attributes.site": site,
            "description": "pile driving after midnight", "address": "north gate",
            **JINHAIHU, "channel": "hotline", "contact_name": "王小明",
            "contact_phone": PHONE, "intent": intent, **fields}
    reply = await desk.post("/intake", form)
    return (reply.headers.get("location", "") if reply.status_code == 303 else
            f"{reply.status_code}:{reply.text}"), form


async def test_the_hotline_picks_a_category_by_search(hotline: Browser) -> None:
    inbox = await hotline.get("/inbox")
    assert 'href="/intake"' in inbox.text and 'href="/follow-up"' in inbox.text
    noise = await hotline.get("/intake?q=噪音")
    assert noise.status_code == 200
    shown = re.findall(r'<tr data-service="([^"]+)"', noise.text)
    assert shown == ["construction-noise-night", "restaurant-fumes"]
    # In the reader's language only: name, description and group.
    assert "夜间施工噪音" in noise.text and "Construction noise at night" not in noise.text
    assert "22:00至次日06:00施工" in noise.text and "Building work" not in noise.text
    assert TEXT["tier_utilities"]["zh"] in noise.text and "<td>环境</td>" in noise.text
    assert "Environment" not in noise.text
    # The search-as-you-type list, in English words too.
    smoke = await hotline.get("/intake/services?q=smoke")
    assert re.findall(r'<tr data-service="([^"]+)"', smoke.text) == [
        "black-smoke-vehicle", "restaurant-fumes"]
    assert "<html" not in smoke.text
    nothing = await hotline.get("/intake?q=no-such-thing-at-all")
    assert TEXT["no_service_found"]["zh"] in nothing.text
    # A chosen category asks its own questions: required marked, a list as a select.
    form = await hotline.get("/intake?service=black-smoke-vehicle")
    vehicle = re.search(r'<select name="attributes.vehicle" required>(.*?)</select>',
                        form.text, re.S)
    assert vehicle and 'value="heavy-truck"' in vehicle.group(1)
    assert 'name="attributes.plate"' in form.text and 'name="contact_phone"' in form.text
    assert 'data-attribute="vehicle">什么类型的车辆？ <abbr class="required"' in form.text
    assert ">重型货车</option>" in vehicle.group(1) and "Heavy truck" not in form.text
    assert "What kind of vehicle?" not in form.text and "Traffic" not in form.text
    fumes = (await hotline.get("/intake?service=restaurant-fumes")).text
    assert "<legend>哪些方面扰民？" in fumes and "> 油烟</label>" in fumes
    assert "What troubles you?" not in fumes and "Fumes" not in fumes
    assert (await hotline.get("/intake?service=no-such-service")).status_code == 404


async def test_an_english_reader_picks_and_fills_in_english_only(hotline: Browser) -> None:
    await hotline.get("/lang/en?next=/intake")
    noise = (await hotline.get("/intake?q=noise")).text
    assert re.findall(r'<tr data-service="([^"]+)"', noise) == [
        "construction-noise-night", "restaurant-fumes"]
    assert "Construction noise at night" in noise and "夜间施工噪音" not in noise
    assert "Building work making noise" in noise and "施工，噪音扰民" not in noise
    assert "<td>Environment</td>" in noise and "环境" not in noise
    smoke = (await hotline.get("/intake/services?q=黑烟")).text
    assert "Vehicle emitting black smoke" in smoke and "车辆冒黑烟" not in smoke
    assert "<td>Traffic</td>" in smoke and "交通" not in smoke
    form = (await hotline.get("/intake?service=black-smoke-vehicle")).text
    assert 'data-attribute="vehicle">What kind of vehicle? <abbr class="required"' in form
    assert ">Heavy truck</option>" in form and "重型货车" not in form
    assert "什么类型的车辆" not in form and "哪条路" not in form
    fumes = (await hotline.get("/intake?service=restaurant-fumes")).text
    assert "<legend>What troubles you?" in fumes and "> Fumes</label>" in fumes
    assert "哪些方面扰民" not in fumes and "油烟" not in fumes


async def test_a_call_opens_a_case_and_a_second_on_its_subject_joins_it(
        gw: Gateway, hotline: Browser) -> None:
    site = f"工地 {uuid.uuid4().hex[:8]}"
    location, _ = await _intake(hotline, site)
    assert re.fullmatch(r"/cases/\d{8}-\d{4}", location), location
    page = (await hotline.get(location)).text
    said = _flash(page)
    report_id = re.search(r"R\d{8}-\d{4}", said)
    assert report_id and said == TEXT["report_opened"]["zh"].format(report_id.group(0))
    assert _reports_count(page) == 1 and f'data-report="{report_id.group(0)}"' in page
    case = (await gw.call("GetCase", cs.GetCaseRequest(case_id=location.rpartition("/")[2]),
                          HOTLINE)).case
    assert (case.owner, case.jurisdiction) == (TOWNSHIP, "jinhaihu")

    # Before the second call is submitted, the desk shows the case on its subject.
    checked, _ = await _intake(hotline, f" {site.upper()} ", intent="check")
    status, _, body = checked.partition(":")
    assert status == "200"
    on_subject = re.search(r'data-testid="on-subject">(.*?)</ul>', body, re.S)
    assert on_subject and f'data-case="{case.number}"' in on_subject.group(1)
    assert not (await gw.call("ListReports", rp.ListReportsRequest(case_id=case.id),
                              HOTLINE)).reports[1:]  # checking took nothing in

    form_page = (await hotline.get(f"/intake?service={NOISE}")).text
    merged, form = await _intake(hotline, site, form_page=form_page,
                                 contact_name="李四", contact_phone="13900001111")
    assert merged == location
    page = (await hotline.get(location)).text
    second = re.search(r"R\d{8}-\d{4}", _flash(page))
    assert second and _flash(page) == TEXT["report_merged"]["zh"].format(second.group(0))
    assert _reports_count(page) == 2
    # The same form posted again (a double click) is the same report.
    again = await hotline.post("/intake", form)
    assert again.headers["location"] == location
    assert _reports_count((await hotline.get(location)).text) == 2


async def test_the_service_refusal_is_shown_next_to_its_field(hotline: Browser) -> None:
    site = f"工地 {uuid.uuid4().hex[:8]}"
    refused, _ = await _intake(hotline, site, contact_phone="call me")
    status, _, body = refused.partition(":")
    assert status == "400"
    error = re.search(r'data-testid="error-contact_phone">([^<]*)<', body)
    assert error and error.group(1) == REFUSALS["BAD_PHONE"][0]  # in the reader's words
    assert f'value="{site}"' in body and 'value="call me"' in body  # kept as typed
    page = (await hotline.get("/intake?service=black-smoke-vehicle")).text
    reply = await hotline.post("/intake", {
        "csrf": _csrf(page), "request_id": _hidden(page, "request_id"),
        "service_code": "black-smoke-vehicle", "lat": "40.17", "intent": "submit"})
    assert reply.status_code == 400 and 'data-testid="error-lat"' in reply.text
    reply = await hotline.post("/intake", {
        "csrf": _csrf(page), "request_id": _hidden(page, "request_id"),
        "service_code": "black-smoke-vehicle", **JINHAIHU, "description": "thick smoke",
        "intent": "submit"})
    assert reply.status_code == 400
    assert 'data-testid="error-attributes.vehicle"' in reply.text


async def test_other_agencies_get_neither_page(gw: Gateway, hotline: Browser) -> None:
    for agency in (TOWNSHIP, "oversight"):
        reader = await _signed_in(gw, agency)
        for path in ("/intake", "/intake?service=" + NOISE, "/intake/services?q=x",
                     "/follow-up"):
            assert (await reader.get(path)).status_code == 403, (agency, path)
        page = (await reader.get("/cases")).text
        assert 'href="/intake"' not in page and 'href="/follow-up"' not in page
        site = f"工地 {uuid.uuid4().hex[:8]}"
        posted = await reader.post("/intake", {
            "csrf": _csrf((await reader.get("/cases")).text), "service_code": NOISE,
            "attributes.site": site, **JINHAIHU, "intent": "submit",
            "request_id": str(uuid.uuid4())})
        assert posted.status_code == 403
        assert not (await gw.call("ListCases", cs.ListCasesRequest(subject=site),
                                  HOTLINE)).cases
        await reader.http.aclose()


async def test_a_post_without_the_csrf_token_changes_nothing(gw: Gateway,
                                                             hotline: Browser) -> None:
    site = f"工地 {uuid.uuid4().hex[:8]}"
    page = (await hotline.get(f"/intake?service={NOISE}")).text
    stranger = await _signed_in(gw, TOWNSHIP)
    for token in ("", "0" * 64, _csrf((await stranger.get("/inbox")).text)):
        refused, _ = await _intake(hotline, site, form_page=page, csrf=token)
        assert refused.startswith("403:")
    assert not (await gw.call("ListCases", cs.ListCasesRequest(subject=site),
                              HOTLINE)).cases
    forged = await hotline.post("/act/RateReport", {
        "report_id": "R20261130-0001", "solved": "true",
        "satisfaction": "SATISFACTION_SATISFIED"})
    assert forged.status_code == 403
    await stranger.http.aclose()


async def test_closed_with_an_answer_followed_up_and_reopened(gw: Gateway,
                                                              hotline: Browser) -> None:
    site = f"工地 {uuid.uuid4().hex[:8]}"
    location, _ = await _intake(hotline, site)
    number = location.rpartition("/")[2]
    report_id = (await gw.call("ListReports", rp.ListReportsRequest(case_id=number),
                               HOTLINE)).reports[0].id
    head = await _signed_in(gw, TOWNSHIP)
    page = (await head.get(location)).text
    assert re.search(r'<textarea name="answer" maxlength="2000" required', page)
    # Without an answer the service refuses; the form says so at the answer, and keeps
    # the summary typed.
    refused = await head.act("CloseCase", location, case_id=number, summary="piling moved")
    assert refused.status_code == 409
    error = re.search(r'data-testid="error-answer">([^<]*)<', refused.text)
    assert error and error.group(1) == REFUSALS["ANSWER_REQUIRED"][0]
    assert ">piling moved</textarea>" in refused.text
    answer = "The site stops work at 22:00 from today."
    closed = await head.act("CloseCase", location, case_id=number, summary="piling moved",
                            answer=answer)
    assert (closed.status_code, closed.headers["location"]) == (303, location)
    assert f'data-testid="answer">{TEXT["answer"]["zh"]}: {answer}<' in \
        (await head.get(location)).text

    follow_up = (await hotline.get("/follow-up")).text
    row = re.search(rf'<tr data-report="{report_id}">(.*?)</tr>', follow_up, re.S)
    assert row, "the report is not on the follow-up list"
    for shown in (number, answer, "王小明", PHONE):
        assert shown in html.unescape(row.group(1)), shown
    rated = await hotline.post("/act/RateReport", {
        "csrf": _csrf(follow_up), "next": "/follow-up", "report_id": report_id,
        "solved": "false", "satisfaction": "SATISFACTION_DISSATISFIED", "reopen_lead": ""})
    assert (rated.status_code, rated.headers["location"]) == (303, "/follow-up")
    after = (await hotline.get("/follow-up")).text
    report = (await gw.call("GetReport", rp.GetReportRequest(report_id=report_id),
                            HOTLINE)).report
    assert report.reopened_as and report.case_number != number
    assert _flash(after) == TEXT["rated_reopened"]["zh"].format(report_id,
                                                                report.case_number)
    assert f'data-report="{report_id}"' not in after
    reopened = (await gw.call("GetCase", cs.GetCaseRequest(case_id=report.reopened_as),
                              HOTLINE)).case
    assert reopened.status == case_pb2.CASE_STATUS_OPEN and reopened.owner == TOWNSHIP
    assert not report.rated  # it follows the reopened case now, which nobody has rated

    # The work redone and the case closed again, the reporter is asked about it in turn.
    for task in reopened.tasks:
        await gw.call("WithdrawTask", cs.CaseServiceWithdrawTaskRequest(
            request_id=str(uuid.uuid4()), case_id=reopened.id, task_id=task.id), TOWNSHIP)
    redone = f"/cases/{reopened.number}"
    closed = await head.act("CloseCase", redone, case_id=reopened.number, summary="redone",
                            answer="Work now stops at 20:00.")
    assert closed.status_code == 303, closed.text

    async def asked_again() -> bool:
        return f'data-report="{report_id}"' in (await hotline.get("/follow-up")).text
    await eventually(asked_again, within=30)
    follow_up = (await hotline.get("/follow-up")).text
    rated = await hotline.post("/act/RateReport", {
        "csrf": _csrf(follow_up), "next": "/follow-up", "report_id": report_id,
        "solved": "true", "satisfaction": "SATISFACTION_SATISFIED", "reopen_lead": ""})
    assert rated.status_code == 303
    report = (await gw.call("GetReport", rp.GetReportRequest(report_id=report_id),
                            HOTLINE)).report
    assert report.rated and report.case_number == reopened.number
    assert report.satisfaction == rp.SATISFACTION_SATISFIED
    assert f'data-report="{report_id}"' not in (await hotline.get("/follow-up")).text
    await head.http.aclose()


async def test_the_owner_merges_a_report_in_and_splits_it_off(gw: Gateway,
                                                              hotline: Browser) -> None:
    here, _ = await _intake(hotline, f"工地 {uuid.uuid4().hex[:8]}")
    there, _ = await _intake(hotline, f"工地 {uuid.uuid4().hex[:8]}")
    stray = (await gw.call("ListReports", rp.ListReportsRequest(
        case_id=there.rpartition("/")[2]), HOTLINE)).reports[0].id
    owner = await _signed_in(gw, TOWNSHIP)
    page = (await owner.get(here)).text
    assert 'action="/act/MergeReport"' in page
    assert 'action="/act/SplitReport"' not in page  # a case's only report stays
    number = here.rpartition("/")[2]
    case_id = (await gw.call("GetCase", cs.GetCaseRequest(case_id=number), HOTLINE)).case.id
    merged = await owner.act("MergeReport", here, case_id=case_id, report_id=stray)
    assert (merged.status_code, merged.headers["location"]) == (303, here)
    page = (await owner.get(here)).text
    assert _flash(page) == TEXT["merged_into"]["zh"].format(stray)
    assert _reports_count(page) == 2 and 'action="/act/SplitReport"' in page
    # An agency with no part in the case sees neither it nor its reports.
    assisting = await _signed_in(gw, NR)
    split = await owner.act("SplitReport", here, report_id=stray, reason="another site")
    assert split.status_code == 303
    page = (await owner.get(here)).text
    moved = (await gw.call("GetReport", rp.GetReportRequest(report_id=stray),
                           HOTLINE)).report
    assert moved.case_number not in ("", number)
    assert _flash(page) == TEXT["split_to"]["zh"].format(stray, moved.case_number)
    assert _reports_count(page) == 1
    assert (await assisting.get(here)).status_code == 404  # not on the case at all
    await owner.http.aclose()
    await assisting.http.aclose()


def test_the_intake_form_reads_into_the_report_request(catalog: Catalog) -> None:
    dispatch = load_dispatch_catalog(catalog)
    mining = dispatch.service("illegal-mining")
    assert mining is not None
    intake = read_intake(mining, {
        "request_id": ["r-1"], "channel": ["phone?"], "attributes.site": [" 北坡 "],
        "attributes.activity": ["digging", "hauling"],
        "attributes.seen-at": ["2026-12-01T21:30"], "lat": ["40.17"], "lon": ["117.35"],
        "contact_phone": ["138 1234 5678"]}, BEIJING)
    assert not intake.errors and intake.subject == "北坡"
    request = intake.request
    assert (request.request_id, request.channel, request.located) == ("r-1", "hotline", True)
    assert {a.code: a.value for a in request.attributes} == {
        "site": "北坡", "activity": "digging,hauling", "seen-at": "2026-12-01T21:30:00+08:00"}
    one_half = read_intake(mining, {"lon": ["117.35"]}, BEIJING)
    assert set(one_half.errors) == {"lat"} and not one_half.request.located
    words = read_intake(mining, {"lat": ["north"], "lon": ["east"]}, BEIJING)
    assert set(words.errors) == {"lat"}


async def test_the_case_page_shows_what_the_citizen_wrote_with_the_contact_as_need_to_know(
        gw: Gateway, hotline: Browser) -> None:
    location, _ = await _intake(hotline, f"工地 {uuid.uuid4().hex[:8]}")
    number = location.rpartition("/")[2]
    case = (await gw.call("GetCase", cs.GetCaseRequest(case_id=number), HOTLINE)).case
    # Ecology is asked to measure the noise: it takes part, and may not call the reporter.
    await gw.call("DispatchTask", cs.DispatchTaskRequest(
        request_id=str(uuid.uuid4()), case_id=number, kind="pollution-complaint",
        assignee="ecology-environment"), case.owner)
    readers = {HOTLINE: hotline, case.owner: await _signed_in(gw, case.owner),
               "ecology-environment": await _signed_in(gw, "ecology-environment")}
    for agency, reader in readers.items():
        page = (await reader.get(location)).text
        detail = re.search(r'<tr class="report-detail".*?</tr>', page, re.S)
        assert detail, agency
        shown = html.unescape(detail.group(0))
        assert "pile driving after midnight" in shown and "north gate" in shown, agency
        noise = load_dispatch_catalog(load_catalog()).service(NOISE)
        assert noise is not None and noise.attributes[0].description_zh in shown
        if agency in (HOTLINE, case.owner):  # who may call the reporter back
            assert f'href="tel:{PHONE}"' in shown and "王小明" in shown, agency
        else:
            assert PHONE not in shown and "王小明" not in shown and "王*" in shown, agency
            assert 'href="tel:' not in shown
    for agency, reader in readers.items():
        if agency != HOTLINE:
            await reader.http.aclose()
