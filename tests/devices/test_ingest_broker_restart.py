"""The worker's buffered MQTT client across a broker restart: nothing stale is read, nothing is lost."""

from __future__ import annotations

import time
from datetime import timedelta

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
from tests.devices.private_mosquitto import private_mosquitto


async def test_a_worker_reconnects_after_a_broker_restart_and_stores_everything_once(
    settings, sessions
) -> None:
    devices = [unique_device_id("restart") for _ in range(3)]
    await register_devices(sessions, devices)
    start = recent_start()
    before = list(stream(devices, messages_per_device=30, start=start))
    after = list(stream(devices, messages_per_device=30, start=start + timedelta(minutes=1)))
    with private_mosquitto() as broker:
        async with running_worker(worker_config(settings.database_url, broker.url)) as worker:
            consumer = worker._consumer
            assert consumer is not None
            async with Publisher(broker.url) as publisher:
                await publisher.publish_all(before)
            expected = len(before) * len(METRICS)
            await wait_until(
                lambda: _counted(sessions, devices, expected), what="the readings before the restart"
            )
            generation = consumer.generation
            broker.stop()
            broker.start()
            restarted_at = time.monotonic()
            await wait_until(
                lambda: _reconnected(consumer, generation), what="the worker back on the restarted broker"
            )
            # A figure for the record (reconnects are jittered up to 1 s), never an assertion.
            print(
                f"\nworker subscribed again {time.monotonic() - restarted_at:.2f} s after the broker was back"
            )
            async with Publisher(broker.url) as publisher:
                await publisher.publish_all(after)
            expected += len(after) * len(METRICS)
            await wait_until(
                lambda: _counted(sessions, devices, expected), what="the readings after the restart"
            )
    assert await duplicate_keys(sessions, devices) == 0
    # Bytes of the old connection read as the start of the new one would have been dead-lettered.
    assert worker.metrics.messages.labels("vitals", "dead_letter")._value.get() == 0
    assert await count_readings(sessions, devices) == expected


async def _counted(sessions, devices: list[str], expected: int) -> bool:
    return await count_readings(sessions, devices) >= expected


async def _reconnected(consumer, generation: int) -> bool:
    return consumer.generation > generation and consumer.connected.is_set()
