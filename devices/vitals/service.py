"""Reading vitals on behalf of a caller: scoped to the patients the caller may see, and audited."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utc_now
from core.errors import Forbidden, InvalidInput
from core.principal import Principal
from devices.protocol import METRICS, MetricSpec, metric_spec
from devices.vitals import fhir, queries
from devices.vitals.schemas import BUCKET_WIDTHS, Bucket, LatestValue, VitalSeries

DEFAULT_RANGE = timedelta(hours=1)
# Point caps keep one request's answer (and the database's work) bounded.
MAX_RAW_POINTS = 5000
MAX_BUCKETS = 2000
MAX_OBSERVATIONS = 1000


async def get_series(
    *,
    session: AsyncSession,
    principal: Principal,
    patient_id: uuid.UUID,
    metric: str,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket: Bucket = "raw",
) -> VitalSeries:
    """One patient's metric over [start, end) (default: the last hour), raw or bucketed."""
    _require_scope(session, principal, patient_id)
    spec = _metric(metric)
    start, end = _range(start, end)
    series = VitalSeries(
        patient_id=patient_id, metric=spec.code, display=spec.display, unit=spec.unit, bucket=bucket,
        start=start, end=end, source="raw",
    )  # fmt: skip
    if bucket == "raw":
        points = await queries.raw_points(
            session, patient_id=patient_id, metric=spec.code, start=start, end=end, limit=MAX_RAW_POINTS + 1
        )
        if len(points) > MAX_RAW_POINTS:
            series.truncated, series.next_start = True, points[MAX_RAW_POINTS].time
            points = points[:MAX_RAW_POINTS]
        series.points = points
    else:
        width = BUCKET_WIDTHS[bucket]
        if (end - start) / width > MAX_BUCKETS:
            raise InvalidInput(
                f"{bucket} buckets over this range would exceed {MAX_BUCKETS}; choose a wider bucket or a shorter range."
            )
        use_rollups = end - start > queries.ROLLUP_MIN_RANGE
        series.source = "rollup" if use_rollups else "raw"
        series.buckets = await queries.bucketed(
            session,
            patient_id=patient_id,
            metric=spec.code,
            start=start,
            end=end,
            width=width,
            use_rollups=use_rollups,
        )
    _audit_read(session, principal, patient_id, "vitals", spec.code, start, end)
    return series


async def get_latest(
    *, session: AsyncSession, principal: Principal, patient_ids: list[uuid.UUID]
) -> list[LatestValue]:
    """The newest value of each metric of each patient (the dashboard snapshot)."""
    for patient_id in patient_ids:
        _require_scope(session, principal, patient_id)
    rows = await queries.latest_values(session, patient_ids=patient_ids, now=utc_now())
    for patient_id in patient_ids:
        audit.record(
            session, actor=principal, action="read", resource_type="vitals_latest",
            resource_id=patient_id, patient_id=patient_id,
        )  # fmt: skip
    return [
        LatestValue(
            patient_id=p, metric=m, display=metric_spec(m).display, value=v, unit=u, time=t, device_id=d
        )
        for p, m, v, u, t, d in rows
    ]


async def get_observations(
    *,
    session: AsyncSession,
    principal: Principal,
    patient_id: uuid.UUID,
    metric: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    count: int = 100,
) -> dict[str, Any]:
    """The patient's readings over [start, end) as a FHIR searchset Bundle, oldest first."""
    _require_scope(session, principal, patient_id)
    if not 1 <= count <= MAX_OBSERVATIONS:
        raise InvalidInput(f"_count must be between 1 and {MAX_OBSERVATIONS}.")
    start, end = _range(start, end)
    specs = [_metric(metric)] if metric else list(METRICS)
    observations = []
    for spec in specs:
        points = await queries.raw_points(
            session, patient_id=patient_id, metric=spec.code, start=start, end=end, limit=count
        )
        observations += [
            fhir.reading_observation(
                patient_id=patient_id,
                metric=spec.code,
                value=p.value,
                unit=spec.unit,
                time=p.time,
                device_id=p.device_id,
            )
            for p in points
        ]
    observations.sort(key=lambda o: o["effectiveDateTime"])
    _audit_read(session, principal, patient_id, "observation", metric or "*", start, end)
    return fhir.searchset(observations[:count])


def _require_scope(session: AsyncSession, principal: Principal, patient_id: uuid.UUID) -> None:
    if not principal.may_access_patient(patient_id):
        audit.record(
            session, actor=principal, action="read", resource_type="vitals", resource_id=patient_id,
            patient_id=patient_id, outcome="denied",
        )  # fmt: skip
        raise Forbidden("Patients may only read their own vitals.")


def _metric(metric: str) -> MetricSpec:
    try:
        return metric_spec(metric)
    except ValueError as error:
        raise InvalidInput(str(error)) from None


def _range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(f"{name} must carry a timezone offset, e.g. 2026-11-23T10:15:00Z.")
    end = end or utc_now()
    start = start or end - DEFAULT_RANGE
    if end <= start:
        raise InvalidInput("end must be after start.")
    return start, end


def _audit_read(
    session: AsyncSession,
    principal: Principal,
    patient_id: uuid.UUID,
    what: str,
    metric: str,
    start: datetime,
    end: datetime,
) -> None:
    audit.record(
        session, actor=principal, action="read", resource_type=what, resource_id=metric, patient_id=patient_id,
        detail={"start": start.isoformat(), "end": end.isoformat()},
    )  # fmt: skip
