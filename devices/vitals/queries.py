"""Reading the vitals store: raw series, bucketed series, and the latest value per metric.

These functions do not check who asks: `devices.vitals.service` scopes and audits, then calls them.
Bucketing: PostgreSQL (and TimescaleDB) use `date_bin`; SQLite divides Unix seconds. Long ranges
read the one-minute rollups (see `devices.vitals.rollups`), which trail raw data by up to the
worker's rollup interval; short ranges read raw readings.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, bindparam, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import UTCDateTime
from devices.protocol import METRICS
from devices.vitals.models import VitalReading, VitalRollup1m
from devices.vitals.schemas import VitalBucket, VitalPoint

# Beyond this range a bucketed series reads the rollups: a day of raw 1 Hz readings is 86,400 rows.
ROLLUP_MIN_RANGE = timedelta(hours=6)
# How far back the dashboard snapshot looks for a latest value (older is not "latest" at a bedside).
LATEST_LOOKBACK = timedelta(hours=24)


async def raw_points(
    session: AsyncSession, *, patient_id: uuid.UUID, metric: str, start: datetime, end: datetime, limit: int
) -> list[VitalPoint]:
    """Up to `limit` readings in time order."""
    rows = await session.execute(
        select(VitalReading.time, VitalReading.value, VitalReading.device_id)
        .where(
            VitalReading.patient_id == patient_id,
            VitalReading.metric == metric,
            VitalReading.time >= start,
            VitalReading.time < end,
        )
        .order_by(VitalReading.time)
        .limit(limit)
    )
    return [VitalPoint(time=t, value=v, device_id=d) for t, v, d in rows]


async def bucketed(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    metric: str,
    start: datetime,
    end: datetime,
    width: timedelta,
    use_rollups: bool,
) -> list[VitalBucket]:
    """min/avg/max/count per bucket of `width`, from raw readings or from the one-minute rollups."""
    dialect = session.get_bind().dialect.name
    if use_rollups:
        r = VitalRollup1m
        where = and_(r.patient_id == patient_id, r.metric == metric, r.bucket >= start, r.bucket < end)
        key = _bucket_key(dialect, r.bucket.key, width)
        query: Select[Any] = select(
            key, func.min(r.min_value), func.max(r.max_value), func.sum(r.sum_value), func.sum(r.count)
        ).where(where)
    else:
        v = VitalReading
        where = and_(v.patient_id == patient_id, v.metric == metric, v.time >= start, v.time < end)
        key = _bucket_key(dialect, v.time.key, width)
        query = select(key, func.min(v.value), func.max(v.value), func.sum(v.value), func.count()).where(
            where
        )
    rows = await session.execute(query.group_by(key).order_by(key))
    return [
        # sum(bigint) is numeric on PostgreSQL: back to plain numbers before dividing.
        VitalBucket(start=_as_time(b), min=lo, max=hi, avg=float(total) / int(count), count=int(count))
        for b, lo, hi, total, count in rows
        if count
    ]


async def latest_values(
    session: AsyncSession, *, patient_ids: Collection[uuid.UUID], now: datetime
) -> list[tuple[uuid.UUID, str, float, str, datetime, str]]:
    """(patient, metric, value, unit, time, device) of each patient's newest reading per metric."""
    if not patient_ids:
        return []
    since = now - LATEST_LOOKBACK
    if session.get_bind().dialect.name == "postgresql":
        return await _latest_postgresql(session, patient_ids=patient_ids, since=since, now=now)
    v = VitalReading
    ranked = (
        select(
            v.patient_id,
            v.metric,
            v.value,
            v.unit,
            v.time,
            v.device_id,
            func.row_number()
            .over(partition_by=(v.patient_id, v.metric), order_by=v.time.desc())
            .label("rank"),
        )
        .where(v.patient_id.in_(list(patient_ids)), v.time >= since, v.time <= now)
        .subquery()
    )
    rows = await session.execute(
        select(
            ranked.c.patient_id,
            ranked.c.metric,
            ranked.c.value,
            ranked.c.unit,
            ranked.c.time,
            ranked.c.device_id,
        ).where(ranked.c.rank == 1)
    )
    return [(p, m, val, u, _as_time(t), d) for p, m, val, u, t, d in rows]


async def _latest_postgresql(
    session: AsyncSession, *, patient_ids: Collection[uuid.UUID], since: datetime, now: datetime
) -> list[tuple[uuid.UUID, str, float, str, datetime, str]]:
    # One index probe per (patient, metric) on (patient_id, metric, time DESC), instead of ranking
    # every reading of the lookback window: that is ~86,400 rows per metric and patient at 1 Hz.
    statement = text(
        "SELECT p.id, m.code, r.value, r.unit, r.time, r.device_id "
        "FROM unnest(CAST(:patients AS uuid[])) AS p(id) CROSS JOIN unnest(CAST(:metrics AS text[])) AS m(code) "
        "CROSS JOIN LATERAL (SELECT value, unit, time, device_id FROM vital_readings "
        "WHERE patient_id = p.id AND metric = m.code AND time >= :since AND time <= :now "
        "ORDER BY time DESC LIMIT 1) AS r"
    ).bindparams(bindparam("since", type_=UTCDateTime), bindparam("now", type_=UTCDateTime))
    rows = await session.execute(
        statement,
        {"patients": list(patient_ids), "metrics": [m.code for m in METRICS], "since": since, "now": now},
    )
    return [(p, m, val, u, _as_time(t), d) for p, m, val, u, t, d in rows]


def _bucket_key(dialect: str, column: str, width: timedelta) -> ColumnElement[Any]:
    seconds = int(width.total_seconds())
    if dialect == "postgresql":
        return literal_column(
            f"date_bin(INTERVAL '{seconds} seconds', {column}, TIMESTAMPTZ '2000-01-01 00:00:00+00')"
        ).label("bucket")
    # SQLite keeps times as 'YYYY-MM-DD HH:MM:SS.ffffff' text in UTC; Unix seconds bucket the same way.
    return literal_column(
        f"(CAST(strftime('%s', {column}) AS INTEGER) / {seconds}) * {seconds}", type_=Float
    ).label("bucket")


def _as_time(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    raise TypeError(f"unexpected time value {value!r}")
