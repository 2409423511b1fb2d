"""Weekly working hours: expanding them into real shifts (in UTC) and finding overlaps.

Hours are wall-clock times in the practitioner's IANA time zone, so 09:00 stays 09:00 across a
daylight-saving change while its UTC instant moves. A block whose end is not after its start
runs overnight and ends on the next day. A block belongs to the local date on which it starts;
`valid_from`/`valid_to` are such local dates, both inclusive.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


class WeeklyHours(Protocol):
    """What the expansion needs of a working-hours definition (the ORM row satisfies it)."""

    @property
    def weekday(self) -> int: ...  # ISO 8601: 1 = Monday ... 7 = Sunday
    @property
    def start_time(self) -> time: ...
    @property
    def end_time(self) -> time: ...
    @property
    def time_zone(self) -> str: ...
    @property
    def valid_from(self) -> date: ...
    @property
    def valid_to(self) -> date | None: ...


@dataclass(frozen=True, slots=True)
class Shift:
    """One occurrence of a weekly block: a real interval, in UTC, with the zone it was defined in."""

    start: datetime
    end: datetime
    time_zone: str


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def block_length_minutes(start: time, end: time) -> int:
    """The length of a block; an end not after the start means the block ends the next day."""
    length = _minutes(end) - _minutes(start)
    return length if length > 0 else length + MINUTES_PER_DAY


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    # fold=0: an ambiguous wall time (clocks going back) means its first occurrence; a wall time
    # skipped by clocks going forward resolves to the instant one offset-step later.
    return datetime.combine(day, at, tzinfo=zone)


def shift_on(hours: WeeklyHours, day: date) -> Shift | None:
    """The occurrence of `hours` starting on local `day`, if the block applies that day."""
    if day.isoweekday() != hours.weekday or day < hours.valid_from:
        return None
    if hours.valid_to is not None and day > hours.valid_to:
        return None
    zone = ZoneInfo(hours.time_zone)
    end_day = day if _minutes(hours.end_time) > _minutes(hours.start_time) else day + timedelta(days=1)
    start = _local(day, hours.start_time, zone).astimezone(UTC)
    end = _local(end_day, hours.end_time, zone).astimezone(UTC)
    return Shift(start=start, end=end, time_zone=hours.time_zone) if end > start else None


def shifts_between(hours: Iterable[WeeklyHours], start: datetime, end: datetime) -> list[Shift]:
    """Every shift overlapping [start, end), in start order."""
    found: list[Shift] = []
    for block in hours:
        zone = ZoneInfo(block.time_zone)
        # A block starting the local day before `start` may run overnight into the range.
        first = start.astimezone(zone).date() - timedelta(days=1)
        first += timedelta(days=(block.weekday - first.isoweekday()) % 7)  # only its weekday can match
        for day in iter_days(first, end.astimezone(zone).date(), step_days=7):
            shift = shift_on(block, day)
            if shift is not None and shift.start < end and shift.end > start:
                found.append(shift)
    found.sort(key=lambda shift: (shift.start, shift.end))
    return found


def _weekly_interval(hours: WeeklyHours) -> tuple[int, int]:
    start = (hours.weekday - 1) * MINUTES_PER_DAY + _minutes(hours.start_time)
    return start, start + block_length_minutes(hours.start_time, hours.end_time)


def _validity_overlaps(a: WeeklyHours, b: WeeklyHours) -> bool:
    a_end, b_end = a.valid_to or date.max, b.valid_to or date.max
    return a.valid_from <= b_end and b.valid_from <= a_end


def hours_overlap(a: WeeklyHours, b: WeeklyHours) -> bool:
    """Whether two definitions can ever put the same local minute in two blocks."""
    if not _validity_overlaps(a, b):
        return False
    a_start, a_end = _weekly_interval(a)
    b_start, b_end = _weekly_interval(b)
    # The week is a circle: a Sunday-night block wraps into Monday morning.
    return any(
        a_start < b_end + shift and b_start + shift < a_end
        for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK)
    )


def zones_conflict(a: WeeklyHours, b: WeeklyHours) -> bool:
    """Two definitions valid at the same time in different zones cannot be compared; refuse them."""
    return a.time_zone != b.time_zone and _validity_overlaps(a, b)


def iter_days(first: date, last: date, *, step_days: int = 1) -> Iterator[date]:
    """Every `step_days`-th date from `first` up to `last`, both included."""
    day, step = first, timedelta(days=step_days)
    while day <= last:
        yield day
        day += step


def covers(hours: WeeklyHours, start: datetime, end: datetime) -> bool:
    """Whether one occurrence of `hours` contains [start, end)."""
    day = start.astimezone(ZoneInfo(hours.time_zone)).date()
    for candidate in (day - timedelta(days=1), day):
        shift = shift_on(hours, candidate)
        if shift is not None and shift.start <= start and end <= shift.end:
            return True
    return False
