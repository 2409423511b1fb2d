"""The SHA-256 chain of entries written before the keyed chain (revision 0018_audit_chain).

Those entries carry no MAC: each one's hash covered its fields and the previous entry's hash. The
first seal takes them in as they are; verification still walks their links, so an entry changed
or removed before that first seal shows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from core.audit.entries import canonical_value

GENESIS_HASH = "0" * 64
# The fields the old hash covered, in its order; `prev_hash` is now the `legacy_prev_hash` column.
CHAINED_FIELDS = (
    "seq", "id", "occurred_at", "actor_id", "actor_role", "action", "resource_type", "resource_id",
    "patient_id", "client_address", "request_id", "outcome", "detail", "prev_hash",
)  # fmt: skip


def legacy_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the chained fields, as the old appender computed it."""
    payload = [canonical_value(fields[name]) for name in CHAINED_FIELDS]
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()
