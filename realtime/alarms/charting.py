"""Charting for alarms: per-patient thresholds, nurses' NEWS2 observations, and the current NEWS2.

Every function takes the caller's principal, checks the role, and audits the patient data it touches.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import Forbidden, InvalidInput
from core.principal import Principal, Role
from devices.protocol import metric_spec
from realtime.alarms.defaults import THRESHOLD_METRICS
from realtime.alarms.models import AlarmThreshold, News2Observation
from realtime.alarms.news2_answers import news2_answer
from realtime.alarms.news2_inputs import compute_news2
from realtime.alarms.observation_sets import last_full_set_at
from realtime.alarms.schemas import (
    News2ObservationCreate,
    News2ObservationRead,
    News2Read,
    ThresholdRead,
    ThresholdSet,
    ThresholdsRead,
)
from realtime.alarms.service import CARERS
from realtime.alarms.spo2_scale import assigned_scales
from realtime.alarms.thresholds import limits_in_force


async def get_thresholds(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, now: datetime
) -> ThresholdsRead:
    """The limits in force for the patient, each marked default or override."""
    if principal.role not in CARERS:
        raise Forbidden("Alarm thresholds are for nurses and clinicians.")
    group, limits, overridden = await limits_in_force(session, patient_id=patient_id, now=now)
    audit.record(
        session, actor=principal, action="read", resource_type="alarm_thresholds", patient_id=patient_id
    )
    return ThresholdsRead(
        patient_id=patient_id,
        age_group=group.value,
        thresholds=[
            ThresholdRead(
                metric=m,
                low=lim.low,
                high=lim.high,
                priority=lim.priority,
                delay_s=lim.delay_s,
                source="override" if m in overridden else "default",
            )
            for m, lim in sorted(limits.items())
        ],
    )


async def set_thresholds(
    *,
    session: AsyncSession,
    principal: Principal,
    patient_id: uuid.UUID,
    items: list[ThresholdSet],
    now: datetime,
) -> ThresholdsRead:
    """A clinician overrides limits for the given metrics; others keep theirs."""
    if principal.role is not Role.CLINICIAN:
        raise Forbidden("Only clinicians set alarm thresholds.")
    await limits_in_force(session, patient_id=patient_id, now=now)  # NotFound for an unknown patient
    for item in items:
        try:
            metric = metric_spec(item.metric).code
        except ValueError as error:
            raise InvalidInput(str(error)) from None
        if metric not in THRESHOLD_METRICS:
            raise InvalidInput(f"{item.metric} has no alarm thresholds.")
        row = await session.scalar(
            select(AlarmThreshold).where(
                AlarmThreshold.patient_id == patient_id, AlarmThreshold.metric == metric
            )
        )
        if row is None:
            row = AlarmThreshold(patient_id=patient_id, metric=metric)
            session.add(row)
        row.low, row.high, row.priority, row.delay_s = item.low, item.high, item.priority, item.delay_s
        row.set_by = principal.user_id
        audit.record(
            session,
            actor=principal,
            action="update",
            resource_type="alarm_thresholds",
            patient_id=patient_id,
            detail=item.model_dump(mode="json") | {"metric": metric},
        )
    await session.flush()
    return await get_thresholds(session=session, principal=principal, patient_id=patient_id, now=now)


async def record_observation(
    *,
    session: AsyncSession,
    principal: Principal,
    patient_id: uuid.UUID,
    data: News2ObservationCreate,
    now: datetime,
) -> News2ObservationRead:
    """A nurse's or clinician's charting of consciousness and oxygen alone (a full set: observation_sets)."""
    if principal.role not in CARERS:
        raise Forbidden("Only nurses and clinicians record observations.")
    await limits_in_force(session, patient_id=patient_id, now=now)  # NotFound for an unknown patient
    observation = News2Observation(
        patient_id=patient_id,
        consciousness=data.consciousness,
        on_oxygen=data.on_oxygen,
        # The scale in force, for the record: only a clinician chooses it (see spo2_scale).
        spo2_scale=int((await assigned_scales(session, patient_ids=[patient_id])).get(patient_id, 1)),
        recorded_by=principal.user_id,
        recorded_at=data.recorded_at or now,
    )
    session.add(observation)
    await session.flush()
    audit.record(
        session,
        actor=principal,
        action="create",
        resource_type="news2_observation",
        resource_id=observation.id,
        patient_id=patient_id,
    )
    return News2ObservationRead.model_validate(observation)


async def current_news2(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, now: datetime
) -> News2Read:
    """The latest NEWS2 with its parameter breakdown; staff, or the patient themselves."""
    if not principal.may_access_patient(patient_id):
        raise Forbidden("Patients may only see their own score.")
    await limits_in_force(session, patient_id=patient_id, now=now)  # NotFound for an unknown patient
    result = await compute_news2(session, patient_id=patient_id, now=now)
    audit.record(session, actor=principal, action="read", resource_type="news2", patient_id=patient_id)
    last_set = await last_full_set_at(session, patient_id=patient_id, now=now)
    return news2_answer(patient_id, result, last_full_set_at=last_set, now=now)
