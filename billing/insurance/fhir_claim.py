"""The claim as a FHIR R4 Claim resource, with its Coverage contained (Ownat serves no Coverage).

Money is written as FHIR decimals from integer minor units with the currency's own exponent, so no
float ever touches an amount.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from billing.insurance.document import ClaimDocument

ICD10 = "http://hl7.org/fhir/sid/icd-10"
CPT = "http://www.ama-assn.org/go/cpt"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
PLACE_OF_SERVICE = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
CLAIM_NUMBER_SYSTEM = "https://ownat.org/fhir/sid/claim-number"
PAYER_ID_SYSTEM = "https://ownat.org/fhir/sid/payer-id"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
# ISO 4217 minor-unit exponents that differ from two.
_EXPONENTS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}


def money(minor: int, currency: str) -> dict[str, Any]:
    """A FHIR Money from integer minor units."""
    return {"value": Decimal(minor).scaleb(-_EXPONENTS.get(currency, 2)), "currency": currency}


def _coverage(claim: ClaimDocument) -> dict[str, Any]:
    coverage = claim.coverage
    resource: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": "coverage",
        "status": "active",
        "subscriberId": coverage.member_id,
        "beneficiary": {"reference": f"Patient/{claim.patient_id}"},
        "relationship": {"coding": [{"system": SUBSCRIBER_RELATIONSHIP, "code": coverage.relationship}]},
        "payor": [_insurer(claim)],
        "order": coverage.priority,
        "class": [
            {
                "type": {"coding": [{"system": COVERAGE_CLASS, "code": "plan"}]},
                "value": coverage.plan_name,
            }
        ],
    }
    if coverage.group_number:
        resource["class"].append(
            {
                "type": {"coding": [{"system": COVERAGE_CLASS, "code": "group"}]},
                "value": coverage.group_number,
            }
        )
    return resource


def _insurer(claim: ClaimDocument) -> dict[str, Any]:
    return {
        "identifier": {"system": PAYER_ID_SYSTEM, "value": claim.payer.payer_id},
        "display": claim.payer.name,
    }


def _provider(claim: ClaimDocument) -> dict[str, Any]:
    reference: dict[str, Any] = {"display": claim.provider.name}
    if claim.provider.npi:
        reference["identifier"] = {"system": NPI_SYSTEM, "value": claim.provider.npi}
    return reference


def _item(claim: ClaimDocument, index: int) -> dict[str, Any]:
    line = claim.lines[index]
    return {
        "sequence": line.number,
        "diagnosisSequence": list(line.diagnosis_pointers),
        "productOrService": {"coding": [{"system": CPT, "code": line.code, "display": line.description}]},
        "servicedDate": line.service_date.isoformat(),
        "locationCodeableConcept": {"coding": [{"system": PLACE_OF_SERVICE, "code": claim.place_of_service}]},
        "quantity": {"value": line.quantity},
        "unitPrice": money(line.charge_minor // line.quantity, claim.currency),
        "net": money(line.charge_minor, claim.currency),
    }


def claim_resource(claim: ClaimDocument, *, status: str = "active") -> dict[str, Any]:
    """The FHIR R4 Claim (use `claim`, type `professional`) of `claim`."""
    dates = sorted(line.service_date for line in claim.lines)
    return {
        "resourceType": "Claim",
        "id": claim.claim_id,
        "contained": [_coverage(claim)],
        "identifier": [{"system": CLAIM_NUMBER_SYSTEM, "value": claim.claim_number}],
        "status": status,
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "patient": {"reference": f"Patient/{claim.patient_id}"},
        "billablePeriod": {"start": dates[0].isoformat(), "end": dates[-1].isoformat()},
        "created": claim.created_at.isoformat(),
        "insurer": _insurer(claim),
        "provider": _provider(claim),
        "priority": {"coding": [{"system": PROCESS_PRIORITY, "code": "normal"}]},
        "diagnosis": [
            {
                "sequence": position,
                "diagnosisCodeableConcept": {
                    "coding": [{"system": ICD10, "code": entry.code, "display": entry.display}]
                },
            }
            for position, entry in enumerate(claim.diagnoses, start=1)
        ],
        "insurance": [
            {"sequence": 1, "focal": True, "coverage": {"reference": "#coverage"}},
        ],
        "item": [_item(claim, index) for index in range(len(claim.lines))],
        "total": money(claim.total_minor, claim.currency),
    }
