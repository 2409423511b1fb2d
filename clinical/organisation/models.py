"""Organisation tables. Admissions may not overlap per bed or per patient (exclusion constraints on PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime

# A stay occupies [start_at, end_at); an open stay (end_at NULL) runs to infinity. Half-open ranges
# let a transfer end one stay and start the next at the same instant without overlapping.
STAY_RANGE = text("tstzrange(start_at, end_at, '[)')")


class Department(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    active: Mapped[bool] = mapped_column(default=True)


class Practitioner(PublicIdMixin, TimestampMixin, Base):
    """A clinician or nurse of the organisation; `user_id` links the account they sign in with."""

    __tablename__ = "practitioners"

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    prefix: Mapped[str | None] = mapped_column(String(32))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    # [{"code": "MD", "display": "Doctor of Medicine", "issuer": "...", "year": 2011}, ...]
    qualifications: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    department_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    specialty_rows: Mapped[list[PractitionerSpecialty]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PractitionerSpecialty.specialty"
    )

    @property
    def specialties(self) -> list[str]:
        """The practitioner's specialty codes, sorted."""
        return [row.specialty for row in self.specialty_rows]

    @property
    def display_name(self) -> str:
        """How people name the practitioner: "Dr Casey Morgan"."""
        return " ".join(part for part in (self.prefix, self.given_name, self.family_name) if part)


class PractitionerSpecialty(Base):
    """One specialty of a practitioner; a table rather than a list so that search by specialty uses an index."""

    __tablename__ = "practitioner_specialties"
    __table_args__ = (Index("ix_practitioner_specialties_specialty", "specialty"),)

    practitioner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practitioners.id", ondelete="CASCADE"), primary_key=True
    )
    # A lower-case code such as "cardiology" or "general-practice".
    specialty: Mapped[str] = mapped_column(String(64), primary_key=True)


class Ward(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "wards"

    department_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("departments.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)


class Bed(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "beds"
    __table_args__ = (UniqueConstraint("ward_id", "label"),)

    ward_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wards.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)


class Admission(PublicIdMixin, TimestampMixin, Base):
    """A patient's stay in one bed over [start_at, end_at); a transfer ends one stay and starts the next."""

    __tablename__ = "admissions"
    __table_args__ = (
        CheckConstraint("end_at IS NULL OR end_at > start_at", name="ends_after_start"),
        # SQLite has no exclusion constraints; the service checks overlaps there under BEGIN IMMEDIATE.
        ExcludeConstraint(
            ("bed_id", "="), (STAY_RANGE, "&&"), name="ex_admissions_bed_overlap", using="gist"
        ).ddl_if(dialect="postgresql"),
        ExcludeConstraint(
            ("patient_id", "="), (STAY_RANGE, "&&"), name="ex_admissions_patient_overlap", using="gist"
        ).ddl_if(dialect="postgresql"),
        Index("ix_admissions_bed_id_start_at", "bed_id", "start_at"),
        Index("ix_admissions_patient_id_start_at", "patient_id", "start_at"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    bed_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("beds.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    attending_practitioner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("practitioners.id", ondelete="SET NULL")
    )
    # The stay this one continues after a transfer.
    transferred_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("admissions.id"))
    admitted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    discharged_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
