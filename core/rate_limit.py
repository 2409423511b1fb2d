"""Rate limiting by key (an account, a client address): Redis across processes, memory when embedded.

Both implementations keep a sliding log: the times of the hits allowed during the last window.
We chose it over a fixed window, which lets a client spend twice the limit across a window
boundary, and over approximations such as GCRA or weighted windows, because it is exact and its
Retry-After is simply "when the oldest hit in the window leaves it". Its cost is one entry per
allowed hit, bounded by the limit; our limits (login attempts, API calls per minute) are small.
Denied hits are not recorded, so a client that keeps knocking is let in as soon as the window
allows rather than locked out for good.
"""

from __future__ import annotations

import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether a hit is allowed, how many more the window allows, and when to retry if not."""

    allowed: bool
    remaining: int
    retry_after_s: int


class RateLimiter(Protocol):
    """Counts hits per key within a sliding window."""

    async def hit(self, key: str, *, limit: int, window_s: int) -> RateDecision: ...

    async def reset(self, key: str) -> None: ...

    async def close(self) -> None: ...


def _check_arguments(limit: int, window_s: int) -> None:
    if limit < 1 or window_s < 1:
        raise ValueError("limit and window_s must be at least 1")


def _retry_after_s(wait_s: float) -> int:
    # Whole seconds for the Retry-After header, rounded up so that a client that obeys it is let in.
    return max(1, math.ceil(wait_s))


# KEYS[1]: the log (a sorted set of hit ids scored by time in ms). ARGV: limit, window in ms, hit id.
# Redis's own clock is used so that api instances with skewed clocks agree; the script runs
# atomically, so concurrent hits cannot both take the last slot. Returns {allowed, remaining, wait_ms}.
_SLIDING_LOG_LUA = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window_ms = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now_ms = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now_ms - window_ms)
local count = redis.call('ZCARD', key)
if count < limit then
    redis.call('ZADD', key, now_ms, ARGV[3])
    redis.call('PEXPIRE', key, window_ms)
    return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window_ms - now_ms}
"""


class RedisRateLimiter:
    """A sliding-log limiter in Redis; each key expires by itself one window after its last allowed hit."""

    def __init__(self, redis_client: Redis, key_prefix: str, *, owns_client: bool = False) -> None:
        self._redis = redis_client
        self._prefix = f"{key_prefix}ratelimit:"
        self._owns_client = owns_client
        self._script = redis_client.register_script(_SLIDING_LOG_LUA)

    async def hit(self, key: str, *, limit: int, window_s: int) -> RateDecision:
        """Records a hit if the window has room and says whether it was allowed."""
        _check_arguments(limit, window_s)
        # A random id per hit: two hits in the same millisecond must be two entries, not one.
        hit_id = secrets.token_hex(8)
        allowed, remaining, wait_ms = await self._script(
            keys=[self._prefix + key], args=[limit, window_s * 1000, hit_id]
        )
        if allowed:
            return RateDecision(allowed=True, remaining=int(remaining), retry_after_s=0)
        return RateDecision(allowed=False, remaining=0, retry_after_s=_retry_after_s(int(wait_ms) / 1000))

    async def reset(self, key: str) -> None:
        """Forgets every hit on the key, e.g. after a successful login."""
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        """Closes the Redis client if this limiter created it."""
        if self._owns_client:
            await self._redis.aclose()


class MemoryRateLimiter:
    """The same sliding log in this process's memory, for the embedded mode."""

    # Keys whose hits have all left their window are dropped at most this often, so that memory
    # follows the keys active now rather than every key ever seen.
    _SWEEP_INTERVAL_S = 60.0

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        # Monotonic by default: a wall-clock jump must neither free nor lock out anyone.
        self._clock = clock
        self._logs: dict[str, tuple[deque[float], float]] = {}
        self._last_sweep = clock()

    async def hit(self, key: str, *, limit: int, window_s: int) -> RateDecision:
        """Records a hit if the window has room and says whether it was allowed."""
        # No await below: on one event loop the check and the record cannot interleave.
        _check_arguments(limit, window_s)
        now = self._clock()
        self._sweep(now)
        hits, _ = self._logs.get(key, (deque(), 0.0))
        while hits and hits[0] <= now - window_s:
            hits.popleft()
        if len(hits) < limit:
            hits.append(now)
            self._logs[key] = (hits, float(window_s))
            return RateDecision(allowed=True, remaining=limit - len(hits), retry_after_s=0)
        return RateDecision(
            allowed=False, remaining=0, retry_after_s=_retry_after_s(hits[0] + window_s - now)
        )

    async def reset(self, key: str) -> None:
        """Forgets every hit on the key."""
        self._logs.pop(key, None)

    async def close(self) -> None:
        """Forgets everything."""
        self._logs.clear()

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < self._SWEEP_INTERVAL_S:
            return
        self._last_sweep = now
        expired = [
            key for key, (hits, window_s) in self._logs.items() if not hits or hits[-1] <= now - window_s
        ]
        for key in expired:
            del self._logs[key]
