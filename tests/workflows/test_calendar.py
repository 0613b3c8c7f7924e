"""Durations and working days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from workflows.rules.calendar import Duration, WorkingCalendar, parse_duration

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
