"""What a person needs to decide, on the page where they decide it: the place and the
case on a field officer's card, both clocks at 吹哨, a decline's suggestions and its
review held to who can do the work, an extension's date and reason. Over real HTTP
against the real gateway, as test_console's readers."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote, urlencode

import pytest

from gateway.console.i18n import TEXT
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as cs
from tests.gateway.harness import Gateway
from tests.gateway.test_console import Browser
from tests.workflows.harness import eventually
from workflows.catalog_loader import load_catalog

TOWNSHIP, NR, POLICE = "jinhaihu-township", "natural-resources", "public-security"
FARMING, QUALITY, MARKET = "agriculture-rural", "quality-inspection", "market-regulation"
PLACE = "金海湖镇 北山采石场3号坑"
DESCRIPTION = "Two excavators working the north pit at night; spoil dumped by the river."
# A reader of the console signed in as (agency, officer), closed at the test's end.
Readers = Callable[..., Awaitable[Browser]]


@pytest.fixture
async def readers(gw: Gateway) -> AsyncIterator[Readers]:
    opened: dict[str, Browser] = {}

    async def reader(agency: str, officer: str = "duty-officer") -> Browser:
        browser = Browser(gw)
        await browser.sign_in(agency, officer)
        opened[f"{officer}@{agency}"] = browser
        return browser
    yield reader
    for browser in opened.values():
        await browser.http.aclose()


def rid() -> str:
    return str(uuid.uuid4())


def card(page: str, case: str, ref: str) -> str:
    """The inbox card of `ref` in `case` (its <li>), or "" when the inbox has none."""
    found = re.search(rf'<li class="item[^"]*" data-case="{re.escape(case)}" '
                      rf'data-ref="{re.escape(ref)}".*?</li>', page, re.S)
    return found.group(0) if found else ""


async def card_of(browser: Browser, case: str, ref: str) -> str:
    """The card, once the read model has it (the inbox reads it, a moment behind)."""
    async def shown() -> bool:
        return bool(card((await browser.get("/inbox")).text, case, ref))
    await eventually(shown, within=30)
    return card((await browser.get("/inbox")).text, case, ref)


def options(form: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', form)


async def mining_case(readers: Readers, subject: str = "") -> str:
    dispatcher = await readers(TOWNSHIP, "dispatcher")
    reply = await dispatcher.act("OpenCase", "/cases", type="illegal-mining",
                                 jurisdiction="jinhaihu", title="Quarrying by night",
                                 subject_key=subject or f"Q-{uuid.uuid4().hex[:10]}",
                                 description=DESCRIPTION, location=PLACE)
    assert reply.status_code == 303, reply.text
    return str(reply.headers["location"]).rpartition("/")[2]


async def test_the_field_officers_card_leads_with_the_place_and_shows_both_clocks(
        readers: Readers) -> None:
    number = await mining_case(readers)
    officer = await readers(NR, "field-officer")
    item = await card_of(officer, number, "T1")
    link = f'href="https://uri.amap.com/search?keyword={quote(PLACE, safe="")}"'
    assert link in item and 'rel="noopener noreferrer"' in item
    assert item.index(PLACE) < item.index('class="task-title"')  # the address first
    assert DESCRIPTION in item
    # 吹哨报到: sign for it within 10 minutes and be there within 30, both counting down.
    assert 'data-testid="on-scene-clock"' in item
    assert item.count("data-deadline=") == 2
    # In the reader's language: the task's title and its next step.
    assert "查处非法采矿并扣押设备" in item and "Investigate" not in item
    assert f"{TEXT['next_step']['zh']}: 签收" in item and "sign for it" not in item
    page = (await officer.get(f"/cases/{number}")).text
    assert PLACE in page and DESCRIPTION in page and "查处非法采矿并扣押设备" in page
    await officer.get("/lang/en?next=/inbox")
    english = card((await officer.get("/inbox")).text, number, "T1")
    assert "Investigate the illegal mining" in english and "sign for it" in english


async def test_a_decline_offers_only_agencies_able_to_do_the_work_and_its_review_too(
        gw: Gateway, readers: Readers) -> None:
    reply = await gw.call("OpenCase", cs.OpenCaseRequest(
        request_id=rid(), type="food-supply-chain", subject_key=f"B-{uuid.uuid4().hex[:8]}",
        title="A recalled batch at the mill", stage="production", jurisdiction="pinggu"),
        FARMING)
    case = reply.case
    processing = next(t for t in case.tasks if t.assignee == QUALITY)
    rules = load_catalog().rules_for("food-supply-chain")
    assert rules is not None
    kind = rules.playbook.task_kind(processing.kind)
    assert kind is not None
    able = rules.directory.able_to(kind.capability, besides=QUALITY)
    assert able == [MARKET]  # what the catalog says; the page must say the same
    quality = await readers(QUALITY, "field-officer")
    item = await card_of(quality, case.number, processing.id)
    decline_form = item.split('action="/act/DeclineTask"')[1].split("</form>")[0]
    assert options(decline_form) == ["", *able]
    declined = await quality.act("DeclineTask", "/inbox", case_id=case.number,
                                 task_id=processing.id, reason="the mill is not ours",
                                 suggested_agency="")
    assert declined.status_code == 303, declined.text
    head = await readers(FARMING)
    review = await card_of(head, case.number, processing.id)
    uphold = review.split('data-testid="uphold"')[1].split("</form>")[0]
    assert options(uphold) == ["", *able]  # nobody, or an agency that can do it
    upheld = await head.act("ReviewDecline", "/inbox", case_id=case.number,
                            task_id=processing.id, outcome="DECLINE_REVIEW_OUTCOME_UPHELD",
                            redispatch_to=MARKET)
    assert upheld.status_code == 303, upheld.text
    after = (await gw.call("GetCase", cs.GetCaseRequest(case_id=case.number), FARMING)).case
    assert [t.assignee for t in after.tasks if t.redispatched_from == processing.id] == [MARKET]


async def test_a_head_upholds_a_decline_that_suggested_nobody(
        gw: Gateway, readers: Readers) -> None:
    number = await mining_case(readers)
    police = await readers(POLICE, "field-officer")
    await card_of(police, number, "T2")
    declined = await police.act("DeclineTask", "/inbox", case_id=number, task_id="T2",
                                reason="a licensed quarry: no crime", suggested_agency="")
    assert declined.status_code == 303, declined.text
    head = await readers(TOWNSHIP)
    review = await card_of(head, number, "T2")
    assert TEXT["nobody_needed"]["zh"] in review
    # Said in the reader's language, from what the item is about.
    assert "退回了任务：处置现场涉刑案件和爆炸物" in review and "declined" not in review
    upheld = await head.act("ReviewDecline", "/inbox", case_id=number, task_id="T2",
                            outcome="DECLINE_REVIEW_OUTCOME_UPHELD", redispatch_to="")
    assert upheld.status_code == 303, upheld.text
    case = (await gw.call("GetCase", cs.GetCaseRequest(case_id=number), TOWNSHIP)).case
    task = next(t for t in case.tasks if t.id == "T2")
    assert task.review_outcome == case_pb2.DECLINE_REVIEW_OUTCOME_UPHELD
    assert not [t for t in case.tasks if t.redispatched_from == "T2"]


async def test_an_extension_is_decided_with_the_date_and_the_reason_in_view(
        readers: Readers) -> None:
    number = await mining_case(readers)
    officer = await readers(NR, "field-officer")
    await card_of(officer, number, "T1")
    for method in ("SignTask", "ArriveOnScene"):
        done = await officer.act(method, "/inbox", case_id=number, task_id="T1")
        assert done.status_code == 303, done.text
    asked = await officer.act("RequestExtension", "/inbox", case_id=number, task_id="T1",
                              new_due_within="20d", reason="the pit is flooded")
    assert asked.status_code == 303, asked.text
    head = await readers(TOWNSHIP)

    async def asking() -> bool:
        return 'data-testid="asked"' in card((await head.get("/inbox")).text, number, "T1")
    await eventually(asking, within=30)
    item = card((await head.get("/inbox")).text, number, "T1")
    assert TEXT["asked_until"]["zh"] in item and "the pit is flooded" in item
    page = (await head.get(f"/cases/{number}")).text
    assert "the pit is flooded" in page and TEXT["asked_until"]["zh"] in page


async def test_opening_a_subject_already_open_leads_to_its_case_and_uses_no_number(
        gw: Gateway, readers: Readers) -> None:
    plate = uuid.uuid4().hex[:6].upper()
    number = await mining_case(readers, f"浙A·{plate}")
    desk = await readers(TOWNSHIP, "dispatcher")
    again = await desk.act("OpenCase", "/cases", type="illegal-mining", jurisdiction="jinhaihu",
                           title="The same excavator", subject_key=f"浙a {plate.lower()}")
    assert again.status_code == 409
    assert TEXT["already_open"]["zh"].split("{")[0] in again.text and "ALREADY" not in again.text
    assert f'href="/cases/{number}" data-testid="error-link"' in again.text
    after = await mining_case(readers)
    assert int(after[-4:]) == int(number[-4:]) + 1  # the refusal took no number


async def test_no_score_stands_without_a_rate_beside_it_and_few_tasks_rank_nobody(
        readers: Readers) -> None:
    await mining_case(readers)  # something for every lead and assignee to be scored on
    watch = await readers("oversight")
    page = (await watch.get("/oversight")).text
    assert 'data-testid="ranking-rule"' in page
    table = page.split('data-testid="scorecards"')[1].split("</table>")[0]
    rows = re.findall(r'<tr class="[^"]*" data-agency="([^"]+)">(.*?)</tr>', table, re.S)
    assert rows
    for agency, row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        rank, score, rates = cells[0], cells[2], cells[3:]
        if "%" in score:  # a score is the mean of rates: one of them is on the row
            assert any("%" in rate for rate in rates), agency
        if "–" not in rank:  # a rank stands on enough tasks
            assert "badge" in rank or rank.strip().isdigit(), agency


async def test_a_lead_objects_within_its_window_and_the_coordinator_decides_on_the_page(
        gw: Gateway, readers: Readers) -> None:
    # Urban management reports stalls selling a recalled batch; the matrix makes farming
    # the lead for the production stage, which it did not choose: it may object.
    case = (await gw.call("OpenCase", cs.OpenCaseRequest(
        request_id=rid(), type="food-supply-chain", subject_key=f"B-{uuid.uuid4().hex[:8]}",
        title="The batch's farm", stage="production", jurisdiction="pinggu"),
        "urban-management")).case
    assert case.owner == FARMING
    as_lead = (await gw.call("GetCase", cs.GetCaseRequest(case_id=case.number), FARMING)).case
    assert as_lead.objection_window_ends.ByteSize()
    lead = await readers(FARMING)
    page = (await lead.get(f"/cases/{case.number}")).text
    section = page.split('data-testid="objection"')[1].split("</section>")[0]
    assert TEXT["objection_window"]["zh"] in section and 'action="/act/ObjectToLead"' in section
    objected = await lead.act("ObjectToLead", f"/cases/{case.number}", case_id=case.number,
                              reason="the batch never left the processor",
                              suggested_agency=MARKET)
    assert objected.status_code == 303, objected.text
    page = (await lead.get(f"/cases/{case.number}")).text
    section = page.split('data-testid="objection"')[1].split("</section>")[0]
    assert TEXT["objection_waits"]["zh"] in section and "/act/ObjectToLead" not in section
    coordinator = await readers("command-center")
    item = await card_of(coordinator, case.number, "O1")
    assert 'value="OBJECTION_OUTCOME_UPHELD"' in item
    assert "对牵头办理提出异议" in item and "objects" not in item
    reassign = item.split('data-testid="reassign"')[1].split("</form>")[0]
    assert re.search(rf'<option value="{MARKET}" selected>', reassign)
    decided = await coordinator.act("DecideObjection", "/inbox", case_id=case.number,
                                    objection_id="O1", outcome="OBJECTION_OUTCOME_REASSIGNED",
                                    reassign_to=MARKET, note="the mill is theirs")
    assert decided.status_code == 303, decided.text
    after = (await gw.call("GetCase", cs.GetCaseRequest(case_id=case.number), MARKET)).case
    assert after.owner == MARKET
    assert after.objections[0].outcome == case_pb2.OBJECTION_OUTCOME_REASSIGNED


async def test_the_open_form_names_possible_duplicates_however_the_subject_is_typed(
        gw: Gateway, readers: Readers) -> None:
    site = f"老王采石场{uuid.uuid4().hex[:4]}"
    number = await mining_case(readers, subject=f"{site} 3号坑")
    dispatcher = await readers(TOWNSHIP, "dispatcher")

    async def hint(subject: str) -> str:
        query = urlencode({"type": "illegal-mining", "subject": subject,
                           "jurisdiction": "jinhaihu"})
        return (await dispatcher.get(f"/cases-like?{query}")).text

    async def listed() -> bool:  # the read model has it a moment after it opened
        return f'data-case="{number}"' in await hint(f"{site}3号坑")
    await eventually(listed, within=30)
    # The same subject typed with other spaces, full-width and separators: the same case.
    same = await hint(f"  {site.replace('采石场', '采石场·')}　３号坑 ")
    assert f'data-case="{number}"' in same.split('data-testid="dup-same"')[1]
    assert TEXT["subject_taken"]["zh"] in same
    # A subject beginning alike: a possible duplicate, not a refusal.
    alike = await hint(f"{site}北侧")
    assert 'data-testid="dup-same"' not in alike
    assert f'data-case="{number}"' in alike.split('data-testid="dup-alike"')[1]
    assert (await hint("")).strip() == ""
    # The case list finds it by the subject however spelt.
    listing = await gw.call("ListCases", cs.ListCasesRequest(subject=f"{site}-3号坑"),
                            TOWNSHIP)
    assert [c.number for c in listing.cases] == [number]
