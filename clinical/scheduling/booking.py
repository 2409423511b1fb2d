"""Booking, rescheduling and cancelling: the changes that take or release a practitioner's time.

Every refusal is raised before anything is written, and the request's unit of work rolls back
whatever was flushed when a later step fails, so nothing is ever half-written.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling import access, lookups, overlap
from clinical.scheduling.events import AppointmentEvent, appointment_changed
from clinical.scheduling.exceptions import CancellationWindowClosed, TooFarAhead
from clinical.scheduling.models import Appointment, AppointmentType
from clinical.scheduling.schemas import AppointmentCancel, AppointmentCreate, AppointmentReschedule
from clinical.scheduling.slots import Slot, check_bookable
from clinical.scheduling.state_machine import Action, AppointmentStatus, next_status
from core import audit
from core.db import utc_now
from core.errors import InvalidInput
from core.principal import Principal

MAX_DAYS_AHEAD = 366


async def _bookable_slot(
    session: AsyncSession, *, practitioner_id: uuid.UUID, kind: AppointmentType, start: datetime
) -> Slot:
    """The slot at `start`, checked against the practitioner's hours, grid and exceptions."""
    now = utc_now()
    if start - now > timedelta(days=MAX_DAYS_AHEAD):
        raise TooFarAhead(f"Appointments can be booked at most {MAX_DAYS_AHEAD} days ahead.")
    # The share lock makes a concurrent change of this schedule wait for the booking (see lookups).
    await lookups.practitioner(session, practitioner_id, lock="share")
    duration = timedelta(minutes=kind.duration_minutes)
    hours = await lookups.working_hours(session, [practitioner_id])
    exceptions = await lookups.exceptions_between(session, [practitioner_id], start, start + duration)
    return check_bookable(
        hours=hours,
        exceptions=[lookups.as_interval(e) for e in exceptions],
        duration=duration,
        start=start,
        now=now,
    )


def _booking_patient(session: AsyncSession, actor: Principal, requested: uuid.UUID | None) -> uuid.UUID:
    if actor.is_staff:
        if requested is None:
            raise InvalidInput("Staff must name the patient (patient_id) they book for.")
        return requested
    if actor.patient_id is None or requested not in (None, actor.patient_id):
        raise access.refuse(
            session,
            actor,
            action="book",
            appointment=None,
            patient_id=requested,
            message="Patients may only book appointments for themselves.",
        )
    return actor.patient_id


async def book_appointment(
    *, session: AsyncSession, actor: Principal, booking: AppointmentCreate
) -> Appointment:
    """Books a free slot; the database refuses an overlap, which we report as SlotTaken."""
    patient_id = _booking_patient(session, actor, booking.patient_id)
    kind = await lookups.appointment_type(session, booking.appointment_type)
    await lookups.patient(session, patient_id)
    slot = await _bookable_slot(
        session, practitioner_id=booking.practitioner_id, kind=kind, start=booking.start_at
    )
    await overlap.ensure_free(
        session,
        practitioner_id=booking.practitioner_id,
        patient_id=patient_id,
        start=slot.start,
        end=slot.end,
    )
    appointment = Appointment(
        patient_id=patient_id,
        practitioner_id=booking.practitioner_id,
        appointment_type=kind,
        start_at=slot.start,
        end_at=slot.end,
        reason=booking.reason,
        notes=booking.notes,
        booked_by=actor.user_id,
    )
    session.add(appointment)
    async with overlap.refusing_overlap(slot.start, slot.end):
        await session.flush()
    audit.record(
        session,
        actor=actor,
        action="book",
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=patient_id,
        detail={"practitioner_id": str(appointment.practitioner_id), "start_at": slot.start.isoformat()},
    )
    await appointment_changed(session, event=AppointmentEvent.BOOKED, appointment=appointment, actor=actor)
    return appointment


def _require_outside_window(actor: Principal, appointment: Appointment, what: str) -> None:
    """Patients change an appointment only until its type's cancellation window opens; staff always."""
    if actor.is_staff:
        return
    window = timedelta(hours=appointment.appointment_type.cancellation_window_hours)
    if utc_now() > appointment.start_at - window:
        raise CancellationWindowClosed(
            f"Appointments of this type can be {what} online until {window.total_seconds() / 3600:g} hours "
            "before they start; please contact the clinic.",
            extra={"cancellation_window_hours": appointment.appointment_type.cancellation_window_hours},
        )


async def reschedule_appointment(
    *, session: AsyncSession, actor: Principal, appointment_id: uuid.UUID, change: AppointmentReschedule
) -> Appointment:
    """Moves a booked appointment to another free slot (optionally with another practitioner)."""
    appointment = await access.load(session, actor, appointment_id, action="reschedule", for_update=True)
    next_status(appointment.status, Action.RESCHEDULE)
    _require_outside_window(actor, appointment, "rescheduled")
    practitioner_id = change.practitioner_id or appointment.practitioner_id
    slot = await _bookable_slot(
        session, practitioner_id=practitioner_id, kind=appointment.appointment_type, start=change.start_at
    )
    await overlap.ensure_free(
        session,
        practitioner_id=practitioner_id,
        patient_id=appointment.patient_id,
        start=slot.start,
        end=slot.end,
        ignore_id=appointment.id,
    )
    previous = {
        "practitioner_id": str(appointment.practitioner_id),
        "start_at": appointment.start_at.isoformat(),
    }
    previous_start = appointment.start_at
    appointment.practitioner_id, appointment.start_at, appointment.end_at = (
        practitioner_id,
        slot.start,
        slot.end,
    )
    appointment.reschedule_count += 1
    async with overlap.refusing_overlap(slot.start, slot.end):
        await session.flush()
    audit.record(
        session,
        actor=actor,
        action="reschedule",
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
        detail={
            "from": previous,
            "to": {"practitioner_id": str(practitioner_id), "start_at": slot.start.isoformat()},
        },
    )
    await appointment_changed(
        session,
        event=AppointmentEvent.RESCHEDULED,
        appointment=appointment,
        actor=actor,
        previous_start=previous_start,
    )
    return appointment


async def cancel_appointment(
    *, session: AsyncSession, actor: Principal, appointment_id: uuid.UUID, cancel: AppointmentCancel
) -> Appointment:
    """Cancels with a reason; patients only before the cancellation window, staff at any time."""
    appointment = await access.load(session, actor, appointment_id, action="cancel", for_update=True)
    target = next_status(appointment.status, Action.CANCEL)
    if not actor.is_staff and appointment.status is not AppointmentStatus.BOOKED:
        raise access.refuse(
            session,
            actor,
            action="cancel",
            appointment=appointment,
            patient_id=appointment.patient_id,
            message="Once the patient has checked in, only staff can cancel the appointment.",
        )
    _require_outside_window(actor, appointment, "cancelled")
    now = utc_now()
    appointment.status = target
    appointment.status_changed_at = appointment.cancelled_at = now
    appointment.status_changed_by = appointment.cancelled_by = actor.user_id
    appointment.cancellation_reason = cancel.reason
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="cancel",
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
        detail={"reason": cancel.reason},
    )
    await appointment_changed(session, event=AppointmentEvent.CANCELLED, appointment=appointment, actor=actor)
    return appointment
