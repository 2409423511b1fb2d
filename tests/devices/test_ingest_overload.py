"""Whether the ingest worker keeps up, as its metrics say: at 0 on an idle `ownat ingest`, rising while
messages wait, and the watcher's decision on a real event loop with a policy of the test's own.

Real components: a private Mosquitto, `ownat ingest` as a process, this run's PostgreSQL. No time is
asserted: the policies here turn on at the first late sample and stay on far longer than a test runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from core.db import utc_now
from core.overload import OverloadPolicy
from devices.ingest.metrics import IngestMetrics
from devices.ingest.overload import watch_backlog
from tests.devices.ingest_helpers import (
    GUARD_S,
    Publisher,
    running_worker,
    unique_device_id,
    unique_name,
    vitals_payload,
    wait_until,
    worker_config,
)
from tests.devices.ingest_processes import ingest_command, log_text, ownat_env, ownat_process, subscribed
from tests.devices.private_mosquitto import free_port, private_mosquitto

NEW_METRICS = (
    "ownat_ingest_behind_seconds",
    "ownat_ingest_overloaded",
    "ownat_ingest_overload_episodes_total",
)
# Turns on at the first sample past 1 s, off at the first sample under 0.5 s; samples every 10 ms.
QUICK = OverloadPolicy(
    enter_s=1.0, sustain_s=0.0, exit_s=0.5, recover_s=0.0, smoothing_s=0.0, sample_interval_s=0.01
)


async def scrape(port: int) -> dict[str, float]:
    """Every sample of the worker's Prometheus endpoint, by name (labels included)."""
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics", timeout=GUARD_S)).text
    samples = (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {name: float(value) for name, value in samples}


async def test_an_idle_worker_reports_that_it_keeps_up(
    settings, redis_url, redis_prefix, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "ingest.log"
    with private_mosquitto() as broker:
        env = ownat_env(settings.database_url, broker.url, redis_url, redis_prefix)
        command = ingest_command(client_id=unique_name("idle"), group=unique_name("idle"), metrics_port=port)
        with ownat_process(command, env, log):
            await wait_until(lambda: subscribed(port), what=f"the worker subscribed:\n{await log_text(log)}")
            samples = await scrape(port)
    assert {name: samples.get(name) for name in NEW_METRICS} == dict.fromkeys(NEW_METRICS, 0.0)


async def test_a_held_message_shows_as_the_worker_falling_behind(settings, mqtt_url) -> None:
    # A batch that waits 60 s to fill: the message received stays uncommitted, and waits.
    config = worker_config(settings.database_url, mqtt_url, flush_interval_s=60.0, batch_max_readings=100_000)
    async with running_worker(config) as worker, Publisher(mqtt_url) as publisher:
        device = unique_device_id("behind")
        await publisher.publish_all([(f"ownat/v1/devices/{device}/vitals", vitals_payload(0, utc_now()))])

        async def behind() -> bool:
            return (worker.metrics.registry.get_sample_value("ownat_ingest_behind_seconds") or 0) > 0

        await wait_until(behind, what="the worker's lateness above 0")


async def test_the_watcher_turns_overloaded_while_messages_wait_and_back_when_they_are_committed() -> None:
    metrics = IngestMetrics()
    oldest: list[datetime | None] = [utc_now() - timedelta(seconds=5)]
    async with watching(lambda: oldest[0], metrics):
        await wait_until(lambda: gauge(metrics, "ownat_ingest_overloaded", 1.0), what="overloaded")
        assert metrics.registry.get_sample_value("ownat_ingest_behind_seconds") >= 5
        oldest[0] = None  # everything committed
        await wait_until(lambda: gauge(metrics, "ownat_ingest_overloaded", 0.0), what="keeping up again")
    assert metrics.registry.get_sample_value("ownat_ingest_behind_seconds") == 0
    assert metrics.registry.get_sample_value("ownat_ingest_overload_episodes_total") == 1


async def gauge(metrics: IngestMetrics, name: str, value: float) -> bool:
    return metrics.registry.get_sample_value(name) == value


@contextlib.asynccontextmanager
async def watching(oldest: Callable[[], datetime | None], metrics: IngestMetrics):
    task = asyncio.create_task(watch_backlog(oldest, metrics, policy=QUICK))
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
