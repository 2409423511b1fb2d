"""What the recorded-vitals endpoints accept and return. Values are checked like device readings."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from clinical.encounters.schemas import PastTime
from devices.protocol import metric_spec

MAX_READINGS_PER_REQUEST = 20  # a full set of observations is seven; twenty leaves room, not abuse


class VitalInput(BaseModel):
    """One observation as typed in; on validation it becomes the LOINC code and the stored unit."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(
        max_length=32, description="LOINC code or alias: hr, spo2, rr, sbp, dbp, temp, weight"
    )
    value: float
    unit: str = Field(max_length=16, description="UCUM unit, e.g. /min, %, mm[Hg], Cel, [degF], kg")
    measured_at: PastTime | None = None

    @model_validator(mode="after")
    def _normalise(self) -> VitalInput:
        if not math.isfinite(self.value):
            raise ValueError("value must be a finite number")
        spec = metric_spec(self.metric)
        value = spec.to_stored_unit(self.value, self.unit)
        if not spec.minimum <= value <= spec.maximum:
            raise ValueError(
                f"{spec.alias} {value:g} {spec.unit} is physiologically impossible "
                f"(accepted {spec.minimum:g}..{spec.maximum:g} {spec.unit}); check the value and unit"
            )
        self.metric, self.value, self.unit = spec.code, round(value, 4), spec.unit
        return self


class RecordedVitalsCreate(BaseModel):
    """A set of observations of one patient, optionally within an encounter, taken at one time."""

    model_config = ConfigDict(extra="forbid")

    patient_id: uuid.UUID | None = None
    encounter_id: uuid.UUID | None = None
    measured_at: PastTime | None = Field(
        default=None, description="Default for readings without their own; now if omitted"
    )
    readings: Annotated[list[VitalInput], Field(min_length=1, max_length=MAX_READINGS_PER_REQUEST)]

    @model_validator(mode="after")
    def _patient_or_encounter(self) -> RecordedVitalsCreate:
        if self.patient_id is None and self.encounter_id is None:
            raise ValueError("name the patient_id, or the encounter_id the observations belong to")
        return self


class RecordedVitalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    encounter_id: uuid.UUID | None
    metric_code: str
    value: float
    unit: str
    measured_at: datetime
    recorded_by: uuid.UUID
    reported_by_patient: bool = False
    created_at: datetime


class RecordedVitalFilter(BaseModel):
    patient_id: uuid.UUID | None = None
    encounter_id: uuid.UUID | None = None
    metric: str | None = Field(default=None, max_length=32, description="LOINC code or alias")
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
