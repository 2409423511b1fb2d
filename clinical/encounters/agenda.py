"""The day list: every appointment of a period (one practitioner's, or everyone's), with the names a
front desk or a clinician reads, and the encounter each visit opened. Staff only; audited per patient.

It lives with encounters, not scheduling, because it reads both: encounters already build on
appointments, and scheduling knows nothing of encounters.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical import scheduling
from clinical.encounters.models import Encounter, EncounterStatus
from clinical.organisation import Practitioner
from clinical.patients import AdministrativeGender, Patient
from clinical.scheduling import Appointment, AppointmentRead, appointment_read, audit_appointment_page
from core.errors import InvalidInput
from core.principal import Principal

MAX_RANGE = timedelta(days=7)
MAX_ENTRIES = 500


class AgendaPatient(BaseModel):
    id: uuid.UUID
    name: str
    mrn: str
    birth_date: date | None
    gender: AdministrativeGender


class AgendaEncounter(BaseModel):
    id: uuid.UUID
    status: EncounterStatus


class AgendaEntry(BaseModel):
    appointment: AppointmentRead
    appointment_type_name: str
    patient: AgendaPatient
    practitioner_name: str
    encounter: AgendaEncounter | None


class Agenda(BaseModel):
    start: datetime
    end: datetime
    items: list[AgendaEntry]
    truncated: bool


async def agenda(
    *,
    session: AsyncSession,
    actor: Principal,
    start: datetime,
    end: datetime,
    practitioner_id: uuid.UUID | None = None,
) -> Agenda:
    """Appointments starting in [start, end), by start time, whatever their status; staff only."""
    if not actor.is_staff:
        raise scheduling.refuse_appointment(
            session,
            actor,
            action="list",
            appointment=None,
            patient_id=None,
            message="The day list is for staff; patients list their own appointments.",
        )
    if not start < end <= start + MAX_RANGE:
        raise InvalidInput("end must be after start, and at most 7 days later.", extra={"field": "end"})
    query = (
        select(Appointment, Patient, Practitioner, Encounter.id, Encounter.status)
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(Practitioner, Practitioner.id == Appointment.practitioner_id)
        .outerjoin(Encounter, Encounter.appointment_id == Appointment.id)
        .where(Appointment.start_at >= start, Appointment.start_at < end)
        .order_by(Appointment.start_at, Appointment.id)
        .limit(MAX_ENTRIES + 1)
    )
    if practitioner_id is not None:
        query = query.where(Appointment.practitioner_id == practitioner_id)
    rows = (await session.execute(query)).unique().all()
    shown = rows[:MAX_ENTRIES]
    audit_appointment_page(session, actor, [row[0] for row in shown], None)
    return Agenda(
        start=start,
        end=end,
        items=[_entry(*row) for row in shown],
        truncated=len(rows) > MAX_ENTRIES,
    )


def _entry(
    appointment: Appointment,
    patient: Patient,
    practitioner: Practitioner,
    encounter_id: uuid.UUID | None,
    encounter_status: EncounterStatus | None,
) -> AgendaEntry:
    return AgendaEntry(
        appointment=appointment_read(appointment),
        appointment_type_name=appointment.appointment_type.name,
        patient=AgendaPatient(
            id=patient.id,
            name=patient.display_name,
            mrn=patient.mrn,
            birth_date=patient.birth_date,
            gender=patient.gender,
        ),
        practitioner_name=practitioner.display_name,
        encounter=(
            AgendaEncounter(id=encounter_id, status=encounter_status)
            if encounter_id is not None and encounter_status is not None
            else None
        ),
    )
