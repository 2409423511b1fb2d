"""Diagnosis rows: one code once per encounter, one diagnosis per rank."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, TimestampMixin

ICD10_CODE_MAX_LENGTH = 10  # ICD-10-CM reaches seven characters plus the dot
DISPLAY_MAX_LENGTH = 300


class Diagnosis(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "diagnoses"
    __table_args__ = (
        UniqueConstraint("encounter_id", "code"),
        # Rank 1 is the primary diagnosis; unique ranks make "exactly one primary" a database fact.
        UniqueConstraint("encounter_id", "rank"),
        CheckConstraint("rank >= 1", name="rank_positive"),
    )

    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(ICD10_CODE_MAX_LENGTH))
    display: Mapped[str] = mapped_column(String(DISPLAY_MAX_LENGTH))
    rank: Mapped[int]
    recorded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
