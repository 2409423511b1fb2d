"""The hourly device coverage table (`device_coverage_1h`), recomputed from the one-minute rollups.

`refresh_coverage_hours` rebuilds whole hours from `vital_rollups_1m` and upserts them, so the table
stays a function of the minutes whoever writes it and however often: an hour whose minutes have all
gone (readings that lost their patient) loses its row. `refresh_rollups` calls it for the hours its
minutes fall in; code that writes rollups by other means (the analytics benchmark, test fixtures)
calls it afterwards.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import UTCDateTime
from devices.vitals.models import DeviceCoverage1h

# A silence longer than this many minutes between covered minutes is a gap. Stored in
# `gaps_inside`: changing it means rebuilding the table (refresh every hour kept).
GAP_MINUTES = 5

HOUR = timedelta(hours=1)
# Per dialect: the hour a minute falls in, in the form each stores timestamps, and the minute as an
# exact whole number (minutes since 1970), so that steps between minutes carry no rounding.
_HOUR = {
    "postgresql": "date_bin('1 hour', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00')",
    "sqlite": "strftime('%Y-%m-%d %H:00:00.000000', bucket)",
}
_MINUTE_NUMBER = {
    "postgresql": "CAST(extract(epoch FROM bucket) AS bigint) / 60",
    "sqlite": "CAST(strftime('%s', bucket) AS INTEGER) / 60",
}
_UPSERT = """
INSERT INTO device_coverage_1h (device_id, hour, covered_minutes, first_minute, last_minute, gaps_inside)
SELECT device_id, hour, count(*), min(bucket), max(bucket), sum(CASE WHEN step > :gap_step THEN 1 ELSE 0 END)
FROM (
    SELECT device_id, hour, bucket, minute - lag(minute) OVER (PARTITION BY device_id, hour ORDER BY bucket) AS step
    FROM (
        SELECT DISTINCT device_id, {hour} AS hour, bucket, {minute} AS minute
        FROM vital_rollups_1m
        WHERE bucket >= :since AND bucket < :until {device_filter}
    ) covered
) stepped
GROUP BY device_id, hour
ON CONFLICT (device_id, hour) DO UPDATE SET
    covered_minutes = excluded.covered_minutes, first_minute = excluded.first_minute,
    last_minute = excluded.last_minute, gaps_inside = excluded.gaps_inside
"""


def floor_hour(moment: datetime) -> datetime:
    """The start of the UTC hour containing `moment`."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


async def refresh_coverage_hours(
    session: AsyncSession, *, since: datetime, until: datetime, device_ids: Collection[str] | None = None
) -> None:
    """Recomputes every hour that holds a minute of [since, until), for `device_ids` (or every device)."""
    start, end = floor_hour(since), floor_hour(until) + HOUR
    stale = delete(DeviceCoverage1h).where(DeviceCoverage1h.hour >= start, DeviceCoverage1h.hour < end)
    if device_ids is not None:
        if not device_ids:
            return
        stale = stale.where(DeviceCoverage1h.device_id.in_(list(device_ids)))
    await session.execute(stale)
    dialect = session.get_bind().dialect.name
    statement = text(
        _UPSERT.format(
            hour=_HOUR[dialect],
            minute=_MINUTE_NUMBER[dialect],
            device_filter="AND device_id IN :device_ids" if device_ids is not None else "",
        )
    ).bindparams(bindparam("since", type_=UTCDateTime), bindparam("until", type_=UTCDateTime))
    # Consecutive covered minutes are one apart; a step over GAP_MINUTES + 1 skips more than GAP_MINUTES.
    parameters: dict[str, object] = {"since": start, "until": end, "gap_step": GAP_MINUTES + 1}
    if device_ids is not None:
        statement = statement.bindparams(bindparam("device_ids", expanding=True))
        parameters["device_ids"] = list(device_ids)
    await session.execute(statement, parameters)
