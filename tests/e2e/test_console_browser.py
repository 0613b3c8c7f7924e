"""The console in a real browser (Debian's Chromium, driven by Playwright), against the
whole platform as real processes: a township dispatcher opens an illegal-mining case,
the natural-resources officer on a phone sees the task arrive without reloading, signs
and reports on scene; oversight sees the hand-off gap and a breach on the swimlane; a
stranger agency's officer gets the not-found page; a form post without its CSRF token
is refused; the hotline picks a report's category. The screenshots in docs/ come from
here."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from cli.provision import demo_password
from gateway.console.refusal_words import REFUSALS
from tests.e2e.platform import Platform, wait_for
from tests.gateway.test_evidence import photo

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As the machine's notes say: no first-run work, no background calls to the outside.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DOCS = Path(__file__).parents[2] / "docs"
TOWNSHIP, NR, STRANGER, OVERSIGHT = ("jinhaihu-township", "natural-resources",
                                     "traffic-police", "oversight")
FARMING, MARKET, COORDINATOR = "agriculture-rural", "market-regulation", "command-center"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
NAVIGATION_TIMEOUT_MS = 120_000
# And what a page shows after a form is sent (the same reads) within this, not 5 s.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: 'make test' installs Debian's"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def signed_in(browser: Browser, platform: Platform, agency: str, officer: str,
              viewport: dict[str, int] = DESKTOP) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=viewport,  # type: ignore[arg-type]
                                  base_url=platform.endpoints.http)
    # A page reads the case from its workflow (a query the worker answers) and asks the
    # agencies: alone a second, but `make test` runs another platform beside this one on
    # two cores, and a page has once taken longer than Playwright's default 30 s there.
    # What is asserted is what the page shows, not how soon (the benchmark times that).
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login")
    page.select_option("select[name=agency]", agency)
    page.fill("input[name=officer_id]", officer)
    page.fill("input[name=password]", demo_password(platform.data_dir, agency, officer) or "")
    page.click("form[action='/login'] button[type=submit]")
    expect(page.get_by_test_id("who")).to_have_text(officer)
    return context, page


def opened_case_number(desk: Page) -> str:
    """The number on the case page an open leads to. Opening waits for the worker to take
    the new case (update-with-start: its first workflow task, the first of a fresh worker
    in the module's first test) and the case page reads the case and its timeline: a
    second alone, but under the rest of the suite's load on two cores that was once
    longer than Playwright's default 30 s, hence two minutes. Any other page (an error)
    fails at once, saying what it said."""
    number, error = desk.get_by_test_id("case-number"), desk.get_by_test_id("error")
    expect(number.or_(error)).to_be_visible(timeout=120_000)
    assert not error.is_visible(), f"opening a case led to {desk.url}: {error.inner_text()}"
    return number.inner_text()


def fits(page: Page) -> bool:
    """Nothing on the page is wider than its screen (no sideways scrolling)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= innerWidth"))


def too_wide(page: Page) -> list[str]:
    """What sticks out past the screen's edge (outside the swimlane's own scroller)."""
    return list(page.evaluate("""[...document.querySelectorAll('body *')]
        .filter(e => !e.children.length && !e.closest('.track-viewport')
                && e.getBoundingClientRect().right > innerWidth + 1)
        .slice(0, 6).map(e => e.tagName + ' ' + e.textContent.trim().slice(0, 40))"""))


def test_a_case_from_the_dispatchers_browser_to_the_officers_phone_to_oversight(
        platform: Platform, chromium: Browser) -> None:
    DOCS.mkdir(exist_ok=True)
    _officer_context, phone = signed_in(chromium, platform, NR, "field-officer", PHONE)
    phone.goto("/inbox")
    phone.evaluate("window.notReloaded = true")

    # The township's dispatcher opens the case; the form says who will lead.
    _township_context, desk = signed_in(chromium, platform, TOWNSHIP, "dispatcher")
    desk.goto("/cases")
    desk.select_option("select[name=type]", "illegal-mining")
    desk.select_option("select[name=jurisdiction]", "jinhaihu")
    expect(desk.get_by_test_id("lead-preview")).to_have_text("金海湖镇政府")
    desk.fill("input[name=subject_key]", f"JHH-QUARRY-{uuid.uuid4().hex[:6]}")
    desk.fill("input[name=title]", "金海湖村北坡夜间盗采")
    desk.fill("textarea[name=description]", "两台挖掘机夜间作业，弃土倒入河道。")
    desk.fill("input[name=location]", "金海湖村北坡采石场")
    desk.click("#open-case button[type=submit]")
    number = opened_case_number(desk)
    assert re.fullmatch(r"\d{8}-\d{4}", number)

    # The task arrives on the officer's phone without a reload; sign, then on scene.
    item = phone.locator(f"li.item[data-case='{number}'][data-ref='T1']")
    expect(item).to_be_visible(timeout=30_000)
    assert phone.evaluate("window.notReloaded") is True
    # The place first, with a map search; both clocks of 吹哨报到 counting down.
    expect(item.get_by_test_id("place")).to_have_text("金海湖村北坡采石场")
    expect(item.get_by_test_id("description")).to_contain_text("弃土倒入河道")
    expect(item.locator(".clock .left")).to_have_count(2)
    expect(item.locator(".clock .left").first).to_contain_text("剩余")
    expect(item.get_by_test_id("on-scene-clock")).to_be_visible()
    assert fits(phone), too_wide(phone)
    phone.screenshot(path=str(DOCS / "console-inbox-phone.png"), full_page=True)
    item.get_by_role("button", name="签收").click()
    item = phone.locator(f"li.item[data-case='{number}'][data-ref='T1']")
    expect(item).to_have_attribute("data-action", "arrive")
    item.get_by_role("button", name="到场").click()
    expect(phone.locator(f"li.item[data-case='{number}'][data-ref='T1']")).to_have_attribute(
        "data-action", "complete")
    # The case's page fits the phone too: nothing wider than the screen.
    phone.goto(f"/cases/{number}")
    expect(phone.get_by_test_id("place")).to_be_visible()
    assert fits(phone), too_wide(phone)
    phone.goto("/inbox")

    # The owner dispatches a task with a short sign-for clock nobody meets (a breach),
    # and offers the case to public security (a hand-off gap while it waits).
    desk.goto(f"/cases/{number}")
    desk.select_option("#dispatch select[name=kind]", "work-safety")
    desk.select_option("#dispatch select[name=assignee]", "emergency-management")
    desk.click("#dispatch details.clocks summary")
    desk.fill("#dispatch input[name=sign_within]", "2s")
    desk.click("#dispatch button[type=submit]")
    expect(desk.locator(".flash")).to_be_visible()
    desk.select_option("select[name=to_agency]", "public-security")
    desk.fill("form[action='/act/OfferHandoff'] input[name=reason]", "涉嫌非法采矿罪")
    desk.click("form[action='/act/OfferHandoff'] button[type=submit]")
    expect(desk.locator(".flash")).to_be_visible()

    # Oversight sees the hand-off gap and the breach on the case's swimlane.
    _oversight_context, watch = signed_in(chromium, platform, OVERSIGHT, "duty-officer")
    watch.goto(f"/cases/{number}")
    for _ in range(60):
        if watch.locator(".swimlane .bar.gap-handoff").count() and \
                watch.locator(".swimlane .bar.breached").count():
            break
        watch.wait_for_timeout(1000)
        watch.reload()
    expect(watch.locator(".swimlane .lane[data-agency='jinhaihu-township'] .bar.gap-handoff")
           ).to_have_count(1)
    expect(watch.locator(
        ".swimlane .lane[data-agency='emergency-management'] .bar.breached")).to_have_count(1)
    watch.screenshot(path=str(DOCS / "console-case.png"), full_page=True)
    watch.goto("/oversight")
    expect(watch.get_by_test_id("stalled")).to_contain_text(number)
    expect(watch.get_by_test_id("ledger")).to_have_text(re.compile("台账完整"))

    # The officer's inbox at a desk, in English.
    phone.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    phone.goto("/lang/en?next=/inbox")
    expect(phone.locator("h1")).to_have_text("Inbox")
    phone.screenshot(path=str(DOCS / "console-inbox.png"), full_page=True)


def test_a_stranger_gets_not_found_and_a_post_without_csrf_changes_nothing(
        platform: Platform, chromium: Browser) -> None:
    _context, desk = signed_in(chromium, platform, TOWNSHIP, "dispatcher")
    desk.goto("/cases")
    desk.fill("input[name=subject_key]", f"JHH-QUARRY-{uuid.uuid4().hex[:6]}")
    desk.fill("input[name=title]", "Quarrying")
    desk.select_option("select[name=jurisdiction]", "jinhaihu")
    desk.click("#open-case button[type=submit]")
    number = opened_case_number(desk)

    _stranger_context, stranger = signed_in(chromium, platform, STRANGER, "duty-officer")
    reply = stranger.goto(f"/cases/{number}")
    assert reply is not None and reply.status == 404
    # Worded as for a wrong number, in the reader's language.
    expect(stranger.get_by_test_id("error")).to_have_text(REFUSALS["CASE_NOT_FOUND"][0])

    # The owner's own browser, but a post without the token: refused, nothing changes.
    forged = desk.request.post("/act/CloseCase", form={"case_id": number,
                                                       "request_id": str(uuid.uuid4())})
    assert forged.status == 403
    desk.goto(f"/cases/{number}")
    expect(desk.locator(".case-head")).to_contain_text("办理中")


def test_the_days_demo_gives_every_page_something_true(platform: Platform,
                                                       chromium: Browser) -> None:
    platform.cli("demo", "day")
    _context, watch = signed_in(chromium, platform, OVERSIGHT, "duty-officer")
    watch.goto("/oversight")
    expect(watch.get_by_test_id("stalled").locator("tr.breached").first).to_be_visible()
    # A morning's few tasks rank nobody: the page says why, with the basis of each rate.
    expect(watch.get_by_test_id("ranking-rule")).to_contain_text("10")
    expect(watch.get_by_test_id("scorecards").locator(".n").first).to_be_visible()
    expect(watch.locator(".badge.red, .badge.black")).to_have_count(0)
    expect(watch.get_by_test_id("handoff-matrix").locator("td[title]").first).to_be_visible()
    expect(watch.get_by_test_id("lines-chart")).to_contain_text("food-supply-chain")
    watch.screenshot(path=str(DOCS / "console-oversight.png"), full_page=True)
    csv = watch.request.get("/oversight/export/csv")
    assert csv.ok and csv.text().startswith("case_id,")
    _coordinator_context, desk = signed_in(chromium, platform, "command-center",
                                           "duty-officer")
    desk.goto("/escalations")
    expect(desk.get_by_test_id("escalations").locator("li.item").first).to_be_visible()
    # The hotline takes a call: the category list follows the search box, the chosen
    # category asks its questions, and the open cases nearby are shown before submitting.
    desk.goto("/intake")
    desk.get_by_test_id("catalog-q").fill("噪音")
    expect(desk.locator("tr[data-service]")).to_have_count(2)
    desk.locator("tr[data-service='construction-noise-night'] a.button").click()
    expect(desk.get_by_test_id("service")).to_contain_text("夜间施工噪音")
    desk.fill("#intake input[name='attributes.site']", "金海湖村北工地")
    desk.fill("#intake input[name=lat]", "40.17")
    desk.fill("#intake input[name=lon]", "117.35")
    desk.click("#intake button[value=check]")
    expect(desk.get_by_test_id("candidates")).to_contain_text("金海湖镇")
    desk.screenshot(path=str(DOCS / "console-intake.png"), full_page=True)


def test_a_lead_objects_on_its_phone_the_coordinator_reassigns_and_the_new_lead_is_told(
        platform: Platform, chromium: Browser) -> None:
    # Urban management finds a recalled batch; the matrix makes farming the lead.
    opened = platform.cli_json(
        "case", "open", "--type", "food-supply-chain", "--stage", "production",
        "--jurisdiction", "pinggu", "--subject", f"BATCH-{uuid.uuid4().hex[:6]}",
        "--title", "召回批次流入市场", "--as", "urban-management")
    number = opened["number"]
    _lead_context, lead = signed_in(chromium, platform, FARMING, "duty-officer", PHONE)
    lead.goto(f"/cases/{number}")
    objection = lead.get_by_test_id("objection")
    expect(objection).to_contain_text("派单异议")  # with the window's deadline counting down
    expect(objection.locator(".clock .left")).to_contain_text("剩余")
    objection.locator("summary").click()
    objection.locator("textarea[name=reason]").fill("该批次未出加工厂，应由市场监管牵头")
    objection.locator("select[name=suggested_agency]").select_option(MARKET)
    objection.locator("button[type=submit]").click()
    expect(lead.locator(".flash")).to_be_visible()
    expect(lead.get_by_test_id("objection")).to_contain_text("异议待指挥中心裁定")
    assert fits(lead), too_wide(lead)

    _coordinator_context, desk = signed_in(chromium, platform, COORDINATOR, "duty-officer")
    desk.goto("/inbox")
    card = desk.locator(f"li.item[data-case='{number}'][data-ref='O1']")
    expect(card).to_contain_text("对牵头办理提出异议", timeout=30_000)
    card.locator("summary", has_text="改派牵头单位").click()
    reassign = card.get_by_test_id("reassign")
    expect(reassign.locator("select[name=reassign_to]")).to_have_value(MARKET)
    reassign.locator("button[type=submit]").click()
    expect(desk.locator(".flash")).to_be_visible()

    # Market regulation learns it leads: a notice, unread until seen, in its language.
    _market_context, market = signed_in(chromium, platform, MARKET, "duty-officer", PHONE)
    market.goto("/inbox")
    expect(market.get_by_test_id("unread")).to_be_visible(timeout=30_000)
    market.get_by_test_id("unread").click()
    notice = market.locator(f"li.item[data-case='{number}'][data-kind='ownership']")
    expect(notice).to_contain_text("改由区市场监督管理局牵头")
    expect(notice.get_by_test_id("unread-mark")).to_be_visible()
    assert fits(market), too_wide(market)
    market.screenshot(path=str(DOCS / "console-notices-phone.png"), full_page=True)
    market.reload()  # seen: no longer unread
    expect(market.locator(f"li.item[data-case='{number}'] [data-testid=unread-mark]")
           ).to_have_count(0)
    market.goto("/lang/en?next=/notices")
    expect(market.locator(f"li.item[data-case='{number}'][data-kind='ownership']")
           ).to_contain_text("Market Regulation Administration now leads the case")


def test_every_page_fits_a_phone_in_both_languages(platform: Platform,
                                                   chromium: Browser) -> None:
    """At 360 and 414 px, every page each reader has, in Chinese and in English."""
    opened = platform.cli_json(
        "case", "open", "--type", "illegal-mining", "--jurisdiction", "jinhaihu",
        "--subject", f"JHH-{uuid.uuid4().hex[:6]}", "--title", "金海湖村东沟夜间盗采砂石",
        "--as", TOWNSHIP)
    pages = {(TOWNSHIP, "dispatcher"): ["/inbox", "/cases", f"/cases/{opened['number']}",
                                        "/notices"],
             (NR, "field-officer"): ["/inbox", f"/cases/{opened['number']}"],
             (COORDINATOR, "duty-officer"): ["/escalations", "/intake",
                                             "/intake?service=construction-noise-night",
                                             "/follow-up"],
             (OVERSIGHT, "duty-officer"): ["/oversight"]}
    for (agency, officer), paths in pages.items():
        _context, phone = signed_in(chromium, platform, agency, officer, PHONE)
        for width in (360, 414):
            phone.set_viewport_size({"width": width, "height": 800})
            for lang in ("zh", "en"):
                phone.goto(f"/lang/{lang}?next=/inbox")
                for path in paths:
                    reply = phone.goto(path)
                    assert reply is not None and reply.ok, (path, reply and reply.status)
                    assert fits(phone), (agency, width, lang, path, too_wide(phone))


def test_an_officer_photographs_on_a_phone_and_the_lead_sees_the_photo_and_its_flag(
        platform: Platform, chromium: Browser, tmp_path: Path) -> None:
    opened = platform.cli_json(
        "case", "open", "--type", "illegal-mining", "--jurisdiction", "jinhaihu",
        "--subject", f"JHH-{uuid.uuid4().hex[:6]}", "--title", "北坡夜间盗采", "--as", TOWNSHIP)
    number = opened["number"]
    _officer_context, phone = signed_in(chromium, platform, NR, "field-officer", PHONE)
    phone.goto("/inbox")
    card = phone.locator(f"li.item[data-case='{number}'][data-ref='T1']")
    expect(card).to_be_visible(timeout=30_000)
    card.get_by_role("button", name="签收").click()
    card = phone.locator(f"li.item[data-case='{number}'][data-ref='T1']")
    expect(card).to_have_attribute("data-action", "arrive")
    card.get_by_role("button", name="到场").click()
    card = phone.locator(f"li.item[data-case='{number}'][data-ref='T1']")
    expect(card).to_have_attribute("data-action", "complete")
    # Two photos from the phone's camera roll: one of tonight, one taken a day before
    # the dispatch (an old picture passed off as tonight's).
    tonight, yesterday = tmp_path / "excavator.jpg", tmp_path / "old.jpg"
    beijing = datetime.now(timezone(timedelta(hours=8))).replace(tzinfo=None)  # as EXIF has it
    tonight.write_bytes(photo(taken=beijing))
    yesterday.write_bytes(photo(taken=beijing - timedelta(days=1)))
    card.get_by_test_id("attach").set_input_files([str(tonight), str(yesterday)])
    expect(card.locator(".uploads li.done")).to_have_count(2, timeout=30_000)
    card.locator("summary", has_text="办结").click()
    refs = card.locator("textarea[name=evidence_refs]")
    expect(refs).to_have_value(re.compile(r"^evidence:natural-resources/[0-9a-f]{64}\n"
                                          r"evidence:natural-resources/[0-9a-f]{64}$"))
    card.locator("textarea[name=findings]").fill("两台挖掘机，现场无许可证")
    card.locator("form[action='/act/CompleteTask'] button[type=submit]").click()
    expect(phone.locator(".flash")).to_be_visible()
    assert fits(phone), too_wide(phone)

    # The lead sees both photos, small, and the old one flagged.
    _township_context, desk = signed_in(chromium, platform, TOWNSHIP, "duty-officer")
    desk.goto(f"/cases/{number}")
    evidence = desk.get_by_test_id("evidence")
    expect(evidence.get_by_test_id("thumbnail")).to_have_count(2)
    # Loaded (lazily, once in view), each a picture, not a broken image.
    evidence.scroll_into_view_if_needed()
    # Asked from outside the page (the console's CSP forbids the eval with which
    # Playwright's wait_for_function polls inside it, once a first look is not enough).
    wait_for(lambda: bool(desk.evaluate(
        "[...document.querySelectorAll('[data-testid=thumbnail]')]"
        ".every(i => i.complete && i.naturalWidth > 0)")), "the thumbnails to load",
        timeout=30, interval=0.2)
    expect(evidence.get_by_test_id("flag-before_dispatch")).to_have_count(1)
    desk.screenshot(path=str(DOCS / "console-evidence.png"), full_page=True)
    # Police, on the same case, see that it exists, not what it shows.
    _police_context, police = signed_in(chromium, platform, "public-security",
                                        "duty-officer")
    police.goto(f"/cases/{number}")
    expect(police.get_by_test_id("evidence").get_by_test_id("thumbnail")).to_have_count(0)
    # The CLI attaches too, from the desk of the agency whose task it is.
    attached = platform.cli_json("task", "attach", number, "T2", str(tonight), "--as",
                                 "public-security")
    assert attached["files"][0]["ref"].startswith("evidence:public-security/")
