"""The console's doors, attacked and used over real HTTP against the real gateway:
sign-in, the session cookie, CSRF, a stranger's case, and commands that go through the
same authorization as the API and change nothing when refused."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie

import httpx
import pytest

from cli.provision import demo_password
from gateway.console import live
from gateway.console.i18n import TEXT
from gateway.console.refusal_words import REFUSALS
from observability import analysis
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as cs
from tests.gateway.harness import FIRST_HEAD, FIRST_HEAD_AGENCY, FRESH_CONNECTIONS, Gateway

TOWNSHIP, NR, STRANGER = "jinhaihu-township", "natural-resources", "traffic-police"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Browser:
    """A reader of the console, keeping its cookies as a browser does for this site
    (Secure cookies included: browsers count http://127.0.0.1 as a secure context)."""

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        self.http = httpx.AsyncClient(base_url=gw.http_url, timeout=30,
                                      limits=FRESH_CONNECTIONS)
        self.cookies: dict[str, str] = {}

    def _keep(self, reply: httpx.Response) -> None:
        for header in reply.headers.get_list("set-cookie"):
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def _headers(self) -> dict[str, str]:
        return {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    async def get(self, path: str, **headers: str) -> httpx.Response:
        reply = await self.http.get(path, headers={**self._headers(), **headers})
        self._keep(reply)
        return reply

    async def post(self, path: str, data: dict[str, str]) -> httpx.Response:
        reply = await self.http.post(path, data=data, headers=self._headers())
        self._keep(reply)
        return reply

    async def sign_in(self, agency: str, officer: str = "duty-officer",
                      password: str | None = None) -> httpx.Response:
        form = await self.get("/login")
        return await self.post("/login", {
            "csrf": _csrf(form.text), "agency": agency, "officer_id": officer,
            "password": password or demo_password(self.gw.root, agency, officer) or "",
            "next": "/inbox"})

    async def act(self, method: str, page: str, **fields: str) -> httpx.Response:
        token = _csrf((await self.get(page)).text)
        return await self.post(f"/act/{method}", {"csrf": token, "next": page,
                                                  "request_id": str(uuid.uuid4()), **fields})


@pytest.fixture
async def browser(gw: Gateway) -> AsyncIterator[Browser]:
    reader = Browser(gw)
    yield reader
    await reader.http.aclose()


async def _open(browser: Browser) -> str:
    """A mining case opened through the console's form; its page's path."""
    reply = await browser.act("OpenCase", "/cases", type="illegal-mining",
                              jurisdiction="jinhaihu", title="Quarrying by night",
                              subject_key=f"Q-{uuid.uuid4().hex[:10]}")
    assert reply.status_code == 303, reply.text
    location: str = reply.headers["location"]
    assert re.fullmatch(r"/cases/\d{8}-\d{4}", location)
    return location


async def test_signing_in_sets_a_secure_session_cookie(browser: Browser) -> None:
    reply = await browser.sign_in(TOWNSHIP, "dispatcher")
    assert (reply.status_code, reply.headers["location"]) == (303, "/inbox")
    cookie = next(c for c in reply.headers.get_list("set-cookie")
                  if c.startswith("seamless_session="))
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert attribute.lower() in cookie.lower()
    inbox = await browser.get("/inbox")
    assert inbox.status_code == 200 and 'data-testid="who" translate="no">dispatcher<' in \
        inbox.text


async def test_a_first_head_chooses_their_password_on_the_sign_in_page(
        gw: Gateway, browser: Browser) -> None:
    """Production's way in: the operator added the head with a one-time password."""
    one_time = gw.first_head_password
    asked = await browser.sign_in(FIRST_HEAD_AGENCY, FIRST_HEAD, password=one_time)
    assert asked.status_code == 400 and "seamless_session" not in browser.cookies
    assert 'data-testid="new-password"' in asked.text
    assert f'value="{FIRST_HEAD}"' in asked.text and "首次登录须设置" in asked.text
    chosen = await browser.post("/login", {
        "csrf": _csrf(asked.text), "agency": FIRST_HEAD_AGENCY, "officer_id": FIRST_HEAD,
        "password": one_time, "new_password": "a password of my own", "next": "/inbox"})
    assert (chosen.status_code, chosen.headers["location"]) == (303, "/inbox")
    assert "seamless_session" in browser.cookies
    # The one-time password is spent; theirs signs them in.
    again = Browser(gw)
    assert (await again.sign_in(FIRST_HEAD_AGENCY, FIRST_HEAD, password=one_time)
            ).status_code == 401
    assert (await again.sign_in(FIRST_HEAD_AGENCY, FIRST_HEAD,
                                password="a password of my own")).status_code == 303
    await again.http.aclose()


async def test_a_wrong_password_signs_nobody_in(browser: Browser) -> None:
    reply = await browser.sign_in(TOWNSHIP, "dispatcher", password="not-the-password")
    assert reply.status_code == 401
    assert "seamless_session" not in reply.cookies
    assert (await browser.get("/inbox")).headers["location"] == "/login?next=/inbox"


async def test_without_a_session_every_page_asks_to_sign_in(browser: Browser) -> None:
    for path in ("/inbox", "/cases", "/cases/20261130-0001", "/oversight", "/escalations"):
        reply = await browser.get(path)
        assert (reply.status_code, reply.headers["location"]) == (303, f"/login?next={path}")
    refused = await browser.post("/act/SignTask", {"case_id": "x", "task_id": "T1"})
    assert refused.headers["location"].startswith("/login")


async def test_a_form_post_without_its_csrf_token_is_refused_and_changes_nothing(
        gw: Gateway, browser: Browser) -> None:
    await browser.sign_in(TOWNSHIP, "dispatcher")
    case_page = await _open(browser)
    officer = Browser(gw)
    await officer.sign_in(NR, "field-officer")
    for token in ("", "0" * 64, _csrf((await browser.get("/inbox")).text)):
        # No token, a made-up one, and another reader's: each is refused.
        forged = await officer.post("/act/SignTask", {
            "csrf": token, "case_id": case_page.rpartition("/")[2], "task_id": "T1",
            "request_id": str(uuid.uuid4())})
        assert forged.status_code == 403
    case = (await gw.call("GetCase", cs.GetCaseRequest(
        case_id=case_page.rpartition("/")[2]), TOWNSHIP)).case
    assert case.tasks[0].state == case_pb2.TASK_STATE_DISPATCHED
    await officer.http.aclose()


async def test_an_officer_acts_on_a_task_from_the_inbox(gw: Gateway, browser: Browser) -> None:
    await browser.sign_in(TOWNSHIP, "dispatcher")
    number = (await _open(browser)).rpartition("/")[2]
    officer = Browser(gw)
    await officer.sign_in(NR, "field-officer")
    signed = await officer.act("SignTask", "/inbox", case_id=number, task_id="T1")
    assert (signed.status_code, signed.headers["location"]) == (303, "/inbox")
    said = f"{TEXT['done']['zh']} {TEXT['sign']['zh']}"
    assert said in (await officer.get("/inbox")).text  # said once,
    assert said not in (await officer.get("/inbox")).text  # then gone
    case = (await gw.call("GetCase", cs.GetCaseRequest(case_id=number), TOWNSHIP)).case
    assert case.tasks[0].state == case_pb2.TASK_STATE_SIGNED
    signer = [a for a in case.acts if a.kind == case_pb2.CASE_EVENT_KIND_TASK_SIGNED]
    assert [(a.actor.agency_id, a.actor.officer_id) for a in signer] == \
        [(NR, "field-officer")]
    # The same command again is refused by the rules, as over the API.
    again = await officer.act("SignTask", "/inbox", case_id=number, task_id="T1")
    assert again.status_code == 409
    await officer.http.aclose()


async def test_a_case_just_opened_shows_its_page_before_its_record_catches_up(
        browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    await browser.sign_in(TOWNSHIP, "dispatcher")
    # The ledger has not heard of the case yet: its first events are appended a moment
    # after it opens, and on a busy machine that is after its page is asked for.
    monkeypatch.setattr(analysis, "replay_cases", lambda *_args, **_kwargs: iter(()))
    location = await _open(browser)
    page = await browser.get(location)
    assert page.status_code == 200, page.text
    number = re.search(r'data-testid="case-number">([^<]*)<', page.text)
    assert number and number.group(1) == location.rpartition("/")[2]


async def test_a_strangers_case_is_not_found_worded_like_a_wrong_number(
        gw: Gateway, browser: Browser) -> None:
    await browser.sign_in(TOWNSHIP, "dispatcher")
    number = (await _open(browser)).rpartition("/")[2]
    stranger = Browser(gw)
    await stranger.sign_in(STRANGER)
    theirs = await stranger.get(f"/cases/{number}")
    missing = await stranger.get("/cases/20990101-0001")
    assert theirs.status_code == missing.status_code == 404
    said = re.search(r'data-testid="error">([^<]*)<', theirs.text)
    assert said and said.group(1) == REFUSALS["CASE_NOT_FOUND"][0]
    assert theirs.text.replace(number, "N") == missing.text.replace("20990101-0001", "N")
    await stranger.get(f"/lang/en?next=/cases/{number}")
    theirs, missing = (await stranger.get(f"/cases/{number}"),
                       await stranger.get("/cases/20990101-0001"))
    detail = re.search(r'data-testid="error-detail">([^<]*)<', theirs.text)
    assert detail and detail.group(1) == f"there is no case {number}"
    assert theirs.text.replace(number, "N") == missing.text.replace("20990101-0001", "N")
    # Nor may the stranger act on it through the console.
    refused = await stranger.act("WithdrawTask", "/inbox", case_id=number, task_id="T1")
    assert refused.status_code == 404
    await stranger.http.aclose()


async def test_signing_out_ends_the_session_at_the_agency(gw: Gateway,
                                                          browser: Browser) -> None:
    await browser.sign_in(NR, "field-officer")
    token = browser.cookies["seamless_session"]
    page = await browser.get("/inbox")
    await browser.post("/logout", {"csrf": _csrf(page.text)})
    reply = await gw.http.post("/seamless.v1.CaseService/ListInbox", content="{}", headers={
        "content-type": "application/json", "authorization": f"Bearer {token}"})
    assert reply.status_code == 401
    assert (await browser.get("/inbox")).status_code == 303


async def test_only_commands_go_through_the_command_door(browser: Browser) -> None:
    await browser.sign_in(TOWNSHIP, "dispatcher")
    reply = await browser.act("GetCase", "/inbox", case_id="x")
    assert reply.status_code == 400
    unknown = await browser.act("SignTask", "/inbox", case_id="x", officer="someone-else")
    assert unknown.status_code == 400


async def test_pages_load_nothing_from_elsewhere_and_may_not_be_framed(
        browser: Browser) -> None:
    await browser.sign_in(TOWNSHIP, "dispatcher")
    for path in ("/login", "/inbox", "/cases"):
        page = await browser.get(path)
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert not re.search(r'(src|href)="(https?:)?//', page.text)
    assert (await browser.get("/static/console.js")).status_code == 200


async def test_an_open_redirect_is_not_offered(browser: Browser) -> None:
    form = await browser.get("/login")
    reply = await browser.post("/login", {
        "csrf": _csrf(form.text), "agency": TOWNSHIP, "officer_id": "dispatcher",
        "password": demo_password(browser.gw.root, TOWNSHIP, "dispatcher") or "",
        "next": "//evil.example/"})
    assert reply.headers["location"] == "/inbox"


async def test_oversight_downloads_the_event_log(gw: Gateway, browser: Browser) -> None:
    await browser.sign_in(TOWNSHIP, "dispatcher")
    number = (await _open(browser)).rpartition("/")[2]
    watch = Browser(gw)
    await watch.sign_in("oversight")
    csv = await watch.get("/oversight/export/csv")
    assert csv.status_code == 200 and csv.text.startswith("case_id,")
    assert csv.headers["content-disposition"].startswith("attachment")
    stranger = Browser(gw)
    await stranger.sign_in(STRANGER)
    theirs = await stranger.get("/oversight/export/csv")
    case = (await gw.call("GetCase", cs.GetCaseRequest(case_id=number), TOWNSHIP)).case
    assert case.id in csv.text and case.id not in theirs.text
    # A navigation another site starts (the session cookie is Lax) runs no heavy read:
    # the reader is asked first, and one click of theirs runs it.
    for heavy, site in (("/oversight/export/csv", "cross-site"),
                        ("/oversight?kind=GAP_KIND_HANDOFF_PENDING", "same-site")):
        asked = await watch.get(heavy, **{"sec-fetch-site": site})
        assert asked.status_code == 200 and 'data-testid="confirm"' in asked.text
        assert "case_id," not in asked.text and f'href="{heavy.replace("&", "&amp;")}"' \
            in asked.text
    await watch.http.aclose()
    await stranger.http.aclose()


async def test_a_sign_in_form_without_its_token_signs_nobody_in(browser: Browser) -> None:
    await browser.get("/login")
    for token in ("", "é", "0" * 64):
        reply = await browser.post("/login", {
            "csrf": token, "agency": TOWNSHIP, "officer_id": "dispatcher",
            "password": demo_password(browser.gw.root, TOWNSHIP, "dispatcher") or ""})
        assert reply.status_code == 403
        assert "seamless_session" not in browser.cookies


async def test_a_sign_out_without_its_token_changes_nothing(browser: Browser) -> None:
    await browser.sign_in(NR, "field-officer")
    for token in ("", "é"):
        refused = await browser.post("/logout", {"csrf": token})
        assert refused.status_code == 403
    assert (await browser.get("/inbox")).status_code == 200  # still signed in


async def test_a_request_without_the_cookie_leaves_the_cookie_be(browser: Browser) -> None:
    """What a link from another site gets (the browser withholds a Strict cookie): sent
    to sign in, but the session the browser holds is not deleted."""
    reply = await browser.http.get("/cases/20261130-0001")
    assert reply.status_code == 303
    assert not any(c.startswith("seamless_session=") for c in
                   reply.headers.get_list("set-cookie"))
    browser.cookies["seamless_session"] = "not-a-session"
    forged = await browser.get("/inbox")
    assert forged.status_code == 303 and "seamless_session" not in browser.cookies


async def test_an_oversized_form_is_refused_before_it_is_read(browser: Browser) -> None:
    await browser.sign_in(TOWNSHIP, "dispatcher")
    page = await browser.get("/cases")
    reply = await browser.post("/act/OpenCase", {"csrf": _csrf(page.text),
                                                 "title": "x" * 70_000})
    assert reply.status_code == 413


async def test_every_page_renders_for_the_reader_it_is_for(gw: Gateway,
                                                           browser: Browser) -> None:
    await browser.sign_in(TOWNSHIP, "dispatcher")
    number = (await _open(browser)).rpartition("/")[2]
    # A closed case too: withdraw every task, then the head closes it.
    case = (await gw.call("GetCase", cs.GetCaseRequest(case_id=number), TOWNSHIP)).case
    for task in case.tasks:
        await gw.call("WithdrawTask", cs.CaseServiceWithdrawTaskRequest(
            request_id=str(uuid.uuid4()), case_id=number, task_id=task.id), TOWNSHIP)
    head = Browser(gw)
    await head.sign_in(TOWNSHIP)
    open_page = await head.get(f"/cases/{number}")
    assert 'data-testid="close-why"' not in open_page.text  # nothing keeps it open
    closed = await head.act("CloseCase", f"/cases/{number}", case_id=number,
                            summary="nothing to do")
    assert closed.status_code == 303
    page = await head.get(f"/cases/{number}")
    assert page.status_code == 200 and 'action="/act/CloseCase"' not in page.text
    assert "已结案" in page.text and TEXT["within_line"]["zh"] in page.text
    assert "data-deadline" not in page.text.split("<h2>")[0]  # no clock runs on
    coordinator, watch = Browser(gw), Browser(gw)
    await coordinator.sign_in("command-center")
    await watch.sign_in("oversight")
    assert (await coordinator.get("/escalations")).status_code == 200
    assert (await watch.get("/oversight")).status_code == 200
    assert (await watch.get(f"/cases/{number}")).status_code == 200
    for reader in (head, coordinator, watch):
        await reader.http.aclose()


async def test_a_dispatcher_is_not_offered_what_takes_the_head(browser: Browser) -> None:
    await browser.sign_in(TOWNSHIP, "dispatcher")
    page = await browser.get(await _open(browser))
    assert "disabled>" in page.text.split('action="/act/CloseCase"')[1].split("</form>")[0]
    assert TEXT["close_needs_head"]["zh"] in page.text


class _Line:
    """A console page's live line (`GET /events`), read as it streams."""

    def __init__(self, browser: Browser) -> None:
        self.browser, self.ended = browser, asyncio.Event()
        self.lines: list[str] = []
        self.status = 0
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async with self.browser.http.stream(
                    "GET", "/events", headers=self.browser._headers()) as reply:
                self.status = reply.status_code
                async for line in reply.aiter_lines():
                    self.lines.append(line)
        finally:
            self.ended.set()

    def heard(self) -> int:
        return self.lines.count("event: work")

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def test_an_open_inbox_hears_at_once_of_its_agencys_work_and_only_its_own(
        gw: Gateway, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.5)
    # Fire and rescue: in no case of these tests (only approvals call it), so nothing
    # else running on the shared gateway would speak to it either.
    bystander = "fire-rescue"
    readers = {}
    for agency in (NR, bystander):
        readers[agency] = Browser(gw)
        await readers[agency].sign_in(agency)
    lines = {agency: _Line(reader) for agency, reader in readers.items()}
    try:
        await asyncio.sleep(1.0)  # the lines are open
        assert {line.status for line in lines.values()} == {200}
        await browser.sign_in(TOWNSHIP)
        await _open(browser)  # the whistle: natural resources is sent a task
        give_up = asyncio.get_running_loop().time() + 10
        while not lines[NR].heard():
            assert asyncio.get_running_loop().time() < give_up, lines[NR].lines
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)
        assert lines[bystander].heard() == 0  # no part in the case: nothing heard
        assert ": alive" in lines[bystander].lines

        # Signed out: the line ends with the session.
        page = await readers[NR].get("/inbox")
        await readers[NR].post("/logout", {"csrf": _csrf(page.text)})
        await asyncio.wait_for(lines[NR].ended.wait(), timeout=10)
    finally:
        for line in lines.values():
            await line.close()
        for reader in readers.values():
            await reader.http.aclose()


async def test_the_live_line_is_for_signed_in_readers_only(browser: Browser) -> None:
    reply = await browser.get("/events")
    assert reply.status_code in (302, 303) and "/login" in reply.headers["location"]


async def test_notification_settings_each_person_their_part(gw: Gateway) -> None:
    head, field = Browser(gw), Browser(gw)
    try:
        await head.sign_in(NR)
        await field.sign_in(NR, "field-officer")
        page = await head.get("/notifications")
        assert page.status_code == 200 and 'data-testid="webhook-form"' in page.text
        added = await head.post("/notifications/webhook", {
            "csrf": _csrf(page.text), "url": "https://sms.nr.example/seamless",
            "event": "notice.REMINDER"})
        assert added.status_code == 200 and 'data-testid="webhook-secret"' in added.text
        secret = re.search(r'<code translate="no">([^<]+)</code>', added.text)
        assert secret and len(secret.group(1)) >= 40
        again = await head.get("/notifications")
        assert "https://sms.nr.example/seamless" in again.text
        assert secret.group(1) not in again.text  # shown once, on the page that added it

        # A field officer keeps its own e-mail, and nothing of the agency's.
        mine = await field.get("/notifications")
        assert 'data-testid="webhook-form"' not in mine.text
        assert "https://sms.nr.example/seamless" not in mine.text
        refused = await field.post("/notifications/webhook", {
            "csrf": _csrf(mine.text), "url": "https://evil.example/x"})
        assert refused.status_code == 409 and 'data-testid="notify-problem"' in refused.text
        no_mail = await field.post("/notifications/email", {
            "csrf": _csrf(mine.text), "address": "field@nr.example"})
        assert no_mail.status_code == 409  # this platform's agencies have no mail server
        forged = await field.post("/notifications/email", {"address": "field@nr.example"})
        assert forged.status_code == 403
        listed = await head.get("/notifications")
        assert "evil.example" not in listed.text and "field@nr.example" not in listed.text
    finally:
        await head.http.aclose()
        await field.http.aclose()
