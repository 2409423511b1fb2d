"""A patient's world for the portal tests: an account, appointments, a free schedule, results,
a prescription and a document, built through the other domains' builders and services."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.documents import service as documents
from clinical.documents.models import DocumentKind
from clinical.documents.schemas import DocumentUpload
from clinical.documents.storage import FileSystemStorage
from clinical.organisation.models import Practitioner
from clinical.scheduling.models import Appointment, AppointmentType
from clinical.scheduling.state_machine import AppointmentStatus
from core.identity.models import User
from core.principal import Role
from core.sessions import transaction
from core.settings import Settings
from tests.builders import create_user
from tests.clinical import builders as clinical
from tests.clinical import scheduling_builders as scheduling
from tests.fhir import builders as fhir_builders

# The smallest valid PNG (1x1, transparent): enough for the document store's magic-byte check.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@dataclass
class PortalWorld:
    user: User
    password: str
    practitioner: Practitioner
    kind: AppointmentType
    upcoming: Appointment
    too_late_to_cancel: Appointment
    booking_day: datetime
    document_title: str


async def portal_patient(sessions: async_sessionmaker[AsyncSession]) -> tuple[User, str]:
    """A patient account with its patient record; returns it and its password."""
    user, _, password = await clinical.create_patient_user(sessions)
    return user, password


async def portal_world(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> PortalWorld:
    """Everything the portal shows, for one new patient."""
    user, password = await portal_patient(sessions)
    assert user.patient_id is not None
    specialty = f"spec-{secrets.token_hex(3)}"
    practitioner = await scheduling.practitioner(sessions, specialties=[specialty], hours=(time(9), time(12)))
    kind = await scheduling.appointment_type(sessions, duration_minutes=30, cancellation_window_hours=24)
    booking_day = scheduling.at(scheduling.future_day(12), 0)
    upcoming = await scheduling.appointment_row(
        sessions,
        patient_id=user.patient_id,
        practitioner_id=practitioner.id,
        kind=kind,
        start_at=scheduling.at(scheduling.future_day(5), 10),
    )
    soon = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=3)
    too_late = await scheduling.appointment_row(
        sessions, patient_id=user.patient_id, practitioner_id=practitioner.id, kind=kind, start_at=soon
    )
    await scheduling.appointment_row(
        sessions,
        patient_id=user.patient_id,
        practitioner_id=practitioner.id,
        kind=kind,
        start_at=datetime.now(UTC).replace(microsecond=0) - timedelta(days=20),
        status=AppointmentStatus.COMPLETED,
    )
    # The clinical chart: an encounter with a prescription, final and preliminary lab results.
    await fhir_builders.chart(sessions, user.patient_id)
    title = f"Discharge letter {secrets.token_hex(2)}"
    await _upload_document(settings, sessions, user.patient_id, title)
    return PortalWorld(user, password, practitioner, kind, upcoming, too_late, booking_day, title)


async def _upload_document(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], patient_id: uuid.UUID, title: str
) -> None:
    """Stores a document through the documents service, in the store the app reads from."""

    async def content() -> AsyncIterator[bytes]:
        yield PNG_1X1

    nurse, _ = await create_user(sessions, role=Role.NURSE)
    storage = FileSystemStorage(settings.data_dir.resolve() / "documents")
    async with transaction(sessions) as session:
        await documents.upload_document(
            session=session,
            actor=nurse.as_principal(),
            storage=storage,
            patient_id=patient_id,
            upload=DocumentUpload(title=title, kind=DocumentKind.REPORT),
            filename="letter.png",
            declared_type="image/png",
            chunks=content(),
        )
