"""Document metadata. The file itself is in storage under `storage_key`; it is never deleted here."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, UTCDateTime, utc_now, value_set_column

TITLE_MAX_LENGTH = 200
FILENAME_MAX_LENGTH = 200


class DocumentKind(enum.StrEnum):
    REPORT = "report"
    IMAGING = "imaging"
    LAB_RESULT = "lab_result"
    REFERRAL = "referral"
    PRESCRIPTION = "prescription"
    CONSENT = "consent"
    DISCHARGE_SUMMARY = "discharge_summary"
    OTHER = "other"


class Document(PublicIdMixin, Base):
    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_patient_id_created_at", "patient_id", "created_at"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("deleted = (deleted_at IS NOT NULL)", name="deleted_dated"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(TITLE_MAX_LENGTH))
    kind: Mapped[DocumentKind] = mapped_column(value_set_column(DocumentKind, "document_kind", 24))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # A random key chosen by the server; the client's file name is kept only for display.
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(FILENAME_MAX_LENGTH))
    uploaded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # Soft delete: records are retained (medical-records law), only hidden from lists and downloads.
    deleted: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
