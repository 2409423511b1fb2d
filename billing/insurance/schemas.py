"""Requests and answers of the insurance API: payers, coverages, claims and adjudications."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from billing.insurance.terms import ClaimStatus, CoverageRelationship, CoverageStatus

Minor = Annotated[int, Field(ge=0, le=10**13)]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class PayerCreate(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    electronic_id: Annotated[str, Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9-]+$")]


class PayerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    electronic_id: str
    active: bool


class CoverageCreate(BaseModel):
    payer_id: uuid.UUID
    member_id: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9-]+$")]
    group_number: Annotated[str | None, Field(max_length=50)] = None
    plan_name: Annotated[str, Field(min_length=1, max_length=120)]
    priority: Annotated[int, Field(ge=1, le=3)] = 1
    period_start: date
    period_end: date | None = None
    relationship: CoverageRelationship = CoverageRelationship.SELF
    subscriber_given_name: Name | None = None
    subscriber_family_name: Name | None = None
    subscriber_birth_date: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CoverageCreate:
        if self.period_end is not None and self.period_end < self.period_start:
            raise ValueError("period_end must not be before period_start")
        named = self.subscriber_given_name and self.subscriber_family_name
        if self.relationship is not CoverageRelationship.SELF and not named:
            raise ValueError(
                "a coverage held through someone else needs the subscriber's given and family name"
            )
        return self


class CoverageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    payer_id: uuid.UUID
    member_id: str
    group_number: str | None
    plan_name: str
    priority: int
    period_start: date
    period_end: date | None
    relationship: CoverageRelationship
    subscriber_given_name: str | None
    subscriber_family_name: str | None
    subscriber_birth_date: date | None
    status: CoverageStatus


class ClaimCreate(BaseModel):
    encounter_id: uuid.UUID
    coverage_id: uuid.UUID


class ClaimDiagnosisRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sequence: int
    code: str
    display: str


class ClaimLineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: int
    charge_item_id: uuid.UUID
    code: str
    description: str
    service_date: date
    quantity: int
    charge_minor: int
    diagnosis_pointers: list[int]
    allowed_minor: int
    paid_minor: int
    patient_responsibility_minor: int
    adjustment_reason: str | None


class ClaimRead(BaseModel):
    id: uuid.UUID
    number: str
    patient_id: uuid.UUID
    patient_name: str
    patient_mrn: str
    encounter_id: uuid.UUID
    coverage_id: uuid.UUID
    payer_id: uuid.UUID
    payer_name: str
    status: ClaimStatus
    currency: str
    place_of_service: str
    total_minor: int
    allowed_minor: int
    paid_minor: int
    patient_responsibility_minor: int
    # What neither the payer nor the patient pays: the contractual adjustment written off.
    adjustment_minor: int
    control_number: int | None
    submitted_at: datetime | None
    responded_at: datetime | None
    adjudicated_at: datetime | None
    payer_claim_number: str | None
    denial_reason: str | None
    patient_invoice_id: uuid.UUID | None
    created_at: datetime
    diagnoses: list[ClaimDiagnosisRead]
    lines: list[ClaimLineRead]


class ClaimResponse(BaseModel):
    """The payer's acknowledgement: accepted for adjudication, or rejected with a reason."""

    accepted: bool
    reason: Annotated[str | None, Field(max_length=500)] = None
    payer_claim_number: Annotated[str | None, Field(max_length=50)] = None

    @model_validator(mode="after")
    def _reason_when_rejected(self) -> ClaimResponse:
        if not self.accepted and not self.reason:
            raise ValueError("a rejected claim needs the payer's reason")
        return self


class LineAdjudication(BaseModel):
    line_id: uuid.UUID
    allowed_minor: Minor
    paid_minor: Minor
    patient_responsibility_minor: Minor
    adjustment_reason: Annotated[str | None, Field(max_length=10, pattern=r"^[A-Z0-9]{1,10}$")] = None


class Adjudication(BaseModel):
    """The payer's remittance for the claim (as an 835 would carry it), one entry per claimed line."""

    lines: Annotated[list[LineAdjudication], Field(min_length=1, max_length=50)]
    payer_claim_number: Annotated[str | None, Field(max_length=50)] = None
