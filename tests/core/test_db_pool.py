"""Pooled PostgreSQL connections: one that sat idle and died is replaced before a request uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from core import db


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _pooled_connection_killed(postgres_url: str) -> tuple[AsyncEngine, int]:
    """An engine whose only pooled connection the server has ended (as a restart would)."""
    engine = db.create_engine(postgres_url, pool_size=1, max_overflow=0)
    killed = await _backend_pid(engine)
    admin = create_async_engine(postgres_url, poolclass=NullPool)
    async with admin.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": killed})
    await admin.dispose()
    return engine, killed


async def test_an_idle_connection_ended_by_the_server_is_replaced(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, killed = await _pooled_connection_killed(postgres_url)
    monkeypatch.setattr(db, "IDLE_PING_S", 0.0)  # it has sat idle long enough to be doubted
    try:
        assert await _backend_pid(engine) != killed
    finally:
        await engine.dispose()


async def test_a_connection_just_used_is_trusted_without_a_ping(postgres_url: str) -> None:
    # No round trip spent on a connection that has just proven itself: if it died in between, its
    # request fails (and the pool starts afresh), as without any ping.
    engine, _ = await _pooled_connection_killed(postgres_url)
    try:
        with pytest.raises(OperationalError):
            await _backend_pid(engine)
        await _backend_pid(engine)  # the pool was renewed
    finally:
        await engine.dispose()
