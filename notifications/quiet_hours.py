"""Quiet hours: a daily window in the user's own time zone during which email and SMS wait."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _in_window(local: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # the window crosses midnight


def release_time(now: datetime, *, start: time | None, end: time | None, zone: ZoneInfo) -> datetime:
    """`now` outside the window, else the (UTC) moment the window ends."""
    if start is None or end is None or start == end:
        return now
    local = now.astimezone(zone)
    if not _in_window(local.time(), start, end):
        return now
    end_day = local.date()
    if start > end and local.time() >= start:
        end_day += timedelta(days=1)
    # Wall-clock arithmetic in the zone, so a change to or from summer time lands on the right hour.
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)
