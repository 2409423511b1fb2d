"""Units of work that begin their transaction lazily (core.db `begin_lazily`), on PostgreSQL.

A unit that only reads sends neither BEGIN nor COMMIT; from its first write, lock or savepoint on, it
is one transaction, committed or rolled back whole, exactly as before.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import audit
from core.audit.models import AuditEvent
from core.db import create_engine
from core.sessions import create_sessionmaker, transaction

probes = Table("lazy_begin_probe", MetaData(), Column("id", Integer, primary_key=True))


@pytest.fixture
async def engines(audit_database_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """The engine under test, and a plain one to look at the database from outside."""
    lazy = create_engine(audit_database_url, begin_lazily=True)
    outside = create_engine(audit_database_url)
    async with outside.begin() as connection:
        await connection.run_sync(probes.create, checkfirst=True)
        await connection.execute(probes.delete())
    yield lazy, outside
    await lazy.dispose()
    await outside.dispose()


@pytest.fixture
def sessions(engines: tuple[AsyncEngine, AsyncEngine]) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engines[0])


async def _state_of(outside: AsyncEngine, pid: int) -> str:
    async with outside.connect() as connection:
        state = await connection.scalar(
            text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        )
    return str(state)


async def _stored(outside: AsyncEngine) -> list[int]:
    async with outside.connect() as connection:
        return list(await connection.scalars(select(probes.c.id).order_by(probes.c.id)))


async def test_a_unit_that_only_reads_opens_no_transaction_and_its_audit_entry_is_kept(
    engines: tuple[AsyncEngine, AsyncEngine], sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, outside = engines
    entry_about = uuid.uuid4()
    async with transaction(sessions) as session:
        pid = int(await session.scalar(select(func.pg_backend_pid())) or 0)
        await session.scalar(select(func.count()).select_from(probes))
        # Not "idle in transaction": nothing holds a snapshot or a connection's transaction open.
        assert await _state_of(outside, pid) == "idle"
        audit.record(session, actor=None, action="read", resource_type="probe", resource_id=entry_about)
    async with outside.connect() as connection:
        outcome = await connection.scalar(
            select(AuditEvent.outcome).where(AuditEvent.resource_id == str(entry_about))
        )
    assert outcome == "success"


async def test_from_its_first_write_a_unit_is_one_transaction_rolled_back_whole(
    engines: tuple[AsyncEngine, AsyncEngine], sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, outside = engines
    with pytest.raises(RuntimeError):
        async with transaction(sessions) as session:
            await session.execute(insert(probes).values(id=1))
            pid = int(await session.scalar(select(func.pg_backend_pid())) or 0)
            assert await _state_of(outside, pid) == "idle in transaction"
            # Later reads are in the transaction: they see its own write, which nobody else does yet.
            assert await session.scalar(select(func.count()).select_from(probes)) == 1
            assert await _stored(outside) == []
            await session.execute(insert(probes).values(id=2))
            raise RuntimeError("the request failed after writing")
    assert await _stored(outside) == []


async def test_a_unit_that_reads_then_writes_commits_its_writes(
    engines: tuple[AsyncEngine, AsyncEngine], sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, outside = engines
    async with transaction(sessions) as session:
        assert await session.scalar(select(func.count()).select_from(probes)) == 0
        await session.execute(insert(probes).values(id=3))
        await session.execute(insert(probes).values(id=4))
        audit.record(session, actor=None, action="create", resource_type="probe", resource_id=3)
    assert await _stored(outside) == [3, 4]


async def test_a_locking_read_begins_the_transaction_and_holds_its_lock_to_the_end(
    engines: tuple[AsyncEngine, AsyncEngine], sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, outside = engines
    async with outside.begin() as connection:
        await connection.execute(insert(probes).values(id=5))
    async with transaction(sessions) as session:
        await session.execute(select(probes.c.id).where(probes.c.id == 5).with_for_update())
        async with outside.connect() as other:
            await other.execute(text("SET lock_timeout = '100ms'"))
            with pytest.raises(DBAPIError, match="lock"):
                await other.execute(select(probes.c.id).where(probes.c.id == 5).with_for_update())


async def test_a_savepoint_as_the_first_statement_is_inside_the_transaction(
    engines: tuple[AsyncEngine, AsyncEngine], sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, outside = engines
    async with transaction(sessions) as session:
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await session.execute(insert(probes).values(id=6))
                await session.execute(insert(probes).values(id=6))
        await session.execute(insert(probes).values(id=7))
    assert await _stored(outside) == [7]


async def test_raw_sql_and_streamed_results_run_in_a_transaction(
    engines: tuple[AsyncEngine, AsyncEngine], sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, outside = engines
    async with outside.begin() as connection:
        await connection.execute(insert(probes), [{"id": n} for n in (8, 9, 10)])
    async with transaction(sessions) as session:
        # A server-side cursor exists only inside a transaction; PostgreSQL refuses it otherwise.
        streamed = await session.stream_scalars(
            select(probes.c.id).order_by(probes.c.id).execution_options(yield_per=2)
        )
        assert [n async for n in streamed] == [8, 9, 10]
    with pytest.raises(RuntimeError):
        async with transaction(sessions) as session:
            await session.execute(text("INSERT INTO lazy_begin_probe (id) VALUES (11)"))
            raise RuntimeError("the request failed after writing")
    assert await _stored(outside) == [8, 9, 10]


async def test_changes_left_for_commit_to_flush_land_with_their_audit_entry(
    engines: tuple[AsyncEngine, AsyncEngine], sessions: async_sessionmaker[AsyncSession]
) -> None:
    # The ORM writes pending objects only at commit. If the audit entries went first, alone, a
    # failing write would leave an entry saying it succeeded.
    _, outside = engines
    attempt = uuid.uuid4()
    async with outside.begin() as connection:
        await connection.execute(insert(probes).values(id=12))
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            await session.execute(select(probes.c.id))
            session.add(AuditEvent(id=uuid.uuid4()))  # incomplete: refused at flush
            audit.record(session, actor=None, action="create", resource_type="probe", resource_id=attempt)
    async with outside.connect() as connection:
        outcomes = list(
            await connection.scalars(select(AuditEvent.outcome).where(AuditEvent.resource_id == str(attempt)))
        )
    assert outcomes == ["failure"]
