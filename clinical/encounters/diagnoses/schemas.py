"""What the diagnosis endpoints accept and return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

from clinical.encounters.diagnoses.models import ICD10_CODE_MAX_LENGTH

# Ranks beyond this are not meaningful on any claim form (UB-04 carries 25, CMS-1500 twelve).
MAX_RANK = 25


class DiagnosisCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=ICD10_CODE_MAX_LENGTH)
    ]
    rank: int | None = Field(
        default=None, ge=1, le=MAX_RANK, description="1 is the primary diagnosis; next free if omitted"
    )


class DiagnosisRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    encounter_id: uuid.UUID
    code: str
    display: str
    rank: int
    recorded_by: uuid.UUID
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def primary(self) -> bool:
        return self.rank == 1
