"""What the encounter endpoints accept and return."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    StringConstraints,
    computed_field,
    model_validator,
)

from clinical.encounters.models import EncounterClass, EncounterStatus
from core.db import utc_now

# Clocks of browsers and bedside PCs drift; a time further ahead than this is a mistake.
CLOCK_SKEW = timedelta(minutes=5)

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def _past_utc(value: datetime) -> datetime:
    value = value.astimezone(UTC)
    if value > utc_now() + CLOCK_SKEW:
        raise ValueError("the time is in the future")
    return value


PastTime = Annotated[AwareDatetime, AfterValidator(_past_utc)]
_STRICT = ConfigDict(extra="forbid")


class EncounterCreate(BaseModel):
    """From an appointment (patient and class follow from it), or a walk-in naming the patient."""

    model_config = _STRICT

    appointment_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    encounter_class: EncounterClass | None = None
    reason: ShortText | None = None
    # "planned" prepares the encounter without starting its clock.
    status: Literal["planned", "in_progress"] = "in_progress"
    started_at: PastTime | None = None

    @model_validator(mode="after")
    def _appointment_or_patient(self) -> EncounterCreate:
        if self.appointment_id is None and self.patient_id is None:
            raise ValueError("name the appointment_id, or the patient_id of a walk-in")
        if self.status == "planned" and self.started_at is not None:
            raise ValueError("a planned encounter has not started: leave started_at out")
        return self


class EncounterStart(BaseModel):
    model_config = _STRICT

    started_at: PastTime | None = None


class EncounterFinish(BaseModel):
    model_config = _STRICT

    ended_at: PastTime | None = None


class EncounterCancel(BaseModel):
    model_config = _STRICT

    reason: ShortText


class EncounterRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    practitioner_id: uuid.UUID
    appointment_id: uuid.UUID | None
    encounter_class: EncounterClass
    status: EncounterStatus
    reason: str | None
    started_at: datetime | None
    ended_at: datetime | None
    cancel_reason: str | None
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration_s(self) -> int | None:
        """Seconds from start to end of a finished encounter (what billing charges by time use)."""
        if self.started_at is None or self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds())


class EncounterFilter(BaseModel):
    """Filters of the encounter list; a patient's list is always limited to their own record."""

    patient_id: uuid.UUID | None = None
    practitioner_id: uuid.UUID | None = None
    status: EncounterStatus | None = None
