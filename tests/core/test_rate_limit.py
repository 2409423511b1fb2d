"""The rate limiters: in memory with a hand-driven clock, and on a real Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from core.bus.redis_subscription import escape_glob
from core.rate_limit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from tests.core.conftest import until_redis_shows


def create_rate_limiter(*, redis_url: str | None, key_prefix: str) -> RateLimiter:
    """A limiter on its own Redis client when a URL is given, otherwise in memory (the embedded mode)."""
    if redis_url:
        return RedisRateLimiter(Redis.from_url(redis_url), key_prefix, owns_client=True)
    return MemoryRateLimiter()


class ManualClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def limiter(
    request: pytest.FixtureRequest, redis_url: str, core_prefix: str
) -> AsyncIterator[RateLimiter]:
    url = redis_url if request.param == "redis" else None
    limiter = create_rate_limiter(redis_url=url, key_prefix=f"{core_prefix}rl:")
    yield limiter
    await limiter.close()


def new_key() -> str:
    return f"login:{secrets.token_hex(4)}"


async def test_allows_up_to_the_limit_then_denies(limiter: RateLimiter) -> None:
    key = new_key()
    decisions = [await limiter.hit(key, limit=3, window_s=60) for _ in range(4)]

    assert [(d.allowed, d.remaining) for d in decisions] == [(True, 2), (True, 1), (True, 0), (False, 0)]
    assert 1 <= decisions[-1].retry_after_s <= 60


async def test_concurrent_hits_never_exceed_the_limit(limiter: RateLimiter) -> None:
    key = new_key()
    decisions = await asyncio.gather(*(limiter.hit(key, limit=5, window_s=60) for _ in range(30)))

    assert sum(d.allowed for d in decisions) == 5


async def test_keys_are_independent(limiter: RateLimiter) -> None:
    first, second = new_key(), new_key()
    await limiter.hit(first, limit=1, window_s=60)

    assert not (await limiter.hit(first, limit=1, window_s=60)).allowed
    assert (await limiter.hit(second, limit=1, window_s=60)).allowed


async def test_reset_forgets_the_hits(limiter: RateLimiter) -> None:
    key = new_key()
    await limiter.hit(key, limit=1, window_s=60)
    await limiter.reset(key)

    assert (await limiter.hit(key, limit=1, window_s=60)).remaining == 0
    assert not (await limiter.hit(key, limit=1, window_s=60)).allowed


@pytest.mark.parametrize(("limit", "window_s"), [(0, 60), (5, 0)])
async def test_refuses_a_limit_or_window_below_one(limiter: RateLimiter, limit: int, window_s: int) -> None:
    with pytest.raises(ValueError):
        await limiter.hit(new_key(), limit=limit, window_s=window_s)


async def test_redis_window_expires_by_itself(redis_url: str, core_prefix: str, admin_redis: Redis) -> None:
    prefix = f"{core_prefix}rl-expiry:"
    limiter = create_rate_limiter(redis_url=redis_url, key_prefix=prefix)
    key = new_key()
    try:
        # Two seconds leave ample room for three local round trips to land in one window.
        await limiter.hit(key, limit=2, window_s=2)
        await limiter.hit(key, limit=2, window_s=2)
        denied = await limiter.hit(key, limit=2, window_s=2)
        assert not denied.allowed and 1 <= denied.retry_after_s <= 2

        (stored,) = [k async for k in admin_redis.scan_iter(match=f"{escape_glob(prefix)}*{key}")]
        assert 0 < await admin_redis.pttl(stored) <= 2000

        # Await the expiry itself: once Redis drops the key, every hit has left the window.
        async def expired() -> bool:
            return not await admin_redis.exists(stored)

        await until_redis_shows(expired)

        assert (await limiter.hit(key, limit=2, window_s=2)).remaining == 1
    finally:
        await limiter.close()


async def test_memory_window_slides_with_the_clock() -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(clock=clock)
    await limiter.hit("k", limit=2, window_s=10)
    clock.now += 4
    await limiter.hit("k", limit=2, window_s=10)
    clock.now += 1

    denied = await limiter.hit("k", limit=2, window_s=10)
    assert (denied.allowed, denied.retry_after_s) == (False, 5)

    clock.now += denied.retry_after_s  # the first hit leaves the window, the second stays
    assert (await limiter.hit("k", limit=2, window_s=10)).remaining == 0
    assert not (await limiter.hit("k", limit=2, window_s=10)).allowed


async def test_memory_retry_after_rounds_up_to_whole_seconds() -> None:
    clock = ManualClock()
    limiter = MemoryRateLimiter(clock=clock)
    await limiter.hit("k", limit=1, window_s=3)
    clock.now += 0.25

    assert (await limiter.hit("k", limit=1, window_s=3)).retry_after_s == 3
