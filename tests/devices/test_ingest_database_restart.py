"""PostgreSQL restarted in the middle of a stream: every published reading is stored exactly once.

The database is a private cluster of this test's own; the machine's shared PostgreSQL is never touched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine
from core.sessions import create_sessionmaker
from ownat import migrate
from tests.devices.ingest_helpers import (
    METRICS,
    Publisher,
    count_readings,
    duplicate_keys,
    recent_start,
    register_devices,
    running_worker,
    stream,
    unique_device_id,
    wait_until,
    worker_config,
)
from tests.devices.private_postgres import PrivatePostgres

DEVICES = 10
MESSAGES_PER_DEVICE = 40


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        migrate.upgrade(cluster.url)
        yield cluster
    finally:
        cluster.destroy()


async def test_a_database_restart_mid_stream_loses_and_duplicates_nothing(private_postgres, mqtt_url) -> None:
    engine = create_engine(private_postgres.url)
    sessions: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
    try:
        device_ids = [unique_device_id("pgr") for _ in range(DEVICES)]
        await register_devices(sessions, device_ids)
        items = list(stream(device_ids, messages_per_device=MESSAGES_PER_DEVICE, start=recent_start()))
        first, second = items[: len(items) // 3], items[len(items) // 3 :]
        config = worker_config(private_postgres.url, mqtt_url, retry_base_s=0.05, retry_cap_s=0.5)
        async with running_worker(config) as worker, Publisher(mqtt_url) as publisher:
            await publisher.publish_all(first)
            await wait_until(lambda: _stored_some(sessions, device_ids), what="the first readings")
            await engine.dispose()
            await asyncio.to_thread(private_postgres.stop)
            # The stream goes on while the database is down: the worker holds it and acknowledges nothing.
            await publisher.publish_all(second)
            await wait_until(lambda: _failed_writes(worker), what="the worker to notice the outage")
            assert worker.metrics.database_up._value.get() == 0
            await asyncio.to_thread(private_postgres.start)
            expected = len(items) * len(METRICS)
            await wait_until(
                lambda: _stored(sessions, device_ids, expected), what="every reading after restart"
            )
            assert worker.metrics.database_up._value.get() == 1
        assert await count_readings(sessions, device_ids) == expected
        assert await duplicate_keys(sessions, device_ids) == 0
    finally:
        await engine.dispose()


async def _stored_some(sessions, device_ids) -> bool:
    return await count_readings(sessions, device_ids) > 0


async def _stored(sessions, device_ids, expected: int) -> bool:
    try:
        return await count_readings(sessions, device_ids) >= expected
    except OSError:
        return False


async def _failed_writes(worker) -> bool:
    return worker.metrics.write_failures._value.get() > 0
