"""What nurses and clinicians do with alarms: list them, acknowledge, resolve.

Every function takes the caller's principal, scopes by it and audits the patient data it reads or writes.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import refuse
from core.errors import Conflict, NotFound
from core.principal import Principal, Role
from realtime.alarms import store
from realtime.alarms.models import Alarm, AlarmStatus
from realtime.alarms.schemas import AlarmChange, AlarmRead

CARERS = frozenset({Role.NURSE, Role.CLINICIAN})
LIST_LIMIT = 500


async def list_alarms(
    *,
    session: AsyncSession,
    principal: Principal,
    ward_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    status: AlarmStatus | None = None,
) -> list[AlarmRead]:
    """Alarms newest first; a patient sees only their own, staff filter by ward, patient and status."""
    query = select(Alarm).order_by(Alarm.raised_at.desc()).limit(LIST_LIMIT)
    if not principal.is_staff:
        if principal.patient_id is None or (patient_id and patient_id != principal.patient_id):
            refuse(
                session,
                principal,
                action="read",
                resource_type="alarm",
                patient_id=patient_id,
                message="Patients may only see their own alarms.",
            )
        patient_id = principal.patient_id
    if ward_id is not None:
        query = query.where(Alarm.ward_id == ward_id)
    if patient_id is not None:
        query = query.where(Alarm.patient_id == patient_id)
    if status is not None:
        query = query.where(Alarm.status == status)
    alarms = [AlarmRead.model_validate(a) for a in await session.scalars(query)]
    # One entry per patient seen, not per alarm: a ward dashboard lists many alarms every refresh.
    by_patient: dict[uuid.UUID, list[str]] = {}
    for alarm in alarms:
        by_patient.setdefault(alarm.patient_id, []).append(str(alarm.id))
    for seen, ids in by_patient.items():
        audit.record(
            session,
            actor=principal,
            action="read",
            resource_type="alarm",
            patient_id=seen,
            detail={"alarm_ids": ids, "ward_id": str(ward_id) if ward_id else None},
        )
    return alarms


async def acknowledge(
    *, session: AsyncSession, principal: Principal, alarm_id: uuid.UUID, now: datetime
) -> AlarmChange:
    """Records who acknowledged and when; acknowledging again changes nothing; a resolved alarm is 409.

    A latched alarm whose condition has ended is done once seen: acknowledging it resolves it.
    """
    alarm = await _locked(session, principal, alarm_id)
    if alarm.status is AlarmStatus.RESOLVED:
        raise Conflict("The alarm is already resolved.")
    if alarm.condition_ended_at is not None:
        alarm.acknowledged_by, alarm.acknowledged_at = principal.user_id, now
        alarm.status, alarm.resolved_by, alarm.resolved_at = AlarmStatus.RESOLVED, principal.user_id, now
        await session.flush()
        ended = store.change("resolved", alarm)
        store.audit_changes(session, [ended], actor=principal)
        return ended
    if alarm.status is AlarmStatus.RAISED:
        alarm.status, alarm.acknowledged_by, alarm.acknowledged_at = (
            AlarmStatus.ACKNOWLEDGED,
            principal.user_id,
            now,
        )
        await session.flush()
    result = store.change("acknowledged", alarm)
    store.audit_changes(session, [result], actor=principal)
    return result


async def resolve(
    *, session: AsyncSession, principal: Principal, alarm_id: uuid.UUID, now: datetime
) -> AlarmChange:
    """Resolves an open alarm (a resolved one is returned as it is)."""
    alarm = await _locked(session, principal, alarm_id)
    if alarm.status is not AlarmStatus.RESOLVED:
        alarm.status, alarm.resolved_by, alarm.resolved_at = AlarmStatus.RESOLVED, principal.user_id, now
        await session.flush()
    result = store.change("resolved", alarm)
    store.audit_changes(session, [result], actor=principal)
    return result


async def _locked(session: AsyncSession, principal: Principal, alarm_id: uuid.UUID) -> Alarm:
    alarm = await session.scalar(select(Alarm).where(Alarm.id == alarm_id).with_for_update())
    if alarm is None:
        raise NotFound("No such alarm.")
    if principal.role not in CARERS:
        refuse(
            session,
            principal,
            action="update",
            resource_type="alarm",
            resource_id=alarm.id,
            patient_id=alarm.patient_id,
            message="Only nurses and clinicians handle alarms.",
        )
    return alarm
