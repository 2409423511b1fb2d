"""Pydantic models of alarms, thresholds, NEWS2 observations and scores, as the API and the bus see them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from realtime.alarms.charting_schemas import MonitoringRead
from realtime.alarms.models import AlarmKind, AlarmPriority, AlarmStatus
from realtime.alarms.news2 import ClinicalRisk, Consciousness

ChangeKind = Literal["raised", "updated", "acknowledged", "resolved", "escalated"]


class AlarmRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    bed_id: uuid.UUID | None
    ward_id: uuid.UUID | None
    kind: AlarmKind
    condition_key: str
    code: str
    priority: AlarmPriority
    status: AlarmStatus
    raised_at: datetime
    acknowledged_by: uuid.UUID | None
    acknowledged_at: datetime | None
    resolved_by: uuid.UUID | None
    resolved_at: datetime | None
    escalated_at: datetime | None
    device_id: str | None
    value: float | None
    score: int | None
    detail: dict[str, Any]
    # Set on a latched alarm whose condition has ended: the dashboard shows "condition ended".
    condition_ended_at: datetime | None = None


class AlarmChange(BaseModel):
    """One thing that happened to an alarm, to publish after the commit."""

    change: ChangeKind
    alarm: AlarmRead


class ThresholdSet(BaseModel):
    """A clinician's limits for one metric (LOINC code or alias); at least one of low and high."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(max_length=32)
    low: float | None = None
    high: float | None = None
    priority: AlarmPriority = AlarmPriority.HIGH
    delay_s: int = Field(default=10, ge=0, le=3600)

    @model_validator(mode="after")
    def _consistent(self) -> ThresholdSet:
        if self.low is None and self.high is None:
            raise ValueError("give low, high or both")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError("low must be below high")
        return self


class ThresholdRead(BaseModel):
    metric: str
    low: float | None
    high: float | None
    priority: AlarmPriority
    delay_s: int
    source: Literal["default", "override"]


class ThresholdsRead(BaseModel):
    patient_id: uuid.UUID
    age_group: str
    thresholds: list[ThresholdRead]


class ThresholdsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thresholds: list[ThresholdSet] = Field(min_length=1, max_length=16)


class News2ObservationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consciousness: Consciousness
    on_oxygen: bool
    recorded_at: AwareDatetime | None = None


class News2ObservationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    consciousness: Consciousness
    on_oxygen: bool
    spo2_scale: int
    recorded_by: uuid.UUID | None
    recorded_at: datetime


class News2Read(BaseModel):
    """The latest NEWS2: total, band, each parameter's score, and what was missing (so incomplete)."""

    patient_id: uuid.UUID
    computed_at: datetime
    total: int
    risk: ClinicalRisk
    complete: bool
    parameter_scores: dict[str, int]
    missing: list[str]
    values: dict[str, Any]
    # How often a full set is due for this band, and whether it is late (see monitoring_frequency).
    monitoring: MonitoringRead | None = None
