"""Whether a bed and a patient are free over a time range: the one dialect-specific module here.

PostgreSQL refuses overlapping stays by exclusion constraints, which also settle races between
concurrent admissions; SQLite has none, and relies on the check below, made safe by its
serialised (BEGIN IMMEDIATE) transactions. Both dialects run the check first for a clear message.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation.exceptions import BedOccupied, PatientAlreadyAdmitted
from clinical.organisation.models import Admission

BED_CONSTRAINT = "ex_admissions_bed_overlap"
PATIENT_CONSTRAINT = "ex_admissions_patient_overlap"


def overlapping(start: datetime, end: datetime | None) -> ColumnElement[bool]:
    """Stays sharing at least an instant with [start, end); None is an open end."""
    ends_after_start = or_(Admission.end_at.is_(None), Admission.end_at > start)
    return ends_after_start if end is None else and_(Admission.start_at < end, ends_after_start)


def _bed_occupied(bed_id: uuid.UUID) -> BedOccupied:
    return BedOccupied(f"Bed {bed_id} is occupied at that time.", extra={"bed_id": str(bed_id)})


def _patient_admitted(patient_id: uuid.UUID) -> PatientAlreadyAdmitted:
    return PatientAlreadyAdmitted(
        f"Patient {patient_id} is already in a bed at that time; transfer or discharge them first.",
        extra={"patient_id": str(patient_id)},
    )


async def ensure_free(
    session: AsyncSession, *, bed_id: uuid.UUID, patient_id: uuid.UUID, start: datetime, end: datetime | None
) -> None:
    """BedOccupied or PatientAlreadyAdmitted if a stay overlapping [start, end) holds either."""
    clash = await session.scalar(
        select(Admission).where(overlapping(start, end), Admission.bed_id == bed_id).limit(1)
    )
    if clash is not None:
        raise _bed_occupied(bed_id)
    clash = await session.scalar(
        select(Admission).where(overlapping(start, end), Admission.patient_id == patient_id).limit(1)
    )
    if clash is not None:
        raise _patient_admitted(patient_id)


async def flush_stay(session: AsyncSession, stay: Admission) -> None:
    """Flushes a new or changed stay, reporting a lost race (PostgreSQL) as the matching conflict."""
    try:
        await session.flush()
    except IntegrityError as error:
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
        if constraint == BED_CONSTRAINT:
            raise _bed_occupied(stay.bed_id) from error
        if constraint == PATIENT_CONSTRAINT:
            raise _patient_admitted(stay.patient_id) from error
        raise
