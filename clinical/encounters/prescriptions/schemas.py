"""What the prescription endpoints accept and return: dose, route and frequency as structured values."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from clinical.encounters.prescriptions.models import DoseUnit, PeriodUnit, PrescriptionStatus, Route
from clinical.encounters.schemas import PastTime

_STRICT = ConfigDict(extra="forbid")
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Medication(BaseModel):
    model_config = _STRICT

    name: Text200
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None


class Dose(BaseModel):
    """An amount per administration: 500 mg, 2 tablet, 0.5 mL."""

    model_config = _STRICT

    # Decimal, never float: 0.1 mg must stay 0.1 mg. Four places cover micro-doses in mg.
    quantity: Decimal = Field(gt=0, le=100_000, max_digits=12, decimal_places=4)
    unit: DoseUnit


class Frequency(BaseModel):
    """`count` times every `period` `period_unit`: three times a day is 3 per 1 d."""

    model_config = _STRICT

    count: int = Field(ge=1, le=48)
    period: int = Field(default=1, ge=1, le=365)
    period_unit: PeriodUnit = PeriodUnit.DAY
    as_needed: bool = False


class PrescriptionCreate(BaseModel):
    model_config = _STRICT

    medication: Medication
    dose: Dose
    route: Route
    frequency: Frequency
    duration_days: int | None = Field(
        default=None, ge=1, le=365, description="Null for long-term use until stopped"
    )
    instructions: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)] | None
    ) = None
    acknowledged_allergy_ids: list[uuid.UUID] = Field(
        default=[],
        max_length=50,
        description="The patient's allergies this medication matches that the prescriber has seen and "
        "accepts; an unacknowledged match is a 409 allergy-warning naming them",
    )
    prescribed_at: PastTime | None = Field(
        default=None,
        description="When it was prescribed, if earlier in the encounter than now (a visit charted "
        "after the fact); not before the encounter started. Defaults to now.",
    )


class PrescriptionStatusChange(BaseModel):
    """Ends an active prescription; stopping or cancelling needs a reason for the record."""

    model_config = _STRICT

    status: Literal["completed", "cancelled", "stopped"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] | None = (
        None
    )

    @model_validator(mode="after")
    def _reason_when_not_completed(self) -> PrescriptionStatusChange:
        if self.status != "completed" and self.reason is None:
            raise ValueError(f"a reason is required to mark a prescription {self.status}")
        return self


class PrescriptionFilter(BaseModel):
    patient_id: uuid.UUID | None = None
    status: PrescriptionStatus | None = None


class PrescriptionRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    encounter_id: uuid.UUID
    prescriber_id: uuid.UUID
    medication: Medication
    dose: Dose
    route: Route
    frequency: Frequency
    duration_days: int | None
    instructions: str | None
    status: PrescriptionStatus
    status_reason: str | None
    status_changed_at: datetime | None
    status_changed_by: uuid.UUID | None
    prescribed_at: datetime
    created_at: datetime
    updated_at: datetime
