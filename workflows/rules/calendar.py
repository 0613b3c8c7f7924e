"""Durations in calendar time or working days, and the district's working calendar."""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

_DURATION = re.compile(r"^\s*(\d{1,9})\s*(s|m|h|d|wd)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION_HELP = "use a whole number with s, m, h, d (calendar) or wd (working days), e.g. 30m, 3wd"
# No clock of a case runs longer than a year: a longer one is a typing mistake, and an
# uncapped one put deadlines centuries away (and counting them day by day took seconds).
MAX_CALENDAR_DAYS = 366
MAX_WORKING_DAYS = 250
MAX_CALENDAR = timedelta(days=MAX_CALENDAR_DAYS)
LIMITS_HELP = f"at most {MAX_CALENDAR_DAYS}d (or {MAX_WORKING_DAYS}wd)"


@dataclass(frozen=True)
class Duration:
    """A span of time: calendar seconds, or whole working days."""

    amount: int
    unit: str

    @property
    def is_working_days(self) -> bool:
        return self.unit == "wd"

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def is_duration(text: str) -> bool:
    """Whether `text` is written as a duration (well formed or not in its amount)."""
    return _DURATION.match(text) is not None


def parse_duration(text: str) -> Duration:
    """Parse '30m', '1h', '7d', '3wd'. Raises ValueError naming the accepted forms, or
    the limit when the duration is longer than a case's clocks may run."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a positive duration ({DURATION_HELP})")
    duration = Duration(int(match.group(1)), match.group(2))
    too_long = (duration.amount > MAX_WORKING_DAYS if duration.is_working_days
                else duration.amount * _UNIT_SECONDS[duration.unit]
                > MAX_CALENDAR.total_seconds())
    if too_long:
        raise ValueError(f"{text.strip()!r} is too long: a clock runs {LIMITS_HELP}")
    return duration


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are working days in the district.

    China has no daylight saving time, so a fixed UTC offset is exact and keeps the
    calculation free of time-zone database reads (which a workflow sandbox forbids).
    `extra_working_days` are weekend days worked to make up for a holiday (调休).
    Days are ISO dates ('2026-10-01'), which also keeps them JSON-serialisable as part of
    a workflow's input.
    """

    utc_offset_minutes: int = 480
    holidays: tuple[str, ...] = field(default_factory=tuple)
    extra_working_days: tuple[str, ...] = field(default_factory=tuple)

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(minutes=self.utc_offset_minutes))

    def is_working_day(self, day: date) -> bool:
        iso = day.isoformat()
        if iso in self.extra_working_days:
            return True
        return day.weekday() < 5 and iso not in self.holidays

    def add(self, start: datetime, duration: Duration) -> datetime:
        """The deadline `duration` after `start`.

        Working days keep the local time of day and count only working days after the
        start day: Friday 15:00 + 1wd is Monday 15:00 (or later, past holidays).
        """
        if not duration.is_working_days:
            return start + timedelta(seconds=duration.amount * _UNIT_SECONDS[duration.unit])
        local = start.astimezone(self.tz)
        days = _days_to_nth_working_day(local.date(), duration.amount,
                                        _SpecialDays.of(self.holidays,
                                                        self.extra_working_days))
        return (local + timedelta(days=days)).astimezone(start.tzinfo or UTC)


@dataclass(frozen=True)
class _SpecialDays:
    """The days that break the weekday pattern, sorted for counting by bisection."""

    # Holidays falling Monday to Friday (and not made working days again).
    lost: tuple[int, ...]
    # Weekend days worked (调休).
    gained: tuple[int, ...]

    @staticmethod
    @lru_cache(maxsize=8)
    def of(holidays: tuple[str, ...], extra: tuple[str, ...]) -> _SpecialDays:
        worked = {date.fromisoformat(d) for d in extra}
        off = {date.fromisoformat(d) for d in holidays} - worked
        return _SpecialDays(
            lost=tuple(sorted(d.toordinal() for d in off if d.weekday() < 5)),
            gained=tuple(sorted(d.toordinal() for d in worked if d.weekday() >= 5)))


def _weekdays_through(ordinal: int) -> int:
    """Monday-to-Friday days among ordinals 1..`ordinal` (ordinal 1 is a Monday)."""
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


def _working_days_between(first: int, last: int, special: _SpecialDays) -> int:
    """Working days in the ordinals (first, last]: arithmetic and two bisections."""
    return (_weekdays_through(last) - _weekdays_through(first)
            - (bisect_right(special.lost, last) - bisect_right(special.lost, first))
            + (bisect_right(special.gained, last) - bisect_right(special.gained, first)))


def _days_to_nth_working_day(start: date, n: int, special: _SpecialDays) -> int:
    """How many days after `start` its n-th following working day falls.

    A binary search over the count of working days, which only grows: a few dozen steps
    for any n, instead of a walk over every day. Within the upper bound there are at
    least n + len(lost) weekdays, of which at most len(lost) are holidays.
    """
    origin = start.toordinal()
    low, high = 0, 7 * math.ceil((n + len(special.lost)) / 5) + 7
    while high - low > 1:
        middle = (low + high) // 2
        if _working_days_between(origin, origin + middle, special) >= n:
            high = middle
        else:
            low = middle
    return high
