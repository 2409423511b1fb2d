"""Alarms evaluated on ingest: readings published over the real Mosquitto, stored in this run's
PostgreSQL by the ingest worker, evaluated by its batch observer as they arrive, and the alarm on Redis."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import select

from core.bus import Bus, create_bus
from core.db import create_engine
from core.sessions import create_sessionmaker
from devices.ingest.config import IngestConfig
from devices.ingest.worker import IngestWorker
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from realtime.alarms.models import Alarm, AlarmStatus
from realtime.alarms.policy import AlarmPolicy
from tests.devices.ingest_helpers import (
    GUARD_S,
    Publisher,
    bind,
    iso,
    new_patient,
    recent_start,
    register_devices,
    unique_device_id,
    worker_config,
)
from tests.realtime.alarm_builders import AT_ONCE

SICK = (("hr", "/min", 135.0), ("rr", "/min", 26.0), ("spo2", "%", 90.0))  # NEWS2 9: high
WELL = (("hr", "/min", 72.0), ("rr", "/min", 16.0), ("spo2", "%", 98.0))


@asynccontextmanager
async def worker_with_alarms(
    config: IngestConfig, bus: Bus, *, policy: AlarmPolicy = AT_ONCE, **tuning: float
) -> AsyncIterator[LiveAlarmEvaluator]:
    """An ingest worker whose batch observer is the live alarm evaluator, as `ownat ingest` runs.

    Its policy raises and ends at once unless a test of the policy itself passes its own.
    """
    engine = create_engine(config.database_url)
    sessions = create_sessionmaker(engine)
    evaluator = LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=LiveTuning(**tuning), policy=policy)
    worker = IngestWorker(config=config, engine=engine, sessions=sessions, bus=bus, observer=evaluator)
    task = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(GUARD_S):
            ready = asyncio.create_task(worker.ready.wait())
            done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                task.result()
        yield evaluator
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()


def vitals(seq: int, at, metrics) -> bytes:
    readings = [{"metric": m, "value": v, "unit": u, "time": iso(at)} for m, u, v in metrics]
    return json.dumps({"v": 1, "seq": seq, "readings": readings}).encode()


async def monitored_patient(sessions) -> tuple[str, uuid.UUID]:
    device = unique_device_id("alarm")
    rows = await register_devices(sessions, [device])
    patient_id = await new_patient(sessions)
    await bind(sessions, rows[device], patient_id, recent_start() - timedelta(hours=1))
    return device, patient_id


async def next_alarm(subscription, code: str | None = None) -> dict:
    """The next alarm change published (of `code`, if given)."""
    async with asyncio.timeout(GUARD_S):
        async for message in subscription:
            if code is None or message.data["alarm"]["code"] == code:
                return message.data
    raise AssertionError("the subscription ended")


async def open_codes(sessions, patient_id: uuid.UUID) -> set[str]:
    async with sessions() as session:
        alarms = await session.scalars(
            select(Alarm).where(Alarm.patient_id == patient_id, Alarm.status != AlarmStatus.RESOLVED)
        )
        return {alarm.code for alarm in alarms}


async def test_readings_over_mqtt_raise_an_alarm_on_redis(
    settings, sessions, mqtt_url, redis_url, redis_prefix
) -> None:
    device, patient_id = await monitored_patient(sessions)
    bus = create_bus(redis_url=redis_url, key_prefix=redis_prefix)
    try:
        async with (
            worker_with_alarms(worker_config(settings.database_url, mqtt_url), bus) as evaluator,
            bus.subscribe(channels=[f"alarms.patient.{patient_id}"]) as alarms,
            Publisher(mqtt_url) as publisher,
        ):
            topic = f"ownat/v1/devices/{device}/vitals"
            await publisher.publish_all([(topic, vitals(0, recent_start(3), SICK))])
            raised = await next_alarm(alarms)
            assert raised["change"] == "raised"
            assert raised["alarm"]["code"] == "news2" and raised["alarm"]["priority"] == "high"
            assert raised["alarm"]["patient_id"] == str(patient_id)
            assert evaluator.stats.failed_rounds == 0
    finally:
        await bus.close()
    async with sessions() as session:
        stored = (await session.scalars(select(Alarm).where(Alarm.patient_id == patient_id))).all()
    assert [(a.code, a.status) for a in stored] == [("news2", AlarmStatus.RAISED)]


async def test_a_threshold_condition_delay_spans_batches(settings, sessions, mqtt_url) -> None:
    """Heart rate over the limit is alarmed only once it has lasted the condition delay (10 s)."""
    device, patient_id = await monitored_patient(sessions)
    bus = create_bus(redis_url=None, key_prefix="")
    config = worker_config(settings.database_url, mqtt_url)
    async with (
        worker_with_alarms(config, bus, min_round_interval_s=0.05) as evaluator,
        bus.subscribe(channels=[f"alarms.patient.{patient_id}"]) as alarms,
        Publisher(mqtt_url) as publisher,
    ):
        topic = f"ownat/v1/devices/{device}/vitals"
        start = recent_start(60)
        fast = (("hr", "/min", 150.0),)
        await publisher.publish_all([(topic, vitals(0, start, fast))])
        async with asyncio.timeout(GUARD_S):
            while evaluator.stats.evaluated < 1:
                await evaluator.round_done.wait()
        # Seen, but not yet for long enough (NEWS2 already scores the pulse: a single red parameter).
        assert await open_codes(sessions, patient_id) == {"news2"}
        await publisher.publish_all([(topic, vitals(1, start + timedelta(seconds=12), fast))])
        raised = await next_alarm(alarms, "8867-4")
        assert raised["alarm"]["detail"]["side"] == "high"
        # Back within the limits: the threshold alarm resolves itself, and the resolution is published.
        normal = (("hr", "/min", 80.0),)
        await publisher.publish_all([(topic, vitals(2, start + timedelta(seconds=13), normal))])
        resolved = await next_alarm(alarms, "8867-4")
    assert resolved["change"] == "resolved" and resolved["alarm"]["id"] == raised["alarm"]["id"]


async def test_a_stable_patient_is_evaluated_in_full_once_then_found_quiet(
    settings, sessions, mqtt_url
) -> None:
    device, _patient_id = await monitored_patient(sessions)
    bus = create_bus(redis_url=None, key_prefix="")
    config = worker_config(settings.database_url, mqtt_url)
    async with (
        worker_with_alarms(config, bus, min_round_interval_s=0.05) as evaluator,
        Publisher(mqtt_url) as publisher,
    ):
        topic = f"ownat/v1/devices/{device}/vitals"
        start = recent_start(30)
        for seq in range(3):
            await publisher.publish_all([(topic, vitals(seq, start + timedelta(seconds=seq), WELL))])
            async with asyncio.timeout(GUARD_S):
                while evaluator.stats.evaluated + evaluator.stats.quiet < seq + 1:
                    await evaluator.round_done.wait()
    assert (evaluator.stats.evaluated, evaluator.stats.quiet, evaluator.stats.changes) == (1, 2, 0)


async def test_a_device_status_over_mqtt_raises_a_technical_alarm(settings, sessions, mqtt_url) -> None:
    device, patient_id = await monitored_patient(sessions)
    bus = create_bus(redis_url=None, key_prefix="")
    config = worker_config(settings.database_url, mqtt_url)
    status = {"v": 1, "online": True, "time": iso(recent_start(2)), "battery_pct": 9, "sensor_off": True}
    async with (
        worker_with_alarms(config, bus, min_round_interval_s=0.05),
        bus.subscribe(channels=[f"alarms.patient.{patient_id}"]) as alarms,
        Publisher(mqtt_url) as publisher,
    ):
        await publisher.publish_all([(f"ownat/v1/devices/{device}/status", json.dumps(status).encode())])
        first, second = await next_alarm(alarms), await next_alarm(alarms)
    assert {(a["alarm"]["code"], a["alarm"]["device_id"]) for a in (first, second)} == {
        ("low_battery", device),
        ("sensor_off", device),
    }
