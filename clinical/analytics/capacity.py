"""Bookable capacity: the minutes each practitioner was scheduled to work in a range, leave deducted.

Working hours are weekly blocks in local wall-clock time. PostgreSQL expands them itself, each local
day through `AT TIME ZONE` (so DST moves the UTC instants as it should), and subtracts the leave
overlapping each shift: a year of a large hospital in one query. SQLite (the embedded mode, a demo's
few practitioners) has no time zones, so there the scheduling package's own expansion
(`clinical.scheduling.weekly`) does it in Python; the tests hold both to the same figures.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling import ScheduleException, WorkingHours, shifts_between
from core.reports import dialect_name

_POSTGRES_CAPACITY = text("""
WITH shifts AS (
    SELECT wh.practitioner_id,
           greatest((local_day.day + wh.start_time) AT TIME ZONE wh.time_zone, :start) AS shift_start,
           least((local_day.day + CASE WHEN wh.end_time > wh.start_time THEN 0 ELSE 1 END + wh.end_time)
                 AT TIME ZONE wh.time_zone, :end) AS shift_end
    FROM working_hours wh
    CROSS JOIN LATERAL generate_series(CAST(:first_day AS date), CAST(:last_day AS date), interval '1 day') AS d
    CROSS JOIN LATERAL (SELECT CAST(d AS date) AS day) AS local_day
    WHERE extract(isodow FROM local_day.day) = wh.weekday
      AND local_day.day >= wh.valid_from AND (wh.valid_to IS NULL OR local_day.day <= wh.valid_to)
)
SELECT s.practitioner_id,
       sum(greatest(0, extract(epoch FROM s.shift_end - s.shift_start) - coalesce(away.seconds, 0))) / 60
FROM shifts s
LEFT JOIN LATERAL (
    SELECT sum(extract(epoch FROM least(s.shift_end, e.end_at) - greatest(s.shift_start, e.start_at))) AS seconds
    FROM schedule_exceptions e
    WHERE e.practitioner_id = s.practitioner_id AND e.start_at < s.shift_end AND e.end_at > s.shift_start
) AS away ON true
WHERE s.shift_end > s.shift_start
GROUP BY s.practitioner_id
""")


async def capacity_minutes(
    *, session: AsyncSession, start: datetime, end: datetime
) -> dict[uuid.UUID, float]:
    """Scheduled minutes per practitioner within [start, end), minus schedule exceptions."""
    if dialect_name(session) != "postgresql":
        return await _capacity_in_python(session, start, end)
    # Local days from the day before (a block running overnight) to the day after (zones behind UTC).
    days = {"first_day": start.date() - timedelta(days=1), "last_day": end.date() + timedelta(days=1)}
    rows = await session.execute(_POSTGRES_CAPACITY, {"start": start, "end": end, **days})
    return {practitioner_id: float(minutes) for practitioner_id, minutes in rows}


@dataclass(frozen=True, slots=True)
class _Block:
    """A working-hours row as plain data for `shifts_between`."""

    weekday: int
    start_time: time
    end_time: time
    time_zone: str
    valid_from: date
    valid_to: date | None


def _overlap_s(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> float:
    return max(0.0, (min(a_end, b_end) - max(a_start, b_start)).total_seconds())


async def _capacity_in_python(
    session: AsyncSession, start: datetime, end: datetime
) -> dict[uuid.UUID, float]:
    hours: defaultdict[uuid.UUID, list[_Block]] = defaultdict(list)
    blocks = select(
        WorkingHours.practitioner_id, WorkingHours.weekday, WorkingHours.start_time, WorkingHours.end_time,
        WorkingHours.time_zone, WorkingHours.valid_from, WorkingHours.valid_to,
    )  # fmt: skip
    for row in await session.execute(blocks):
        hours[row[0]].append(_Block(row[1], row[2], row[3], row[4], row[5], row[6]))
    away: defaultdict[uuid.UUID, list[tuple[datetime, datetime]]] = defaultdict(list)
    leave = select(ScheduleException.practitioner_id, ScheduleException.start_at, ScheduleException.end_at)
    for practitioner_id, away_start, away_end in await session.execute(
        leave.where(ScheduleException.end_at > start, ScheduleException.start_at < end)
    ):
        away[practitioner_id].append((away_start, away_end))
    minutes: dict[uuid.UUID, float] = {}
    for practitioner_id, practitioner_blocks in hours.items():
        total_s = 0.0
        for shift in shifts_between(practitioner_blocks, start, end):
            shift_start, shift_end = max(shift.start, start), min(shift.end, end)
            worked_s = _overlap_s(shift_start, shift_end, start, end)
            for away_start, away_end in away.get(practitioner_id, ()):
                worked_s -= _overlap_s(shift_start, shift_end, away_start, away_end)
            total_s += max(0.0, worked_s)
        minutes[practitioner_id] = total_s / 60
    return minutes
