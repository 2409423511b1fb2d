"""Patient tables: the patient record and its identifiers, allergies, conditions and medications."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Sequence, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinical.patients.terms import (
    AdministrativeGender,
    AllergyCategory,
    AllergyCriticality,
    AllergyStatus,
    ConditionStatus,
    MedicationStatus,
)
from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, value_set_column

NAME_MAX_LENGTH = 100
# Numbers for medical record numbers on PostgreSQL; SQLite (serialised writers) uses max + 1.
MRN_SEQUENCE = Sequence("patients_mrn_seq", start=1, metadata=Base.metadata)


class Patient(PublicIdMixin, TimestampMixin, Base):
    """A person receiving care. For an online registration `id` equals the user's `patient_id`."""

    __tablename__ = "patients"
    __table_args__ = (
        # Prefix search on the normalised names; text_pattern_ops lets LIKE 'abc%' use the index.
        Index(
            "ix_patients_family_key_given_key",
            "family_name_key",
            "given_name_key",
            postgresql_ops={"family_name_key": "text_pattern_ops", "given_name_key": "text_pattern_ops"},
        ),
        Index(
            "ix_patients_given_key", "given_name_key", postgresql_ops={"given_name_key": "text_pattern_ops"}
        ),
        Index("ix_patients_birth_date", "birth_date"),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    mrn: Mapped[str] = mapped_column(String(16), unique=True)
    # The number inside the MRN, kept apart so that the next one can be allocated without parsing.
    mrn_number: Mapped[int] = mapped_column(BigInteger, unique=True)
    given_name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    family_name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    # Case- and accent-folded copies of the names, so "muller" finds "Müller".
    given_name_key: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    family_name_key: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    # Unknown only for an online registration that has not been completed yet.
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[AdministrativeGender] = mapped_column(
        value_set_column(AdministrativeGender, "gender", 16), default=AdministrativeGender.UNKNOWN
    )
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    preferred_language: Mapped[str | None] = mapped_column(String(35))  # BCP 47 tag
    emergency_contact_name: Mapped[str | None] = mapped_column(String(200))
    emergency_contact_relationship: Mapped[str | None] = mapped_column(String(64))
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(32))
    deceased: Mapped[bool] = mapped_column(default=False)
    deceased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def display_name(self) -> str:
        """Given and family name ("Pat Jensen"; the family name alone for a mononym)."""
        return f"{self.given_name} {self.family_name}".strip()


class PatientIdentifier(PublicIdMixin, TimestampMixin, Base):
    """An external identifier (national id, insurer's member number, another hospital's MRN)."""

    __tablename__ = "patient_identifiers"
    __table_args__ = (UniqueConstraint("system", "value"), Index("ix_patient_identifiers_value", "value"))

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    system: Mapped[str] = mapped_column(String(255))  # a URI naming the issuer's namespace
    value: Mapped[str] = mapped_column(String(128))
    type_text: Mapped[str | None] = mapped_column(String(64))


class Allergy(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "allergies"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    substance_code: Mapped[str | None] = mapped_column(String(64))
    substance_system: Mapped[str | None] = mapped_column(String(255))
    substance_text: Mapped[str] = mapped_column(String(200))
    category: Mapped[AllergyCategory | None] = mapped_column(
        value_set_column(AllergyCategory, "category", 16)
    )
    criticality: Mapped[AllergyCriticality] = mapped_column(
        value_set_column(AllergyCriticality, "criticality", 20), default=AllergyCriticality.UNABLE_TO_ASSESS
    )
    reaction: Mapped[str | None] = mapped_column(Text)
    status: Mapped[AllergyStatus] = mapped_column(
        value_set_column(AllergyStatus, "status", 20), default=AllergyStatus.ACTIVE
    )
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Condition(PublicIdMixin, TimestampMixin, Base):
    """A problem or diagnosis, coded in ICD-10 (validated against the code list)."""

    __tablename__ = "conditions"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    icd10_code: Mapped[str] = mapped_column(String(8), index=True)
    display: Mapped[str] = mapped_column(String(255))
    clinical_status: Mapped[ConditionStatus] = mapped_column(
        value_set_column(ConditionStatus, "clinical_status", 20), default=ConditionStatus.ACTIVE
    )
    onset_date: Mapped[date | None] = mapped_column(Date)
    abatement_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Medication(PublicIdMixin, TimestampMixin, Base):
    """A medication the patient currently takes (or took): a statement, not a prescription."""

    __tablename__ = "medications"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(64))
    code_system: Mapped[str | None] = mapped_column(String(255))
    dose_text: Mapped[str | None] = mapped_column(String(200))
    route: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[MedicationStatus] = mapped_column(
        value_set_column(MedicationStatus, "status", 20), default=MedicationStatus.ACTIVE
    )
    started_on: Mapped[date | None] = mapped_column(Date)
    stopped_on: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
