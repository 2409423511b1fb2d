"""Snapshots, then deltas from the real Redis bus, coalesced but never lost."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation.models import Bed, Ward
from clinical.patients.models import Patient
from core.db import utc_now
from core.principal import Role
from core.settings import Settings
from tests.builders import create_user
from tests.clinical.builders import (
    admit,
    audit_trail,
    create_patient,
    create_patient_user,
    create_ward_with_beds,
)
from tests.realtime.hub_helpers import (
    HubClient,
    RunningHub,
    hub_client,
    publish_vitals,
    serve_app,
    store_reading,
    token_for,
    vitals_message,
)

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
async def running(settings: Settings) -> AsyncIterator[RunningHub]:
    async with serve_app(settings) as served:
        yield served


async def occupied_ward(sessions: async_sessionmaker[AsyncSession]) -> tuple[Ward, Bed, Patient]:
    ward, (bed, _empty) = await create_ward_with_beds(sessions, beds=2)
    patient = await create_patient(sessions)
    await admit(sessions, patient_id=patient.id, bed_id=bed.id)
    return ward, bed, patient


async def collect_values(client: HubClient, expected: int) -> tuple[list[float], int]:
    """Values of the next `expected` readings, and how many `vitals` messages carried them."""
    values: list[float] = []
    messages = 0
    while len(values) < expected:
        message = await client.receive_type("vitals")
        messages += 1
        values.extend(reading["value"] for reading in message["readings"])
    return values, messages


async def test_ward_snapshot_has_each_bed_with_its_latest_values_then_deltas(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub()
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    ward, bed, patient = await occupied_ward(sessions)
    device = f"mon-{uuid.uuid4().hex[:8]}"
    now = utc_now()
    await store_reading(
        sessions, patient_id=patient.id, device_id=device, value=71, at=now - timedelta(seconds=5)
    )
    await store_reading(
        sessions, patient_id=patient.id, device_id=device, value=72, at=now - timedelta(seconds=1)
    )
    async with hub_client(running.url, token_for(nurse, settings)) as client:
        snapshot = await client.subscribe("ward", ward.id)
        assert snapshot["type"] == "snapshot" and snapshot["alarms"] == []
        by_label = {b["label"]: b for b in snapshot["beds"]}
        assert by_label["B1"]["patient_id"] == str(patient.id)
        assert [(v["metric"], v["value"]) for v in by_label["B1"]["vitals"]] == [("8867-4", 72.0)]
        assert by_label["B2"]["patient_id"] is None and by_label["B2"]["vitals"] == []

        await publish_vitals(
            running.bus,
            vitals_message(
                device_id=device,
                patient_id=patient.id,
                bed_id=bed.id,
                ward_id=ward.id,
                values=[73],
                start=now,
            ),
        )
        delta = await client.receive_type("vitals")
    assert (delta["scope"], delta["id"]) == ("ward", str(ward.id))
    [reading] = delta["readings"]
    assert (reading["value"], reading["bed_id"], reading["patient_id"]) == (73, str(bed.id), str(patient.id))
    assert ("read", "live-feed", "success") in await audit_trail(sessions, patient_id=patient.id)


async def test_coalescing_merges_but_never_loses(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub(coalesce_interval_s=0.2)
    clinician, _ = await create_user(sessions, role=Role.CLINICIAN)
    ward, bed, patient = await occupied_ward(sessions)
    start = utc_now()
    async with hub_client(running.url, token_for(clinician, settings)) as client:
        await client.subscribe("patient", patient.id)
        for n in range(100):
            message = vitals_message(
                device_id="mon-coalesce",
                patient_id=patient.id,
                bed_id=bed.id,
                ward_id=ward.id,
                values=[float(n)],
                start=start + timedelta(seconds=n),
            )
            await publish_vitals(running.bus, message)
        values, messages = await collect_values(client, 100)
    assert sorted(values) == [float(n) for n in range(100)]
    assert values == sorted(values), "readings keep their publish order"
    assert messages < 100


async def test_a_patient_subscribing_to_another_patient_gets_an_error_and_nothing_else(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub()
    user, own, _ = await create_patient_user(sessions)
    ward, bed, other = await occupied_ward(sessions)
    async with hub_client(running.url, token_for(user, settings)) as client:
        denied = await client.subscribe("patient", other.id)
        assert (denied["type"], denied["code"], denied["id"]) == ("error", "forbidden", str(other.id))
        await client.subscribe("patient", own.id)
        foreign = vitals_message(
            device_id="mon-foreign",
            patient_id=other.id,
            bed_id=bed.id,
            ward_id=ward.id,
            values=[99],
            start=utc_now(),
        )
        await publish_vitals(running.bus, foreign)
        mine = {**foreign, "patient_id": str(own.id), "readings": [{**foreign["readings"][0], "value": 61}]}
        await publish_vitals(running.bus, mine)
        # Bus messages arrive in publish order: once the own reading is here, the foreign one was not sent.
        delta = await client.receive_type("vitals")
    assert [(r["patient_id"], r["value"]) for r in delta["readings"]] == [(str(own.id), 61)]
    assert ("read", "live-feed", "denied") in await audit_trail(sessions, patient_id=other.id)


async def test_unsubscribe_stops_the_feed(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub()
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    ward, bed, patient = await occupied_ward(sessions)
    async with hub_client(running.url, token_for(nurse, settings)) as client:
        await client.subscribe("ward", ward.id)
        await client.subscribe("patient", patient.id)
        await client.send(type="unsubscribe", scope="ward", id=str(ward.id))
        await client.send(type="subscribe", scope="patient", id=str(patient.id))
        # The duplicate subscription's error proves the unsubscribe before it was handled.
        assert (await client.receive_type("error"))["code"] == "already-subscribed"
        message = vitals_message(
            device_id="mon-unsub",
            patient_id=patient.id,
            bed_id=bed.id,
            ward_id=ward.id,
            values=[80],
            start=utc_now(),
        )
        await publish_vitals(running.bus, message)
        delta = await client.receive_type("vitals")
    assert delta["scope"] == "patient"


async def test_reconnecting_client_resumes_with_a_snapshot(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub()
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    ward, _bed, patient = await occupied_ward(sessions)
    token = token_for(nurse, settings)
    async with hub_client(running.url, token) as client:
        await client.subscribe("ward", ward.id)
    await store_reading(sessions, patient_id=patient.id, device_id="mon-re", value=88, at=utc_now())
    async with hub_client(running.url, token) as client:
        snapshot = await client.subscribe("ward", ward.id)
    [occupied] = [b for b in snapshot["beds"] if b["patient_id"] == str(patient.id)]
    assert [v["value"] for v in occupied["vitals"]] == [88]


async def test_alarms_are_forwarded_to_ward_patient_and_alarm_feeds(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await running.restart_hub()
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    user, own, _ = await create_patient_user(sessions)
    ward, (bed, _empty) = await create_ward_with_beds(sessions, beds=2)
    await admit(sessions, patient_id=own.id, bed_id=bed.id)
    alarm = {"id": str(uuid.uuid4()), "patient_id": str(own.id), "ward_id": str(ward.id), "priority": "high"}
    async with (
        hub_client(running.url, token_for(nurse, settings)) as station,
        hub_client(running.url, token_for(user, settings)) as patient_app,
    ):
        await station.subscribe("ward", ward.id)
        await patient_app.subscribe("alarms", None)
        await running.bus.publish(f"alarms.ward.{ward.id}", alarm)
        await running.bus.publish(f"alarms.patient.{own.id}", alarm)
        on_ward = await station.receive_type("alarm")
        on_own_feed = await patient_app.receive_type("alarm")
    assert (on_ward["scope"], on_ward["alarm"]) == ("ward", alarm)
    assert (on_own_feed["scope"], on_own_feed["id"], on_own_feed["alarm"]) == ("alarms", str(own.id), alarm)
