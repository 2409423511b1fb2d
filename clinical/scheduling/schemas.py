"""Request and response bodies of scheduling. Times carry offsets; naive ones are refused."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import date, datetime, time
from functools import lru_cache
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from clinical.scheduling.models import AppointmentMode, ExceptionReason
from clinical.scheduling.state_machine import AppointmentStatus


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # Reads the zone database once per process; the set never changes while it runs.
    return frozenset(zoneinfo.available_timezones())


def _iana_zone(value: str) -> str:
    if value not in _known_zones():
        raise ValueError(f"'{value}' is not an IANA time zone name such as 'Europe/London'")
    return value


def _whole_minutes(value: time) -> time:
    if value.second or value.microsecond or value.tzinfo is not None:
        raise ValueError("give a local wall-clock time in whole minutes, without an offset (e.g. '09:30')")
    return value


TimeZoneName = Annotated[str, AfterValidator(_iana_zone)]
LocalTime = Annotated[time, AfterValidator(_whole_minutes)]
TypeCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,31}$")]
Text500 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class AppointmentTypeCreate(BaseModel):
    code: TypeCode = Field(description="Stable lower-case code, e.g. 'gp-video-15'")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    mode: AppointmentMode
    duration_minutes: int = Field(ge=5, le=480, description="Slot length")
    cancellation_window_hours: int = Field(
        default=24, ge=0, le=720, description="Patients may not cancel or reschedule within this time"
    )


class AppointmentTypeUpdate(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    cancellation_window_hours: int | None = Field(default=None, ge=0, le=720)
    active: bool | None = None


class AppointmentTypeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    mode: AppointmentMode
    duration_minutes: int
    cancellation_window_hours: int
    active: bool


class WorkingHoursCreate(BaseModel):
    weekday: int = Field(ge=1, le=7, description="ISO 8601 weekday: 1 = Monday ... 7 = Sunday")
    start_time: LocalTime
    end_time: LocalTime = Field(description="Local end; not after start_time means it ends the next day")
    time_zone: TimeZoneName
    valid_from: date
    valid_to: date | None = Field(default=None, description="Last day included; open-ended when null")

    @model_validator(mode="after")
    def _not_empty(self) -> WorkingHoursCreate:
        if self.start_time == self.end_time:
            raise ValueError("start_time and end_time are equal: a block must not be empty")
        return self


class WorkingHoursRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    practitioner_id: uuid.UUID
    weekday: int
    start_time: time
    end_time: time
    time_zone: str
    valid_from: date
    valid_to: date | None


class ScheduleExceptionCreate(BaseModel):
    start_at: AwareDatetime
    end_at: AwareDatetime
    reason: ExceptionReason
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class ScheduleExceptionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    practitioner_id: uuid.UUID
    start_at: datetime
    end_at: datetime
    reason: ExceptionReason
    note: str | None


class SlotRead(BaseModel):
    practitioner_id: uuid.UUID
    start_at: datetime = Field(description="UTC")
    end_at: datetime = Field(description="UTC")
    local_start: datetime = Field(description="The same instant in the practitioner's time zone")
    time_zone: str


class SlotList(BaseModel):
    appointment_type: str
    items: list[SlotRead]
    truncated: bool = Field(description="True when more slots matched than `limit`")
    next_start: datetime | None = Field(
        default=None,
        description="When truncated: search again from here (same end) for the rest; a page never "
        "splits the slots of one start time",
    )


class AppointmentCreate(BaseModel):
    patient_id: uuid.UUID | None = Field(default=None, description="Patients may omit it: their own")
    practitioner_id: uuid.UUID
    appointment_type: TypeCode = Field(description="The appointment type's code")
    start_at: AwareDatetime
    reason: Text500 | None = None
    notes: Annotated[str, StringConstraints(max_length=4000)] | None = None


class AppointmentReschedule(BaseModel):
    start_at: AwareDatetime
    practitioner_id: uuid.UUID | None = Field(default=None, description="Another practitioner, if any")


class AppointmentCancel(BaseModel):
    reason: Text500


class AppointmentRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    practitioner_id: uuid.UUID
    appointment_type: str
    mode: AppointmentMode
    start_at: datetime
    end_at: datetime
    status: AppointmentStatus
    reason: str | None
    notes: str | None
    booked_by: uuid.UUID | None
    status_changed_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by: uuid.UUID | None
    cancellation_reason: str | None
    reschedule_count: int
    created_at: datetime
