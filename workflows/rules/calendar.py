"""Durations in calendar time or working days, and the district's working calendar."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

_DURATION = re.compile(r"^\s*(\d{1,6})\s*(s|m|h|d|wd)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION_HELP = "use a whole number with s, m, h, d (calendar) or wd (working days), e.g. 30m, 3wd"


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


def parse_duration(text: str) -> Duration:
    """Parse '30m', '1h', '7d', '3wd'. Raises ValueError naming the accepted forms."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a positive duration ({DURATION_HELP})")
    return Duration(int(match.group(1)), match.group(2))


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
        remaining = duration.amount
        while remaining:
            local += timedelta(days=1)
            if self.is_working_day(local.date()):
                remaining -= 1
        return local.astimezone(start.tzinfo or UTC)
