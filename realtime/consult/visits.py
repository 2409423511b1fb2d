"""The caller's video visits with their rooms' hours and state: what the consult pages offer to join.

A patient sees their own video appointments, a clinician those they are the practitioner of; the
pages count down to `opens_at` with the server's clock and open the room by themselves. Every
patient shown is audited, as appointment lists are.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters import OPENABLE
from clinical.organisation import Practitioner
from clinical.patients import Patient
from clinical.scheduling import Appointment, AppointmentMode, AppointmentStatus, AppointmentType
from core import audit
from core.access import refuse
from core.db import utc_now
from core.errors import InvalidInput
from core.principal import Principal, Role
from core.settings import Settings
from realtime.consult.models import ConsultSession
from realtime.consult.rooms import practitioner_name, room_hours
from realtime.consult.schemas import VideoVisitList, VideoVisitRead, VisitState

MAX_RANGE = timedelta(days=31)


async def list_video_visits(
    *, session: AsyncSession, actor: Principal, settings: Settings, start_from: datetime, start_to: datetime
) -> VideoVisitList:
    """The caller's video appointments starting in [start_from, start_to), earliest first."""
    if start_to <= start_from or start_to - start_from > MAX_RANGE:
        raise InvalidInput(f"start_to must be after start_from, and at most {MAX_RANGE.days} days later.")
    query = (
        select(Appointment, Patient, Practitioner, ConsultSession.ended_at)
        .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(Practitioner, Practitioner.id == Appointment.practitioner_id)
        .outerjoin(ConsultSession, ConsultSession.appointment_id == Appointment.id)
        .where(
            AppointmentType.mode == AppointmentMode.VIDEO,
            Appointment.start_at >= start_from,
            Appointment.start_at < start_to,
        )
        .order_by(Appointment.start_at, Appointment.id)
    )
    if actor.role is Role.PATIENT and actor.patient_id is not None:
        query = query.where(Appointment.patient_id == actor.patient_id)
    elif actor.role is Role.CLINICIAN:
        query = query.where(Practitioner.user_id == actor.user_id)
    else:
        refuse(
            session,
            actor,
            action="list",
            resource_type="consult_room",
            message="Video visits are listed for their patients and clinicians.",
        )
    now = utc_now()
    visits = [
        _visit(appointment, patient, practitioner, ended_at, settings=settings, now=now)
        for appointment, patient, practitioner, ended_at in (await session.execute(query)).unique()
    ]
    # A list that showed nothing is on the patient's own trail (a member of staff has none).
    audit.record_listed(
        session,
        actor,
        visits,
        action="list",
        resource_type="consult_room",
        ids_key="appointments",
        id_of=lambda visit: visit.appointment_id,
        patient_id=actor.patient_id,
        empty_page_entry=True,
    )
    return VideoVisitList(server_time=now, visits=visits)


def _visit(
    appointment: Appointment,
    patient: Patient,
    practitioner: Practitioner,
    ended_at: datetime | None,
    *,
    settings: Settings,
    now: datetime,
) -> VideoVisitRead:
    opens_at, closes_at = room_hours(appointment, settings)
    return VideoVisitRead(
        appointment_id=appointment.id,
        patient_id=patient.id,
        patient_name=f"{patient.given_name} {patient.family_name}",
        practitioner_id=practitioner.id,
        practitioner_name=practitioner_name(practitioner),
        reason=appointment.reason,
        start_at=appointment.start_at,
        end_at=appointment.end_at,
        opens_at=opens_at,
        closes_at=closes_at,
        appointment_status=appointment.status.value,
        state=visit_state(appointment.status, ended_at, opens_at, closes_at, now),
        ended_at=ended_at,
    )


def visit_state(
    status: AppointmentStatus,
    ended_at: datetime | None,
    opens_at: datetime,
    closes_at: datetime,
    now: datetime,
) -> VisitState:
    """Where a visit stands for the people in it; the same rules `rooms.enter` applies to a join."""
    if status is AppointmentStatus.CANCELLED:
        return "cancelled"
    if status is AppointmentStatus.NO_SHOW:
        return "missed"
    if ended_at is not None or status is AppointmentStatus.COMPLETED:
        return "finished"
    if status not in OPENABLE or now >= closes_at:
        return "closed"
    return "upcoming" if now < opens_at else "open"
