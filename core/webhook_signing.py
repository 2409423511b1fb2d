"""How Ownat signs what it posts to a receiver's URL: notifications' webhooks and FHIR subscriptions'
rest-hooks alike, so a receiver verifies both the same way."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex>` over the timestamp, a dot and the body."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"
