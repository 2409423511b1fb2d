"""Fault tests of the reading path: a worker killed for good, a broker restarting under the edge.

Real components: a private Mosquitto (persistence on, as in production), `ownat ingest` workers as
processes where one is killed, the edge gateway, this run's PostgreSQL. Each test prints what it
measured (run with `-s` to read it); the only assertions are on what was stored, never on a time.
"""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from devices.protocol import VitalsMessage, decode_vitals, encode
from devices.simulator import simulate
from devices.vitals.models import VitalReading
from edge.adapters import PushAdapter
from edge.assembly import adapters
from edge.config import load_config
from edge.queue import MessageQueue
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
    devices, messages = await _registered_stream(sessions, "kill")
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


async def _registered_stream(sessions, label: str) -> tuple[list[str], list[tuple[str, VitalsMessage]]]:
    """Registered devices and their messages, one a second each, devices interleaved."""
    devices = [unique_device_id(label) for _ in range(DEVICES)]
    await register_devices(sessions, devices)
    start = recent_start()
    seqs = range(MESSAGES_PER_DEVICE)
    return devices, [
        (device, vitals(seq, start + timedelta(seconds=seq))) for seq in seqs for device in devices
    ]


async def _victim_holding(port: int, sessions, devices: list[str]) -> bool:
    pending = await metric(port, "ownat_ingest_pending_messages")
    return pending >= 20 and await count_readings(sessions, devices) > 0


async def _stored(sessions, devices: list[str], expected: int) -> bool:
    return await count_readings(sessions, devices) >= expected


async def test_a_broker_restart_under_the_edge_and_two_workers_loses_nothing(
    settings, sessions, tmp_path: Path
) -> None:
    devices, messages = await _registered_stream(sessions, "restart")
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


@pytest.mark.slow
async def test_ownat_edge_and_two_ingest_workers_lose_nothing_across_broker_restarts(
    settings, redis_url, redis_prefix, sessions, tmp_path: Path, record_property
) -> None:
    """The issue's probe: a backlog built while the broker is down, flushed while the workers reconnect."""
    prefix = unique_device_id("fr")
    devices = [f"{prefix}-{n:03d}" for n in range(1, 51)]
    await register_devices(sessions, devices)
    config_path = _edge_config(tmp_path, devices)
    log = tmp_path / "processes.log"
    group, ports = unique_name("fr-group"), [free_port(), free_port()]
    with private_mosquitto(persistent_config) as broker:
        env = ownat_env(settings.database_url, broker.url, redis_url, redis_prefix)
        workers = [
            ownat_process(ingest_command(client_id=f"{group}-{n}", group=group, metrics_port=port), env, log)
            for n, port in enumerate(ports)
        ]
        with workers[0], workers[1]:
            for port in ports:
                await wait_until(
                    lambda port=port: subscribed(port), what=f"the workers:\n{await log_text(log)}"
                )
            edge_command = ["edge", "--config", str(config_path), "--broker", broker.url]
            with ownat_process(edge_command, env, log) as edge:
                await wait_until(
                    lambda: _stored(sessions, devices, 500), what=f"a first stream:\n{await log_text(log)}"
                )
                await asyncio.sleep(4)  # streaming: no event to wait for
                await asyncio.to_thread(broker.stop)
                await asyncio.sleep(10)  # the outage: the edge's backlog grows
                await asyncio.to_thread(broker.start)
                await asyncio.sleep(6)  # the backlog flows while the workers come back
                await asyncio.to_thread(broker.stop)
                await asyncio.to_thread(broker.start)
                await asyncio.sleep(6)
                edge.terminate()
                assert edge.wait(timeout=GUARD_S) == 0
            # What the stopped edge still held, sent by the same queue with no devices attached.
            drain = PushAdapter()
            async with edge_gateway(
                broker.host, broker.port, tmp_path / "queue.db", drain, ack_timeout_s=5.0
            ) as gateway:
                async with asyncio.timeout(60):
                    await gateway.counters.wait_until(lambda c: c.pending == 0)
                left_at_stop = gateway.counters.sent
            copies = sum([await metric(port, "ownat_ingest_readings_duplicate") for port in ports])
    published, published_messages = _published(
        config_path, tmp_path / "queue.db", await _first_time(sessions, devices)
    )
    stored = await _stored_readings(sessions, devices)
    lost, extra = published - stored, stored - published
    status = [line for line in log.read_text().splitlines() if "edge status:" in line][-1]
    figures = {
        "messages_published": published_messages,
        "readings_published": len(published),
        "readings_stored": len(stored),
        "readings_lost": len(lost),
        "readings_stored_that_were_not_published": len(extra),
        "readings_stored_twice": await duplicate_keys(sessions, devices),
        "copies_received_and_ignored": int(copies),
        "messages_left_in_the_queue_at_stop": left_at_stop,
    }
    for name, value in figures.items():
        record_property(name, value)
    print(
        "\nbroker restarts under ownat edge and two workers:", figures, "\nlast status of the edge:", status
    )
    assert not lost and not extra
    assert figures["readings_stored_twice"] == 0


def _edge_config(directory: Path, devices: list[str]) -> Path:
    lines = [
        "[queue]", f'path = "{directory / "queue.db"}"', "", "[simulation]", "seed = 7", "step_s = 0.5", "",
    ]  # fmt: skip
    for device in devices:
        lines += ["[[devices]]", f'id = "{device}"', 'adapter = { type = "simulator" }', ""]
    path = directory / "edge.toml"
    path.write_text("\n".join(lines))
    return path


async def _first_time(sessions, devices: list[str]) -> datetime:
    async with sessions() as session:
        first = await session.scalar(
            select(func.min(VitalReading.time)).where(VitalReading.device_id.in_(devices))
        )
    assert first is not None
    return first


def _published(config_path: Path, queue_path: Path, start: datetime) -> tuple[set[tuple], int]:
    """Every reading the edge produced: the deterministic simulation replayed up to each device's last seq."""
    config = load_config(config_path)
    [simulator] = adapters(config)
    queue = MessageQueue(queue_path)
    try:
        last_seqs = queue.last_seqs()
    finally:
        queue.close()
    remaining = {device: last + 1 for device, last in last_seqs.items()}
    readings: set[tuple] = set()
    stream = simulate(
        simulator.devices, start, simulator.step_s, seed=simulator.seed, artefacts=simulator.artefacts
    )
    for device, message in stream:
        if remaining.get(device, 0) > 0:
            remaining[device] -= 1
            normalised = decode_vitals(encode(message), now=start + timedelta(days=1))
            readings.update((device, r.metric, r.time, r.value) for r in normalised.readings)
        if not any(remaining.values()):
            break
    return readings, sum(last + 1 for last in last_seqs.values())


async def _stored_readings(sessions, devices: list[str]) -> set[tuple]:
    async with sessions() as session:
        rows = await session.execute(
            select(VitalReading.device_id, VitalReading.metric, VitalReading.time, VitalReading.value).where(
                VitalReading.device_id.in_(devices)
            )
        )
        return {tuple(row) for row in rows}
