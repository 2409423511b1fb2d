"""Reading appointments, scoped by the caller: a patient's queries only ever return their own."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.scheduling import access
from clinical.scheduling.models import Appointment
from clinical.scheduling.schemas import AppointmentPage, AppointmentRead
from clinical.scheduling.state_machine import AppointmentStatus
from core.audit import service as audit
from core.errors import InvalidInput
from core.identity.principal import Principal

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


def encode_cursor(appointment: Appointment) -> str:
    """An opaque cursor naming the last appointment of a page (keyset on start_at, id)."""
    return base64.urlsafe_b64encode(f"{appointment.start_at.isoformat()}|{appointment.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor names; InvalidInput if it is not one of ours."""
    try:
        start, _, appointment_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        position = datetime.fromisoformat(start), uuid.UUID(appointment_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        position = None
    if position is None or position[0].tzinfo is None:
        raise InvalidInput("The cursor is not valid; pass the next_cursor of a previous page.")
    return position


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
) -> AppointmentPage:
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
    query = select(Appointment).order_by(Appointment.start_at, Appointment.id).limit(limit + 1)
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
    if cursor is not None:
        after, after_id = decode_cursor(cursor)
        query = query.where(
            or_(Appointment.start_at > after, and_(Appointment.start_at == after, Appointment.id > after_id))
        )
    found = list((await session.scalars(query)).unique())
    page = found[:limit]
    audit_page(session, actor, page, patient_id)
    return AppointmentPage(
        items=[to_read(a) for a in page],
        next_cursor=encode_cursor(page[-1]) if len(found) > limit else None,
    )


def audit_page(
    session: AsyncSession, actor: Principal, page: list[Appointment], filtered: uuid.UUID | None
) -> None:
    """Audits a listed page: one entry per patient shown (or one for an empty page)."""
    # One entry per patient shown, so that "who saw this patient's data" finds every list too.
    by_patient: dict[uuid.UUID, list[str]] = {}
    for appointment in page:
        by_patient.setdefault(appointment.patient_id, []).append(str(appointment.id))
    if not by_patient:
        audit.record(session, actor=actor, action="list", resource_type="appointment", patient_id=filtered)
    for patient_id, ids in by_patient.items():
        audit.record(
            session,
            actor=actor,
            action="list",
            resource_type="appointment",
            patient_id=patient_id,
            detail={"appointment_ids": ids},
        )
