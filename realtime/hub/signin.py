"""Signing a socket in: the first `auth` message, and a fresh token later on the open socket.

An access token is short-lived (`OWNAT_ACCESS_TOKEN_TTL_S`); the connection lives only as long as
the token it signed in with. A client that refreshes its token sends `auth` again before the
expiry and carries on; a token of another user (or the same user with another role) is refused,
so a socket can never change hands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from core.identity.principal import Principal
from core.identity.tokens import authenticate_access_token
from realtime.hub.hub import Hub


@dataclass(frozen=True, slots=True)
class SignedIn:
    principal: Principal
    expires_at: datetime


async def sign_in(hub: Hub, token: str) -> SignedIn:
    """The principal of a valid access token and when the token expires; NotAuthenticated otherwise."""
    principal = await authenticate_access_token(token, settings=hub.settings, revocations=hub.revocations)
    # Verified just above; read again only for its expiry, which the principal does not carry.
    claims = jwt.decode(token, options={"verify_signature": False})
    return SignedIn(principal, datetime.fromtimestamp(int(claims["exp"]), UTC))


def same_identity(current: Principal, fresh: Principal) -> bool:
    """A renewal must be the same user, in the same role, for the same patient record."""
    return (current.user_id, current.role, current.patient_id) == (
        fresh.user_id,
        fresh.role,
        fresh.patient_id,
    )
