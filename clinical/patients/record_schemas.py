"""What the patient sub-resources accept and return: identifiers, allergies, conditions, medications."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator, model_validator

from clinical.patients.dates import check_not_future, check_order
from clinical.patients.terms import (
    AllergyCategory,
    AllergyCriticality,
    AllergyStatus,
    ConditionStatus,
    MedicationStatus,
)

_STRICT = ConfigDict(extra="forbid")
_READ = ConfigDict(from_attributes=True)

SystemUri = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=255, pattern=r"^(urn:[A-Za-z0-9][^\s]*|https?://[^\s]+)$"
    ),
]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
IdentifierValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class IdentifierCreate(BaseModel):
    """An external identifier: `system` is the issuer's namespace URI (e.g. urn:oid:2.16.840.1.113883.2.1.4.1)."""

    model_config = _STRICT

    system: SystemUri
    value: IdentifierValue
    type_text: Short | None = None


class IdentifierUpdate(BaseModel):
    model_config = _STRICT

    value: IdentifierValue | None = None
    type_text: Short | None = None


class IdentifierRead(BaseModel):
    model_config = _READ

    id: uuid.UUID
    patient_id: uuid.UUID
    system: str
    value: str
    type_text: str | None
    created_at: datetime
    updated_at: datetime


class AllergyCreate(BaseModel):
    model_config = _STRICT

    substance_text: Label
    substance_code: Code | None = None
    substance_system: SystemUri | None = None
    category: AllergyCategory | None = None
    criticality: AllergyCriticality = AllergyCriticality.UNABLE_TO_ASSESS
    reaction: Note | None = None
    status: AllergyStatus = AllergyStatus.ACTIVE


class AllergyUpdate(BaseModel):
    model_config = _STRICT

    substance_text: Label | None = None
    substance_code: Code | None = None
    substance_system: SystemUri | None = None
    category: AllergyCategory | None = None
    criticality: AllergyCriticality | None = None
    reaction: Note | None = None
    status: AllergyStatus | None = None


class AllergyRead(BaseModel):
    model_config = _READ

    id: uuid.UUID
    patient_id: uuid.UUID
    substance_text: str
    substance_code: str | None
    substance_system: str | None
    category: AllergyCategory | None
    criticality: AllergyCriticality
    reaction: str | None
    status: AllergyStatus
    recorded_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class _ConditionDates(BaseModel):
    @field_validator("onset_date", "abatement_date", check_fields=False)
    @classmethod
    def _not_future(cls, value: date | None) -> date | None:
        return check_not_future(value, "date")

    @model_validator(mode="after")
    def _ordered(self) -> _ConditionDates:
        check_order(
            getattr(self, "onset_date", None), getattr(self, "abatement_date", None), "onset", "abatement"
        )
        return self


class ConditionCreate(_ConditionDates):
    """A diagnosis; `icd10_code` is checked against ICD-10 and its display taken from the code list."""

    model_config = _STRICT

    icd10_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)]
    clinical_status: ConditionStatus = ConditionStatus.ACTIVE
    onset_date: date | None = None
    abatement_date: date | None = None
    note: Note | None = None


class ConditionUpdate(_ConditionDates):
    model_config = _STRICT

    icd10_code: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)] | None
    ) = None
    clinical_status: ConditionStatus | None = None
    onset_date: date | None = None
    abatement_date: date | None = None
    note: Note | None = None


class ConditionRead(BaseModel):
    model_config = _READ

    id: uuid.UUID
    patient_id: uuid.UUID
    icd10_code: str
    display: str
    clinical_status: ConditionStatus
    onset_date: date | None
    abatement_date: date | None
    note: str | None
    recorded_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class _MedicationDates(BaseModel):
    @field_validator("started_on", "stopped_on", check_fields=False)
    @classmethod
    def _not_future(cls, value: date | None) -> date | None:
        return check_not_future(value, "date")

    @model_validator(mode="after")
    def _ordered(self) -> _MedicationDates:
        check_order(getattr(self, "started_on", None), getattr(self, "stopped_on", None), "start", "stop")
        return self


class MedicationCreate(_MedicationDates):
    """A medication the patient takes: a statement recorded from history, not a prescription."""

    model_config = _STRICT

    name: Label
    code: Code | None = None
    code_system: SystemUri | None = None
    dose_text: Label | None = None
    route: Short | None = None
    status: MedicationStatus = MedicationStatus.ACTIVE
    started_on: date | None = None
    stopped_on: date | None = None


class MedicationUpdate(_MedicationDates):
    model_config = _STRICT

    name: Label | None = None
    code: Code | None = None
    code_system: SystemUri | None = None
    dose_text: Label | None = None
    route: Short | None = None
    status: MedicationStatus | None = None
    started_on: date | None = None
    stopped_on: date | None = None


class MedicationRead(BaseModel):
    model_config = _READ

    id: uuid.UUID
    patient_id: uuid.UUID
    name: str
    code: str | None
    code_system: str | None
    dose_text: str | None
    route: str | None
    status: MedicationStatus
    started_on: date | None
    stopped_on: date | None
    recorded_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
