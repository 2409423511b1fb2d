"""Bookable capacity: the minutes each practitioner was scheduled to work in a range, leave deducted.

Working hours are a handful of weekly rows per practitioner in local wall-clock time, so they are
expanded here with the scheduling package's own DST-aware expansion rather than re-implemented in
SQL; the heavy part of the utilisation report (the appointments) stays in the database.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling.models import ScheduleException, WorkingHours
from clinical.scheduling.weekly import shifts_between


def _overlap_s(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> float:
    return max(0.0, (min(a_end, b_end) - max(a_start, b_start)).total_seconds())


async def capacity_minutes(
    *, session: AsyncSession, start: datetime, end: datetime
) -> dict[uuid.UUID, float]:
    """Scheduled minutes per practitioner within [start, end), minus schedule exceptions."""
    hours: defaultdict[uuid.UUID, list[WorkingHours]] = defaultdict(list)
    for block in await session.scalars(select(WorkingHours)):
        hours[block.practitioner_id].append(block)
    away: defaultdict[uuid.UUID, list[ScheduleException]] = defaultdict(list)
    exceptions = select(ScheduleException).where(
        ScheduleException.end_at > start, ScheduleException.start_at < end
    )
    for leave in await session.scalars(exceptions):
        away[leave.practitioner_id].append(leave)
    minutes: dict[uuid.UUID, float] = {}
    for practitioner_id, blocks in hours.items():
        total_s = 0.0
        for shift in shifts_between(blocks, start, end):
            shift_start, shift_end = max(shift.start, start), min(shift.end, end)
            worked_s = _overlap_s(shift_start, shift_end, start, end)
            for absence in away.get(practitioner_id, ()):
                worked_s -= _overlap_s(shift_start, shift_end, absence.start_at, absence.end_at)
            total_s += max(0.0, worked_s)
        minutes[practitioner_id] = total_s / 60
    return minutes
