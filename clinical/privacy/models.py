"""Data-subject requests and processing restrictions."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, TimestampMixin, UTCDateTime, utc_now, value_set_column

DETAILS_MAX_LENGTH = 4000


class RequestKind(enum.StrEnum):
    ACCESS = "access"  # a copy of the record (GDPR art. 15, HIPAA right of access)
    CORRECTION = "correction"  # rectification of something wrong (art. 16, HIPAA amendment)
    ERASURE = "erasure"  # art. 17, limited by the legal retention of medical records


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    REFUSED = "refused"


class DataRequest(PublicIdMixin, TimestampMixin, Base):
    """A patient's request about their data, and how an administrator answered it."""

    __tablename__ = "data_requests"
    __table_args__ = (Index("ix_data_requests_status_created_at", "status", "created_at"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[RequestKind] = mapped_column(value_set_column(RequestKind, "request_kind", 16))
    status: Mapped[RequestStatus] = mapped_column(value_set_column(RequestStatus, "request_status", 16))
    # The patient's own words: what is wrong and what it should say, or why they ask.
    details: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    response: Mapped[str | None] = mapped_column(Text)
    handled_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # For erasure: each category of data with what was done to it and why (see `retention`).
    outcome: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class ProcessingRestriction(Base):
    """A patient whose record is kept only because the law requires it (GDPR art. 18): used for their
    care and legal claims, told to no outside system, and never erased before `retain_until`."""

    __tablename__ = "processing_restrictions"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), primary_key=True
    )
    request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("data_requests.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500))
    restricted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    restricted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    retain_until: Mapped[datetime] = mapped_column(UTCDateTime)
