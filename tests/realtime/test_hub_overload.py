"""Whether the api process keeps up, as its `/metrics` says: the hub's counters and overload flag at 0
on an idle app, counting a client that falls behind, and the event-loop lag probe's decision.

Real components: the app under uvicorn, real WebSocket clients, Redis, PostgreSQL. No time is
asserted: the probe's policy here turns on at the first late wake and stays on far longer than a
test runs, and the loop is blocked on purpose for far longer than it can be late by accident.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utc_now
from core.overload import OverloadPolicy
from core.principal import Role
from core.settings import Settings
from realtime.hub import HubMetrics
from realtime.hub.metrics import watch_loop_lag
from tests.builders import create_user
from tests.clinical.builders import admit, create_patient, create_ward_with_beds
from tests.realtime.hub_helpers import (
    RECEIVE_TIMEOUT_S,
    RunningHub,
    SilentClient,
    hub_client,
    publish_vitals,
    serve_app,
    token_for,
    vitals_message,
)

pytestmark = pytest.mark.asyncio

SLOW_RESYNCS = 'ownat_hub_resyncs_total{reason="slow-consumer"}'
TOO_SLOW = 'ownat_hub_clients_dropped_total{reason="too-slow"}'
AT_ZERO = (
    SLOW_RESYNCS,
    'ownat_hub_resyncs_total{reason="bus-reconnected"}',
    TOO_SLOW,
    'ownat_hub_clients_dropped_total{reason="heartbeat-timeout"}',
    "ownat_hub_overloaded",
    "ownat_hub_overload_episodes_total",
)
# Turns on at the first wake 0.1 s late; needs an hour to turn off again.
QUICK = OverloadPolicy(
    enter_s=0.1, sustain_s=0.0, exit_s=0.01, recover_s=3600.0, smoothing_s=0.0, sample_interval_s=0.01
)
BLOCK_S = 0.5
READINGS_PER_MESSAGE = 1000
# Far more than the buffers on the way hold; the test ends long before.
MAX_ROUNDS = 500


@pytest.fixture(scope="module")
async def running(settings: Settings) -> AsyncIterator[RunningHub]:
    # A small send buffer: a client that stops reading blocks the server's writes after kilobytes.
    async with serve_app(settings, send_buffer_bytes=16384) as served:
        yield served


async def scrape(running: RunningHub) -> dict[str, float]:
    """Every sample of the app's `/metrics`, over HTTP, by name (labels included)."""
    base = running.url.removeprefix("ws://").removesuffix("/ws")
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"http://{base}/metrics", timeout=RECEIVE_TIMEOUT_S)).text
    samples = (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {name: float(value) for name, value in samples}


async def test_an_idle_api_reports_that_it_keeps_up(settings: Settings) -> None:
    async with serve_app(settings) as idle:
        samples = await scrape(idle)
    assert {name: samples.get(name) for name in AT_ZERO} == dict.fromkeys(AT_ZERO, 0.0)
    assert samples["ownat_hub_loop_lag_seconds"] >= 0


async def test_a_client_that_falls_behind_is_counted_resynced_then_dropped(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # As in test_hub_backpressure: a client that stops reading, paced by one that reads everything.
    hub = await running.restart_hub(queue_size=4, max_overflows=2, coalesce_interval_s=0.02)
    before = await scrape(running)
    slow_nurse, _ = await create_user(sessions, role=Role.NURSE)
    fast_nurse, _ = await create_user(sessions, role=Role.NURSE)
    ward, (bed,) = await create_ward_with_beds(sessions, beds=1)
    patient = await create_patient(sessions)
    await admit(sessions, patient_id=patient.id, bed_id=bed.id)
    slow = await SilentClient.connect(running.url)
    async with hub_client(running.url, token_for(fast_nurse, settings)) as fast:
        await slow.send(type="auth", token=token_for(slow_nurse, settings))
        assert (await slow.receive())["type"] == "ready"
        await slow.send(type="subscribe", scope="ward", id=str(ward.id))
        assert (await slow.receive())["type"] == "snapshot"
        await fast.subscribe("ward", ward.id)
        [connection] = [c for c in hub.connections() if c.principal.user_id == slow_nurse.id]
        start = utc_now()
        for round_number in range(MAX_ROUNDS):
            message = vitals_message(
                device_id="mon-overload",
                patient_id=patient.id,
                bed_id=bed.id,
                ward_id=ward.id,
                values=[float(n) for n in range(READINGS_PER_MESSAGE)],
                start=start + timedelta(seconds=round_number * READINGS_PER_MESSAGE),
            )
            await publish_vitals(running.bus, message)
            received = 0
            while received < READINGS_PER_MESSAGE:
                received += len((await fast.receive_type("vitals"))["readings"])
            if connection.closed.is_set():
                break
    await slow.close()
    assert connection.closed.is_set(), "the slow client was never dropped"
    after = await scrape(running)
    assert after[SLOW_RESYNCS] - before[SLOW_RESYNCS] == 2  # its overflows up to max_overflows
    assert after[TOO_SLOW] - before[TOO_SLOW] == 1


async def test_the_lag_probe_turns_overloaded_when_the_loop_is_blocked() -> None:
    metrics = HubMetrics()
    probe = asyncio.create_task(watch_loop_lag(metrics, policy=QUICK))
    try:
        await asyncio.sleep(QUICK.sample_interval_s * 3)
        time.sleep(BLOCK_S)  # noqa: ASYNC251 - the point: nothing else runs on this loop meanwhile
        async with asyncio.timeout(RECEIVE_TIMEOUT_S):
            while metrics.registry.get_sample_value("ownat_hub_overloaded") != 1:  # noqa: ASYNC110
                await asyncio.sleep(QUICK.sample_interval_s)
    finally:
        probe.cancel()
        await asyncio.gather(probe, return_exceptions=True)
    assert metrics.registry.get_sample_value("ownat_hub_overload_episodes_total") == 1
