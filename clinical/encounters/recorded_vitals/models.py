"""Manually recorded vitals: the same LOINC metrics and stored units as the device wire format."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Double, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, UTCDateTime, utc_now


class RecordedVital(PublicIdMixin, Base):
    __tablename__ = "recorded_vitals"
    __table_args__ = (Index("ix_recorded_vitals_patient_id_measured_at", "patient_id", "measured_at"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encounters.id", ondelete="RESTRICT"), index=True
    )
    # LOINC code of one of devices.protocol.METRICS; the value is in that metric's stored unit.
    metric_code: Mapped[str] = mapped_column(String(16))
    value: Mapped[float] = mapped_column(Double)
    unit: Mapped[str] = mapped_column(String(16))
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # Reported by the patient (a home measurement) rather than measured by staff.
    reported_by_patient: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
