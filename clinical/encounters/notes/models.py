"""Notes and their addenda. PostgreSQL refuses, by trigger, any change to a signed note or an addendum."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, utc_now

# Generous for a consultation note, small enough to refuse a pasted document.
NOTE_MAX_CHARS = 50_000


class ClinicalNote(PublicIdMixin, TimestampMixin, Base):
    __tablename__ = "clinical_notes"
    __table_args__ = (
        CheckConstraint("(signed_at IS NULL) = (signed_by IS NULL)", name="signed_with_signer"),
    )

    encounter_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("encounters.id", ondelete="RESTRICT"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    text: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))


class NoteAddendum(PublicIdMixin, Base):
    """A later addition to a signed note; itself never changed once written."""

    __tablename__ = "note_addenda"

    note_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinical_notes.id", ondelete="RESTRICT"), index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
