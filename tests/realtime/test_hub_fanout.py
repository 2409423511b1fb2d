"""The hub's fan-out: patients' channels only while watched, one snapshot read for many dashboards."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus import BusMessage
from core.db import utc_now
from core.principal import Role
from core.settings import Settings
from tests.builders import create_user
from tests.clinical.builders import admit, audit_trail, create_patient, create_ward_with_beds
from tests.core.conftest import until_redis_shows
from tests.realtime.hub_helpers import (
    HubClient,
    RunningHub,
    hub_client,
    publish_vitals,
    serve_app,
    token_for,
    vitals_message,
)

pytestmark = pytest.mark.asyncio

GUARD_S = 10.0


@pytest.fixture(scope="module")
async def running(settings: Settings) -> AsyncIterator[RunningHub]:
    async with serve_app(settings) as served:
        yield served


async def subscribers(settings: Settings, channel: str) -> int:
    redis = Redis.from_url(settings.redis_url)
    try:
        [(_name, count)] = await redis.pubsub_numsub(settings.redis_key_prefix + channel)
        return int(count)
    finally:
        await redis.aclose()


async def _none_on(settings: Settings, channel: str) -> bool:
    return await subscribers(settings, channel) == 0


async def test_a_patients_readings_are_received_only_while_someone_watches_them(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub()
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    ward, (bed,) = await create_ward_with_beds(sessions, beds=1)
    patient = await create_patient(sessions)
    await admit(sessions, patient_id=patient.id, bed_id=bed.id)
    channel = f"vitals.patient.{patient.id}"
    assert await subscribers(settings, channel) == 0
    async with hub_client(running.url, token_for(nurse, settings)) as client:
        assert (await client.subscribe("patient", patient.id))["type"] == "snapshot"
        # Subscribed on Redis before the snapshot was read: the first reading after it arrives.
        assert await subscribers(settings, channel) == 1
        message = vitals_message(
            device_id="mon-watch", patient_id=patient.id, bed_id=bed.id, ward_id=ward.id,
            values=[64.0], start=utc_now(),
        )  # fmt: skip
        await publish_vitals(running.bus, message)
        delta = await client.receive_type("vitals")
        assert (delta["scope"], [r["value"] for r in delta["readings"]]) == ("patient", [64.0])
        await client.send(type="unsubscribe", scope="patient", id=str(patient.id))
        await until_redis_shows(lambda: _none_on(settings, channel))
    # The ward's channel is a pattern every instance always receives.
    assert await subscribers(settings, f"vitals.ward.{ward.id}") == 0


async def test_dashboards_resynchronised_together_share_one_read_of_their_ward(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    hub = await running.restart_hub(snapshot_concurrency=1)
    ward, (bed, _empty) = await create_ward_with_beds(sessions, beds=2)
    patient = await create_patient(sessions)
    await admit(sessions, patient_id=patient.id, bed_id=bed.id)
    nurses = [(await create_user(sessions, role=Role.NURSE))[0] for _ in range(12)]
    async with AsyncExitStack() as stack:
        clients: list[HubClient] = [
            await stack.enter_async_context(hub_client(running.url, token_for(nurse, settings)))
            for nurse in nurses
        ]
        for client in clients:
            assert (await client.subscribe("ward", ward.id))["type"] == "snapshot"
        reads_before = hub.snapshots.reads
        # What a bus reconnection delivers: a resync marker per channel and pattern.
        for pattern in ("vitals.ward.*", "alarms.ward.*"):
            hub.dispatch(BusMessage(channel=pattern, kind="resync", pattern=pattern))
        for client in clients:
            assert (await client.receive_type("resync"))["reason"] == "bus-reconnected"
            snapshot = await client.receive_type("snapshot")
            assert [b["patient_id"] for b in snapshot["beds"]] == [str(patient.id), None]
        # Then the readings flow again, to everyone.
        await publish_vitals(
            running.bus,
            vitals_message(
                device_id="mon-resync", patient_id=patient.id, bed_id=bed.id, ward_id=ward.id,
                values=[70.0], start=utc_now(),
            ),
        )  # fmt: skip
        for client in clients:
            assert [r["value"] for r in (await client.receive_type("vitals"))["readings"]] == [70.0]
    # One resync for both markers, and fewer reads than dashboards (one, as they all queued at once).
    assert 1 <= hub.snapshots.reads - reads_before < len(clients)


async def test_each_nurse_shown_a_shared_read_is_audited_for_the_patient(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub(snapshot_concurrency=1)
    ward, (bed,) = await create_ward_with_beds(sessions, beds=1)
    patient = await create_patient(sessions)
    await admit(sessions, patient_id=patient.id, bed_id=bed.id)
    first, _ = await create_user(sessions, role=Role.NURSE)
    second, _ = await create_user(sessions, role=Role.NURSE)
    async with (
        hub_client(running.url, token_for(first, settings)) as one,
        hub_client(running.url, token_for(second, settings)) as two,
    ):
        snapshots = await asyncio.gather(one.subscribe("ward", ward.id), two.subscribe("ward", ward.id))
    assert [s["beds"][0]["patient_id"] for s in snapshots] == [str(patient.id)] * 2
    # However often the ward was read, each nurse's sight of the patient is on the record.
    trail = await audit_trail(sessions, patient_id=patient.id)
    assert trail.count(("read", "live-feed", "success")) == 2
