"""AllergyIntolerance and Condition (problem list): through the patient-record services, which let
nurses and clinicians record allergies and clinicians diagnoses; delete marks them entered in error."""

from __future__ import annotations

import uuid
from typing import Any

from clinical import patients
from clinical.fhir.constants import ALLERGY_CLINICAL, CONDITION_CATEGORY, CONDITION_CLINICAL, ICD10
from clinical.fhir.errors import InvalidResource
from clinical.fhir.provider import FhirContext
from clinical.fhir.writes import reading
from clinical.fhir.writes.base import Writer, build
from clinical.patients import (
    Allergy,
    AllergyCreate,
    AllergyUpdate,
    Condition,
    ConditionCreate,
    ConditionUpdate,
    RecordNotFound,
)


async def _owner(ctx: FhirContext, model: type[Any], resource_id: str, resource_type: str) -> uuid.UUID:
    """The patient whose record holds the row (the domain services address rows by patient)."""
    row = await ctx.session.get(model, reading.parse_id(resource_id, resource_type))
    if row is None:
        raise RecordNotFound(f"There is no {resource_type} with id '{resource_id}'.")
    owner: uuid.UUID = row.patient_id
    return owner


def _same_patient(resource: dict[str, Any], path: str, owner: uuid.UUID) -> None:
    if reading.reference_id(resource, path, "Patient") != owner:
        raise InvalidResource(f"{path} cannot move a record to another patient.")


def allergy_fields(resource: dict[str, Any]) -> dict[str, Any]:
    """The allergy fields an AllergyIntolerance gives."""
    coded = reading.coding(resource, "code")
    substance = (
        reading.text(resource, "code.text") or (coded or {}).get("display") or (coded or {}).get("code")
    )
    if not substance:
        raise InvalidResource("code needs a text or a coding naming the substance.")
    reaction = reading.text(resource, "reaction.0.manifestation.0.text") or reading.text(
        resource, "reaction.0.description"
    )
    return {
        "substance_text": substance,
        "substance_code": (coded or {}).get("code"),
        "substance_system": (coded or {}).get("system"),
        "category": reading.text(resource, "category.0"),
        "criticality": reading.text(resource, "criticality") or "unable-to-assess",
        "reaction": reaction,
        "status": reading.code(resource, "clinicalStatus", ALLERGY_CLINICAL) or "active",
    }


class AllergyWriter(Writer):
    resource_type = "AllergyIntolerance"
    can_delete = True

    async def create(self, ctx: FhirContext, resource: dict[str, Any]) -> str:
        patient_id = reading.reference_id(resource, "patient", "Patient")
        assert patient_id is not None
        allergy = await patients.add_allergy(
            session=ctx.session,
            principal=ctx.principal,
            patient_id=patient_id,
            data=build(AllergyCreate, **allergy_fields(resource)),
        )
        return str(allergy.id)

    async def update(self, ctx: FhirContext, resource_id: str, resource: dict[str, Any]) -> None:
        owner = await _owner(ctx, Allergy, resource_id, self.resource_type)
        _same_patient(resource, "patient", owner)
        await patients.update_allergy(
            session=ctx.session,
            principal=ctx.principal,
            patient_id=owner,
            allergy_id=uuid.UUID(resource_id),
            changes=build(AllergyUpdate, **allergy_fields(resource)),
        )

    async def delete(self, ctx: FhirContext, resource_id: str) -> None:
        owner = await _owner(ctx, Allergy, resource_id, self.resource_type)
        await patients.remove_allergy(
            session=ctx.session, principal=ctx.principal, patient_id=owner, allergy_id=uuid.UUID(resource_id)
        )


def condition_fields(resource: dict[str, Any]) -> dict[str, Any]:
    """The problem-list fields a Condition gives; its code must be ICD-10."""
    if reading.code(resource, "category.0", CONDITION_CATEGORY) == "encounter-diagnosis":
        raise InvalidResource(
            "Encounter diagnoses are recorded in the consultation; send problem-list items."
        )
    icd10 = reading.code(resource, "code", ICD10)
    if icd10 is None:
        raise InvalidResource(f"code needs a coding in ICD-10 ({ICD10}).")
    return {
        "icd10_code": icd10,
        "clinical_status": reading.code(resource, "clinicalStatus", CONDITION_CLINICAL) or "active",
        "onset_date": reading.day(resource, "onsetDateTime"),
        "abatement_date": reading.day(resource, "abatementDateTime"),
        "note": reading.text(resource, "note.0.text"),
    }


class ConditionWriter(Writer):
    resource_type = "Condition"
    can_delete = True

    async def create(self, ctx: FhirContext, resource: dict[str, Any]) -> str:
        patient_id = reading.reference_id(resource, "subject", "Patient")
        assert patient_id is not None
        condition = await patients.add_condition(
            session=ctx.session,
            principal=ctx.principal,
            patient_id=patient_id,
            data=build(ConditionCreate, **condition_fields(resource)),
        )
        return str(condition.id)

    async def update(self, ctx: FhirContext, resource_id: str, resource: dict[str, Any]) -> None:
        owner = await _owner(ctx, Condition, resource_id, self.resource_type)
        _same_patient(resource, "subject", owner)
        await patients.update_condition(
            session=ctx.session,
            principal=ctx.principal,
            patient_id=owner,
            condition_id=uuid.UUID(resource_id),
            changes=build(ConditionUpdate, **condition_fields(resource)),
        )

    async def delete(self, ctx: FhirContext, resource_id: str) -> None:
        owner = await _owner(ctx, Condition, resource_id, self.resource_type)
        await patients.remove_condition(
            session=ctx.session,
            principal=ctx.principal,
            patient_id=owner,
            condition_id=uuid.UUID(resource_id),
        )
