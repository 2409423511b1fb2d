"""What the audit API returns and accepts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    id: uuid.UUID
    occurred_at: datetime
    actor_id: uuid.UUID | None
    actor_role: str | None
    action: str
    resource_type: str
    resource_id: str | None
    patient_id: uuid.UUID | None
    client_address: str | None
    request_id: str | None
    outcome: str
    detail: dict[str, Any]
    hash: str


class AuditFilter(BaseModel):
    """Filters for paging through the log; all optional and combined with AND."""

    actor_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    resource_type: str | None = Field(default=None, max_length=64)
    resource_id: str | None = Field(default=None, max_length=128)
    action: str | None = Field(default=None, max_length=64)
    outcome: Literal["success", "failure", "denied"] | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    next_cursor: int | None = Field(description="Pass as `before` to get the next, older page")


class ChainReportRead(BaseModel):
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_broken_seq: int | None
    reason: str | None
