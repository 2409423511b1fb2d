"""Fixtures for the kernel's tests: buses of both kinds, a Redis client to inspect and clean up, and
a database of its own for the audit log."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.bus import Bus, RedisBus, SubscriptionTuning, create_bus
from core.bus.redis_subscription import escape_glob
from core.db import create_engine
from core.sessions import create_sessionmaker
from ownat import migrate

# Reconnect quickly so that the connection-loss test stays short; nothing asserts on these values.
FAST_TUNING = SubscriptionTuning(reconnect_base_s=0.02, reconnect_cap_s=0.5, idle_ping_s=5.0)

# A guard against waiting forever; no test asserts how long anything takes.
GUARD_S = 10

BusFactory = Callable[[str], Bus]


class RedisBusFactory(Protocol):
    def __call__(self, suffix: str, tuning: SubscriptionTuning = ...) -> RedisBus: ...


@pytest.fixture(scope="session")
def core_prefix(redis_prefix: str) -> str:
    """This package's own corner of the run's key space, removed when the session ends."""
    return f"{redis_prefix}core:"


@pytest.fixture(scope="session")
async def admin_redis(redis_url: str, core_prefix: str) -> AsyncIterator[Redis]:
    """A plain client for looking underneath the code under test; deletes our keys at the end."""
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{escape_glob(core_prefix)}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture(params=["inprocess", "redis"])
async def make_bus(
    request: pytest.FixtureRequest, redis_url: str, core_prefix: str
) -> AsyncIterator[BusFactory]:
    """Creates buses of the parametrised kind, each under `core_prefix + suffix`; closes them afterwards."""
    buses: list[Bus] = []

    def factory(suffix: str) -> Bus:
        url = redis_url if request.param == "redis" else None
        bus = create_bus(redis_url=url, key_prefix=f"{core_prefix}bus:{suffix}", tuning=FAST_TUNING)
        buses.append(bus)
        return bus

    yield factory
    for bus in buses:
        await bus.close()


@pytest.fixture
async def bus(make_bus: BusFactory) -> Bus:
    """One bus of each kind, under a prefix of its own."""
    return make_bus(f"{secrets.token_hex(4)}:")


@pytest.fixture
async def make_redis_bus(redis_url: str, core_prefix: str) -> AsyncIterator[RedisBusFactory]:
    """Creates Redis buses under `core_prefix + suffix`, for what only Redis does."""
    buses: list[RedisBus] = []

    def factory(suffix: str, tuning: SubscriptionTuning = FAST_TUNING) -> RedisBus:
        bus = RedisBus(redis_url, f"{core_prefix}bus:{suffix}", tuning=tuning)
        buses.append(bus)
        return bus

    yield factory
    for bus in buses:
        await bus.close()


async def until_redis_shows(condition: Callable[[], Awaitable[bool]]) -> None:
    """Waits until a condition on the Redis server holds, within GUARD_S."""
    async with asyncio.timeout(GUARD_S):
        # The state lives in the server, which cannot notify us: polling is the only way to await it.
        while not await condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


@pytest.fixture(scope="session")
def audit_database_url(databases) -> str:
    """A database of its own for the audit log's tests, which tamper with it."""
    url = databases.create("audit")
    migrate.upgrade(url)
    return url


@pytest.fixture
async def audit_sessions(audit_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(audit_database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def audit_engine_factory(
    audit_database_url: str,
) -> AsyncIterator[Callable[[], async_sessionmaker[AsyncSession]]]:
    """More sessionmakers on engines of their own: other processes, as far as the database can tell."""
    engines: list[AsyncEngine] = []

    def factory() -> async_sessionmaker[AsyncSession]:
        engines.append(create_engine(audit_database_url))
        return create_sessionmaker(engines[-1])

    yield factory
    for engine in engines:
        await engine.dispose()
