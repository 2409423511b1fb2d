"""Reading appointments, scoped by the caller: a patient's queries only ever return their own."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling import access
from clinical.scheduling.models import Appointment
from clinical.scheduling.schemas import AppointmentRead
from clinical.scheduling.state_machine import AppointmentStatus
from core import audit
from core.paging import Page, encode_cursor, oldest_first, split_page
from core.principal import Principal

MAX_PAGE_SIZE = 100


def to_read(appointment: Appointment) -> AppointmentRead:
    """The API's view of an appointment."""
    kind = appointment.appointment_type
    return AppointmentRead(
        id=appointment.id,
        patient_id=appointment.patient_id,
        practitioner_id=appointment.practitioner_id,
        appointment_type=kind.code,
        mode=kind.mode,
        start_at=appointment.start_at,
        end_at=appointment.end_at,
        status=appointment.status,
        reason=appointment.reason,
        notes=appointment.notes,
        booked_by=appointment.booked_by,
        status_changed_at=appointment.status_changed_at,
        cancelled_at=appointment.cancelled_at,
        cancelled_by=appointment.cancelled_by,
        cancellation_reason=appointment.cancellation_reason,
        reschedule_count=appointment.reschedule_count,
        created_at=appointment.created_at,
    )


async def get_appointment(
    *, session: AsyncSession, actor: Principal, appointment_id: uuid.UUID
) -> Appointment:
    """One appointment, if the caller may see it."""
    appointment = await access.load(session, actor, appointment_id, action="read", for_update=False)
    audit.record(
        session,
        actor=actor,
        action="read",
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
    )
    return appointment


async def list_appointments(
    *,
    session: AsyncSession,
    actor: Principal,
    patient_id: uuid.UUID | None = None,
    practitioner_id: uuid.UUID | None = None,
    statuses: Sequence[AppointmentStatus] = (),
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[AppointmentRead]:
    """A page of appointments by start time; patients see only their own, staff filter freely."""
    if not actor.is_staff:
        if actor.patient_id is None or patient_id not in (None, actor.patient_id):
            raise access.refuse(
                session,
                actor,
                action="list",
                appointment=None,
                patient_id=patient_id,
                message="Patients may only list their own appointments.",
            )
        patient_id = actor.patient_id
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(Appointment)
    if patient_id is not None:
        query = query.where(Appointment.patient_id == patient_id)
    if practitioner_id is not None:
        query = query.where(Appointment.practitioner_id == practitioner_id)
    if statuses:
        query = query.where(Appointment.status.in_(statuses))
    if start_from is not None:
        query = query.where(Appointment.start_at >= start_from)
    if start_to is not None:
        query = query.where(Appointment.start_at < start_to)
    query = oldest_first(
        query, time_column=Appointment.start_at, id_column=Appointment.id, cursor=cursor, limit=limit
    )
    page, more = split_page(list((await session.scalars(query)).unique()), limit=limit)
    audit_page(session, actor, page, patient_id)
    return Page(
        items=[to_read(a) for a in page],
        next_cursor=encode_cursor(page[-1].start_at, page[-1].id) if more else None,
    )


def audit_page(
    session: AsyncSession, actor: Principal, page: list[Appointment], filtered: uuid.UUID | None
) -> None:
    """Audits a listed page: one entry per patient shown (or one for an empty page)."""
    audit.record_listed(
        session,
        actor,
        page,
        action="list",
        resource_type="appointment",
        ids_key="appointment_ids",
        patient_id=filtered,
        empty_page_entry=True,
    )
