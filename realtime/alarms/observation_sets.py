"""Charting a full NEWS2 observation set: the form's prefill, the set itself, and the last set's time.

A set is stored as what each part is elsewhere, so that every reader already sees it: the measured
values are recorded vitals (FHIR vital-signs Observations with method "recorded by hand" and the
nurse as performer; NEWS2 reads them beside device readings, see `charted_vitals`), and
consciousness, oxygen with its device and flow, and the scale in use are a `News2Observation`
marked `full_set`, at the same instant. All of it is written in one transaction, or none.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical import encounters
from clinical.encounters import RecordedVital, RecordedVitalsCreate, VitalInput
from core import audit
from core.access import require_role
from core.principal import Principal
from devices import vitals as vitals_store
from devices.protocol import metric_spec
from realtime.alarms.charting_schemas import (
    DeviceValue,
    LastCharted,
    ObservationPrefill,
    ObservationSetCreate,
    ObservationSetRead,
)
from realtime.alarms.id_lists import among
from realtime.alarms.models import News2Observation
from realtime.alarms.service import CARERS
from realtime.alarms.spo2_scale import assigned_scales
from realtime.alarms.thresholds import limits_in_force

RESOURCE = "observation_set"
# The form's fields and the metric (wire alias) each is stored as, with the unit it is typed in.
MEASURED = {
    "respiration_rate": ("rr", "/min"),
    "spo2": ("spo2", "%"),
    "systolic_bp": ("sbp", "mm[Hg]"),
    "diastolic_bp": ("dbp", "mm[Hg]"),
    "pulse": ("hr", "/min"),
    "temperature_c": ("temp", "Cel"),
}


async def record_full_set(
    *,
    session: AsyncSession,
    principal: Principal,
    patient_id: uuid.UUID,
    data: ObservationSetCreate,
    now: datetime,
) -> ObservationSetRead:
    """Stores a nurse's or clinician's full set: recorded vitals and the charted observation."""
    require_role(session, principal, CARERS, action="create", resource_type=RESOURCE, patient_id=patient_id)
    await limits_in_force(session, patient_id=patient_id, now=now)  # NotFound for an unknown patient
    taken_at = data.recorded_at or now
    readings = [
        VitalInput(metric=alias, value=value, unit=unit)
        for field, (alias, unit) in MEASURED.items()
        if (value := getattr(data, field)) is not None
    ]
    vitals = await encounters.record_vitals(
        session=session,
        actor=principal,
        new=RecordedVitalsCreate(patient_id=patient_id, measured_at=taken_at, readings=readings),
    )
    scale = (await assigned_scales(session, patient_ids=[patient_id])).get(patient_id, 1)
    observation = News2Observation(
        patient_id=patient_id,
        consciousness=data.consciousness,
        on_oxygen=data.on_oxygen,
        oxygen_device=data.oxygen_device,
        oxygen_flow_l_min=data.oxygen_flow_l_min,
        spo2_scale=int(scale),
        full_set=True,
        recorded_by=principal.user_id,
        recorded_at=taken_at,
    )
    session.add(observation)
    await session.flush()
    audit.record(
        session,
        actor=principal,
        action="create",
        resource_type=RESOURCE,
        resource_id=observation.id,
        patient_id=patient_id,
        detail={"recorded_vital_ids": [str(v.id) for v in vitals], "spo2_scale": int(scale)},
    )
    return _read(observation, {vital.metric_code: vital.value for vital in vitals})


async def list_full_sets(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, now: datetime, limit: int = 20
) -> list[ObservationSetRead]:
    """The patient's full sets, newest first, each with its measured values."""
    require_role(session, principal, CARERS, action="list", resource_type=RESOURCE, patient_id=patient_id)
    await limits_in_force(session, patient_id=patient_id, now=now)
    sets = list(
        await session.scalars(
            select(News2Observation)
            .where(News2Observation.patient_id == patient_id, News2Observation.full_set.is_(True))
            .order_by(News2Observation.recorded_at.desc())
            .limit(limit)
        )
    )
    # A set's values are the recorded vitals of the same patient, instant and recorder (see above).
    values: dict[tuple[datetime, uuid.UUID | None], dict[str, float]] = {}
    if sets:
        v = RecordedVital
        rows = await session.execute(
            select(v.measured_at, v.recorded_by, v.metric_code, v.value).where(
                v.patient_id == patient_id, v.measured_at.in_([o.recorded_at for o in sets])
            )
        )
        for measured_at, recorded_by, metric, value in rows:
            values.setdefault((measured_at, recorded_by), {})[metric] = value
    audit.record(
        session,
        actor=principal,
        action="list",
        resource_type=RESOURCE,
        patient_id=patient_id,
        detail={"ids": [str(o.id) for o in sets]},
    )
    return [_read(o, values.get((o.recorded_at, o.recorded_by), {})) for o in sets]


def _read(observation: News2Observation, measured: dict[str, float]) -> ObservationSetRead:
    return ObservationSetRead(
        id=observation.id,
        patient_id=observation.patient_id,
        recorded_at=observation.recorded_at,
        recorded_by=observation.recorded_by,
        spo2_scale=observation.spo2_scale,
        on_oxygen=observation.on_oxygen,
        oxygen_device=observation.oxygen_device,
        oxygen_flow_l_min=observation.oxygen_flow_l_min,
        consciousness=observation.consciousness,
        **{field: measured.get(metric_spec(alias).code) for field, (alias, _unit) in MEASURED.items()},
    )


async def last_full_set_at(session: AsyncSession, *, patient_id: uuid.UUID, now: datetime) -> datetime | None:
    """When the patient's latest full set was taken, if one ever was."""
    return (await last_full_sets(session, patient_ids=[patient_id], now=now)).get(patient_id)


async def last_full_sets(
    session: AsyncSession, *, patient_ids: Collection[uuid.UUID], now: datetime
) -> dict[uuid.UUID, datetime]:
    """When each of these patients' latest full set was taken; patients never charted are left out."""
    if not patient_ids:
        return {}
    o = News2Observation
    rows = await session.execute(
        select(o.patient_id, func.max(o.recorded_at))
        .where(among(session, o.patient_id, patient_ids), o.full_set.is_(True), o.recorded_at <= now)
        .group_by(o.patient_id)
    )
    # max() keeps the column's type, so the times come back aware, as `recorded_at` itself does.
    return {patient_id: recorded_at for patient_id, recorded_at in rows}


async def prefill(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, now: datetime
) -> ObservationPrefill:
    """The latest device value of each measured parameter, the SpO2 scale and the last charting."""
    require_role(session, principal, CARERS, action="read", resource_type=RESOURCE, patient_id=patient_id)
    await limits_in_force(session, patient_id=patient_id, now=now)
    by_code = {metric_spec(alias).code: field for field, (alias, _unit) in MEASURED.items()}
    device_values: dict[str, DeviceValue] = {}
    for _patient, metric, value, _unit, time, device_id in await vitals_store.latest_values(
        session, patient_ids=[patient_id], now=now
    ):
        if metric in by_code:
            device_values[by_code[metric]] = DeviceValue(value=value, time=time, device_id=device_id)
    last = await session.scalar(
        select(News2Observation)
        .where(News2Observation.patient_id == patient_id, News2Observation.recorded_at <= now)
        .order_by(News2Observation.recorded_at.desc())
        .limit(1)
    )
    scale = (await assigned_scales(session, patient_ids=[patient_id])).get(patient_id, 1)
    audit.record(session, actor=principal, action="read", resource_type=RESOURCE, patient_id=patient_id)
    return ObservationPrefill(
        patient_id=patient_id,
        spo2_scale=int(scale),
        device_values=device_values,
        last_charted=LastCharted(
            consciousness=last.consciousness,
            on_oxygen=last.on_oxygen,
            oxygen_device=last.oxygen_device,
            oxygen_flow_l_min=last.oxygen_flow_l_min,
            recorded_at=last.recorded_at,
            full_set=last.full_set,
        )
        if last
        else None,
    )
