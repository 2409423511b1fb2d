"""The limits in force for a patient: the age group's defaults, overridden metric by metric by clinicians."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients.models import Patient
from core.errors import NotFound
from realtime.alarms.defaults import AgeGroup, Limits, age_group, default_limits
from realtime.alarms.models import AlarmThreshold


async def limits_in_force(
    session: AsyncSession, *, patient_id: uuid.UUID, now: datetime
) -> tuple[AgeGroup, dict[str, Limits], set[str]]:
    """(age group, limits by metric, metrics overridden) for the patient; NotFound for an unknown one."""
    birth_date = await session.scalar(select(Patient.birth_date).where(Patient.id == patient_id))
    if birth_date is None and await session.get(Patient, patient_id) is None:
        raise NotFound("No such patient.")
    group = age_group(birth_date, now)
    limits = default_limits(group)
    overridden: set[str] = set()
    for row in await session.scalars(select(AlarmThreshold).where(AlarmThreshold.patient_id == patient_id)):
        limits[row.metric] = Limits(row.metric, row.low, row.high, row.priority, row.delay_s)
        overridden.add(row.metric)
    return group, limits, overridden


def breached(limits: Limits, value: float) -> str | None:
    """ "low" or "high" when `value` is outside the limits, else None."""
    if limits.low is not None and value < limits.low:
        return "low"
    if limits.high is not None and value > limits.high:
        return "high"
    return None
