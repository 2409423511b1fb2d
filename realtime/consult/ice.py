"""ICE servers for a participant: STUN as configured, TURN with short-lived shared-secret credentials.

coturn's `use-auth-secret` (the "TURN REST API" draft): the username is `<expiry unix time>:<user
key>`, the password base64(HMAC-SHA1(secret, username)); coturn recomputes it from the shared secret
and refuses it after the expiry, so nothing is stored and a leaked credential dies by itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from core.settings import Settings
from realtime.consult.protocol import IceServer


def turn_credential(*, secret: str, user_key: str, expires_at: datetime) -> tuple[str, str]:
    """The (username, credential) pair coturn accepts until `expires_at`."""
    username = f"{int(expires_at.timestamp())}:{user_key}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(*, settings: Settings, user_key: str, now: datetime) -> tuple[list[IceServer], datetime]:
    """The iceServers list for one participant and when its TURN credential expires."""
    expires_at = (now + timedelta(seconds=settings.turn_credential_ttl_s)).astimezone(UTC)
    servers = [IceServer(urls=list(settings.stun_urls))] if settings.stun_urls else []
    if settings.turn_urls and settings.turn_secret is not None:
        username, credential = turn_credential(
            secret=settings.turn_secret.get_secret_value(), user_key=user_key, expires_at=expires_at
        )
        servers.append(IceServer(urls=list(settings.turn_urls), username=username, credential=credential))
    return servers, expires_at
