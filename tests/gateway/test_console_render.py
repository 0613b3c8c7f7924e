"""The console's pure parts: the swimlane's layout, form posts read into requests, the
words in both languages, and where a form may send the reader next."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.console import forms, i18n, swimlane
from gateway.console.core import DONE_WORDS, enum_short_name, time_left
from gateway.console.i18n import ENUM_ZH, LANGUAGES, TEXT
from gateway.console.web import local_path
from seamless.v1 import case_pb2
from seamless.v1 import case_service_pb2 as cs
from seamless.v1 import oversight_pb2 as ov

BEIJING = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def event(kind: case_pb2.CaseEventKind, minutes: float, task: str = "",
          **attributes: str) -> case_pb2.CaseEvent:
    return case_pb2.CaseEvent(kind=kind, time=stamp(T0 + timedelta(minutes=minutes)),
                              task_id=task, attributes=attributes)


K = case_pb2.CaseEventKind


def handed_off_timeline() -> tuple[ov.GetTimelineResponse, case_pb2.Case]:
    """The township owned the case for 20 minutes, then quality inspection; T1 went to
    market regulation, which signed late (a breached sign-for gap) and is on its way."""
    timeline = ov.GetTimelineResponse(
        ownership=[ov.OwnershipPeriod(owner="township", start_time=stamp(T0),
                                      end_time=stamp(T0 + timedelta(minutes=20))),
                   ov.OwnershipPeriod(owner="quality", start_time=stamp(
                       T0 + timedelta(minutes=20)))],
        events=[event(K.CASE_EVENT_KIND_OPENED, 0),
                event(K.CASE_EVENT_KIND_TASK_DISPATCHED, 1, "T1", assignee="market"),
                event(K.CASE_EVENT_KIND_TASK_SIGNED, 40, "T1")],
        gaps=[ov.Gap(task_id="T1", kind=case_pb2.GAP_KIND_DISPATCH_UNSIGNED,
                     accountable="market", start_time=stamp(T0 + timedelta(minutes=1)),
                     end_time=stamp(T0 + timedelta(minutes=40)), breached=True,
                     deadline=stamp(T0 + timedelta(minutes=31))),
              ov.Gap(ref="H1", kind=case_pb2.GAP_KIND_HANDOFF_PENDING,
                     accountable="township", start_time=stamp(T0 + timedelta(minutes=10)),
                     end_time=stamp(T0 + timedelta(minutes=20)))],
        lines=ov.CaseLines(opened_time=stamp(T0)))
    timeline.lines.legal.FromTimedelta(timedelta(days=30))
    case = case_pb2.Case(tasks=[case_pb2.Task(
        id="T1", assignee="market", state=case_pb2.TASK_STATE_SIGNED,
        running_clock="on_scene_by",
        on_scene_by=case_pb2.Clock(deadline=stamp(T0 + timedelta(minutes=70))))])
    return timeline, case


def test_the_swimlane_has_a_lane_per_agency_owners_first() -> None:
    timeline, case = handed_off_timeline()
    drawing = swimlane.layout(timeline, case, now=T0 + timedelta(minutes=50))
    assert [lane.agency for lane in drawing.lanes] == ["township", "quality", "market"]
    township, quality, market = drawing.lanes
    assert [b.css for b in township.bars] == ["ownership", "gap-handoff"]
    assert quality.bars[0].open_ended  # owns the case still
    # The sign-for gap: its colour until the deadline, red from there.
    gap = [(b.css, b.start, b.end) for b in market.bars if b.row == 1]
    assert gap == [("gap-unsigned", T0 + timedelta(minutes=1), T0 + timedelta(minutes=31)),
                   ("gap-unsigned breached", T0 + timedelta(minutes=31),
                    T0 + timedelta(minutes=40))]
    phases = [b.css for b in market.bars if b.row == 0]
    assert phases == ["phase-dispatched", "phase-signed"]


def test_the_swimlane_spans_what_happened_and_the_running_clocks() -> None:
    timeline, case = handed_off_timeline()
    drawing = swimlane.layout(timeline, case, now=T0 + timedelta(minutes=50))
    assert drawing.start == T0
    # The on-scene clock (at 70 minutes) is inside; the legal line 30 days away is not.
    assert [m.label for m in drawing.markers] == ["T1 on scene"]
    assert drawing.end >= T0 + timedelta(minutes=70)
    assert drawing.end < T0 + timedelta(days=1)
    for lane in drawing.lanes:
        for bar in lane.bars:
            assert 0 <= bar.left <= 1 and 0 < bar.width <= 1
            assert bar.left + bar.width <= 1.0001
    marker = drawing.markers[0]
    assert marker.left == pytest.approx(70 / (drawing.seconds / 60))
    # The page opens on the 50 minutes that happened (and a margin), not the clocks.
    assert drawing.focus == pytest.approx(52.5 * 60 / drawing.seconds)


def test_a_clock_runs_from_the_start_of_its_step() -> None:
    timeline, _case = handed_off_timeline()
    assert swimlane.phase_starts(timeline) == {"T1": T0 + timedelta(minutes=40)}


def test_a_new_case_is_drawn_over_at_least_a_minute() -> None:
    timeline = ov.GetTimelineResponse(ownership=[ov.OwnershipPeriod(
        owner="township", start_time=stamp(T0))])
    drawing = swimlane.layout(timeline, None, now=T0 + timedelta(seconds=2))
    assert drawing.seconds >= 60
    assert drawing.lanes[0].bars[0].width < 0.1


def test_a_form_is_read_into_the_request_it_names() -> None:
    request = forms.request_of("ReviewDecline", {
        "csrf": "x", "next": "/inbox", "case_id": "20261130-0001", "task_id": "T1",
        "outcome": "DECLINE_REVIEW_OUTCOME_OVERRULED", "note": "  yours  "}, BEIJING)
    assert request == cs.ReviewDeclineRequest(
        case_id="20261130-0001", task_id="T1",
        outcome=case_pb2.DECLINE_REVIEW_OUTCOME_OVERRULED, note="yours")
    completed = forms.request_of("CompleteTask", {
        "evidence_refs": "photo-1\n\n photo-2 \n", "findings": "ore seized"}, BEIJING)
    assert list(completed.evidence_refs) == ["photo-1", "photo-2"]  # type: ignore[attr-defined]
    granted = forms.request_of("DecideExtension", {"grant": "true"}, BEIJING)
    assert granted.grant is True  # type: ignore[attr-defined]
    dispatched = forms.request_of("DispatchTask", {"due_time": "2026-12-01T09:30"}, BEIJING)
    due = dispatched.due_time.ToDatetime(tzinfo=UTC)  # type: ignore[attr-defined]
    assert due == datetime(2026, 12, 1, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("method, form, field", [
    ("GetCase", {"case_id": "x"}, "GetCase"),
    ("SignTask", {"officer": "x"}, "officer"),
    ("ReviewDecline", {"outcome": "MAYBE"}, "outcome"),
    ("DispatchTask", {"due_time": "tomorrow"}, "due_time"),
    ("SignTask", {"task_id": "T" * (forms.MAX_FIELD_CHARS + 1)}, "task_id"),
])
def test_a_form_the_request_cannot_take_is_refused_naming_the_field(
        method: str, form: dict[str, str], field: str) -> None:
    with pytest.raises(forms.FormError, match=field):
        forms.request_of(method, form, BEIJING)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)", "inbox", ""])
def test_a_form_sends_the_reader_only_to_this_console(target: str) -> None:
    assert local_path(target, "/inbox") == "/inbox"


def test_a_local_path_is_kept() -> None:
    assert local_path("/cases/20261130-0001?x=1", "/inbox") == "/cases/20261130-0001?x=1"


def test_every_word_exists_in_both_languages() -> None:
    for key, words in TEXT.items():
        assert set(words) == set(LANGUAGES), key
        assert all(words.values()), key


@pytest.mark.parametrize("enum", sorted(ENUM_ZH))
def test_every_value_a_page_shows_has_a_chinese_name(enum: str) -> None:
    wrapper = getattr(case_pb2, enum)
    shown = {enum_short_name(v, enum) for v in wrapper.values()[1:]}
    assert shown == set(ENUM_ZH[enum])


@pytest.mark.parametrize("seconds, shown", [(0, "0s"), (45, "45s"), (125, "2m 05s"),
                                            (3 * 3600 + 60, "3h 01m"), (-90, "-1m 30s"),
                                            (2 * 86400 + 3600, "2d 1h")])
def test_time_left_reads_in_a_few_characters(seconds: int, shown: str) -> None:
    assert time_left(seconds) == shown


def test_every_command_has_words_for_its_confirmation() -> None:
    assert set(DONE_WORDS) == forms.COMMANDS
    assert all(word in TEXT for word in DONE_WORDS.values())


def test_no_word_is_defined_twice_in_the_text_table() -> None:
    """A dict literal keeps the later of two equal keys without a word: the earlier
    meaning would silently vanish from every page that used it."""
    source = Path(i18n.__file__).read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)]
            twice = sorted({k for k in keys if keys.count(k) > 1})
            assert not twice, f"defined twice in gateway/console/i18n.py: {twice}"
