"""What an entry's MAC and its leaf in a seal cover, in one canonical JSON form.

The MAC is made by the process that records the entry, before the database sees it, so an entry
altered or forged in the database no longer verifies. The database assigns `seq` and `txid` at
insert, after the MAC is made; the seal's leaf covers those too.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.audit.keys import AuditKey, Purpose

# What the recording process knows; the MAC covers these, in this order.
CONTENT_FIELDS = (
    "id", "occurred_at", "actor_id", "actor_role", "action", "resource_type", "resource_id",
    "patient_id", "client_address", "request_id", "outcome", "detail", "key_id",
)  # fmt: skip
# The leaf of an entry in a seal: its place in the log, its content, its MAC and, for entries
# written before the keyed chain, the SHA-256 link they carried then.
LEAF_FIELDS = ("seq", "txid", *CONTENT_FIELDS, "mac", "legacy_hash")


def canonical_value(value: Any) -> Any:
    """UUIDs as text, times as microsecond ISO in UTC: identical from SQLite and PostgreSQL."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    return value


def canonical_json(values: list[Any]) -> bytes:
    """Compact JSON with sorted object keys: one byte string for one set of values."""
    payload = [canonical_value(value) for value in values]
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def content_of(entry: Mapping[Any, Any]) -> bytes:
    return canonical_json([entry[name] for name in CONTENT_FIELDS])


def sign_entry(key: AuditKey, entry: dict[str, Any]) -> dict[str, Any]:
    """The entry stamped with the key's id and its MAC."""
    stamped = {**entry, "key_id": key.key_id}
    stamped["mac"] = key.mac(Purpose.ENTRY, content_of(stamped))
    return stamped


def leaf_hash(entry: Mapping[Any, Any]) -> bytes:
    """SHA-256 of the entry's leaf: what a seal's digest covers for it."""
    return hashlib.sha256(canonical_json([entry[name] for name in LEAF_FIELDS])).digest()
