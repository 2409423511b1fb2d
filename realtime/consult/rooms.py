"""Who may enter which consult room, and when: the rules checked against the database on `join`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters import OPENABLE
from clinical.organisation import Practitioner
from clinical.patients import Patient
from clinical.scheduling import Appointment, AppointmentMode
from core.access import refuse
from core.db import utc_now
from core.errors import Conflict, NotFound
from core.settings import Settings
from realtime.consult.identity import Caller
from realtime.consult.models import ConsultInvitation, ConsultRole, ConsultSession

RESOURCE = "consult_room"


class RoomNotOpen(Conflict):
    """A join before the room opens; `extra["opens_at"]` says when to come back."""

    code, title = "room-not-open", "The room is not open yet"


@dataclass(frozen=True, slots=True)
class RoomPass:
    """The caller's admission ticket to one room: their role there and the room's hours."""

    room: uuid.UUID
    role: ConsultRole
    display_name: str
    patient_id: uuid.UUID
    opens_at: datetime
    closes_at: datetime


def room_hours(appointment: Appointment, settings: Settings) -> tuple[datetime, datetime]:
    """When the room of `appointment` opens and closes."""
    return (
        appointment.start_at - timedelta(seconds=settings.consult_opens_before_s),
        appointment.end_at + timedelta(seconds=settings.consult_closes_after_s),
    )


async def load_video_appointment(session: AsyncSession, room: uuid.UUID) -> Appointment:
    """The video appointment whose room this is; NotFound or Conflict otherwise."""
    appointment = await session.get(Appointment, room)
    if appointment is None:
        raise NotFound(f"There is no consult room {room}.")
    if appointment.appointment_type.mode is not AppointmentMode.VIDEO:
        raise Conflict("This appointment is not a video consultation.")
    return appointment


async def is_appointment_clinician(session: AsyncSession, caller: Caller, appointment: Appointment) -> bool:
    """Whether the caller is the practitioner of the appointment (signed in with their account)."""
    if caller.principal is None:
        return False
    practitioner_user = await session.scalar(
        select(Practitioner.user_id).where(Practitioner.id == appointment.practitioner_id)
    )
    return practitioner_user is not None and practitioner_user == caller.principal.user_id


async def enter(*, session: AsyncSession, caller: Caller, room: uuid.UUID, settings: Settings) -> RoomPass:
    """The caller's pass to the room: Forbidden (audited) for anyone not invited, Conflict off hours."""
    appointment = await load_video_appointment(session, room)
    role = await _role_in(session, caller, appointment)
    if role is None:
        assert caller.principal is not None  # a guest's ticket is for its room, checked in _role_in
        refuse(
            session,
            caller.principal,
            action="join",
            resource_type=RESOURCE,
            resource_id=room,
            patient_id=appointment.patient_id,
            message="Only the appointment's patient and clinician, and invited guests, may join this room.",
        )
    opens_at, closes_at = room_hours(appointment, settings)
    await _require_open(session, appointment, opens_at, closes_at)
    return RoomPass(
        room=room,
        role=role,
        display_name=await _display_name(session, caller, role, appointment),
        patient_id=appointment.patient_id,
        opens_at=opens_at,
        closes_at=closes_at,
    )


async def _role_in(session: AsyncSession, caller: Caller, appointment: Appointment) -> ConsultRole | None:
    if caller.guest is not None:
        if caller.guest.room != appointment.id:
            raise NotFound("This invitation is for another consultation.")
        invitation = await session.get(ConsultInvitation, caller.guest.invitation_id)
        if invitation is None or invitation.revoked_at is not None:
            raise Conflict("This invitation has been withdrawn.")
        return ConsultRole.GUEST
    assert caller.principal is not None
    if caller.principal.patient_id is not None and caller.principal.patient_id == appointment.patient_id:
        return ConsultRole.PATIENT
    if await is_appointment_clinician(session, caller, appointment):
        return ConsultRole.CLINICIAN
    return None


async def _require_open(
    session: AsyncSession, appointment: Appointment, opens_at: datetime, closes_at: datetime
) -> None:
    now = utc_now()
    if now < opens_at:
        minutes = max(1, round((appointment.start_at - opens_at).total_seconds() / 60))
        raise RoomNotOpen(
            f"This consult room is not open yet: it opens {minutes} minutes before the appointment.",
            extra={"opens_at": opens_at.isoformat()},
        )
    ended = await session.scalar(
        select(ConsultSession.ended_at).where(ConsultSession.appointment_id == appointment.id)
    )
    if now >= closes_at or ended is not None or appointment.status not in OPENABLE:
        raise Conflict("This consultation is over; its room is closed.")


async def _display_name(
    session: AsyncSession, caller: Caller, role: ConsultRole, appointment: Appointment
) -> str:
    if caller.guest is not None:
        return caller.guest.display_name
    if role is ConsultRole.PATIENT:
        patient = await session.get(Patient, appointment.patient_id)
        assert patient is not None
        return f"{patient.given_name} {patient.family_name}"
    practitioner = await session.get(Practitioner, appointment.practitioner_id)
    assert practitioner is not None
    return practitioner_name(practitioner)


def practitioner_name(practitioner: Practitioner) -> str:
    """ "Dr Casey Morgan": the name a patient knows their clinician by."""
    parts = [practitioner.prefix, practitioner.given_name, practitioner.family_name]
    return " ".join(part for part in parts if part)
