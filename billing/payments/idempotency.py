"""Idempotency keys: a repeated request returns the first result; a different one under the same key is refused."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.exceptions import IdempotencyKeyMissing, IdempotencyKeyReused
from billing.payments.models import Payment, Refund
from core.principal import Principal

MAX_KEY_LENGTH = 255
Row = TypeVar("Row", Payment, Refund)


def require_key(key: str | None) -> str:
    """The header's key; IdempotencyKeyMissing if absent or unusable."""
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise IdempotencyKeyMissing(
            "Send an Idempotency-Key header (1-255 printable characters, e.g. a UUID) so that a retry "
            "cannot pay twice."
        )
    return key


def request_hash(target_id: uuid.UUID, body: dict[str, Any]) -> str:
    """A fingerprint of what the request asks for: its target and its body."""
    canonical = json.dumps({"target": str(target_id), "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def replay(
    session: AsyncSession, model: type[Row], *, actor: Principal, key: str, fingerprint: str
) -> Row | None:
    """The row an earlier request with this key created, if any; refused if that request differed."""
    row = await session.scalar(
        select(model)
        .where(model.created_by == actor.user_id, model.idempotency_key == key)
        .execution_options(populate_existing=True)
    )
    if row is not None and row.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different request; use a new key for a new payment."
        )
    return row
