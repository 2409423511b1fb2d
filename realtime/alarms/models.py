"""Alarm tables: per-patient threshold overrides, nurses' NEWS2 observations, pending conditions, alarms.

One condition (a patient's "hr too high", "news2", "device X silent") has at most one open alarm:
the partial unique index `uq_alarms_open_condition` enforces it, so ingest workers evaluating the
same patient at once cannot raise duplicates. Pending conditions (out of range, not yet for the
condition delay) are rows too, so whichever worker sees the next reading continues the count.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, utc_now, value_set_column
from realtime.alarms.news2 import Consciousness


class AlarmKind(enum.StrEnum):
    THRESHOLD = "threshold"
    NEWS2 = "news2"
    TECHNICAL = "technical"


class AlarmPriority(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class AlarmStatus(enum.StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlarmThreshold(PublicIdMixin, TimestampMixin, Base):
    """A clinician's override of one metric's limits for one patient (the age-group default otherwise)."""

    __tablename__ = "alarm_thresholds"
    __table_args__ = (UniqueConstraint("patient_id", "metric"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(32))
    low: Mapped[float | None] = mapped_column(Float(precision=53))
    high: Mapped[float | None] = mapped_column(Float(precision=53))
    priority: Mapped[AlarmPriority] = mapped_column(value_set_column(AlarmPriority, "threshold_priority", 16))
    delay_s: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class OxygenDevice(enum.StrEnum):
    """How supplemental oxygen is given, as the NEWS2 chart records it beside the flow."""

    NASAL_CANNULA = "nasal_cannula"
    SIMPLE_MASK = "simple_mask"
    VENTURI_MASK = "venturi_mask"
    NON_REBREATHER_MASK = "non_rebreather_mask"
    HIGH_FLOW_NASAL = "high_flow_nasal"
    CPAP_NIV = "cpap_niv"
    TRACHEOSTOMY_MASK = "tracheostomy_mask"
    OTHER = "other"


class News2Observation(PublicIdMixin, Base):
    """What a device cannot measure: consciousness (ACVPU), oxygen given, and the SpO2 scale in use.

    A row with `full_set` is the charting of a whole NEWS2 set (`realtime.alarms.observation_sets`):
    its measured values are recorded vitals of the same patient, time and recorder. `spo2_scale` is
    the patient's scale when it was charted (the scale in force is `SpO2ScaleAssignment`).
    """

    __tablename__ = "news2_observations"
    __table_args__ = (Index("ix_news2_observations_patient_id_recorded_at", "patient_id", "recorded_at"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    consciousness: Mapped[Consciousness] = mapped_column(value_set_column(Consciousness, "consciousness", 1))
    on_oxygen: Mapped[bool] = mapped_column()
    spo2_scale: Mapped[int] = mapped_column(Integer)
    oxygen_device: Mapped[OxygenDevice | None] = mapped_column(
        value_set_column(OxygenDevice, "oxygen_device", 32)
    )
    oxygen_flow_l_min: Mapped[float | None] = mapped_column(Float(precision=53))
    full_set: Mapped[bool] = mapped_column(default=False, server_default=false())
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class SpO2ScaleAssignment(PublicIdMixin, Base):
    """A clinician's choice of SpO2 scale for a patient, with the reason; the latest one is in force.

    Kept as history (never updated): the chart shows who moved a patient to scale 2, when and why.
    """

    __tablename__ = "spo2_scale_assignments"
    __table_args__ = (Index("ix_spo2_scale_assignments_patient_id_set_at", "patient_id", "set_at"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    scale: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    set_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class AlarmCondition(Base):
    """A condition seen but not yet alarmed: out of range since `first_seen_at`, waiting for its delay."""

    __tablename__ = "alarm_conditions"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True
    )
    condition_key: Mapped[str] = mapped_column(String(96), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alarm(PublicIdMixin, TimestampMixin, Base):
    """One alarm and its lifecycle: raised, acknowledged (by whom, when), resolved; escalated if overdue."""

    __tablename__ = "alarms"
    __table_args__ = (
        # At most one open alarm per condition and patient: the guard against duplicate raises.
        Index(
            "uq_alarms_open_condition",
            "patient_id",
            "condition_key",
            unique=True,
            postgresql_where=text("status <> 'resolved'"),
            sqlite_where=text("status <> 'resolved'"),
        ),
        Index("ix_alarms_ward_id_status", "ward_id", "status"),
        Index("ix_alarms_status_priority_raised_at", "status", "priority", "raised_at"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    bed_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("beds.id", ondelete="SET NULL"))
    ward_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("wards.id", ondelete="SET NULL"))
    kind: Mapped[AlarmKind] = mapped_column(value_set_column(AlarmKind, "alarm_kind", 16))
    # e.g. "threshold:8867-4:high", "news2", "technical:silent:<device>": what makes two alarms the same.
    condition_key: Mapped[str] = mapped_column(String(96))
    # The metric's LOINC code, or a technical code (silent, low_battery, sensor_off), or "news2".
    code: Mapped[str] = mapped_column(String(64))
    priority: Mapped[AlarmPriority] = mapped_column(value_set_column(AlarmPriority, "alarm_priority", 16))
    status: Mapped[AlarmStatus] = mapped_column(value_set_column(AlarmStatus, "alarm_status", 16))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_id: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float(precision=53))
    score: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @property
    def condition_ended_at(self) -> datetime | None:
        """When the condition of a latched alarm ended (it stays until acknowledged); None otherwise."""
        # In the detail, not a column: the evaluator's decisions set it (realtime.alarms.decisions).
        ended = (self.detail or {}).get("condition_ended_at")
        return datetime.fromisoformat(ended) if ended else None
