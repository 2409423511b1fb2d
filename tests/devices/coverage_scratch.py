"""The hourly device coverage worked out from scratch in Python, to compare with `device_coverage_1h`."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from devices.vitals.coverage_hours import GAP_MINUTES
from devices.vitals.models import DeviceCoverage1h, VitalRollup1m

HourRow = tuple[datetime, int, datetime, datetime, int]  # hour, covered, first, last, gaps inside


def summarise(minutes: list[datetime]) -> list[HourRow]:
    """Hour rows of a device's distinct covered minutes, by the table's definition."""
    by_hour: dict[datetime, list[datetime]] = {}
    for minute in sorted(set(minutes)):
        by_hour.setdefault(minute.replace(minute=0), []).append(minute)
    gap = timedelta(minutes=GAP_MINUTES + 1)
    return [
        (hour, len(inside), inside[0], inside[-1], sum(1 for a, b in pairwise(inside) if b - a > gap))
        for hour, inside in sorted(by_hour.items())
    ]


def gaps_between(minutes: list[datetime]) -> int:
    """Silences over GAP_MINUTES between consecutive covered minutes: the report's definition."""
    ordered = sorted(set(minutes))
    return sum(1 for a, b in pairwise(ordered) if b - a > timedelta(minutes=GAP_MINUTES + 1))


async def from_scratch(session: AsyncSession, device_id: str) -> list[HourRow]:
    """The device's hour rows computed in Python from its one-minute rollups."""
    minutes = await session.scalars(select(VitalRollup1m.bucket).where(VitalRollup1m.device_id == device_id))
    return summarise(list(minutes))


async def stored(session: AsyncSession, device_id: str) -> list[HourRow]:
    """The device's rows of `device_coverage_1h`, in hour order."""
    h = DeviceCoverage1h
    rows = await session.execute(
        select(h.hour, h.covered_minutes, h.first_minute, h.last_minute, h.gaps_inside)
        .where(h.device_id == device_id)
        .order_by(h.hour)
    )
    return [(hour, covered, first, last, gaps) for hour, covered, first, last, gaps in rows]
