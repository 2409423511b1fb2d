"""A stored claim as the shared claim document, as its API view, and as exact FHIR JSON."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from billing.insurance.document import (
    Address,
    ClaimDocument,
    CoverageParty,
    DiagnosisEntry,
    PayerParty,
    Person,
    ServiceLine,
)
from billing.insurance.models import Claim, Coverage, Payer
from billing.insurance.provider_settings import ProviderSettings, billing_provider
from billing.insurance.schemas import ClaimDiagnosisRead, ClaimLineRead, ClaimRead
from billing.insurance.terms import CoverageRelationship
from clinical.patients import Patient


def _patient_person(patient: Patient) -> Person:
    address = None
    if patient.address_line1 and patient.city and patient.postal_code:
        address = Address(
            line1=patient.address_line1,
            line2=patient.address_line2,
            city=patient.city,
            region=patient.region or "",
            postal_code=patient.postal_code,
            country=patient.country,
        )
    return Person(
        given_name=patient.given_name,
        family_name=patient.family_name,
        birth_date=patient.birth_date,
        gender=patient.gender.value,
        address=address,
    )


def _coverage_party(coverage: Coverage, patient: Person) -> CoverageParty:
    subscriber = patient
    if coverage.relationship is not CoverageRelationship.SELF:
        subscriber = Person(
            given_name=coverage.subscriber_given_name or "",
            family_name=coverage.subscriber_family_name or "",
            birth_date=coverage.subscriber_birth_date,
            gender="unknown",
            address=None,
        )
    return CoverageParty(
        member_id=coverage.member_id,
        group_number=coverage.group_number,
        plan_name=coverage.plan_name,
        relationship=coverage.relationship.value,
        priority=coverage.priority,
        subscriber=subscriber,
        coverage_id=str(coverage.id),
    )


async def claim_document(
    session: AsyncSession, claim: Claim, settings: ProviderSettings, *, for_x12: bool
) -> ClaimDocument:
    """The claim with its patient, coverage, payer and billing provider, ready for a writer."""
    patient = await session.get(Patient, claim.patient_id)
    coverage = await session.get(Coverage, claim.coverage_id)
    payer = await session.get(Payer, claim.payer_id)
    assert patient is not None and coverage is not None and payer is not None  # foreign keys
    person = _patient_person(patient)
    return ClaimDocument(
        claim_id=str(claim.id),
        claim_number=claim.number,
        currency=claim.currency,
        created_at=claim.created_at,
        # A draft has no submission yet: its preview carries control number 0 and its creation time.
        submitted_at=claim.submitted_at or claim.created_at,
        control_number=claim.control_number or 0,
        place_of_service=claim.place_of_service,
        provider=billing_provider(settings, for_x12=for_x12),
        payer=PayerParty(name=payer.name, payer_id=payer.electronic_id),
        coverage=_coverage_party(coverage, person),
        patient=person,
        patient_id=str(claim.patient_id),
        encounter_id=str(claim.encounter_id),
        diagnoses=tuple(DiagnosisEntry(code=row.code, display=row.display) for row in claim.diagnoses),
        lines=tuple(
            ServiceLine(
                number=line.number,
                code=line.code,
                description=line.description,
                quantity=line.quantity,
                charge_minor=line.charge_minor,
                service_date=line.service_date,
                diagnosis_pointers=tuple(int(p) for p in line.diagnosis_pointers.split(",")),
            )
            for line in claim.lines
        ),
    )


async def claim_view(session: AsyncSession, claim: Claim) -> ClaimRead:
    """The API's view of a claim."""
    payer = await session.get(Payer, claim.payer_id)
    patient = await session.get(Patient, claim.patient_id)
    fields = {name: getattr(claim, name) for name in ClaimRead.model_fields if hasattr(claim, name)}
    fields.update(
        payer_name=payer.name if payer else "",
        patient_name=patient.display_name if patient else "",
        patient_mrn=patient.mrn if patient else "",
        adjustment_minor=(claim.total_minor - claim.paid_minor - claim.patient_responsibility_minor)
        if claim.adjudicated_at
        else 0,
        diagnoses=[ClaimDiagnosisRead.model_validate(row) for row in claim.diagnoses],
        lines=[
            ClaimLineRead.model_validate(
                {
                    **{
                        name: getattr(line, name)
                        for name in ClaimLineRead.model_fields
                        if name != "diagnosis_pointers"
                    },
                    "diagnosis_pointers": [int(p) for p in line.diagnosis_pointers.split(",")],
                }
            )
            for line in claim.lines
        ],
    )
    return ClaimRead.model_validate(fields)


def exact_json(value: Any) -> str:
    """JSON with Decimals written digit for digit (the standard encoder would go through float)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(key)}:{exact_json(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(exact_json(item) for item in value) + "]"
    return json.dumps(value)
