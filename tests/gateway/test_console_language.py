"""One language at a time: a page in Chinese shows no English words but names and codes,
and a page in English no Chinese. Checked on the words themselves (the text table, every
phrase the platform says of itself, every refusal) and on the pages real readers get
after a morning of work, in both languages."""

from __future__ import annotations

import itertools
import re
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gateway.console.i18n import LANGUAGES, TEXT
from gateway.console.refusal_words import REFUSALS, refusal_words
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as cs
from seamless.v1 import report_pb2 as rp
from tests.gateway.harness import Gateway
from tests.gateway.test_console_decisions import (
    FARMING,
    MARKET,
    NR,
    QUALITY,
    TOWNSHIP,
    Readers,
    card_of,
    readers,  # noqa: F401  (a fixture)
    rid,
)
from tests.workflows.harness import eventually
from workflows.catalog_loader import load_catalog
from workflows.rules import phrases
from workflows.rules.refusals import Reason

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*")
# What a Chinese page may show in Latin letters: the product's and standards' names, the
# switch to English, and codes (ids such as T1 or R20261207-0001, officer ids and
# category codes such as duty-officer, durations such as 2h).
NAMES = {"Seamless", "English", "UTC", "WGS84", "Open311", "https", "OCEL", "JSON", "CSV", "PDF",
         "MB", "KB"}
CODES = re.compile(r"(?<![A-Za-z0-9-])(?:[A-Z]\d+|R\d{8}-\d{4}|[a-z0-9]+(?:-[a-z0-9]+)+"
                   r"|\d+(?:m|h|d|wd))(?![A-Za-z0-9-])")


def strays_in_chinese(text: str) -> set[str]:
    text = CODES.sub(" ", text)
    return {w for w in WORD.findall(text) if w not in NAMES}


def strays_in_english(text: str) -> set[str]:
    return set(CJK.findall(text.replace("中文", "")))


def strays(text: str, lang: str) -> set[str]:
    return strays_in_chinese(text) if lang == "zh" else strays_in_english(text)


# ----- the words ---------------------------------------------------------------------


def test_the_text_table_keeps_each_language_to_itself() -> None:
    for key, words in TEXT.items():
        assert not strays(words["zh"].replace("{", " {"), "zh") - {
            "number", "owner", "agency", "task", "n"}, key
        assert not strays(words["en"], "en"), key


def _samples(arg: str) -> list[str]:
    """Values an argument of a phrase takes, every one of a closed set."""
    if arg in phrases.WORDS:
        return list(phrases.WORDS[arg])
    if arg in phrases.AGENCY_ARGS:
        return [NR]
    return {"recipients": [f"{NR},{TOWNSHIP}"], "task": ["T1"], "objection": ["O1"],
            "handoff": ["H1"], "escalation": ["E1"], "report": ["R20261207-0001"],
            "round": ["2"], "from_case": ["20261207-0001"], "kind": ["seize-equipment"],
            "service": ["night-quarrying"]}.get(arg, ["2026-12-07T01:00:00+00:00"])


@pytest.mark.parametrize("key", sorted(phrases.PHRASES))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_phrase_reads_in_the_readers_language(key: str, lang: str) -> None:
    catalog = load_catalog()
    names = {a.id: (a.name_zh, a.name_en) for a in catalog.directory.agencies}
    args = sorted(set(re.findall(r"\{(\w+)\}", "".join(phrases.PHRASES[key]))))
    for values in itertools.product(*(_samples(a) for a in args)):
        phrase = phrases.Phrase(key, **dict(zip(args, values, strict=True)))
        shown = phrases.render(
            phrase, lang, name=lambda a: names[a][0 if lang == "zh" else 1],
            when=lambda _: "2026-12-07 09:00 UTC+08:00",
            kind=lambda _: "扣押设备" if lang == "zh" else "Seize the equipment",
            service=lambda _: "夜间盗采砂石" if lang == "zh" else "Quarrying at night")
        assert not strays(shown, lang), (phrase, shown)
        assert "{" not in shown and shown.strip(), (phrase, shown)


def test_a_phrase_survives_its_stored_form_and_an_unknown_one_is_left_to_the_english(
        ) -> None:
    phrase = phrases.Phrase("clock_missed", task="T1", assignee=NR, clock="sign-for",
                            deadline_time="2026-12-07T01:00:00+00:00").saying("路上")
    assert phrases.decode(phrase.encode()) == phrase
    assert phrases.decode('["no-such-phrase", {}]') is None
    assert phrases.decode("not json") is None
    assert phrases.render(phrase, "zh", name=lambda _: "区规划自然资源分局").endswith("：路上")


def _gateway_reasons() -> set[str]:
    """Every stable reason the gateway gives, read from its source: a new one without
    words fails here rather than showing English on a Chinese page."""
    literals: set[str] = set()
    for source in (ROOT / "gateway").rglob("*.py"):
        literals |= set(re.findall(r'"([A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+)"', source.read_text()))
    # Not reasons: gRPC status names, table keys and constants of other kinds.
    return literals - {"ALREADY_EXISTS", "FAILED_PRECONDITION", "INVALID_ARGUMENT",
                       "NOT_FOUND", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "DONE_WORDS",
                       "EXPORT_FORMAT_CSV", "ENDED_BY_ENGINE", "FOREIGN_QUEUE",
                       "GONE_FROM_ENGINE", "NOT_COMPARED", "UNKNOWN_TO_LEDGER",
                       "MAX_UPLOAD_BYTES"}


def test_every_refusal_has_its_words_in_both_languages() -> None:
    missing = ({r.value for r in Reason} | _gateway_reasons()) - set(REFUSALS)
    assert not missing, f"refusals without words: {sorted(missing)}"
    for reason in REFUSALS:
        for lang in LANGUAGES:
            assert not strays(refusal_words(reason, lang), lang), (reason, lang)


# ----- the pages ---------------------------------------------------------------------


@pytest.fixture
def gw(own_gw: Gateway) -> Gateway:
    """A platform of this module's own: its pages show its own work only, whose words
    the test knows (other modules' cases are in their people's words)."""
    return own_gw


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
         "source", "track", "wbr"}


class _Seen(HTMLParser):
    """What a person reads of a page in its language: its text and the words of its
    attributes that a browser shows (titles, placeholders, labels), less what the page
    marks as not to be translated (`translate="no"`: ids, codes, what people typed)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self._open: list[bool] = []  # per open element: is its content hidden or kept?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        hidden = bool(self._open and self._open[-1]) or tag in ("script", "style") or \
            ("translate", "no") in attrs
        if not hidden:
            self.text += [v for k, v in attrs
                          if k in ("title", "placeholder", "aria-label") and v]
        if tag not in _VOID:
            self._open.append(hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if not (self._open and self._open[-1]):
            self.text.append(data)


def seen(html: str, typed: set[str]) -> str:
    """The page's text without what people typed (their words are theirs)."""
    parser = _Seen()
    parser.feed(html)
    text = "\n".join(parser.text)
    for words in sorted(typed, key=len, reverse=True):
        text = text.replace(words, " ")
    return text


async def test_every_page_speaks_one_language_after_a_morning_of_work(
        gw: Gateway, readers: Readers) -> None:  # noqa: F811
    typed: set[str] = set()

    def say(words: str) -> str:
        typed.add(words)
        return words

    # The township opens a mining case; natural resources signs for it and asks more time.
    dispatcher = await readers(TOWNSHIP, "dispatcher")
    subject = say(f"Q-{uuid.uuid4().hex[:10]}")
    opened = await dispatcher.act("OpenCase", "/cases", type="illegal-mining",
                                  jurisdiction="jinhaihu", title=say("Quarry 7"),
                                  subject_key=subject, description=say("Pit 3, north face"),
                                  location=say("Jinhaihu pit 3"))
    assert opened.status_code == 303, opened.text
    mining = str(opened.headers["location"]).rpartition("/")[2]
    field = await readers(NR, "field-officer")
    await card_of(field, mining, "T1")
    signed = await field.act("SignTask", "/inbox", case_id=mining, task_id="T1")
    assert signed.status_code == 303, signed.text
    # A food case: quality declines its task, farming objects to leading, the coordinator
    # reassigns the lead to market regulation, who offers the case back.
    food = (await gw.call("OpenCase", cs.OpenCaseRequest(
        request_id=rid(), type="food-supply-chain", subject_key=say(f"B-{uuid.uuid4().hex[:8]}"),
        title=say("Batch 12"), stage="production", jurisdiction="pinggu"),
        "urban-management")).case
    as_lead = (await gw.call("GetCase", cs.GetCaseRequest(case_id=food.number), FARMING)).case
    processing = next(t for t in as_lead.tasks if t.assignee == QUALITY)
    await gw.call("DeclineTask", cs.DeclineTaskRequest(
        request_id=rid(), case_id=food.number, task_id=processing.id,
        reason=say("Mill 4")), QUALITY)
    await gw.call("ObjectToLead", cs.ObjectToLeadRequest(
        request_id=rid(), case_id=food.number, reason=say("Farm 9"),
        suggested_agency=MARKET), FARMING)
    await gw.call("DecideObjection", cs.DecideObjectionRequest(
        request_id=rid(), case_id=food.number, objection_id="O1",
        outcome=case_pb2.OBJECTION_OUTCOME_REASSIGNED, reassign_to=MARKET,
        note=say("Note 1")), "command-center")
    await gw.call("OfferHandoff", cs.OfferHandoffRequest(
        request_id=rid(), case_id=food.number, to_agency=FARMING, reason=say("Back 2")),
        MARKET)

    # A citizen calls about the quarry: the report on its case, with the answers given.
    called = await gw.call("SubmitReport", rp.SubmitReportRequest(
        request_id=rid(), service_code="night-quarrying", description=say("Trucks 5"),
        address=say("Gate 2"), lat=40.17, lon=117.35, located=True,
        attributes=[rp.ReportAttribute(code="site", value=say(f"Pit {uuid.uuid4().hex[:6]}")),
                    rp.ReportAttribute(code="machines", value="3")],
        contact=rp.ReporterContact(name=say("Wang"), phone="13812345678")), "command-center")
    hotline_case = called.report.case_number

    market = await readers(MARKET)

    async def noticed() -> bool:
        return 'data-testid="unread"' in (await market.get("/inbox")).text
    await eventually(noticed, within=30)
    pages = [(dispatcher, f"/cases/{mining}"), (dispatcher, "/cases"),
             (field, "/inbox"), (field, f"/cases/{mining}"),
             (market, "/inbox"), (market, "/notices"), (market, f"/cases/{food.number}"),
             (market, "/notifications"),
             (await readers("command-center"), "/escalations"),
             (await readers("command-center"), "/intake"),
             (await readers("command-center"), "/intake?service=construction-noise-night"),
             (await readers("command-center"), "/intake/services?q=%E5%99%AA"),
             (dispatcher, "/cases-like?type=illegal-mining&subject=Q&jurisdiction=jinhaihu"),
             (await readers("command-center"), "/follow-up"),
             (await readers("oversight"), "/oversight"),
             (await readers(FARMING), "/notices"), (await readers(FARMING), "/inbox"),
             (await readers("command-center"), f"/cases/{hotline_case}"),
             (await readers(TOWNSHIP), f"/cases/{hotline_case}")]
    for lang in LANGUAGES:
        for reader, path in pages:
            await reader.get(f"/lang/{lang}?next=/inbox")
            page = await reader.get(path)
            assert page.status_code == 200, (path, page.status_code)
            found = strays(seen(page.text, typed), lang)
            if found:
                text = seen(page.text, typed)
                context = [text[max(0, m.start() - 40):m.end() + 40].replace("\n", " ")
                           for w in sorted(found)[:8]
                           for m in [re.search(rf"(?<![A-Za-z]){w}(?![A-Za-z])", text)] if m]
            assert not found, f"{lang} {path}: {sorted(found)[:20]} {context}"
    # And a refusal, as its page shows it.
    for lang in LANGUAGES:
        await dispatcher.get(f"/lang/{lang}?next=/inbox")
        await field.get(f"/lang/{lang}?next=/inbox")
        again = await dispatcher.act("OpenCase", "/cases", type="illegal-mining",
                                     jurisdiction="jinhaihu", title=say("Quarry 8"),
                                     subject_key=subject)
        assert again.status_code == 409
        assert not strays(seen(again.text, typed), lang), lang
        refused = await field.act("SignTask", "/inbox", case_id=mining, task_id="T1")
        assert refused.status_code == 409, refused.text
        assert not strays(seen(refused.text, typed), lang), (lang, seen(refused.text, typed))
