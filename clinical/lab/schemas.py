"""Pydantic models of the laboratory's API: catalogue, orders, results and the HL7 inbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from clinical.lab.display import ExplainedResult
from clinical.lab.terms import (
    AbnormalFlag,
    MessageStatus,
    OrderStatus,
    Priority,
    Resolution,
    ResultStatus,
    ValueType,
)
from clinical.patients import AdministrativeGender

LoincCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{1,7}-\d$")]
MAX_TESTS_PER_ORDER = 40


class ReferenceRangeRead(BaseModel):
    sex: AdministrativeGender | None = Field(description="null when the range applies to either sex")
    low: Decimal | None
    high: Decimal | None


class CatalogueTestRead(BaseModel):
    loinc_code: str
    display: str
    specimen: str
    unit: str = Field(description="UCUM unit")
    adult_reference_ranges: list[ReferenceRangeRead]
    critical_low: Decimal | None
    critical_high: Decimal | None


class LabOrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID
    encounter_id: uuid.UUID | None = None
    ordering_practitioner_id: uuid.UUID | None = Field(
        default=None, description="defaults to the practitioner record of the signed-in clinician"
    )
    tests: list[LoincCode] = Field(min_length=1, max_length=MAX_TESTS_PER_ORDER, description="LOINC codes")
    priority: Priority = Priority.ROUTINE
    clinical_note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None

    @field_validator("tests")
    @classmethod
    def _distinct(cls, tests: list[str]) -> list[str]:
        if len(set(tests)) != len(tests):
            raise ValueError("each test may be ordered once per order")
        return tests


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] | None = (
        None
    )


class ResultEntry(BaseModel):
    """A result typed in by staff; omitted range, unit and flag come from the catalogue."""

    model_config = ConfigDict(extra="forbid")

    loinc_code: LoincCode
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    value_type: ValueType | None = Field(
        default=None, description="NM when the value is a number, ST otherwise"
    )
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    reference_low: Decimal | None = None
    reference_high: Decimal | None = None
    reference_text: Annotated[str, StringConstraints(max_length=64)] | None = None
    abnormal_flag: AbnormalFlag | None = None
    status: ResultStatus = ResultStatus.FINAL
    observed_at: AwareDatetime | None = None


class ResultEntries(BaseModel):
    model_config = ConfigDict(extra="forbid")

    results: list[ResultEntry] = Field(min_length=1, max_length=MAX_TESTS_PER_ORDER)


class LabResultRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    loinc_code: str
    value_type: ValueType
    value: str = Field(description="as reported, e.g. '5.40', '<0.5', 'Positive'")
    value_numeric: Decimal | None
    comparator: str | None
    unit: str | None = Field(description="as reported")
    unit_code: str | None = Field(default=None, description="the unit's UCUM code, when it is UCUM")
    reference_low: Decimal | None
    reference_high: Decimal | None
    reference_text: str | None
    abnormal_flag: AbnormalFlag | None
    status: ResultStatus
    observed_at: datetime | None
    note: str | None = Field(default=None, description="the laboratory's comments on this result")
    created_at: datetime
    superseded_at: datetime | None
    source_message_id: uuid.UUID | None
    entered_by: uuid.UUID | None


class LabOrderItemRead(BaseModel):
    id: uuid.UUID
    loinc_code: str
    display: str
    specimen: str
    unit: str | None
    result: LabResultRead | None = Field(description="the current result the caller may see")
    explained: ExplainedResult | None = Field(
        default=None, description="the current result in words for people (names, units, range, flag)"
    )
    history: list[LabResultRead] = Field(default_factory=list, description="earlier results (staff only)")


class LabOrderSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    placer_order_number: str
    filler_order_number: str | None
    patient_id: uuid.UUID
    encounter_id: uuid.UUID | None
    ordering_practitioner_id: uuid.UUID
    ordered_by: uuid.UUID
    priority: Priority
    status: OrderStatus
    clinical_note: str | None
    created_at: datetime
    collected_at: datetime | None
    in_progress_at: datetime | None
    preliminary_at: datetime | None
    final_at: datetime | None
    corrected_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    effective_at: datetime | None = Field(default=None, description="OBR-7 of the latest report")
    reported_at: datetime | None = Field(default=None, description="OBR-22 of the latest report")
    report_note: str | None = Field(default=None, description="the laboratory's comments on the report")
    tests: list[str] = Field(description="LOINC codes")


class LabOrderRead(LabOrderSummary):
    items: list[LabOrderItemRead]


class Hl7MessageSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    received_at: datetime
    channel: str
    control_id: str | None
    sending_application: str | None
    sending_facility: str | None
    message_type: str | None
    version: str | None
    status: MessageStatus
    ack_code: str
    error_code: int | None
    reason: str | None
    patient_identifier: str | None
    patient_name: str | None
    placer_order_number: str | None
    order_id: uuid.UUID | None
    patient_id: uuid.UUID | None
    duplicate_of_id: uuid.UUID | None
    resolution: Resolution | None
    resolution_note: str | None
    resolved_by: uuid.UUID | None
    resolved_at: datetime | None


class Hl7MessageRead(Hl7MessageSummary):
    raw: str


class Resolve(BaseModel):
    """Reprocess the message (against a chosen order, or as sent) or dismiss it; either way say why."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["reprocess", "dismiss"]
    order_id: uuid.UUID | None = Field(
        default=None, description="file the results against this order, whatever the message names"
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
