"""Who is on a consult socket: a signed-in user (access token) or a guest (a ticket from an invitation).

A guest ticket is a JWT for another audience than access tokens, bound to one room and one
invitation, so it can never be used on the REST API, nor for another room. Either way the socket
lives as long as its token (`realtime.socket_signin`), unless the same caller signs in again on it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from core.db import utc_now
from core.errors import NotAuthenticated
from core.identity import ALGORITHM, LEEWAY_S, MAX_TOKEN_LENGTH, TokenRevocations
from core.principal import Principal
from core.settings import Settings
from realtime.socket_signin import same_identity, sign_in

GUEST_AUDIENCE_SUFFIX = "-consult-guest"


@dataclass(frozen=True, slots=True)
class GuestTicket:
    invitation_id: uuid.UUID
    room: uuid.UUID
    display_name: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated party of one socket: exactly one of `principal` and `guest`."""

    principal: Principal | None = None
    guest: GuestTicket | None = None

    @property
    def key(self) -> str:
        """One connection per person and room: a later join replaces an earlier one."""
        if self.guest is not None:
            return f"guest:{self.guest.invitation_id}"
        assert self.principal is not None
        return f"user:{self.principal.user_id}"

    @property
    def role_label(self) -> str:
        return "guest" if self.principal is None else self.principal.role.value


@dataclass(frozen=True, slots=True)
class CallerSignIn:
    """A socket's sign-in: who, and until when (the deadline a renewal moves)."""

    caller: Caller
    expires_at: datetime


def same_caller(current: Caller, fresh: Caller) -> bool:
    """A renewal must be the same user (as on the hub), or a ticket of the same invitation."""
    if current.principal is not None and fresh.principal is not None:
        return same_identity(current.principal, fresh.principal)
    if current.guest is not None and fresh.guest is not None:
        return current.guest.invitation_id == fresh.guest.invitation_id
    return False


def issue_guest_ticket(ticket: GuestTicket, *, settings: Settings) -> str:
    """A signed ticket for `ticket`'s room, valid until its expiry."""
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience + GUEST_AUDIENCE_SUFFIX,
        "sub": f"invitation:{ticket.invitation_id}",
        "room": str(ticket.room),
        "name": ticket.display_name,
        "iat": utc_now(),
        "exp": ticket.expires_at,
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def _guest_from(token: str, settings: Settings) -> GuestTicket:
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience + GUEST_AUDIENCE_SUFFIX,
            issuer=settings.jwt_issuer,
            leeway=LEEWAY_S,
            options={"require": ["exp", "iss", "aud", "sub", "room", "name"]},
        )
        return GuestTicket(
            invitation_id=uuid.UUID(str(claims["sub"]).removeprefix("invitation:")),
            room=uuid.UUID(claims["room"]),
            display_name=str(claims["name"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=utc_now().tzinfo),
        )
    except (jwt.PyJWTError, ValueError, KeyError):
        raise NotAuthenticated("The token is invalid or has expired.") from None


async def authenticate(token: str, *, settings: Settings, revocations: TokenRevocations) -> CallerSignIn:
    """The caller of an access token or a guest ticket, and its expiry; NotAuthenticated otherwise."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise NotAuthenticated("The token is invalid.")
    try:
        signed_in = await sign_in(token, settings=settings, revocations=revocations)
        return CallerSignIn(Caller(principal=signed_in.principal), signed_in.expires_at)
    except NotAuthenticated:
        guest = _guest_from(token, settings)
    # A ticket expires when its room closes, by construction. The room's own closing (`ended`, 4410)
    # tells a joined guest more than 4440 would at the same moment, so the socket keeps the ticket
    # for the leeway its signature is still accepted with, and the room's closing comes first.
    return CallerSignIn(Caller(guest=guest), guest.expires_at + timedelta(seconds=LEEWAY_S))
