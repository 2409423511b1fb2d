"""What an erasure request may erase, and what medical-records and accounting law make us keep.

Medical records are kept for `OWNAT_MEDICAL_RECORD_RETENTION_YEARS` after the last care (ten years by
default; France asks twenty, England eight for adults): they are not erased but restricted, used only
for the patient's care and legal claims and told to no outside system. Bills and payments are kept for
`OWNAT_BILLING_RECORD_RETENTION_YEARS` (accounting law); the audit log is kept whole, for its chain is
the proof of who saw what. The sign-in account, notifications and preferences are erased.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.documents import Document
from clinical.encounters import Encounter
from clinical.messaging import Message, MessageThread
from clinical.patients import Patient
from clinical.privacy.schemas import Decision
from clinical.scheduling import Appointment
from core.db import utc_now
from core.settings import Settings

MEDICAL_RECORD = (
    "Medical record: details, problems, allergies, medicines, visits and notes, prescriptions, "
    "test results, documents, vital signs and messages with the care team"
)


def years_after(moment: datetime, years: int) -> datetime:
    """The same day `years` later (28 February for a 29 February that has none)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


async def last_care(session: AsyncSession, patient_id: uuid.UUID) -> datetime:
    """The latest moment of care on the record (a visit, an appointment, a document, a message)."""
    now = utc_now()
    candidates = [
        await session.scalar(
            select(func.max(Encounter.started_at)).where(Encounter.patient_id == patient_id)
        ),
        await session.scalar(
            select(func.max(Appointment.start_at)).where(
                Appointment.patient_id == patient_id, Appointment.start_at <= now
            )
        ),
        await session.scalar(select(func.max(Document.created_at)).where(Document.patient_id == patient_id)),
        await session.scalar(
            select(func.max(Message.created_at))
            .join(MessageThread, MessageThread.id == Message.thread_id)
            .where(MessageThread.patient_id == patient_id)
        ),
        await session.scalar(select(Patient.created_at).where(Patient.id == patient_id)),
    ]
    return max(moment for moment in candidates if moment is not None)


async def erasure_plan(session: AsyncSession, *, patient_id: uuid.UUID, settings: Settings) -> list[Decision]:
    """Each category of the patient's data with what erasure does to it and why."""
    keep_until = years_after(await last_care(session, patient_id), settings.medical_record_retention_years)
    billing_years = settings.billing_record_retention_years
    return [
        Decision(
            category="Sign-in account (email, name, password, sessions)",
            action="erase",
            reason="Not needed for care: the account is closed and its details are removed.",
        ),
        Decision(
            category="Notifications and notification preferences",
            action="erase",
            reason="Not part of the medical record.",
        ),
        Decision(
            category=MEDICAL_RECORD,
            action="restrict",
            reason=(
                f"Medical records must be kept {settings.medical_record_retention_years} years after the "
                "last care. Until then they are restricted: used only for your care and legal claims, "
                "and sent to no outside system."
            ),
            until=keep_until,
        ),
        Decision(
            category="Bills and payments",
            action="keep",
            reason=f"Accounting law requires them to be kept {billing_years} years from their date.",
        ),
        Decision(
            category="Audit log of who opened the record",
            action="keep",
            reason="The proof of who saw what; it protects you, and no entry can be removed from it.",
        ),
    ]
