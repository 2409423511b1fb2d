"""NEWS2 pushed as the live evaluator scores it: the REST answer's shape, on the patient's and the
ward's channels, sent again only when what a page shows of it changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.bus import create_bus
from core.db import utc_now
from core.principal import Role
from core.settings import Settings
from devices.ingest.attribution import Attribution
from realtime.alarms.defaults import HR, RR, SBP, SPO2, TEMP
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from realtime.alarms.news2 import News2Inputs, score_news2
from realtime.alarms.news2_answers import news2_answer
from realtime.alarms.news2_inputs import News2Result
from realtime.alarms.publishing import publish_news2
from tests.builders import create_user, signed_in
from tests.clinical.builders import admit, create_patient, create_patient_user, create_ward_with_beds
from tests.devices.ingest_helpers import GUARD_S
from tests.realtime.alarm_builders import AT_ONCE, R, store_readings
from tests.realtime.hub_helpers import RunningHub, hub_client, serve_app, token_for

API = "/api/v1"
# What a page shows of a score; `computed_at` and the values it was scored from move on regardless.
SHOWN = ("patient_id", "total", "risk", "complete", "parameter_scores", "missing")


async def pushed(subscription, count: int) -> list:
    """The next `count` messages of the subscription."""
    messages = []
    async with asyncio.timeout(GUARD_S):
        async for message in subscription:
            messages.append(message)
            if len(messages) == count:
                return messages
    raise AssertionError("the subscription ended")


async def test_a_patients_news2_is_pushed_to_their_ward_when_it_changes_as_the_rest_answer_has_it(
    client, sessions, redis_url, redis_prefix
) -> None:
    ward, (bed, _empty) = await create_ward_with_beds(sessions, beds=2)
    patient = await create_patient(sessions)
    await admit(sessions, patient_id=patient.id, bed_id=bed.id)
    _nurse, nurse = await signed_in(client, sessions, Role.NURSE)
    bus = create_bus(redis_url=redis_url, key_prefix=redis_prefix)
    evaluator = LiveAlarmEvaluator(
        sessions=sessions, bus=bus, tuning=LiveTuning(min_round_interval_s=0.01), policy=AT_ONCE
    )
    monitor = ("t-monitor", Attribution(patient.id, None, None))  # its bed and ward looked up
    at = utc_now() - timedelta(seconds=30)

    async def measure(offset_s: int, **values: float) -> None:
        # Stored as the ingest worker stores them (the REST answer reads them), then handed over.
        metrics = {"hr": HR, "rr": RR, "spo2": SPO2, "sbp": SBP, "temp": TEMP}
        readings = [R(metrics[k], v, at + timedelta(seconds=offset_s)) for k, v in values.items()]
        await store_readings(sessions, patient.id, readings, device_id="t-monitor")
        evaluator.observe({monitor: [(r.metric, r.value, "", r.time) for r in readings]})

    task = asyncio.create_task(evaluator.run())
    try:
        channels = [f"news2.patient.{patient.id}", f"news2.ward.{ward.id}"]
        async with bus.subscribe(channels=channels) as subscription:
            await measure(0, hr=72, rr=16, spo2=97, sbp=124, temp=36.8)
            well = await pushed(subscription, 2)
            asked = (await client.get(f"{API}/patients/{patient.id}/news2", headers=nurse)).json()
            # Within their bands: nothing a page shows changes, so nothing more is pushed.
            await measure(5, hr=75, rr=17, spo2=96, sbp=128, temp=36.9)
            async with asyncio.timeout(GUARD_S):
                while evaluator.waiting:
                    await evaluator.round_done.wait()
            quiet_pushes = evaluator.stats.news2_pushed
            # Fast breathing, a low saturation and a racing pulse: a high score, pushed at once.
            await measure(10, hr=135, rr=26, spo2=90, sbp=128, temp=36.9)
            worse = await pushed(subscription, 2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.close()

    assert sorted(m.channel.removeprefix(redis_prefix) for m in well) == sorted(channels)
    first = well[0].data
    assert {k: first[k] for k in SHOWN} == {k: asked[k] for k in SHOWN}
    assert (first["total"], first["risk"], first["complete"]) == (0, "low", False)
    assert set(first["missing"]) == {"air_or_oxygen", "consciousness"}
    # When observations are due, as the REST answer says: none charted yet, so due now.
    assert first["monitoring"]["frequency"] == asked["monitoring"]["frequency"] == "12-hourly"
    assert first["monitoring"]["overdue"] is True
    assert quiet_pushes == 1  # the first answer (on two channels) and nothing after it
    high = worse[0].data
    assert (high["total"], high["risk"]) == (9, "high")
    assert (
        high["parameter_scores"] | {"respiration_rate": 3, "spo2": 3, "pulse": 3} == high["parameter_scores"]
    )
    assert high["monitoring"]["frequency"] == "continuous"


@pytest.fixture(scope="module")
async def running(settings: Settings) -> AsyncIterator[RunningHub]:
    async with serve_app(settings) as served:
        yield served


async def test_a_pushed_news2_reaches_the_wards_dashboards_and_the_patients_own_view(
    running: RunningHub, settings: Settings, sessions
) -> None:
    await running.restart_hub()
    ward, (bed, _empty) = await create_ward_with_beds(sessions, beds=2)
    patient_user, patient, _password = await create_patient_user(sessions)
    await admit(sessions, patient_id=patient.id, bed_id=bed.id)
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    score = News2Result(score_news2(News2Inputs(respiration_rate=26, spo2=90, pulse=135)), {}, None)
    answer = news2_answer(patient.id, score, last_full_set_at=None, now=utc_now())
    async with (
        hub_client(running.url, token_for(nurse, settings)) as dashboard,
        hub_client(running.url, token_for(patient_user, settings)) as own_view,
    ):
        assert (await dashboard.subscribe("ward", ward.id))["type"] == "snapshot"
        assert (await own_view.subscribe("patient", patient.id))["type"] == "snapshot"
        await publish_news2(running.bus, [(answer, ward.id)])
        on_ward = await dashboard.receive_type("news2")
        on_own = await own_view.receive_type("news2")
    assert (on_ward["scope"], on_ward["id"]) == ("ward", str(ward.id))
    assert (on_own["scope"], on_own["id"]) == ("patient", str(patient.id))
    assert on_ward["news2"] == on_own["news2"] == answer.model_dump(mode="json")
    assert on_ward["news2"]["risk"] == "high"
