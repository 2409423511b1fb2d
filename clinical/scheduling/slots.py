"""Free slots: the grid each shift is cut into, less exceptions and booked time (pure functions).

A shift of working hours is cut into consecutive slots of the appointment type's length from its
start; a slot must fit inside the shift. Steps are taken in real time (UTC), so a shift that
spans a daylight-saving change still yields slots of the right length.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from clinical.scheduling.exceptions import (
    InThePast,
    OffSlotGrid,
    OutsideWorkingHours,
    PractitionerUnavailable,
)
from clinical.scheduling.weekly import Shift, WeeklyHours, shifts_between


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open interval [start, end) of aware datetimes; `label` says why it is blocked."""

    start: datetime
    end: datetime
    label: str = ""

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True, slots=True)
class Slot:
    start: datetime
    end: datetime
    time_zone: str


def grid(shift: Shift, duration: timedelta) -> Iterator[Slot]:
    """The slots a shift is cut into."""
    start = shift.start
    while start + duration <= shift.end:
        yield Slot(start=start, end=start + duration, time_zone=shift.time_zone)
        start += duration


class _Blocked:
    """Blocked intervals merged and sorted, for quick "is [start, end) free?" questions."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        merged: list[list[datetime]] = []
        for item in sorted(intervals, key=lambda i: i.start):
            if merged and item.start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], item.end)
            else:
                merged.append([item.start, item.end])
        self._starts = [m[0] for m in merged]
        self._ends = [m[1] for m in merged]

    def is_free(self, start: datetime, end: datetime) -> bool:
        # The only candidate is the last merged interval starting before `end`.
        index = bisect.bisect_left(self._starts, end) - 1
        return index < 0 or self._ends[index] <= start


def free_slots(
    *,
    hours: Sequence[WeeklyHours],
    blocked: Iterable[Interval],
    duration: timedelta,
    start: datetime,
    end: datetime,
    not_before: datetime,
) -> list[Slot]:
    """Slots starting in [start, end) and not before `not_before`, clear of every blocked interval."""
    free = _Blocked(blocked)
    earliest = max(start, not_before)
    return [
        slot
        for shift in shifts_between(hours, start, end)
        for slot in grid(shift, duration)
        if earliest <= slot.start < end and free.is_free(slot.start, slot.end)
    ]


def _shown(moment: datetime, time_zone: str) -> str:
    return moment.astimezone(ZoneInfo(time_zone)).isoformat()


def check_bookable(
    *,
    hours: Sequence[WeeklyHours],
    exceptions: Iterable[Interval],
    duration: timedelta,
    start: datetime,
    now: datetime,
) -> Slot:
    """The slot starting at `start`, or the reason it cannot be booked (InThePast, OutsideWorkingHours,
    OffSlotGrid, PractitionerUnavailable). Other appointments are the database's business."""
    end = start + duration
    if start < now:
        raise InThePast(f"The appointment would start at {start.isoformat()}, which is in the past.")
    shifts = [s for s in shifts_between(hours, start, end) if s.start <= start and end <= s.end]
    if not shifts:
        raise OutsideWorkingHours(
            f"The practitioner does not work from {start.isoformat()} to {end.isoformat()}."
        )
    slots = list(grid(shifts[0], duration))
    slot = next((s for s in slots if s.start == start), None)
    if slot is None:
        zone = shifts[0].time_zone
        nearest = sorted(slots, key=lambda s: abs((s.start - start).total_seconds()))[:2]
        shown = sorted(_shown(s.start, zone) for s in nearest)
        raise OffSlotGrid(
            f"{_shown(start, zone)} is not the start of a {int(duration.total_seconds() // 60)}-minute "
            f"slot; the nearest are {' and '.join(shown)}.",
            extra={"nearest_slots": shown},
        )
    for blocked in exceptions:
        if blocked.overlaps(slot.start, slot.end):
            raise PractitionerUnavailable(
                f"The practitioner is unavailable ({blocked.label}) from "
                f"{_shown(blocked.start, slot.time_zone)} to {_shown(blocked.end, slot.time_zone)}.",
                extra={"reason": blocked.label},
            )
    return slot
