"""Signed webhooks: HMAC-SHA256 of "{timestamp}.{body}" with the subscription's secret
(`core.webhook_signing`).

Headers: `X-Ownat-Event`, `X-Ownat-Delivery` (stable across retries: receivers deduplicate on it),
`X-Ownat-Timestamp` (Unix seconds; receivers refuse old ones against replays) and
`X-Ownat-Signature: sha256=<hex>`; while tracing is on, the W3C `traceparent` of the delivery.

The host is resolved and judged at each delivery, and the connection pinned to the judged address
(`core.webhook_targets`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx

from core.tracing import outgoing_headers
from core.webhook_signing import signature
from core.webhook_targets import TargetRefused, pinned_target
from notifications.channels.refusal import ProviderRefused


async def post_webhook(
    *,
    client: httpx.AsyncClient,
    url: str,
    secret: str,
    body: str,
    event_type: str,
    delivery_id: uuid.UUID,
    now: datetime,
    allowed_hosts: frozenset[str],
) -> None:
    """Posts the signed event; a non-2xx answer, or a refused address, is a failure to retry."""
    try:
        target = await pinned_target(url, allowed_hosts)
    except TargetRefused as refused:
        raise ProviderRefused(f"webhook target refused: {refused}") from None
    payload = body.encode()
    timestamp = int(now.timestamp())
    response = await client.post(
        target.url,
        content=payload,
        # The name, not the pinned address, is what the receiver's virtual host and certificate know.
        extensions=target.extensions,
        headers={
            "Host": target.host_header,
            "Content-Type": "application/json",
            "X-Ownat-Event": event_type,
            "X-Ownat-Delivery": str(delivery_id),
            "X-Ownat-Timestamp": str(timestamp),
            "X-Ownat-Signature": signature(secret, timestamp, payload),
            **outgoing_headers(),
        },
    )
    if not response.is_success:
        raise ProviderRefused(f"webhook answered {response.status_code}")
