"""Prescription rows and the code lists their columns accept."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, utc_now, value_set_column


class Route(enum.StrEnum):
    """Routes of administration (a subset of SNOMED CT's route values, by their usual names)."""

    ORAL = "oral"
    SUBLINGUAL = "sublingual"
    BUCCAL = "buccal"
    IV = "iv"
    IM = "im"
    SC = "sc"
    INTRADERMAL = "intradermal"
    INHALED = "inhaled"
    NASAL = "nasal"
    TOPICAL = "topical"
    TRANSDERMAL = "transdermal"
    OPHTHALMIC = "ophthalmic"
    OTIC = "otic"
    RECTAL = "rectal"
    VAGINAL = "vaginal"


class DoseUnit(enum.StrEnum):
    """Dose units: UCUM codes for measured amounts, plain names for countable forms."""

    MG = "mg"
    G = "g"
    MCG = "ug"
    ML = "mL"
    L = "L"
    IU = "[iU]"
    UNIT = "unit"
    MMOL = "mmol"
    TABLET = "tablet"
    CAPSULE = "capsule"
    PUFF = "puff"
    DROP = "drop"
    PATCH = "patch"
    SACHET = "sachet"
    SUPPOSITORY = "suppository"
    APPLICATION = "application"


class PeriodUnit(enum.StrEnum):
    """The period of a frequency, as in FHIR's Timing.repeat.periodUnit."""

    HOUR = "h"
    DAY = "d"
    WEEK = "wk"


class PrescriptionStatus(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"


class Prescription(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "prescriptions"
    __table_args__ = (
        Index("ix_prescriptions_patient_id_created_at", "patient_id", "created_at"),
        CheckConstraint("dose_quantity > 0", name="dose_positive"),
        CheckConstraint("frequency_count >= 1 AND frequency_period >= 1", name="frequency_positive"),
        CheckConstraint("duration_days IS NULL OR duration_days >= 1", name="duration_positive"),
        CheckConstraint("status = 'active' OR status_changed_at IS NOT NULL", name="status_change_dated"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    encounter_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("encounters.id", ondelete="RESTRICT"), index=True
    )
    prescriber_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("practitioners.id", ondelete="RESTRICT"))
    medication_name: Mapped[str] = mapped_column(String(200))
    # Optional code from a drug terminology (RxNorm, ATC, a national formulary); people read the name.
    medication_code: Mapped[str | None] = mapped_column(String(64))
    dose_quantity: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    dose_unit: Mapped[DoseUnit] = mapped_column(value_set_column(DoseUnit, "dose_unit", 16))
    route: Mapped[Route] = mapped_column(value_set_column(Route, "route", 16))
    # "frequency_count times every frequency_period period_unit": 3 per 1 d is three times a day.
    frequency_count: Mapped[int]
    frequency_period: Mapped[int]
    frequency_period_unit: Mapped[PeriodUnit] = mapped_column(value_set_column(PeriodUnit, "period_unit", 16))
    as_needed: Mapped[bool] = mapped_column(default=False)
    # Null for a long-term medication taken until stopped.
    duration_days: Mapped[int | None]
    instructions: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[PrescriptionStatus] = mapped_column(
        value_set_column(PrescriptionStatus, "prescription_status", 16)
    )
    status_reason: Mapped[str | None] = mapped_column(String(500))
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_changed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # When the prescriber wrote it (FHIR authoredOn): the time of writing, or earlier in the encounter
    # for a visit charted afterwards; `created_at` is when the row was stored.
    prescribed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
