"""Ending sessions: the one mechanism behind deactivation, role changes, password changes and resets,
"sign out everywhere", erasure and refresh-token reuse.

`end_user_sessions` raises the user's session generation in the database (and, unless the user
keeps them, revokes their refresh tokens) in the caller's unit of work. Once that commits, the
new generation is written to the live session state (`core.identity.revocation`), so every
access token issued before is refused on its next request, and the bus carries the news to every
api instance, which closes the user's open `/ws` and `/ws/consult` sockets. `end_family` does the
same for the access tokens of one refresh-token family.

Latency: at once for REST (the next request checks); sockets close as soon as the bus delivers the
message (milliseconds). Should the write to Redis fail after the commit, the cached generation
lapses within `GENERATION_CACHE_S` and is read again from the database.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus import IDENTITY_SESSIONS, Bus, SessionsEnded, decode_payload
from core.db import utc_now
from core.identity.models import RefreshToken, User
from core.identity.revocation import TokenRevocations
from core.principal import Principal
from core.sessions import after_commit

log = logging.getLogger(__name__)

# Where sessions find the announcer of ended sessions (put there by core.resources).
ANNOUNCER_KEY = "ownat.identity.session_ends"
# Tolerated clock difference between instances (as core.identity.tokens.LEEWAY_S).
_LEEWAY_S = 10


class SessionAnnouncer:
    """Tells the live session state and every instance that sessions ended (after the commit)."""

    def __init__(self, *, revocations: TokenRevocations, bus: Bus, access_token_ttl_s: int) -> None:
        self.revocations = revocations
        self.bus = bus
        self.access_token_ttl_s = access_token_ttl_s

    def access_tokens_lapse_by(self) -> datetime:
        """When every access token issued until now has expired (the lifetime of a revocation)."""
        return utc_now() + timedelta(seconds=self.access_token_ttl_s + _LEEWAY_S)

    async def generation_raised(self, user_id: uuid.UUID, generation: int) -> None:
        await self.revocations.set_generation(user_id, generation)
        await self._publish(SessionsEnded(user_id=str(user_id), generation=generation))

    async def family_ended(self, user_id: uuid.UUID, family_id: uuid.UUID) -> None:
        await self.revocations.revoke_family(family_id, until=self.access_tokens_lapse_by())
        await self._publish(SessionsEnded(user_id=str(user_id), family_id=str(family_id)))

    async def token_revoked(self, user_id: uuid.UUID, token_id: str) -> None:
        await self.revocations.revoke(token_id, until=self.access_tokens_lapse_by())
        await self._publish(SessionsEnded(user_id=str(user_id), token_id=token_id))

    async def _publish(self, message: SessionsEnded) -> None:
        try:
            await self.bus.publish(IDENTITY_SESSIONS, message)
        except Exception:
            # The tokens are refused already; only the sockets stay open until their token expires.
            log.warning("could not announce ended sessions on the bus", exc_info=True)


def sessions_ended(payload: str | bytes) -> SessionsEnded | None:
    """A message of IDENTITY_SESSIONS as its struct; None (and a warning) for another shape."""
    try:
        return decode_payload(SessionsEnded, payload)
    except ValueError:
        log.warning("dropped a malformed message of %s", IDENTITY_SESSIONS)
        return None


def ends_session_of(principal: Principal, message: SessionsEnded) -> bool:
    """Whether a message of IDENTITY_SESSIONS ends the session of `principal` (a socket's caller)."""
    if message.user_id != str(principal.user_id):
        return False
    generation = message.generation
    if generation is not None and principal.generation < generation:
        return True
    if principal.family_id is not None and message.family_id == str(principal.family_id):
        return True
    return principal.token_id is not None and message.token_id == principal.token_id


async def end_user_sessions(
    session: AsyncSession, *, user_id: uuid.UUID, reason: str, keep_refresh_tokens: bool = False
) -> int:
    """Ends every session of `user_id` once the unit commits; returns the new generation.

    With `keep_refresh_tokens` (a role change), the user's devices may refresh into new access
    tokens, which then carry the new role; otherwise every refresh token is revoked too."""
    generation = await session.scalar(
        update(User)
        .where(User.id == user_id)
        .values(session_generation=User.session_generation + 1)
        .returning(User.session_generation)
    )
    if generation is None:
        raise LookupError(f"no user {user_id}")
    if not keep_refresh_tokens:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utc_now(), revoked_reason=reason[:64])
        )
    _announce(session, lambda announcer: announcer.generation_raised(user_id, generation))
    return int(generation)


def end_family(session: AsyncSession, *, user_id: uuid.UUID, family_id: uuid.UUID) -> None:
    """Refuses the access tokens of one refresh-token family once the unit commits."""
    _announce(session, lambda announcer: announcer.family_ended(user_id, family_id))


def end_token(session: AsyncSession, *, principal: Principal) -> None:
    """Refuses the caller's own access token (and closes sockets signed in with it) once the unit commits."""
    token_id = principal.token_id
    if token_id:
        _announce(session, lambda announcer: announcer.token_revoked(principal.user_id, token_id))


def _announce(session: AsyncSession, work: Callable[[SessionAnnouncer], Awaitable[None]]) -> None:
    announcer: SessionAnnouncer | None = session.info.get(ANNOUNCER_KEY)
    if announcer is None:
        # A session of a process without live state (a migration, a script): the database is enough;
        # the cached generations lapse within GENERATION_CACHE_S.
        return
    after_commit(session, lambda: work(announcer))


def generation_loader(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[[uuid.UUID], Awaitable[int | None]]:
    """Reads a user's current generation; None when the user is gone or disabled."""

    async def load(user_id: uuid.UUID) -> int | None:
        async with sessions() as session:
            row = (
                await session.execute(
                    select(User.session_generation, User.is_active).where(User.id == user_id)
                )
            ).first()
        if row is None or not row.is_active:
            return None
        return int(row.session_generation)

    return load
