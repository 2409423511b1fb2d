"""Revoked access tokens, by token id, kept only until the token would have expired anyway.

Redis shares the list between api instances; losing it only shortens a revocation to the
token's remaining lifetime (minutes), which is why it may live in Redis at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from redis.asyncio import Redis

from core.db import utc_now


class TokenRevocations(Protocol):
    """Remembers revoked access-token ids until their expiry."""

    async def revoke(self, jti: str, *, until: datetime) -> None: ...

    async def is_revoked(self, jti: str) -> bool: ...

    async def close(self) -> None: ...


class RedisTokenRevocations:
    """One key per revoked token, expiring by itself when the token would have."""

    def __init__(self, redis_client: Redis, key_prefix: str, *, owns_client: bool = False) -> None:
        self._redis = redis_client
        self._prefix = f"{key_prefix}revoked-jti:"
        self._owns_client = owns_client

    async def revoke(self, jti: str, *, until: datetime) -> None:
        """Refuses the token `jti` until `until`."""
        if until <= utc_now():
            return
        await self._redis.set(self._prefix + jti, b"1", exat=until)

    async def is_revoked(self, jti: str) -> bool:
        """Whether `jti` is revoked now."""
        return bool(await self._redis.exists(self._prefix + jti))

    async def close(self) -> None:
        """Closes the Redis client if this store created it."""
        if self._owns_client:
            await self._redis.aclose()


class MemoryTokenRevocations:
    """The same in this process's memory, for the embedded mode (one process)."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}

    async def revoke(self, jti: str, *, until: datetime) -> None:
        """Refuses the token `jti` until `until`."""
        self._forget_expired()
        if until > utc_now():
            self._until[jti] = until

    async def is_revoked(self, jti: str) -> bool:
        """Whether `jti` is revoked now."""
        until = self._until.get(jti)
        return until is not None and until > utc_now()

    async def close(self) -> None:
        """Forgets everything."""
        self._until.clear()

    def _forget_expired(self) -> None:
        now = utc_now()
        for jti in [jti for jti, until in self._until.items() if until <= now]:
            del self._until[jti]


def create_revocation_store(*, redis_url: str | None, key_prefix: str) -> TokenRevocations:
    """A Redis store when a URL is given, otherwise an in-memory one (the embedded mode)."""
    if redis_url:
        return RedisTokenRevocations(Redis.from_url(redis_url), key_prefix, owns_client=True)
    return MemoryTokenRevocations()
