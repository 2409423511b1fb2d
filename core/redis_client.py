"""The Redis client that checks sessions and counts rate limits: a bounded pool with timeouts.

An unbounded pool opens a connection per concurrent request, until Redis refuses more and the
request fails with a 500. Here a burst waits for a free connection, up to `redis_timeout_s`; what
still fails raises RedisError, which the api answers with 503 and Retry-After (api.problems).
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from core.settings import Settings


def create_redis(settings: Settings) -> Redis | None:
    """A client on `OWNAT_REDIS_URL`, or None in the embedded mode (no Redis)."""
    if not settings.redis_url:
        return None
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        # Waiting for a free connection of the pool, then for Redis itself: both bounded.
        timeout=settings.redis_timeout_s,
        socket_timeout=settings.redis_timeout_s,
        socket_connect_timeout=settings.redis_timeout_s,
    )
    return Redis(connection_pool=pool)
