"""Device uptime and data coverage, from the one-minute rollups.

A device's minute counts as covered when at least one of its readings for a patient fell in it.
`uptime_pct` is covered minutes over the minutes the device was bound to a patient in the range;
`gaps_over_5_min` counts silences longer than five minutes between covered minutes (window
function over the rollups), the figure a biomedical engineer looks at first.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput
from core.reports import Report, bytewise, day_start, dialect_name, elapsed_seconds, rounded
from devices.registry.models import Device, DeviceBinding
from devices.vitals.models import VitalRollup1m

GAP_MINUTES = 5
# The report reads every covered minute of the range (a 300-bed hospital writes about 430,000 device
# minutes a day), so it answers for a month at a time rather than a year.
MAX_RANGE_DAYS = 31


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


async def device_coverage(*, session: AsyncSession, start: date, end: date) -> Report:
    """Per device: minutes bound to a patient, minutes with data, uptime, and silences over five minutes."""
    if (end - start).days > MAX_RANGE_DAYS:
        raise InvalidInput(
            f"Device coverage covers at most {MAX_RANGE_DAYS} days at a time; ask for a shorter range."
        )
    since, until = day_start(start), day_start(end)
    minutes = (
        select(VitalRollup1m.device_id, VitalRollup1m.bucket)
        .where(VitalRollup1m.bucket >= since, VitalRollup1m.bucket < until)
        .distinct()
        .subquery()
    )
    dialect = dialect_name(session)
    device = bytewise(dialect, minutes.c.device_id)
    previous = func.lag(minutes.c.bucket).over(partition_by=device, order_by=minutes.c.bucket)
    gap_s = elapsed_seconds(dialect, previous, minutes.c.bucket).label("gap_s")
    stepped = select(minutes.c.device_id, gap_s).subquery()
    statement = select(
        stepped.c.device_id,
        func.count(),
        # Consecutive covered minutes are 60 s apart; more than GAP_MINUTES missing ones in between is a gap.
        func.sum(case((stepped.c.gap_s > (GAP_MINUTES + 1) * 60, 1), else_=0)),
    ).group_by(stepped.c.device_id)
    covered = {device: (int(n), int(gaps or 0)) for device, n, gaps in await session.execute(statement)}
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
