"""What the My data endpoints accept and return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from clinical.privacy.models import DETAILS_MAX_LENGTH, RequestKind, RequestStatus

Details = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=DETAILS_MAX_LENGTH)
]


class AccessVisit(BaseModel):
    """One person's time in a record: consecutive accesses by one member of staff."""

    actor_name: str
    role: str
    department: str | None
    first_at: datetime
    last_at: datetime
    # What they looked at or changed, in words ("allergies", "documents", ...).
    viewed: list[str]
    changed: list[str]


class AccessLog(BaseModel):
    visits: list[AccessVisit]
    next_cursor: int | None


class DataRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: RequestKind
    details: Details


class DataRequestAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    response: Details


class Decision(BaseModel):
    """What happens to one category of data on erasure, and why."""

    category: str
    action: Literal["erase", "restrict", "keep"]
    reason: str
    until: datetime | None = None


class DataRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    kind: RequestKind
    status: RequestStatus
    details: str
    response: str | None
    created_at: datetime
    handled_at: datetime | None
    outcome: list[Decision]


class DataRequestAdminRead(DataRequestRead):
    patient_name: str
    mrn: str
    requested_by_name: str
    handled_by_name: str | None


class RestrictionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    patient_id: uuid.UUID
    reason: str
    restricted_at: datetime
    retain_until: datetime
