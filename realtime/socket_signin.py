"""Signing a WebSocket in, shared by the hub (`/ws`) and consult signalling (`/ws/consult`).

An access token is short-lived (`OWNAT_ACCESS_TOKEN_TTL_S`); a socket lives only as long as the
token it signed in with. A client that refreshes its token sends `auth` again on the open socket
before the expiry and carries on; the token is checked exactly as the first one was, and must be
the same user's (in the same role, for the same patient record), so a socket never changes hands.

`receive_sign_in` and `renew_sign_in` are the one door of both sockets; each socket passes its own
parser and its own check of the token (consult signalling also admits guest tickets). Where the
revocation list (Redis) cannot be reached, a first sign-in is refused for now (1013, try again) and
a renewal is answered `auth-unavailable` while the current sign-in stands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import jwt
from redis.exceptions import RedisError

from core.db import utc_now
from core.errors import NotAuthenticated
from core.identity import TokenRevocations, authenticate_access_token
from core.principal import Principal
from core.settings import Settings
from realtime.socket_wire import CLOSE_TRY_AGAIN_LATER, AuthMessage, ProtocolError, Transport, close_quietly

log = logging.getLogger(__name__)

# Close codes of both sockets, in the private range where they resemble an HTTP status.
CLOSE_NOT_AUTHENTICATED = 4401
# The token a socket signed in with has expired and no fresh one came in time.
CLOSE_TOKEN_EXPIRED = 4440
EXPIRED_CLOSE_REASON = "access token expired"
# The user was deactivated, changed or signed out: their token is refused, so is their socket.
SESSION_ENDED_REASON = "session ended; sign in again"

# How long a new socket may take to send its `auth` message. Browsers send it on `open`; the margin
# covers a lost packet or two on a mobile network (TCP retransmits after 1 s, then 2 s, then 4 s).
SIGN_IN_TIMEOUT_S = 10.0

# A socket's sign-in: `SignedIn` on the hub, a user's or a guest's on consult signalling.
S = TypeVar("S")


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
                async with asyncio.timeout(remaining_s):
                    await self._moved.wait()


async def receive_sign_in(
    transport: Transport,
    *,
    parse: Callable[[str], object],
    authenticate: Callable[[str], Awaitable[S]],
    timeout_s: float = SIGN_IN_TIMEOUT_S,
) -> S | None:
    """Reads the first message, which must be `auth`, and signs the socket in with its token.

    None when the socket was refused (and closed: 4401, or 1013 while Redis is out of reach) or
    the client left before signing in.
    """
    # The token travels in the first message, never in the URL, where proxies and logs would keep it.
    try:
        async with asyncio.timeout(timeout_s):
            text = await transport.receive_text()
    except TimeoutError:
        await close_quietly(transport, CLOSE_NOT_AUTHENTICATED, "authentication timed out")
        return None
    if text is None:
        return None
    try:
        message = parse(text)
        if not isinstance(message, AuthMessage):
            raise ProtocolError("not-authenticated", "The first message must be `auth`.")
        return await authenticate(message.token)
    except (ProtocolError, NotAuthenticated) as error:
        await close_quietly(transport, CLOSE_NOT_AUTHENTICATED, str(error)[:120])
        return None
    except RedisError:
        log.warning("socket sign-in could not check the revocation list", exc_info=True)
        await close_quietly(transport, CLOSE_TRY_AGAIN_LATER, "authentication is unavailable, try again")
        return None


class RenewalRefused(ProtocolError):
    """A fresh token that cannot renew the socket: invalid, revoked, or another caller's."""


async def renew_sign_in(
    token: str, *, authenticate: Callable[[str], Awaitable[S]], keeps_caller: Callable[[S], bool]
) -> S:
    """A fresh token on the open socket, checked like the first; it must keep the same caller.

    RenewalRefused when it does not (each socket decides whether that closes it); ProtocolError
    `auth-unavailable` while Redis is out of reach: a socket is not cut off for that, its current
    sign-in stands until its own expiry and the client may send the token again.
    """
    try:
        signed_in = await authenticate(token)
    except NotAuthenticated as error:
        raise RenewalRefused("not-authenticated", str(error)) from None
    except RedisError:
        log.warning("socket renewal could not check the revocation list", exc_info=True)
        raise ProtocolError("auth-unavailable", "The token cannot be checked now; send it again.") from None
    if not keeps_caller(signed_in):
        raise RenewalRefused("different-user", "A connection stays signed in as the caller who opened it.")
    return signed_in
