"""An ingest worker killed with SIGKILL in the middle of a stream: its successor stores every reading once.

The worker is the real `ownat ingest` in a subprocess. The first one commits in small batches and
holds the tail of what it received (a long flush interval), so that at the moment of the kill some
readings are committed and acknowledged and some are received and not acknowledged. Its successor
resumes the same broker session (same client id): the broker sends the unacknowledged messages again,
and those queued meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.devices.ingest_helpers import (
    GUARD_S,
    METRICS,
    TEST_SESSION_EXPIRY_S,
    Publisher,
    count_readings,
    duplicate_keys,
    recent_start,
    register_devices,
    stream,
    unique_device_id,
    unique_name,
    wait_until,
)
from tests.devices.private_postgres import free_port

DEVICES = 10
MESSAGES_PER_DEVICE = 40


@contextmanager
def ingest_process(
    settings, log_path: Path, *, client_id: str, group: str, metrics_port: int, extra: list[str]
) -> Iterator[subprocess.Popen[bytes]]:
    """`ownat ingest` against this run's database and the machine's Mosquitto."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OWNAT_")}
    env.update(
        OWNAT_DATABASE_URL=settings.database_url,
        OWNAT_MQTT_URL=settings.mqtt_url,
        OWNAT_REDIS_URL=settings.redis_url,
        OWNAT_REDIS_KEY_PREFIX=settings.redis_key_prefix,
        OWNAT_LOG_JSON="false",
        OWNAT_ENVIRONMENT="test",
    )
    command = [
        sys.executable, "-m", "ownat.cli", "ingest", "--client-id", client_id, "--group", group,
        "--session-expiry", str(TEST_SESSION_EXPIRY_S), "--metrics-port", str(metrics_port), *extra,
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()  # a clean stop: the worker disconnects and keeps its session
            try:
                process.wait(timeout=GUARD_S)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait()


async def _metric(port: int, name: str) -> float:
    """A metric's value from the worker's Prometheus endpoint (0 until it answers)."""
    try:
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics", timeout=2)).text
    except httpx.TransportError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


async def test_a_killed_worker_loses_and_duplicates_nothing(settings, sessions, mqtt_url, tmp_path) -> None:
    device_ids = [unique_device_id("kill") for _ in range(DEVICES)]
    await register_devices(sessions, device_ids)
    items = list(stream(device_ids, messages_per_device=MESSAGES_PER_DEVICE, start=recent_start()))
    first, rest = items[: len(items) // 2], items[len(items) // 2 :]
    client_id, group = unique_name("kill-ingest"), unique_name("kill-group")
    log_path = tmp_path / "ingest.log"
    port = free_port()
    # Batches of 33 readings (11 messages) commit at once; the last 2 messages of the first 200 wait
    # for a flush interval they never see.
    victim_options = ["--batch-size", "33", "--flush-interval", "60"]
    async with Publisher(mqtt_url) as publisher:
        with ingest_process(
            settings, log_path, client_id=client_id, group=group, metrics_port=port, extra=victim_options
        ) as victim:
            await wait_until(
                lambda: _subscribed(log_path), what=f"the first worker to subscribe:\n{log_path.read_text()}"
            )
            await publisher.publish_all(first)
            await wait_until(
                lambda: _holding(port, sessions, device_ids), what="committed and pending readings"
            )
            victim.send_signal(signal.SIGKILL)
            assert victim.wait(timeout=GUARD_S) == -signal.SIGKILL
        stored_at_kill = await count_readings(sessions, device_ids)
        assert 0 < stored_at_kill < len(first) * len(METRICS)
        # Published while no worker runs: the broker queues them in the persistent session.
        await publisher.publish_all(rest)
    expected = len(items) * len(METRICS)
    with ingest_process(
        settings, log_path, client_id=client_id, group=group, metrics_port=free_port(), extra=[]
    ):
        await wait_until(
            lambda: _stored(sessions, device_ids, expected), what=f"every reading:\n{log_path.read_text()}"
        )
    assert await count_readings(sessions, device_ids) == expected
    assert await duplicate_keys(sessions, device_ids) == 0


async def _subscribed(log_path: Path) -> bool:
    return "MQTT subscribed" in await asyncio.to_thread(log_path.read_text)


async def _holding(port: int, sessions, device_ids) -> bool:
    pending = await _metric(port, "ownat_ingest_pending_messages")
    return pending > 0 and await count_readings(sessions, device_ids) > 0


async def _stored(sessions, device_ids, expected: int) -> bool:
    return await count_readings(sessions, device_ids) >= expected
