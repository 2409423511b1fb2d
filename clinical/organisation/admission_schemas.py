"""What the admission endpoints accept and return, and the ward census for the nurses' dashboards."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints

_STRICT = ConfigDict(extra="forbid")
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class AdmissionCreate(BaseModel):
    """Places a patient in a bed from `start_at` (now if omitted) until discharged or transferred."""

    model_config = _STRICT

    patient_id: uuid.UUID
    bed_id: uuid.UUID
    start_at: AwareDatetime | None = None
    reason: Reason | None = None
    attending_practitioner_id: uuid.UUID | None = None


class TransferRequest(BaseModel):
    """Moves the patient to another bed at `at` (now if omitted): this stay ends, a new one begins."""

    model_config = _STRICT

    bed_id: uuid.UUID
    at: AwareDatetime | None = None
    reason: Reason | None = None


class DischargeRequest(BaseModel):
    model_config = _STRICT

    at: AwareDatetime | None = None


class AdmissionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    bed_id: uuid.UUID
    start_at: datetime
    end_at: datetime | None
    reason: str | None
    attending_practitioner_id: uuid.UUID | None
    transferred_from_id: uuid.UUID | None
    admitted_by: uuid.UUID | None
    discharged_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class CensusPatient(BaseModel):
    id: uuid.UUID
    mrn: str
    given_name: str
    family_name: str
    birth_date: date | None
    gender: str


class CensusBed(BaseModel):
    """A bed and, if occupied now, who lies in it and since when."""

    bed_id: uuid.UUID
    label: str
    admission_id: uuid.UUID | None = None
    since: datetime | None = None
    attending_practitioner_id: uuid.UUID | None = None
    patient: CensusPatient | None = None


class WardCensus(BaseModel):
    ward_id: uuid.UUID
    ward_code: str
    ward_name: str
    at: datetime
    beds: list[CensusBed]
    occupied: int
