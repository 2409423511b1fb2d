"""Live session state, checked on every access token: revoked tokens, revoked families, generations.

An access token is refused when
- its id (`jti`) was revoked (a logout),
- its refresh-token family was revoked (a refresh token presented twice: stolen), or
- it was issued under an older *session generation* of its user than the current one. The users
  table holds the generation; deactivation, a role change, a password change or reset and "sign
  out everywhere" raise it (`core.identity.session_end`), which ends every token issued before.

Redis shares this between api instances and answers all three in one round trip (MGET). Revoked ids
and families live only until the tokens would have expired anyway. Generations are a cache of the
database's column, kept `GENERATION_CACHE_S` and reloaded from the database when missing, so losing
Redis loses nothing: the database stays the authority. A Redis failure is raised as is (RedisError),
and the api answers 503 rather than let an unchecked token through.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from redis.asyncio import Redis

from core.db import utc_now
from core.principal import Principal

# The current generation of a user, or None when the user no longer exists or is disabled.
GenerationLoader = Callable[[uuid.UUID], Awaitable[int | None]]
# How long a generation read from the database is trusted without asking again. A raised generation
# is written through at once (after its commit); this bounds only the case where that write failed.
GENERATION_CACHE_S = 60

TOKEN_REVOKED = "The access token has been revoked; sign in again."  # noqa: S105 (a message)
FAMILY_REVOKED = "This sign-in was ended because its refresh token was used twice; sign in again."
SESSION_ENDED = "The account's sessions were ended (signed out, password or role changed); sign in again."


class TokenRevocations(Protocol):
    """Refuses access tokens by id, by refresh-token family and by their user's session generation."""

    async def revoke(self, jti: str, *, until: datetime) -> None: ...

    async def revoke_family(self, family_id: uuid.UUID, *, until: datetime) -> None: ...

    async def set_generation(self, user_id: uuid.UUID, generation: int) -> None: ...

    async def refusal(self, principal: Principal) -> str | None: ...

    async def is_revoked(self, jti: str) -> bool: ...

    async def close(self) -> None: ...


def _refusal(
    principal: Principal, *, jti_revoked: bool, family_revoked: bool, current: int | None
) -> str | None:
    if jti_revoked:
        return TOKEN_REVOKED
    if family_revoked:
        return FAMILY_REVOKED
    # A backend service is no user and has no session generation; its grant is its family.
    if principal.is_user and (current is None or principal.generation < current):
        return SESSION_ENDED
    return None


# Raises the cached generation, never lowers it: two raises finishing out of order keep the higher.
_RAISE_GENERATION_LUA = """
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if current < tonumber(ARGV[1]) then
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return 1
"""


class RedisTokenRevocations:
    """Keys per revoked token and family, expiring with the tokens; cached generations per user."""

    def __init__(
        self,
        redis_client: Redis,
        key_prefix: str,
        *,
        load_generation: GenerationLoader | None = None,
        owns_client: bool = False,
    ) -> None:
        self._redis = redis_client
        self._prefix = key_prefix
        self._load_generation = load_generation
        self._owns_client = owns_client
        self._raise_script = redis_client.register_script(_RAISE_GENERATION_LUA)

    async def revoke(self, jti: str, *, until: datetime) -> None:
        """Refuses the token `jti` until `until`."""
        if until > utc_now():
            await self._redis.set(self._jti_key(jti), b"1", exat=until)

    async def revoke_family(self, family_id: uuid.UUID, *, until: datetime) -> None:
        """Refuses every access token of the refresh-token family until `until`."""
        if until > utc_now():
            await self._redis.set(self._family_key(family_id), b"1", exat=until)

    async def set_generation(self, user_id: uuid.UUID, generation: int) -> None:
        """The user's generation is now `generation` (committed in the database already)."""
        await self._raise_script(keys=[self._generation_key(user_id)], args=[generation, GENERATION_CACHE_S])

    async def refusal(self, principal: Principal) -> str | None:
        """Why `principal`'s token is refused now, or None when it stands."""
        keys = [self._generation_key(principal.user_id), self._jti_key(principal.token_id or "")]
        if principal.family_id is not None:
            keys.append(self._family_key(principal.family_id))
        cached, jti_revoked, *family_revoked = await self._redis.mget(keys)
        if cached is not None:
            current: int | None = int(cached)
        else:
            current = await self._reload(principal.user_id) if principal.is_user else 0
        return _refusal(
            principal,
            jti_revoked=jti_revoked is not None,
            family_revoked=any(value is not None for value in family_revoked),
            current=current,
        )

    async def is_revoked(self, jti: str) -> bool:
        """Whether the id `jti` was revoked (also used to remember one-time ids, e.g. assertions)."""
        return bool(await self._redis.exists(self._jti_key(jti)))

    async def close(self) -> None:
        """Closes the Redis client if this store created it."""
        if self._owns_client:
            await self._redis.aclose()

    async def _reload(self, user_id: uuid.UUID) -> int | None:
        if self._load_generation is None:
            return 0
        generation = await self._load_generation(user_id)
        if generation is not None:
            # NX: a raise written meanwhile (after its commit) must not be replaced by what we read.
            await self._redis.set(self._generation_key(user_id), generation, ex=GENERATION_CACHE_S, nx=True)
        return generation

    def _jti_key(self, jti: str) -> str:
        return f"{self._prefix}revoked-jti:{jti}"

    def _family_key(self, family_id: uuid.UUID) -> str:
        return f"{self._prefix}revoked-family:{family_id}"

    def _generation_key(self, user_id: uuid.UUID) -> str:
        return f"{self._prefix}session-generation:{user_id}"


class MemoryTokenRevocations:
    """The same in this process's memory, for the embedded mode (one process)."""

    def __init__(self, *, load_generation: GenerationLoader | None = None) -> None:
        self._until: dict[str, datetime] = {}
        self._load_generation = load_generation
        # user id -> (generation, monotonic time it was learnt)
        self._generations: dict[uuid.UUID, tuple[int, float]] = {}

    async def revoke(self, jti: str, *, until: datetime) -> None:
        """Refuses the token `jti` until `until`."""
        self._remember(f"jti:{jti}", until)

    async def revoke_family(self, family_id: uuid.UUID, *, until: datetime) -> None:
        """Refuses every access token of the refresh-token family until `until`."""
        self._remember(f"family:{family_id}", until)

    async def set_generation(self, user_id: uuid.UUID, generation: int) -> None:
        """The user's generation is now `generation` (committed in the database already)."""
        known = self._generations.get(user_id)
        if known is None or known[0] < generation:
            self._generations[user_id] = (generation, time.monotonic())

    async def refusal(self, principal: Principal) -> str | None:
        """Why `principal`'s token is refused now, or None when it stands."""
        known = self._generations.get(principal.user_id)
        if known is not None and time.monotonic() - known[1] < GENERATION_CACHE_S:
            current: int | None = known[0]
        elif not principal.is_user:
            current = 0
        else:
            current = await self._load_generation(principal.user_id) if self._load_generation else 0
            if current is not None:
                self._generations[principal.user_id] = (current, time.monotonic())
        return _refusal(
            principal,
            jti_revoked=self._active(f"jti:{principal.token_id}"),
            family_revoked=principal.family_id is not None and self._active(f"family:{principal.family_id}"),
            current=current,
        )

    async def is_revoked(self, jti: str) -> bool:
        """Whether the id `jti` was revoked (also used to remember one-time ids, e.g. assertions)."""
        return self._active(f"jti:{jti}")

    async def close(self) -> None:
        """Forgets everything."""
        self._until.clear()
        self._generations.clear()

    def _remember(self, key: str, until: datetime) -> None:
        self._forget_expired()
        if until > utc_now():
            self._until[key] = until

    def _active(self, key: str) -> bool:
        until = self._until.get(key)
        return until is not None and until > utc_now()

    def _forget_expired(self) -> None:
        now = utc_now()
        for key in [key for key, until in self._until.items() if until <= now]:
            del self._until[key]


def create_revocation_store(
    *, redis_client: Redis | None, key_prefix: str, load_generation: GenerationLoader
) -> TokenRevocations:
    """A Redis store when a client is given, otherwise an in-memory one (the embedded mode)."""
    if redis_client is not None:
        return RedisTokenRevocations(redis_client, key_prefix, load_generation=load_generation)
    return MemoryTokenRevocations(load_generation=load_generation)
