"""Fault tests of the reading path: a worker killed for good, a broker restarting under the edge.

Real components: a private Mosquitto (persistence on, as in production), `ownat ingest` workers as
processes where one is killed, the edge gateway, this run's PostgreSQL. Each test prints what it
measured (run with `-s` to read it); the only assertions are on what was stored, never on a time.
"""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from devices.vitals.models import VitalReading
from edge.adapters import PushAdapter
from tests.devices.edge_helpers import edge_gateway, vitals
from tests.devices.ingest_helpers import (
    GUARD_S,
    METRICS,
    count_readings,
    duplicate_keys,
    recent_start,
    register_devices,
    running_worker,
    unique_device_id,
    unique_name,
    wait_until,
    worker_config,
)
from tests.devices.ingest_processes import (
    ingest_command,
    log_text,
    metric,
    ownat_env,
    ownat_process,
    subscribed,
)
from tests.devices.private_mosquitto import free_port, private_mosquitto
from tests.edge.broker_configs import persistent_config

DEVICES = 10
MESSAGES_PER_DEVICE = 40


async def test_a_worker_killed_for_good_leaves_its_share_to_the_other(
    settings, redis_url, redis_prefix, sessions, tmp_path: Path, record_property
) -> None:
    devices = [unique_device_id("kill") for _ in range(DEVICES)]
    await register_devices(sessions, devices)
    start = recent_start()
    messages = [
        (device, vitals(seq, start + timedelta(seconds=seq)))
        for seq in range(MESSAGES_PER_DEVICE)
        for device in devices
    ]
    first, rest = messages[: len(messages) // 2], messages[len(messages) // 2 :]
    expected = len(messages) * len(METRICS)
    group = unique_name("kill-group")
    victim_port, survivor_port = free_port(), free_port()
    log = tmp_path / "ingest.log"
    producer = PushAdapter()
    with private_mosquitto(persistent_config) as broker:
        env = ownat_env(settings.database_url, broker.url, redis_url, redis_prefix)
        # The victim holds what it receives (a batch of 60 s): at the kill it has messages in hand.
        victim_options = ["--flush-interval", "60", "--batch-size", "100000"]
        with (
            ownat_process(
                ingest_command(
                    client_id="victim", group=group, metrics_port=victim_port, extra=victim_options
                ),
                env,
                log,
            ) as victim,
            ownat_process(
                ingest_command(client_id="survivor", group=group, metrics_port=survivor_port), env, log
            ),
        ):
            for port in (victim_port, survivor_port):
                await wait_until(
                    lambda port=port: subscribed(port),
                    what=f"both workers subscribed:\n{await log_text(log)}",
                )
            async with edge_gateway(
                broker.host, broker.port, tmp_path / "queue.db", producer, ack_timeout_s=5.0
            ) as gateway:
                for device, message in first:
                    producer.push(device, message)
                await wait_until(
                    lambda: _victim_holding(victim_port, sessions, devices),
                    what="the victim holding messages",
                )
                held = int(await metric(victim_port, "ownat_ingest_pending_messages"))
                victim.send_signal(signal.SIGKILL)
                assert victim.wait(timeout=GUARD_S) == -signal.SIGKILL
                killed_at = time.monotonic()
                for device, message in rest:
                    producer.push(device, message)
                await wait_until(lambda: _stored(sessions, devices, expected), what="every reading stored")
                resumed_s = time.monotonic() - killed_at
                async with asyncio.timeout(GUARD_S):
                    await gateway.counters.wait_until(lambda c: c.pending == 0)
                resent = gateway.counters.resent
    assert await count_readings(sessions, devices) == expected
    assert await duplicate_keys(sessions, devices) == 0
    record_property("messages_held_by_the_killed_worker", held)
    record_property("seconds_until_everything_stored_after_the_kill", round(resumed_s, 1))
    print(
        f"\nworker killed for good: it held {held} unacknowledged message(s); the other worker had stored "
        f"everything {resumed_s:.1f} s after the kill (the edge re-sent {resent} message(s) after its 5 s timeout)"
    )


async def _victim_holding(port: int, sessions, devices: list[str]) -> bool:
    pending = await metric(port, "ownat_ingest_pending_messages")
    return pending >= 20 and await count_readings(sessions, devices) > 0


async def _stored(sessions, devices: list[str], expected: int) -> bool:
    return await count_readings(sessions, devices) >= expected


async def test_a_broker_restart_under_the_edge_and_two_workers_loses_nothing(
    settings, sessions, tmp_path: Path
) -> None:
    devices = [unique_device_id("restart") for _ in range(DEVICES)]
    await register_devices(sessions, devices)
    start = recent_start()
    messages = [
        (device, vitals(seq, start + timedelta(seconds=seq)))
        for seq in range(MESSAGES_PER_DEVICE)
        for device in devices
    ]
    phases = [messages[i : i + len(messages) // 4] for i in range(0, len(messages), len(messages) // 4)]
    producer = PushAdapter()
    with private_mosquitto(persistent_config) as broker:
        group = unique_name("restart-group")
        config = worker_config(settings.database_url, broker.url, share_group=group)
        async with (
            running_worker(config),
            running_worker(worker_config(settings.database_url, broker.url, share_group=group)),
            edge_gateway(broker.host, broker.port, tmp_path / "queue.db", producer) as gateway,
        ):
            counters = gateway.counters
            for device, message in phases[0]:
                producer.push(device, message)
            await wait_until(lambda: _stored(sessions, devices, 1), what="the first readings")
            # Mid-stream: the broker stops, a backlog builds at the edge, the broker comes back.
            await asyncio.to_thread(broker.stop)
            for device, message in phases[1]:
                producer.push(device, message)
            async with asyncio.timeout(GUARD_S):
                await counters.wait_until(lambda c: c.queued >= len(phases[0]) + len(phases[1]))
            await asyncio.to_thread(broker.start)
            for phase in phases[2:]:
                for device, message in phase:
                    producer.push(device, message)
                await asyncio.to_thread(broker.stop)  # and at once again, while the backlog flows
                await asyncio.to_thread(broker.start)
            async with asyncio.timeout(GUARD_S):
                await counters.wait_until(lambda c: c.queued == len(messages) and c.pending == 0)
    await _assert_every_reading_stored_under_its_time(sessions, messages)


async def _assert_every_reading_stored_under_its_time(sessions, messages) -> None:
    devices = sorted({device for device, _ in messages})
    async with sessions() as session:
        rows = await session.execute(
            select(VitalReading.device_id, VitalReading.metric, VitalReading.time, VitalReading.value).where(
                VitalReading.device_id.in_(devices)
            )
        )
        stored = sorted((d, m, t, v) for d, m, t, v in rows)
    published = sorted(
        (device, r.metric, r.time, r.value) for device, message in messages for r in message.readings
    )
    assert stored == published
