"""One-minute rollups: min, max, sum and count per patient, device, metric and minute.

`refresh_rollups` recomputes whole minutes from the raw readings and upserts them, so it is
idempotent: running it twice, or from two workers at once, gives the same rows. The ingest worker
calls it every `rollup_interval_s` for the minutes its committed readings touched (and, after a
start, for the minutes before it, which a killed predecessor may not have refreshed), so a rollup
trails the raw data by at most about that interval. Readings that lost their patient (a corrected
binding) have their rows removed by the same refresh.

The same call recomputes the hours those minutes fall in of the hourly device coverage table
(`devices.vitals.coverage_hours`), in the same transaction, so the coverage report never sees
minutes and hours that disagree.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import UTCDateTime, utc_now
from devices.vitals.coverage_hours import refresh_coverage_hours
from devices.vitals.models import VitalRollup1m

# The minute a reading falls in, per dialect, in the form each stores timestamps.
_MINUTE = {
    "postgresql": "date_bin('1 minute', time, TIMESTAMPTZ '2000-01-01 00:00:00+00')",
    "sqlite": "strftime('%Y-%m-%d %H:%M:00.000000', time)",
}
_UPSERT = """
INSERT INTO vital_rollups_1m (bucket, patient_id, device_id, metric, min_value, max_value, sum_value, count)
SELECT {minute} AS bucket, patient_id, device_id, metric, min(value), max(value), sum(value), count(*)
FROM vital_readings
WHERE time >= :since AND time < :until AND patient_id IS NOT NULL {device_filter}
GROUP BY 1, 2, 3, 4
ON CONFLICT (patient_id, metric, bucket, device_id) DO UPDATE SET
    min_value = excluded.min_value, max_value = excluded.max_value,
    sum_value = excluded.sum_value, count = excluded.count
"""


def floor_minute(moment: datetime) -> datetime:
    """The start of the UTC minute containing `moment`."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


async def refresh_rollups(
    session: AsyncSession,
    *,
    since: datetime,
    until: datetime | None = None,
    device_ids: Collection[str] | None = None,
) -> int:
    """Recomputes the minutes from the one containing `since` up to `until` (now), and their hours of
    device coverage; returns the minute rows written."""
    start = floor_minute(since)
    end = until or utc_now()
    stale = delete(VitalRollup1m).where(VitalRollup1m.bucket >= start, VitalRollup1m.bucket < end)
    if device_ids is not None:
        if not device_ids:
            return 0
        stale = stale.where(VitalRollup1m.device_id.in_(list(device_ids)))
    # Rows whose readings moved to another patient would otherwise linger under the old one.
    await session.execute(stale)
    dialect = session.get_bind().dialect.name
    device_filter = "AND device_id IN :device_ids" if device_ids is not None else ""
    statement = text(_UPSERT.format(minute=_MINUTE[dialect], device_filter=device_filter)).bindparams(
        bindparam("since", type_=UTCDateTime), bindparam("until", type_=UTCDateTime)
    )
    parameters: dict[str, object] = {"since": start, "until": end}
    if device_ids is not None:
        statement = statement.bindparams(bindparam("device_ids", expanding=True))
        parameters["device_ids"] = list(device_ids)
    written = int(getattr(await session.execute(statement, parameters), "rowcount", 0) or 0)
    await refresh_coverage_hours(session, since=start, until=end, device_ids=device_ids)
    return written
