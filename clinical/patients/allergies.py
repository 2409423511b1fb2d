"""A patient's allergies and intolerances (recorded by clinicians and nurses)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients import records
from clinical.patients.models import Allergy
from clinical.patients.record_schemas import AllergyCreate, AllergyUpdate
from core.principal import Principal, Role

KIND = records.RecordKind(
    model=Allergy,
    resource_type="allergy",
    writers=frozenset({Role.CLINICIAN, Role.NURSE}),
    status_field="status",
    required=frozenset({"substance_text", "criticality", "status"}),
)


async def add_allergy(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, data: AllergyCreate
) -> Allergy:
    """Records an allergy on the patient's chart."""
    return await records.add_record(
        session=session, principal=principal, kind=KIND, patient_id=patient_id, fields=data.model_dump()
    )


async def list_allergies(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, include_removed: bool = False
) -> list[Allergy]:
    """The patient's allergies (entered-in-error ones only for staff who ask)."""
    return await records.list_records(
        session=session,
        principal=principal,
        kind=KIND,
        patient_id=patient_id,
        include_removed=include_removed,
    )


async def update_allergy(
    *,
    session: AsyncSession,
    principal: Principal,
    patient_id: uuid.UUID,
    allergy_id: uuid.UUID,
    changes: AllergyUpdate,
) -> Allergy:
    """Changes the fields set in `changes`."""
    records.require_writer(KIND, principal)
    allergy = await records.load_record(
        session=session, principal=principal, kind=KIND, patient_id=patient_id, record_id=allergy_id
    )
    changed = records.apply_changes(KIND, allergy, changes.model_dump(exclude_unset=True))
    return await records.finish_update(session, principal, KIND, allergy, changed)


async def remove_allergy(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, allergy_id: uuid.UUID
) -> None:
    """Marks the allergy entered-in-error."""
    await records.remove_record(
        session=session, principal=principal, kind=KIND, patient_id=patient_id, record_id=allergy_id
    )
