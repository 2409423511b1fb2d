"""A slow client is resynchronised, then dropped, and never slows the others; dead clients are closed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.exceptions import ConnectionClosed

from core.db import utc_now
from core.principal import Role
from core.settings import Settings
from realtime.hub import Connection, Hub
from tests.builders import create_user
from tests.clinical.builders import admit, create_patient, create_ward_with_beds
from tests.realtime.hub_helpers import (
    RunningHub,
    SilentClient,
    hub_client,
    publish_vitals,
    serve_app,
    token_for,
    vitals_message,
)

pytestmark = pytest.mark.asyncio

READINGS_PER_MESSAGE = 1000
# Far more than the buffers on the way hold (about 100 kB here); the test ends long before.
MAX_ROUNDS = 500


@pytest.fixture(scope="module")
async def running(settings: Settings) -> AsyncIterator[RunningHub]:
    async with serve_app(settings, send_buffer_bytes=16384) as served:
        yield served


def connection_of(hub: Hub, user_id: uuid.UUID) -> Connection:
    [connection] = [c for c in hub.connections() if c.principal.user_id == user_id]
    return connection


async def test_slow_client_is_resynced_then_dropped_while_a_normal_client_gets_everything(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    hub = await running.restart_hub(queue_size=4, max_overflows=2, coalesce_interval_s=0.02)
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
        # From here on the slow client reads nothing.
        await fast.subscribe("ward", ward.id)
        slow_connection = connection_of(hub, slow_nurse.id)
        start = utc_now()
        sent: list[float] = []
        received: list[float] = []
        for round_number in range(MAX_ROUNDS):
            values = [float(round_number * READINGS_PER_MESSAGE + n) for n in range(READINGS_PER_MESSAGE)]
            message = vitals_message(
                device_id="mon-slow",
                patient_id=patient.id,
                bed_id=bed.id,
                ward_id=ward.id,
                values=values,
                start=start + timedelta(seconds=len(sent)),
            )
            await publish_vitals(running.bus, message)
            sent.extend(values)
            # Paced by the normal client: it must keep up while the slow one does not read at all.
            while len(received) < len(sent):
                delta = await fast.receive_type("vitals")
                received.extend(r["value"] for r in delta["readings"])
            if slow_connection.closed.is_set():
                break
        assert slow_connection.closed.is_set(), "the slow client was never dropped"
        assert slow_connection.overflows > 2
        assert slow_connection.close_code == 4429
        assert received == sent
        # The fast client is still served after its neighbour was dropped.
        assert connection_of(hub, fast_nurse.id) in hub.connections()
    await slow.close()


async def test_overflow_answers_with_resync_and_a_fresh_snapshot(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    hub = await running.restart_hub()
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    ward, _beds = await create_ward_with_beds(sessions, beds=1)
    async with hub_client(running.url, token_for(nurse, settings)) as client:
        await client.subscribe("ward", ward.id)
        # The same path an overflow takes, triggered directly: what the client sees after falling behind.
        connection_of(hub, nurse.id).resync("slow-consumer")
        assert (await client.receive_type("resync"))["reason"] == "slow-consumer"
        snapshot = await client.receive_type("snapshot")
    assert snapshot["id"] == str(ward.id)


async def test_client_that_never_pongs_is_closed(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub(heartbeat_interval_s=0.05, heartbeat_timeout_s=0.1)
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    async with hub_client(running.url, token_for(nurse, settings)) as client:
        pings = 0
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                message = await client.receive()
                pings += message["type"] == "ping"
    assert pings >= 1
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408


async def test_client_that_pongs_stays_connected(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub(heartbeat_interval_s=0.05, heartbeat_timeout_s=5)
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    ward, _beds = await create_ward_with_beds(sessions, beds=1)
    async with hub_client(running.url, token_for(nurse, settings)) as client:
        for _ in range(5):
            ping = await client.receive_type("ping")
            await client.send(type="pong", seq=ping["seq"])
        assert (await client.subscribe("ward", ward.id))["type"] == "snapshot"


async def test_stopping_the_hub_closes_its_clients(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub()
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    async with hub_client(running.url, token_for(nurse, settings)) as client:
        restart = asyncio.create_task(running.restart_hub())
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await client.receive()
        await restart
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
