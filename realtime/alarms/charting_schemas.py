"""Pydantic models of observation charting: a full NEWS2 set, its prefill, SpO2 scales, the schedule.

Bounds are what a person could chart of a living patient (the device wire format's physiological
ranges, without the zero a device sends when it measures nothing): a value outside them is a typing
or unit mistake, refused with the field named, so that nothing of the set is stored.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from clinical.encounters import PastTime
from core.db import utc_now
from realtime.alarms.models import OxygenDevice
from realtime.alarms.news2 import Consciousness

# A set charted later than this after it was taken belongs in the notes, not in the live score.
MAX_LATE_CHARTING = timedelta(hours=24)
# High-flow nasal oxygen goes up to 60 L/min; more is a typing mistake.
MAX_OXYGEN_FLOW_L_MIN = 60.0


class ObservationSetCreate(BaseModel):
    """A full NEWS2 set as a nurse charts it (units: /min, %, mmHg, L/min, degrees Celsius)."""

    model_config = ConfigDict(extra="forbid")

    respiration_rate: float = Field(gt=0, le=120, description="breaths per minute")
    spo2: float = Field(gt=0, le=100, description="oxygen saturation, %")
    on_oxygen: bool = Field(description="false: breathing air; true: supplemental oxygen")
    oxygen_device: OxygenDevice | None = Field(default=None, validate_default=True)
    oxygen_flow_l_min: float | None = Field(
        default=None, gt=0, le=MAX_OXYGEN_FLOW_L_MIN, validate_default=True, description="litres per minute"
    )
    systolic_bp: float = Field(ge=20, le=300, description="mmHg")
    diastolic_bp: float | None = Field(default=None, ge=5, le=250, description="mmHg, optional")
    pulse: float = Field(gt=0, le=350, description="beats per minute")
    consciousness: Consciousness = Field(description="ACVPU: A, C (new confusion), V, P or U")
    temperature_c: float = Field(ge=20, le=46, description="degrees Celsius")
    recorded_at: PastTime | None = Field(default=None, description="when the set was taken; now if omitted")

    @field_validator("oxygen_device", "oxygen_flow_l_min")
    @classmethod
    def _given_with_oxygen_only(cls, value: object, info: ValidationInfo) -> object:
        on_oxygen = info.data.get("on_oxygen")
        what = "the device" if info.field_name == "oxygen_device" else "the flow in L/min"
        if on_oxygen and value is None:
            raise ValueError(f"the patient is on oxygen: give {what}")
        if on_oxygen is False and value is not None:
            raise ValueError(f"the patient is breathing air: leave {what} out")
        return value

    @field_validator("diastolic_bp")
    @classmethod
    def _below_systolic(cls, value: float | None, info: ValidationInfo) -> float | None:
        systolic = info.data.get("systolic_bp")
        if value is not None and systolic is not None and value >= systolic:
            raise ValueError("the diastolic pressure must be below the systolic")
        return value

    @field_validator("recorded_at")
    @classmethod
    def _recent(cls, value: datetime | None) -> datetime | None:
        if value is not None and value < utc_now() - MAX_LATE_CHARTING:
            raise ValueError("a set taken more than 24 hours ago belongs in the notes, not the chart")
        return value


class ObservationSetRead(BaseModel):
    """A charted full set, with the SpO2 scale it was scored on and who charted it."""

    id: uuid.UUID
    patient_id: uuid.UUID
    recorded_at: datetime
    recorded_by: uuid.UUID | None
    respiration_rate: float | None
    spo2: float | None
    spo2_scale: int
    on_oxygen: bool
    oxygen_device: OxygenDevice | None
    oxygen_flow_l_min: float | None
    systolic_bp: float | None
    diastolic_bp: float | None
    pulse: float | None
    consciousness: Consciousness
    temperature_c: float | None


class DeviceValue(BaseModel):
    value: float
    time: datetime
    device_id: str


class LastCharted(BaseModel):
    """What was charted last of what a device cannot measure."""

    consciousness: Consciousness
    on_oxygen: bool
    oxygen_device: OxygenDevice | None
    oxygen_flow_l_min: float | None
    recorded_at: datetime
    full_set: bool


class ObservationPrefill(BaseModel):
    """What the charting form starts from: the latest device values, the scale, the last charting."""

    patient_id: uuid.UUID
    spo2_scale: int
    # Keyed by the form's field names (respiration_rate, spo2, systolic_bp, ...); absent: no device value.
    device_values: dict[str, DeviceValue]
    last_charted: LastCharted | None


class SpO2ScaleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scale: Literal[1, 2]
    reason: Annotated[str, Field(min_length=3, max_length=500)] = Field(
        description="why, e.g. hypercapnic respiratory failure with a prescribed 88-92% target"
    )

    @field_validator("reason")
    @classmethod
    def _stripped(cls, value: str) -> str:
        value = value.strip()
        if len(value) < 3:
            raise ValueError("say why the scale is chosen")
        return value


class SpO2ScaleRead(BaseModel):
    """The scale in force; scale 1 with no reason when no clinician has chosen one."""

    patient_id: uuid.UUID
    scale: int
    reason: str | None
    set_by: uuid.UUID | None
    set_at: datetime | None


class MonitoringRead(BaseModel):
    """The RCP monitoring frequency for the current band, and whether the next full set is late."""

    frequency: str
    due_every_minutes: int
    last_full_set_at: datetime | None
    due_at: datetime | None
    overdue: bool
