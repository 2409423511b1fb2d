"""Insurance tables: payers, patients' coverages, claims with their diagnoses and service lines."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.insurance.terms import ClaimStatus, CoverageRelationship, CoverageStatus
from billing.money import amount_column, currency_column
from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, value_set_column


class Payer(PublicIdMixin, TimestampMixin, Base):
    """An insurer or health plan that receives claims."""

    __tablename__ = "insurance_payers"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    # The payer's electronic id (837P NM1*PR, PI qualifier), as the clearinghouse lists it.
    electronic_id: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


class Coverage(PublicIdMixin, TimestampMixin, Base):
    """A patient's membership of a payer's plan over a period, ranked primary, secondary, tertiary."""

    __tablename__ = "insurance_coverages"
    __table_args__ = (
        Index("ix_insurance_coverages_patient_id_priority", "patient_id", "priority"),
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority_range"),
        CheckConstraint("period_end IS NULL OR period_end >= period_start", name="period_ordered"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    payer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insurance_payers.id", ondelete="RESTRICT"))
    member_id: Mapped[str] = mapped_column(String(80))
    group_number: Mapped[str | None] = mapped_column(String(50))
    plan_name: Mapped[str] = mapped_column(String(120))
    priority: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    relationship: Mapped[CoverageRelationship] = mapped_column(
        value_set_column(CoverageRelationship, "coverage_relationship", 16)
    )
    # The subscriber when it is not the patient (a parent's or spouse's plan).
    subscriber_given_name: Mapped[str | None] = mapped_column(String(100))
    subscriber_family_name: Mapped[str | None] = mapped_column(String(100))
    subscriber_birth_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[CoverageStatus] = mapped_column(value_set_column(CoverageStatus, "coverage_status", 16))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))


class Claim(PublicIdMixin, TimestampMixin, Base):
    """One professional claim for one encounter against one coverage; totals are stored."""

    __tablename__ = "insurance_claims"
    __table_args__ = (
        UniqueConstraint("encounter_id", "coverage_id", name="uq_insurance_claims_encounter_coverage"),
        Index("ix_insurance_claims_patient_id_created_at", "patient_id", "created_at"),
        Index("ix_insurance_claims_status_created_at", "status", "created_at"),
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        CheckConstraint(
            "paid_minor >= 0 AND patient_responsibility_minor >= 0 AND paid_minor <= allowed_minor"
            " AND allowed_minor <= total_minor AND paid_minor + patient_responsibility_minor <= total_minor",
            name="adjudication_adds_up",
        ),
        CheckConstraint("(status = 'draft') = (control_number IS NULL)", name="numbered_unless_draft"),
    )

    number: Mapped[str] = mapped_column(String(20), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id", ondelete="RESTRICT"))
    coverage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insurance_coverages.id", ondelete="RESTRICT"))
    payer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("insurance_payers.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[ClaimStatus] = mapped_column(value_set_column(ClaimStatus, "claim_status", 16))
    currency: Mapped[str] = mapped_column(currency_column())
    place_of_service: Mapped[str] = mapped_column(String(2))
    total_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    allowed_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    paid_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    patient_responsibility_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    # The X12 interchange control number, assigned once at submission; the 837P is rebuilt with it.
    control_number: Mapped[int | None] = mapped_column(Integer, unique=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    adjudicated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payer_claim_number: Mapped[str | None] = mapped_column(String(50))
    denial_reason: Mapped[str | None] = mapped_column(String(500))
    # The invoice that carries what the payer left to the patient.
    patient_invoice_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("billing_invoices.id", ondelete="RESTRICT")
    )
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))

    diagnoses: Mapped[list[ClaimDiagnosis]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ClaimDiagnosis.sequence"
    )
    lines: Mapped[list[ClaimLine]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ClaimLine.number"
    )


class ClaimDiagnosis(Base):
    """The encounter's diagnoses as claimed: copied, so a later chart edit does not rewrite a claim."""

    __tablename__ = "insurance_claim_diagnoses"
    __table_args__ = (CheckConstraint("sequence >= 1", name="sequence_positive"),)

    claim_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("insurance_claims.id", ondelete="CASCADE"), primary_key=True
    )
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(10))
    display: Mapped[str] = mapped_column(String(300))


class ClaimLine(PublicIdMixin, Base):
    """One procedure as claimed, from one charge item, and the payer's answer for it."""

    __tablename__ = "insurance_claim_lines"
    __table_args__ = (
        UniqueConstraint("claim_id", "number"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("charge_minor >= 0", name="charge_not_negative"),
        CheckConstraint(
            "paid_minor >= 0 AND patient_responsibility_minor >= 0 AND paid_minor <= allowed_minor"
            " AND allowed_minor <= charge_minor AND paid_minor + patient_responsibility_minor <= charge_minor",
            name="adjudication_adds_up",
        ),
    )

    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insurance_claims.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    charge_item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("billing_charge_items.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(255))
    service_date: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    charge_minor: Mapped[int] = mapped_column(amount_column())
    # Comma-separated 1-based diagnosis sequences, e.g. "1,2" (at most four in 837P).
    diagnosis_pointers: Mapped[str] = mapped_column(String(16))
    allowed_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    paid_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    patient_responsibility_minor: Mapped[int] = mapped_column(amount_column(), default=0)
    # The payer's claim adjustment reason (CARC), e.g. "45" charge exceeds fee schedule.
    adjustment_reason: Mapped[str | None] = mapped_column(String(10))


class InsuranceCounter(Base):
    """Named counters (claim numbers, interchange control numbers); the row is locked while used."""

    __tablename__ = "insurance_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)
