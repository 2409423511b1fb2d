"""A patient's current (and past) medications as reported or reconciled: statements, not prescriptions."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients import records
from clinical.patients.dates import check_order
from clinical.patients.exceptions import ImplausibleDates
from clinical.patients.models import Medication
from clinical.patients.record_schemas import MedicationCreate, MedicationUpdate
from core.principal import Principal, Role

KIND = records.RecordKind(
    model=Medication,
    resource_type="medication",
    writers=frozenset({Role.CLINICIAN, Role.NURSE}),
    status_field="status",
    required=frozenset({"name", "status"}),
)


async def add_medication(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, data: MedicationCreate
) -> Medication:
    """Records a medication the patient takes."""
    return await records.add_record(
        session=session, principal=principal, kind=KIND, patient_id=patient_id, fields=data.model_dump()
    )


async def list_medications(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, include_removed: bool = False
) -> list[Medication]:
    """The patient's medications (entered-in-error ones only for staff who ask)."""
    return await records.list_records(
        session=session,
        principal=principal,
        kind=KIND,
        patient_id=patient_id,
        include_removed=include_removed,
    )


async def update_medication(
    *,
    session: AsyncSession,
    principal: Principal,
    patient_id: uuid.UUID,
    medication_id: uuid.UUID,
    changes: MedicationUpdate,
) -> Medication:
    """Changes the fields set in `changes` (e.g. status stopped with `stopped_on`)."""
    records.require_writer(KIND, principal)
    medication = await records.load_record(
        session=session, principal=principal, kind=KIND, patient_id=patient_id, record_id=medication_id
    )
    changed = records.apply_changes(KIND, medication, changes.model_dump(exclude_unset=True))
    try:
        check_order(medication.started_on, medication.stopped_on, "start", "stop")
    except ValueError as error:
        raise ImplausibleDates(f"{error}.") from error
    return await records.finish_update(session, principal, KIND, medication, changed)


async def remove_medication(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, medication_id: uuid.UUID
) -> None:
    """Marks the medication entered-in-error."""
    await records.remove_record(
        session=session, principal=principal, kind=KIND, patient_id=patient_id, record_id=medication_id
    )
