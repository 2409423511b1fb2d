"""The limits in force for a patient: the age group's defaults, overridden metric by metric by clinicians."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients import Patient
from core.errors import NotFound
from realtime.alarms.defaults import AgeGroup, Limits, age_group, default_limits
from realtime.alarms.id_lists import among
from realtime.alarms.models import AlarmThreshold


@dataclass(frozen=True, slots=True)
class LimitsInForce:
    """A patient's age group, limits by metric, and which of those a clinician set."""

    group: AgeGroup
    limits: dict[str, Limits]
    overridden: set[str]


async def limits_in_force(
    session: AsyncSession, *, patient_id: uuid.UUID, now: datetime
) -> tuple[AgeGroup, dict[str, Limits], set[str]]:
    """(age group, limits by metric, metrics overridden) for the patient; NotFound for an unknown one."""
    found = (await limits_by_patient(session, patient_ids=[patient_id], now=now)).get(patient_id)
    if found is None:
        raise NotFound("No such patient.")
    return found.group, found.limits, found.overridden


async def limits_by_patient(
    session: AsyncSession, *, patient_ids: Collection[uuid.UUID], now: datetime
) -> dict[uuid.UUID, LimitsInForce]:
    """The limits in force of each of these patients, in two queries; unknown patients are left out."""
    if not patient_ids:
        return {}
    wanted = list(patient_ids)
    births = await session.execute(
        select(Patient.id, Patient.birth_date).where(among(session, Patient.id, wanted))
    )
    found = {patient_id: limits_of(birth_date, (), now=now) for patient_id, birth_date in births}
    t = AlarmThreshold
    overrides = await session.execute(
        select(t.patient_id, t.metric, t.low, t.high, t.priority, t.delay_s).where(
            among(session, t.patient_id, wanted)
        )
    )
    for patient_id, metric, low, high, priority, delay_s in overrides:
        patient = found.get(patient_id)
        if patient is None:  # removed between the two reads: it is left out like any unknown patient
            continue
        patient.limits[metric] = Limits(metric, low, high, priority, delay_s)
        patient.overridden.add(metric)
    return found


def limits_of(birth_date: date | None, overrides: Iterable[Limits], *, now: datetime) -> LimitsInForce:
    """The limits in force of a patient born on `birth_date` with these clinicians' overrides."""
    group = age_group(birth_date, now)
    limits = default_limits(group)
    overridden = set()
    for override in overrides:
        limits[override.metric] = override
        overridden.add(override.metric)
    return LimitsInForce(group, limits, overridden)


def breached(limits: Limits, value: float) -> str | None:
    """ "low" or "high" when `value` is outside the limits, else None."""
    if limits.low is not None and value < limits.low:
        return "low"
    if limits.high is not None and value > limits.high:
        return "high"
    return None
