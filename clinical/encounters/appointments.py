"""The encounter's side of scheduling: which appointment it belongs to, and moving that appointment on."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical import scheduling
from clinical.encounters.models import Encounter, EncounterClass
from clinical.scheduling import Action, Appointment, AppointmentMode, AppointmentStatus
from core.errors import Conflict, NotFound
from core.principal import Principal

# An encounter may open for an appointment that is due or under way, not one that is over.
OPENABLE = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_PROGRESS})


async def load(session: AsyncSession, appointment_id: uuid.UUID) -> Appointment:
    """The appointment, locked against concurrent status changes until the transaction ends."""
    appointment = await session.scalar(
        select(Appointment).where(Appointment.id == appointment_id).with_for_update(of=Appointment)
    )
    if appointment is None:
        raise NotFound(f"There is no appointment with id {appointment_id}.")
    return appointment


async def claim(session: AsyncSession, appointment_id: uuid.UUID) -> Appointment:
    """The appointment, if it is open and has no encounter yet."""
    appointment = await load(session, appointment_id)
    if appointment.status not in OPENABLE:
        raise Conflict(
            f"An encounter cannot be opened for a {appointment.status.value} appointment.",
            extra={"appointment_status": appointment.status.value},
        )
    existing = await session.scalar(select(Encounter.id).where(Encounter.appointment_id == appointment_id))
    if existing is not None:
        raise Conflict("This appointment already has an encounter.", extra={"encounter_id": str(existing)})
    return appointment


def default_class(appointment: Appointment | None) -> EncounterClass:
    """A video appointment is a virtual encounter; anything else happens in person."""
    if appointment is not None and appointment.appointment_type.mode is AppointmentMode.VIDEO:
        return EncounterClass.VIRTUAL
    return EncounterClass.AMBULATORY


async def mark_started(session: AsyncSession, actor: Principal, appointment: Appointment) -> None:
    """Checks the appointment in (if the patient was not yet) and starts it, through scheduling."""
    if appointment.status not in OPENABLE:
        raise Conflict(
            f"The appointment is {appointment.status.value}; its encounter cannot start.",
            extra={"appointment_status": appointment.status.value},
        )
    if appointment.status is AppointmentStatus.BOOKED:
        await _step(session, actor, appointment, Action.CHECK_IN)
    if appointment.status is AppointmentStatus.CHECKED_IN:
        await _step(session, actor, appointment, Action.START)


async def mark_completed(session: AsyncSession, actor: Principal, appointment_id: uuid.UUID) -> None:
    """Completes the encounter's appointment, unless it is already in a final status."""
    appointment = await load(session, appointment_id)
    if appointment.status in (AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_PROGRESS):
        await _step(session, actor, appointment, Action.COMPLETE)


async def _step(session: AsyncSession, actor: Principal, appointment: Appointment, action: Action) -> None:
    # Scheduling owns the appointment's life cycle (its rules, its audit trail); we only ask it.
    await scheduling.record_visit_step(
        session=session, actor=actor, appointment_id=appointment.id, action=action
    )
