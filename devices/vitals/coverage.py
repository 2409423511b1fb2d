"""Device uptime and data coverage, from the hourly coverage table.

A device's minute counts as covered when at least one of its readings for a patient fell in it.
`uptime_pct` is covered minutes over the minutes the device was bound to a patient in the range;
`gaps_over_5_min` counts silences longer than five minutes between covered minutes, the figure a
biomedical engineer looks at first.

The report reads `device_coverage_1h` (one row per device and hour, kept by the rollup refresh),
not the minutes: a year of a 300-bed hospital is 2.6 million hours against 157 million minutes, so
it answers for any range a report may cover (`core.reports.MAX_RANGE_DAYS`, two years). Silences
inside an hour were counted when the hour was summarised; those between one covered hour and the
next are found here, by a window function over each device's hours.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Interval, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.reports import Report, day_start, dialect_name, elapsed_seconds, rounded
from devices.registry import Device, DeviceBinding
from devices.vitals.coverage_hours import GAP_MINUTES
from devices.vitals.models import DeviceCoverage1h

# Covered minutes are whole minutes apart: a step over GAP_MINUTES + 1 minutes skips more than
# GAP_MINUTES. Half a minute of slack keeps SQLite's floating-point day arithmetic on the right side.
GAP_STEP_S = (GAP_MINUTES + 1) * 60 + 30


async def _bound_minutes(session: AsyncSession, start: datetime, end: datetime) -> dict[str, float]:
    # Bindings are a few rows per device: their overlap with the range is summed here.
    statement = (
        select(Device.device_id, DeviceBinding.start_at, DeviceBinding.end_at)
        .join(Device, Device.id == DeviceBinding.device_uuid)
        .where(DeviceBinding.patient_id.is_not(None), DeviceBinding.start_at < end)
        .where((DeviceBinding.end_at.is_(None)) | (DeviceBinding.end_at > start))
    )
    bound: defaultdict[str, float] = defaultdict(float)
    for device_id, bound_from, bound_to in await session.execute(statement):
        overlap = min(bound_to or end, end) - max(bound_from, start)
        bound[device_id] += max(0.0, overlap.total_seconds() / 60)
    return bound


def _silent_too_long(dialect: str, previous: Any, current: Any) -> ColumnElement[bool]:
    """Whether more than GAP_MINUTES silent minutes lie between two covered minutes."""
    if dialect == "sqlite":
        return elapsed_seconds(dialect, previous, current) > GAP_STEP_S
    # Timestamps compared directly: seconds as a number (extract gives numeric) cost a year's report dearly.
    return current - previous > literal(timedelta(seconds=GAP_STEP_S), Interval())


async def _covered(session: AsyncSession, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """Per device with data in the range: (covered minutes, gaps over GAP_MINUTES)."""
    hours = DeviceCoverage1h
    previous_last = func.lag(hours.last_minute).over(partition_by=hours.device_id, order_by=hours.hour)
    stepped = (
        select(
            hours.device_id,
            hours.covered_minutes,
            hours.gaps_inside,
            # The silence between this hour's first covered minute and the last one before it.
            case(
                (_silent_too_long(dialect_name(session), previous_last, hours.first_minute), 1), else_=0
            ).label("gap_before"),
        )
        .where(hours.hour >= start, hours.hour < end)
        .subquery()
    )
    statement = select(
        stepped.c.device_id,
        func.sum(stepped.c.covered_minutes),
        func.sum(stepped.c.gaps_inside + stepped.c.gap_before),
    ).group_by(stepped.c.device_id)
    return {device: (int(n), int(gaps)) for device, n, gaps in await session.execute(statement)}


async def device_coverage(*, session: AsyncSession, start: date, end: date) -> Report:
    """Per device: minutes bound to a patient, minutes with data, uptime, and silences over five minutes."""
    since, until = day_start(start), day_start(end)
    covered = await _covered(session, since, until)
    bound = await _bound_minutes(session, since, until)
    devices = {d.device_id: d for d in await session.scalars(select(Device))}
    rows = []
    for device_id in sorted(set(bound) | set(covered)):
        device = devices.get(device_id)
        with_data, gaps = covered.get(device_id, (0, 0))
        bound_minutes = bound.get(device_id, 0.0)
        uptime = rounded(min(100.0, 100 * with_data / bound_minutes)) if bound_minutes else None
        kind = str(device.kind) if device else ""
        rows.append([device_id, kind, rounded(bound_minutes), with_data, uptime, gaps])
    return Report(
        name="device-coverage",
        title="Device uptime and data coverage",
        start=start,
        end=end,
        columns=["device_id", "kind", "bound_minutes", "minutes_with_data", "uptime_pct", "gaps_over_5_min"],
        rows=rows,
        notes=[__doc__.split("\n\n")[1].replace("\n", " ")] if __doc__ else [],
    )
