"""Durations and working days."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.rules.calendar import (
    MAX_WORKING_DAYS,
    Duration,
    WorkingCalendar,
    parse_duration,
)

BEIJING = timezone(timedelta(hours=8))
CAL = WorkingCalendar(holidays=("2026-10-01", "2026-10-02", "2026-10-05"),
                      extra_working_days=("2026-10-10",))


@pytest.mark.parametrize(("text", "expected"), [
    ("30m", Duration(30, "m")), ("1h", Duration(1, "h")), ("7d", Duration(7, "d")),
    ("3wd", Duration(3, "wd")), (" 15 m ", Duration(15, "m")),
])
def test_durations_parse(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0m", "-5m", "1.5h", "3 weeks", "h", "30"])
def test_bad_durations_name_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="30m, 3wd"):
        parse_duration(text)


def test_friday_plus_one_working_day_is_monday_same_time() -> None:
    friday = datetime(2026, 11, 20, 15, 0, tzinfo=BEIJING)
    assert CAL.add(friday, parse_duration("1wd")) == datetime(2026, 11, 23, 15, 0,
                                                              tzinfo=BEIJING)


def test_working_days_skip_holidays_and_count_make_up_days() -> None:
    # Wed 30 Sep + 2wd: 1, 2 Oct holidays, 3-4 weekend, 5 holiday -> 6 Oct, then 7 Oct.
    start = datetime(2026, 9, 30, 10, 0, tzinfo=BEIJING)
    assert CAL.add(start, parse_duration("2wd")).date().isoformat() == "2026-10-07"
    # Fri 9 Oct + 1wd: Saturday 10 Oct is a make-up working day.
    friday = datetime(2026, 10, 9, 10, 0, tzinfo=BEIJING)
    assert CAL.add(friday, parse_duration("1wd")).date().isoformat() == "2026-10-10"


def test_working_days_use_the_district_day_not_utc() -> None:
    # Friday 23:30 UTC is already Saturday 07:30 in Beijing: +1wd lands on Monday 07:30
    # Beijing time, not on the following Monday from a UTC Friday.
    late_friday_utc = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    deadline = CAL.add(late_friday_utc, parse_duration("1wd"))
    assert deadline.astimezone(BEIJING) == datetime(2026, 11, 23, 7, 30, tzinfo=BEIJING)
    assert deadline.tzinfo == UTC


def test_calendar_durations_ignore_weekends() -> None:
    friday = datetime(2026, 11, 20, 15, 0, tzinfo=BEIJING)
    assert CAL.add(friday, parse_duration("1d")) == friday + timedelta(days=1)
    assert CAL.add(friday, parse_duration("30m")) == friday + timedelta(minutes=30)


@pytest.mark.parametrize("text", ["367d", "251wd", "8785h", "527041m", "31622401s",
                                  "999999wd", "99999wd", "999999999s"])
def test_durations_beyond_a_year_are_refused_naming_the_limit(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"at most 366d \(or 250wd\)"):
        parse_duration(text)
    assert time.perf_counter() - started < 0.1


@pytest.mark.parametrize("text", ["366d", "250wd", "8784h", "31622400s"])
def test_the_longest_durations_are_accepted(text: str) -> None:
    parse_duration(text)


def _walked(calendar: WorkingCalendar, start: datetime, days: int) -> datetime:
    """The obvious way: step a day at a time, counting working days."""
    local = start.astimezone(calendar.tz)
    while days:
        local += timedelta(days=1)
        if calendar.is_working_day(local.date()):
            days -= 1
    return local.astimezone(start.tzinfo or UTC)


_DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))


@settings(max_examples=3 * settings().max_examples, deadline=None)
@given(start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31),
                          timezones=st.just(UTC)),
       days=st.integers(min_value=1, max_value=MAX_WORKING_DAYS),
       holidays=st.lists(_DAYS, max_size=40), extra=st.lists(_DAYS, max_size=12))
def test_working_days_by_arithmetic_match_a_walk_over_every_day(
        start: datetime, days: int, holidays: list[date], extra: list[date]) -> None:
    calendar = WorkingCalendar(holidays=tuple(d.isoformat() for d in holidays),
                               extra_working_days=tuple(d.isoformat() for d in extra))
    assert calendar.add(start, Duration(days, "wd")) == _walked(calendar, start, days)


def test_the_longest_working_day_clock_through_a_crowded_calendar() -> None:
    calendar = WorkingCalendar(holidays=tuple(
        (date(2026, 1, 1) + timedelta(days=i)).isoformat() for i in range(0, 700, 3)))
    deadline = calendar.add(datetime(2026, 1, 1, tzinfo=UTC), parse_duration("250wd"))
    assert deadline == _walked(calendar, datetime(2026, 1, 1, tzinfo=UTC), 250)
