"""Encounters: one consultation of a patient with a practitioner, from an appointment or walk-in."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, value_set_column


class EncounterClass(enum.StrEnum):
    """FHIR's v3 ActEncounterCode, limited to what the platform supports."""

    AMBULATORY = "ambulatory"
    VIRTUAL = "virtual"
    INPATIENT = "inpatient"


class EncounterStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class Encounter(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "encounters"
    __table_args__ = (
        Index("ix_encounters_patient_id_created_at", "patient_id", "created_at"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ended_after_started"),
        CheckConstraint("(status = 'finished') = (ended_at IS NOT NULL)", name="ended_exactly_when_finished"),
        CheckConstraint(
            "status = 'planned' OR status = 'cancelled' OR started_at IS NOT NULL", name="started"
        ),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practitioners.id", ondelete="RESTRICT"), index=True
    )
    # At most one encounter per appointment; null for a walk-in.
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="RESTRICT"), unique=True
    )
    encounter_class: Mapped[EncounterClass] = mapped_column(
        value_set_column(EncounterClass, "encounter_class", 16)
    )
    status: Mapped[EncounterStatus] = mapped_column(value_set_column(EncounterStatus, "encounter_status", 16))
    reason: Mapped[str | None] = mapped_column(String(500))
    # Started and ended times bound the billable duration of the consultation.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
