"""The versions of FHIR resources this server has written or served (vread, `_history`, ETags).

A version is the FHIR JSON of a resource at one moment, numbered 1, 2, ... per resource. Writes
through `/fhir/R4` record the new version in their own transaction, beside the domain change; a
change made elsewhere (the REST API, HL7 filing) becomes the next version the first time the FHIR
interface serves it, so every version a client was given can be read back, and `If-Match` compares
against what is there now.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utc_now

CONTENT = JSON().with_variant(JSONB(), "postgresql")


class FhirResourceVersion(Base):
    __tablename__ = "fhir_resource_versions"
    __table_args__ = (
        Index("ix_fhir_resource_versions_type_recorded_at", "resource_type", "recorded_at"),
        Index("ix_fhir_resource_versions_patient_id", "patient_id"),
    )

    resource_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    resource_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime)
    patient_id: Mapped[uuid.UUID | None] = mapped_column()
    deleted: Mapped[bool] = mapped_column(default=False)
    # The resource as served at this version (without meta.versionId); None for a deletion.
    content: Mapped[dict[str, Any] | None] = mapped_column(CONTENT)
    content_hash: Mapped[str] = mapped_column(String(64))
