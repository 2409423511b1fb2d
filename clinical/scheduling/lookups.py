"""Loading the rows scheduling refers to, with the reason to refuse when one is missing."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation import Practitioner
from clinical.patients import Patient
from clinical.scheduling.exceptions import UnknownAppointmentType, UnknownPatient, UnknownPractitioner
from clinical.scheduling.models import AppointmentType, ScheduleException, WorkingHours
from clinical.scheduling.slots import Interval
from core import audit
from core.errors import Forbidden
from core.principal import Principal, Role


async def practitioner(
    session: AsyncSession, practitioner_id: uuid.UUID, *, lock: str | None = None
) -> Practitioner:
    """An active practitioner; `lock` "share" or "update" takes a row lock on PostgreSQL.

    Bookings take a share lock and schedule changes an update lock, so that leave cannot be
    entered while a booking into it is in flight, while bookings never wait for each other.
    """
    query = select(Practitioner).where(Practitioner.id == practitioner_id)
    if lock is not None:
        query = query.with_for_update(read=lock == "share", of=Practitioner)
    found = await session.scalar(query)
    if found is None or not found.active:
        raise UnknownPractitioner(
            f"There is no active practitioner {practitioner_id}.",
            extra={"practitioner_id": str(practitioner_id)},
        )
    return found


async def patient(session: AsyncSession, patient_id: uuid.UUID) -> Patient:
    """An active patient record."""
    found = await session.get(Patient, patient_id)
    if found is None or not found.active:
        raise UnknownPatient(
            f"There is no active patient record {patient_id}.", extra={"patient_id": str(patient_id)}
        )
    return found


async def appointment_type(session: AsyncSession, code: str, *, active_only: bool = True) -> AppointmentType:
    """The appointment type with `code`."""
    found = await session.scalar(select(AppointmentType).where(AppointmentType.code == code))
    if found is None or (active_only and not found.active):
        raise UnknownAppointmentType(
            f"There is no {'active ' if active_only else ''}appointment type with code '{code}'.",
            extra={"appointment_type": code},
        )
    return found


async def working_hours(session: AsyncSession, practitioner_ids: list[uuid.UUID]) -> list[WorkingHours]:
    """Every working-hours definition of the practitioners (a handful each)."""
    if not practitioner_ids:
        return []
    query = select(WorkingHours).where(WorkingHours.practitioner_id.in_(practitioner_ids))
    return list(await session.scalars(query.order_by(WorkingHours.weekday, WorkingHours.start_time)))


async def exceptions_between(
    session: AsyncSession,
    practitioner_ids: list[uuid.UUID],
    start: datetime | None,
    end: datetime | None,
) -> list[ScheduleException]:
    """The practitioners' exceptions overlapping [start, end); a missing bound is unbounded."""
    if not practitioner_ids:
        return []
    query = select(ScheduleException).where(ScheduleException.practitioner_id.in_(practitioner_ids))
    if end is not None:
        query = query.where(ScheduleException.start_at < end)
    if start is not None:
        query = query.where(ScheduleException.end_at > start)
    return list(await session.scalars(query.order_by(ScheduleException.start_at)))


def as_interval(exception: ScheduleException) -> Interval:
    return Interval(exception.start_at, exception.end_at, exception.reason.value)


def require_schedule_manager(session: AsyncSession, actor: Principal, target: Practitioner) -> None:
    """Administrators manage every schedule; a practitioner manages their own."""
    if actor.role is Role.ADMIN or (target.user_id is not None and target.user_id == actor.user_id):
        return
    audit.record(
        session,
        actor=actor,
        action="manage",
        resource_type="schedule",
        resource_id=target.id,
        outcome="denied",
    )
    raise Forbidden("Only administrators and the practitioner themself may change this schedule.")
