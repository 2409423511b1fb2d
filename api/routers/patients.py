"""Patients and their chart: demographics, identifiers, allergies, conditions, current medications.

Staff reach every patient; a patient reaches only their own record (`PatientInScope`), may read it
and its sub-resources, and may change only their own contact details.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import (
    CareStaffPrincipal,
    ClinicianPrincipal,
    CurrentPrincipal,
    PatientInScope,
    SessionDep,
    StaffPrincipal,
)
from clinical import patients
from clinical.patients import (
    AllergyCreate,
    AllergyRead,
    AllergyUpdate,
    ConditionCreate,
    ConditionRead,
    ConditionUpdate,
    IdentifierCreate,
    IdentifierRead,
    IdentifierUpdate,
    MedicationCreate,
    MedicationRead,
    MedicationUpdate,
    PatientCreate,
    PatientPage,
    PatientRead,
    PatientUpdate,
)

router = APIRouter(prefix="/patients", tags=["patients"])

IncludeRemoved = Annotated[bool, Query(description="Staff only: also list entries marked entered-in-error")]


@router.post("", status_code=201, response_model=PatientRead, summary="Register a patient (staff)")
async def create_patient(body: PatientCreate, actor: StaffPrincipal, session: SessionDep) -> PatientRead:
    return PatientRead.model_validate(await patients.create_patient(session=session, actor=actor, data=body))


@router.get("", response_model=PatientPage, summary="Search patients by name, birth date or identifier")
async def search_patients(
    principal: CurrentPrincipal,
    session: SessionDep,
    name: Annotated[str | None, Query(max_length=200, description="Prefixes of given or family name")] = None,
    birth_date: date | None = None,
    identifier: Annotated[
        str | None, Query(max_length=400, description="MRN, value, or system|value")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=800)] = None,
    limit: Annotated[
        int, Query(ge=1, le=patients.MAX_PATIENT_PAGE_SIZE)
    ] = patients.DEFAULT_PATIENT_PAGE_SIZE,
) -> PatientPage:
    query = patients.PatientQuery(name=name, birth_date=birth_date, identifier=identifier)
    return await patients.search_patients(
        session=session, principal=principal, query=query, limit=limit, cursor=cursor
    )


@router.get("/{patient_id}", response_model=PatientRead, summary="One patient")
async def get_patient(
    patient_id: PatientInScope, principal: CurrentPrincipal, session: SessionDep
) -> PatientRead:
    return PatientRead.model_validate(
        await patients.get_patient(session=session, principal=principal, patient_id=patient_id)
    )


@router.patch("/{patient_id}", response_model=PatientRead, summary="Change demographics or contact details")
async def update_patient(
    patient_id: PatientInScope, body: PatientUpdate, principal: CurrentPrincipal, session: SessionDep
) -> PatientRead:
    patient = await patients.update_patient(
        session=session, principal=principal, patient_id=patient_id, changes=body
    )
    return PatientRead.model_validate(patient)


@router.get("/{patient_id}/identifiers", response_model=list[IdentifierRead], summary="External identifiers")
async def list_identifiers(
    patient_id: PatientInScope, principal: CurrentPrincipal, session: SessionDep
) -> list[IdentifierRead]:
    rows = await patients.list_identifiers(session=session, principal=principal, patient_id=patient_id)
    return [IdentifierRead.model_validate(row) for row in rows]


@router.post("/{patient_id}/identifiers", status_code=201, response_model=IdentifierRead, summary="Add one")
async def add_identifier(
    patient_id: PatientInScope, body: IdentifierCreate, actor: StaffPrincipal, session: SessionDep
) -> IdentifierRead:
    row = await patients.add_identifier(session=session, principal=actor, patient_id=patient_id, data=body)
    return IdentifierRead.model_validate(row)


@router.patch(
    "/{patient_id}/identifiers/{identifier_id}", response_model=IdentifierRead, summary="Correct one"
)
async def update_identifier(
    patient_id: PatientInScope,
    identifier_id: uuid.UUID,
    body: IdentifierUpdate,
    actor: StaffPrincipal,
    session: SessionDep,
) -> IdentifierRead:
    row = await patients.update_identifier(
        session=session, principal=actor, patient_id=patient_id, identifier_id=identifier_id, changes=body
    )
    return IdentifierRead.model_validate(row)


@router.delete("/{patient_id}/identifiers/{identifier_id}", status_code=204, summary="Remove one")
async def remove_identifier(
    patient_id: PatientInScope, identifier_id: uuid.UUID, actor: StaffPrincipal, session: SessionDep
) -> None:
    await patients.remove_identifier(
        session=session, principal=actor, patient_id=patient_id, identifier_id=identifier_id
    )


@router.get("/{patient_id}/allergies", response_model=list[AllergyRead], summary="Allergies and intolerances")
async def list_allergies(
    patient_id: PatientInScope,
    principal: CurrentPrincipal,
    session: SessionDep,
    include_removed: IncludeRemoved = False,
) -> list[AllergyRead]:
    rows = await patients.list_allergies(
        session=session, principal=principal, patient_id=patient_id, include_removed=include_removed
    )
    return [AllergyRead.model_validate(row) for row in rows]


@router.post(
    "/{patient_id}/allergies", status_code=201, response_model=AllergyRead, summary="Record an allergy"
)
async def add_allergy(
    patient_id: PatientInScope, body: AllergyCreate, actor: CareStaffPrincipal, session: SessionDep
) -> AllergyRead:
    row = await patients.add_allergy(session=session, principal=actor, patient_id=patient_id, data=body)
    return AllergyRead.model_validate(row)


@router.patch("/{patient_id}/allergies/{allergy_id}", response_model=AllergyRead, summary="Change an allergy")
async def update_allergy(
    patient_id: PatientInScope,
    allergy_id: uuid.UUID,
    body: AllergyUpdate,
    actor: CareStaffPrincipal,
    session: SessionDep,
) -> AllergyRead:
    row = await patients.update_allergy(
        session=session, principal=actor, patient_id=patient_id, allergy_id=allergy_id, changes=body
    )
    return AllergyRead.model_validate(row)


@router.delete("/{patient_id}/allergies/{allergy_id}", status_code=204, summary="Mark entered-in-error")
async def remove_allergy(
    patient_id: PatientInScope, allergy_id: uuid.UUID, actor: CareStaffPrincipal, session: SessionDep
) -> None:
    await patients.remove_allergy(
        session=session, principal=actor, patient_id=patient_id, allergy_id=allergy_id
    )


@router.get("/{patient_id}/conditions", response_model=list[ConditionRead], summary="Problems and diagnoses")
async def list_conditions(
    patient_id: PatientInScope,
    principal: CurrentPrincipal,
    session: SessionDep,
    include_removed: IncludeRemoved = False,
) -> list[ConditionRead]:
    rows = await patients.list_conditions(
        session=session, principal=principal, patient_id=patient_id, include_removed=include_removed
    )
    return [ConditionRead.model_validate(row) for row in rows]


@router.post(
    "/{patient_id}/conditions", status_code=201, response_model=ConditionRead, summary="Record (ICD-10)"
)
async def add_condition(
    patient_id: PatientInScope, body: ConditionCreate, actor: ClinicianPrincipal, session: SessionDep
) -> ConditionRead:
    row = await patients.add_condition(session=session, principal=actor, patient_id=patient_id, data=body)
    return ConditionRead.model_validate(row)


@router.patch("/{patient_id}/conditions/{condition_id}", response_model=ConditionRead, summary="Change one")
async def update_condition(
    patient_id: PatientInScope,
    condition_id: uuid.UUID,
    body: ConditionUpdate,
    actor: ClinicianPrincipal,
    session: SessionDep,
) -> ConditionRead:
    row = await patients.update_condition(
        session=session, principal=actor, patient_id=patient_id, condition_id=condition_id, changes=body
    )
    return ConditionRead.model_validate(row)


@router.delete("/{patient_id}/conditions/{condition_id}", status_code=204, summary="Mark entered-in-error")
async def remove_condition(
    patient_id: PatientInScope, condition_id: uuid.UUID, actor: ClinicianPrincipal, session: SessionDep
) -> None:
    await patients.remove_condition(
        session=session, principal=actor, patient_id=patient_id, condition_id=condition_id
    )


@router.get("/{patient_id}/medications", response_model=list[MedicationRead], summary="Current medications")
async def list_medications(
    patient_id: PatientInScope,
    principal: CurrentPrincipal,
    session: SessionDep,
    include_removed: IncludeRemoved = False,
) -> list[MedicationRead]:
    rows = await patients.list_medications(
        session=session, principal=principal, patient_id=patient_id, include_removed=include_removed
    )
    return [MedicationRead.model_validate(row) for row in rows]


@router.post(
    "/{patient_id}/medications", status_code=201, response_model=MedicationRead, summary="Record one"
)
async def add_medication(
    patient_id: PatientInScope, body: MedicationCreate, actor: CareStaffPrincipal, session: SessionDep
) -> MedicationRead:
    row = await patients.add_medication(session=session, principal=actor, patient_id=patient_id, data=body)
    return MedicationRead.model_validate(row)


@router.patch(
    "/{patient_id}/medications/{medication_id}", response_model=MedicationRead, summary="Change one"
)
async def update_medication(
    patient_id: PatientInScope,
    medication_id: uuid.UUID,
    body: MedicationUpdate,
    actor: CareStaffPrincipal,
    session: SessionDep,
) -> MedicationRead:
    row = await patients.update_medication(
        session=session, principal=actor, patient_id=patient_id, medication_id=medication_id, changes=body
    )
    return MedicationRead.model_validate(row)


@router.delete("/{patient_id}/medications/{medication_id}", status_code=204, summary="Mark entered-in-error")
async def remove_medication(
    patient_id: PatientInScope, medication_id: uuid.UUID, actor: CareStaffPrincipal, session: SessionDep
) -> None:
    await patients.remove_medication(
        session=session, principal=actor, patient_id=patient_id, medication_id=medication_id
    )
