"""The export jobs of Bulk Data `$export`: what was asked, by whom, how far it got, where its files are."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, PublicIdMixin, UTCDateTime, utc_now


class FhirExportJob(PublicIdMixin, Base):
    """One `$export` request: queued, running, complete, failed or cancelled; its files expire."""

    __tablename__ = "fhir_export_jobs"
    __table_args__ = (Index("ix_fhir_export_jobs_status_created_at", "status", "created_at"),)

    level: Mapped[str] = mapped_column(String(16))  # system, patient, group
    group_id: Mapped[uuid.UUID | None] = mapped_column()  # the ward of a group export
    types: Mapped[list[str]] = mapped_column(JSON, default=list)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    request_url: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[str | None] = mapped_column(String(200))
    # A user, or a backend-services app (SMART client credentials): no foreign key to users.
    requested_by: Mapped[uuid.UUID] = mapped_column(index=True)
    requester_role: Mapped[str] = mapped_column(String(16))
    # The export's files: [{"type", "file", "count"}], filled as each type is written.
    output: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # When the worker started it: the transaction time the export reflects (manifest's transactionTime).
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
