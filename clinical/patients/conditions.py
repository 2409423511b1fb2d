"""A patient's problems and diagnoses, coded in ICD-10 (validated; the display comes from the code list)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.codes import load_icd10, lookup_icd10
from clinical.patients import records
from clinical.patients.dates import check_order
from clinical.patients.exceptions import ImplausibleDates
from clinical.patients.models import Condition
from clinical.patients.record_schemas import ConditionCreate, ConditionUpdate
from core.principal import Principal, Role

# Diagnosing is a clinician's act; nurses record allergies and medications.
KIND = records.RecordKind(
    model=Condition,
    resource_type="condition",
    writers=frozenset({Role.CLINICIAN}),
    status_field="clinical_status",
    required=frozenset({"icd10_code", "clinical_status"}),
)


async def _coded(fields: dict[str, object]) -> dict[str, object]:
    code = fields.get("icd10_code")
    if isinstance(code, str):
        await load_icd10()
        entry = lookup_icd10(code)
        fields = {**fields, "icd10_code": entry.code, "display": entry.display}
    return fields


async def add_condition(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, data: ConditionCreate
) -> Condition:
    """Records a diagnosis; 422 naming the code if it is not in ICD-10."""
    records.require_writer(KIND, principal)
    fields = await _coded(data.model_dump())
    return await records.add_record(
        session=session, principal=principal, kind=KIND, patient_id=patient_id, fields=fields
    )


async def list_conditions(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, include_removed: bool = False
) -> list[Condition]:
    """The patient's problem list (entered-in-error entries only for staff who ask)."""
    return await records.list_records(
        session=session,
        principal=principal,
        kind=KIND,
        patient_id=patient_id,
        include_removed=include_removed,
    )


async def update_condition(
    *,
    session: AsyncSession,
    principal: Principal,
    patient_id: uuid.UUID,
    condition_id: uuid.UUID,
    changes: ConditionUpdate,
) -> Condition:
    """Changes the fields set in `changes`; a new code is validated like a new condition's."""
    records.require_writer(KIND, principal)
    condition = await records.load_record(
        session=session, principal=principal, kind=KIND, patient_id=patient_id, record_id=condition_id
    )
    fields = await _coded(changes.model_dump(exclude_unset=True))
    changed = records.apply_changes(KIND, condition, fields)
    try:
        check_order(condition.onset_date, condition.abatement_date, "onset", "abatement")
    except ValueError as error:
        raise ImplausibleDates(f"{error}.") from error
    return await records.finish_update(session, principal, KIND, condition, changed)


async def remove_condition(
    *, session: AsyncSession, principal: Principal, patient_id: uuid.UUID, condition_id: uuid.UUID
) -> None:
    """Marks the condition entered-in-error."""
    await records.remove_record(
        session=session, principal=principal, kind=KIND, patient_id=patient_id, record_id=condition_id
    )
