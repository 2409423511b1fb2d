"""Signing a WebSocket in, shared by the hub (`/ws`) and consult signalling (`/ws/consult`).

An access token is short-lived (`OWNAT_ACCESS_TOKEN_TTL_S`); a socket lives only as long as the
token it signed in with. A client that refreshes its token sends `auth` again on the open socket
before the expiry and carries on; the token is checked exactly as the first one was, and must be
the same user's (in the same role, for the same patient record), so a socket never changes hands.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from core.db import utc_now
from core.identity.principal import Principal
from core.identity.revocation import TokenRevocations
from core.identity.tokens import authenticate_access_token
from core.settings import Settings

# The token a socket signed in with has expired and no fresh one came in time (both sockets).
CLOSE_TOKEN_EXPIRED = 4440
EXPIRED_CLOSE_REASON = "access token expired"


@dataclass(frozen=True, slots=True)
class SignedIn:
    principal: Principal
    expires_at: datetime


async def sign_in(token: str, *, settings: Settings, revocations: TokenRevocations) -> SignedIn:
    """The principal of a valid, unrevoked access token and when it expires; NotAuthenticated otherwise."""
    principal = await authenticate_access_token(token, settings=settings, revocations=revocations)
    return SignedIn(principal, token_expiry(token))


def token_expiry(token: str) -> datetime:
    """The `exp` of a JWT whose signature was verified already (the principal does not carry it)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return datetime.fromtimestamp(int(claims["exp"]), UTC)


def same_identity(current: Principal, fresh: Principal) -> bool:
    """A renewal must be the same user, in the same role, for the same patient record."""
    return (current.user_id, current.role, current.patient_id) == (
        fresh.user_id,
        fresh.role,
        fresh.patient_id,
    )


class TokenDeadline:
    """When a socket's sign-in expires; a renewal moves it on while `passed()` waits."""

    def __init__(self, expires_at: datetime | None) -> None:
        # None: no deadline (until a renewal sets one).
        self.expires_at = expires_at
        self._moved = asyncio.Event()

    def move(self, expires_at: datetime) -> None:
        """A fresh token was accepted: its expiry is the deadline now."""
        self.expires_at = expires_at
        self._moved.set()

    async def passed(self) -> None:
        """Returns once the deadline passes without having been moved on."""
        while True:
            self._moved.clear()
            if self.expires_at is None:
                await self._moved.wait()
                continue
            remaining_s = (self.expires_at - utc_now()).total_seconds()
            if remaining_s <= 0:
                return
            # Waiting for the deadline or a renewal, whichever comes first.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._moved.wait(), remaining_s)
