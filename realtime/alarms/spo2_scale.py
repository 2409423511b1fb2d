"""The SpO2 scale of each patient: scale 1 unless a clinician has assigned scale 2, with the reason.

The RCP keeps scale 2 for patients with hypercapnic respiratory failure whose prescribed target
saturation is 88-92%, and asks that a competent clinical decision-maker choose it and that the
choice be recorded: so only clinicians set it, the reason is required, and each choice is kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import refuse, require_role
from core.principal import Principal, Role
from realtime.alarms.charting_schemas import SpO2ScaleRead, SpO2ScaleSet
from realtime.alarms.id_lists import among
from realtime.alarms.models import SpO2ScaleAssignment
from realtime.alarms.news2 import SpO2Scale
from realtime.alarms.service import CARERS
from realtime.alarms.thresholds import limits_in_force

RESOURCE = "spo2_scale"


async def latest_assignment(session: AsyncSession, *, patient_id: uuid.UUID) -> SpO2ScaleAssignment | None:
    """The assignment in force for the patient, if any clinician has made one."""
    return await session.scalar(
        select(SpO2ScaleAssignment)
        .where(SpO2ScaleAssignment.patient_id == patient_id)
        .order_by(SpO2ScaleAssignment.set_at.desc())
        .limit(1)
    )


async def assigned_scales(
    session: AsyncSession, *, patient_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, SpO2Scale]:
    """The scale in force for each of these patients that has an assignment (others use scale 1)."""
    if not patient_ids:
        return {}
    a = SpO2ScaleAssignment
    ranked = (
        select(
            a.patient_id,
            a.scale,
            func.row_number().over(partition_by=a.patient_id, order_by=a.set_at.desc()).label("rank"),
        )
        .where(among(session, a.patient_id, patient_ids))
        .subquery()
    )
    rows = await session.execute(select(ranked.c.patient_id, ranked.c.scale).where(ranked.c.rank == 1))
    return {patient_id: SpO2Scale(scale) for patient_id, scale in rows}


def _read(patient_id: uuid.UUID, row: SpO2ScaleAssignment | None) -> SpO2ScaleRead:
    if row is None:
        return SpO2ScaleRead(patient_id=patient_id, scale=1, reason=None, set_by=None, set_at=None)
    return SpO2ScaleRead(
        patient_id=patient_id, scale=row.scale, reason=row.reason, set_by=row.set_by, set_at=row.set_at
    )


async def get_scale(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, now: datetime
) -> SpO2ScaleRead:
    """The patient's scale with who chose it and why; nurses and clinicians."""
    require_role(session, principal, CARERS, action="read", resource_type=RESOURCE, patient_id=patient_id)
    await limits_in_force(session, patient_id=patient_id, now=now)  # NotFound for an unknown patient
    audit.record(session, actor=principal, action="read", resource_type=RESOURCE, patient_id=patient_id)
    return _read(patient_id, await latest_assignment(session, patient_id=patient_id))


async def set_scale(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, choice: SpO2ScaleSet, now: datetime
) -> SpO2ScaleRead:
    """A clinician assigns scale 1 or 2, with the reason; nurses and others are refused (and audited)."""
    if principal.role is not Role.CLINICIAN:
        refuse(
            session,
            principal,
            action="update",
            resource_type=RESOURCE,
            patient_id=patient_id,
            message="Only a clinician assigns a patient's SpO2 scale.",
        )
    await limits_in_force(session, patient_id=patient_id, now=now)
    row = SpO2ScaleAssignment(
        patient_id=patient_id, scale=choice.scale, reason=choice.reason, set_by=principal.user_id, set_at=now
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor=principal,
        action="update",
        resource_type=RESOURCE,
        resource_id=row.id,
        patient_id=patient_id,
        detail={"scale": choice.scale, "reason": choice.reason},
    )
    return _read(patient_id, row)
