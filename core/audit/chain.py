"""The hash chain: each entry's hash covers its fields and the previous entry's hash."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

CHAINED_FIELDS = (
    "seq", "id", "occurred_at", "actor_id", "actor_role", "action", "resource_type", "resource_id",
    "patient_id", "client_address", "request_id", "outcome", "detail", "prev_hash",
)  # fmt: skip


def _canonical(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        # Microsecond ISO form in UTC, identical whether read back from SQLite or PostgreSQL.
        return value.isoformat(timespec="microseconds")
    return value


def entry_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the chained fields."""
    payload = [_canonical(fields[name]) for name in CHAINED_FIELDS]
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()
