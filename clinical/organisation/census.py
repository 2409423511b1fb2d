"""Who lies in which bed of a ward right now: the nurses' dashboards group live vitals by it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation.admission_schemas import CensusBed, CensusPatient, WardCensus
from clinical.organisation.models import Admission, Bed
from clinical.organisation.service import get_ward
from clinical.patients import Patient
from core import audit
from core.db import utc_now
from core.errors import Forbidden
from core.principal import Principal


async def current_stays(
    session: AsyncSession, *, ward_id: uuid.UUID | None = None, at: datetime | None = None
) -> list[tuple[Admission, Bed]]:
    """The stays in progress at `at` (now), with their beds; unaudited, for services that audit themselves."""
    moment = at or utc_now()
    statement = (
        select(Admission, Bed)
        .join(Bed, Bed.id == Admission.bed_id)
        .where(Admission.start_at <= moment)
        .where((Admission.end_at.is_(None)) | (Admission.end_at > moment))
    )
    if ward_id is not None:
        statement = statement.where(Bed.ward_id == ward_id)
    return [(stay, bed) for stay, bed in (await session.execute(statement)).all()]


async def ward_census(*, session: AsyncSession, principal: Principal, ward_id: uuid.UUID) -> WardCensus:
    """Every active bed of the ward with its current patient (if any); staff only, audited per patient."""
    if not principal.is_staff:
        raise Forbidden("The ward census is for staff.")
    ward = await get_ward(session=session, ward_id=ward_id)
    moment = utc_now()
    beds = (await session.scalars(select(Bed).where(Bed.ward_id == ward_id, Bed.active.is_(True)))).all()
    rows = (
        await session.execute(
            select(Admission, Patient)
            .join(Patient, Patient.id == Admission.patient_id)
            .join(Bed, Bed.id == Admission.bed_id)
            .where(Bed.ward_id == ward_id, Admission.start_at <= moment)
            .where((Admission.end_at.is_(None)) | (Admission.end_at > moment))
        )
    ).all()
    by_bed = {stay.bed_id: (stay, patient) for stay, patient in rows}
    entries = []
    for bed in sorted(beds, key=lambda b: b.label):
        entry = CensusBed(bed_id=bed.id, label=bed.label)
        if bed.id in by_bed:
            stay, patient = by_bed[bed.id]
            entry.admission_id, entry.since = stay.id, stay.start_at
            entry.attending_practitioner_id = stay.attending_practitioner_id
            entry.patient = CensusPatient(
                id=patient.id,
                mrn=patient.mrn,
                given_name=patient.given_name,
                family_name=patient.family_name,
                birth_date=patient.birth_date,
                gender=patient.gender.value,
            )
            audit.record(
                session,
                actor=principal,
                action="read",
                resource_type="admission",
                resource_id=stay.id,
                patient_id=patient.id,
                detail={"via": "ward-census", "ward_id": str(ward_id)},
            )
        entries.append(entry)
    return WardCensus(
        ward_id=ward.id,
        ward_code=ward.code,
        ward_name=ward.name,
        at=moment,
        beds=entries,
        occupied=sum(1 for e in entries if e.patient is not None),
    )
