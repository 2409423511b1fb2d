"""Who may touch which appointment: patients only their own, staff every one."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling.models import Appointment
from core import audit
from core.errors import Forbidden, NotFound
from core.principal import Principal


def refuse(
    session: AsyncSession,
    actor: Principal,
    *,
    action: str,
    appointment: Appointment | None,
    patient_id: uuid.UUID | None,
    message: str,
) -> Forbidden:
    """Records the refused attempt and returns the error to raise."""
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="appointment",
        resource_id=appointment.id if appointment else None,
        patient_id=patient_id,
        outcome="denied",
    )
    return Forbidden(message)


async def load(
    session: AsyncSession, actor: Principal, appointment_id: uuid.UUID, *, action: str, for_update: bool
) -> Appointment:
    """The appointment, if the caller may reach it; locked for the change when `for_update`."""
    query = select(Appointment).where(Appointment.id == appointment_id)
    if for_update:
        # Concurrent changes of one appointment queue here, so each sees the status left by the last.
        query = query.with_for_update(of=Appointment)
    found = await session.scalar(query)
    if found is None:
        raise NotFound(f"There is no appointment {appointment_id}.")
    if not actor.may_access_patient(found.patient_id):
        raise refuse(
            session,
            actor,
            action=action,
            appointment=found,
            patient_id=found.patient_id,
            message="Patients may only reach their own appointments.",
        )
    return found


def require_staff(session: AsyncSession, actor: Principal, appointment: Appointment, action: str) -> None:
    """Only staff may record what happened at a visit (check-in, start, completion, no-show)."""
    if not actor.is_staff:
        raise refuse(
            session,
            actor,
            action=action,
            appointment=appointment,
            patient_id=appointment.patient_id,
            message=f"Only staff may {action.replace('_', ' ')} an appointment.",
        )
