"""What the audit API returns and accepts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from core.paging import Page
from core.settings import AUDIT_KEY_ID_PATTERN

HEX_SHA256 = r"^[0-9a-f]{64}$"


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
    key_id: str | None = Field(
        description="The key that signed the entry; empty on entries from before keyed signing"
    )


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


class AuditPage(Page[AuditEventRead]):
    """A page of the log, newest first; its cursor is an entry's number rather than an opaque string."""

    next_cursor: int | None = Field(description="Pass as `before` to get the next, older page")  # type: ignore[assignment]


class ChainHeadRead(BaseModel):
    sequence: int = Field(description="Number of the newest seal (0: nothing sealed yet)")
    entries: int = Field(description="Entries sealed up to and including it")
    hash: str = Field(description="Its HMAC, which covers every seal and entry before it")
    sealed_at: datetime | None


class ChainReportRead(BaseModel):
    ok: bool
    checked: int = Field(description="Sealed entries checked")
    pending: int = Field(description="Committed entries not sealed yet (their MACs were checked too)")
    head: ChainHeadRead
    first_broken_seq: int | None = Field(description="The first entry that does not verify")
    broken_seal: int | None = Field(description="The first seal that does not verify")
    reason: str | None
    checkpoint_sequence: int | None = Field(description="The seal of the checkpoint checked against")


class Checkpoint(BaseModel):
    """A signed statement of the chain's head, to keep outside the database and check against later."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["ownat-audit-checkpoint/1"] = "ownat-audit-checkpoint/1"
    sequence: int = Field(ge=0, description="Number of the newest seal")
    entries: int = Field(ge=0, description="Entries sealed up to and including it")
    head_hash: str = Field(pattern=HEX_SHA256, description="That seal's HMAC")
    sealed_at: AwareDatetime | None
    issued_at: AwareDatetime
    key_id: str = Field(pattern=AUDIT_KEY_ID_PATTERN)
    signature: str = Field(pattern=HEX_SHA256, description="HMAC-SHA256 of the other fields")
