"""Alarms in a process of their own (`ownat ingest --alarms-only` beside workers run `--no-alarms`):
both groups receive every reading from the real Mosquitto; the alarms-only worker raises the alarm on
Redis and stores nothing, the storing worker stores each reading once and evaluates nothing."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select

from core.bus import Bus, create_bus
from core.db import create_engine
from core.sessions import create_sessionmaker
from devices.ingest.config import IngestConfig
from devices.ingest.worker import IngestWorker
from devices.vitals.models import VitalReading
from ownat.processes import ingest
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from tests.devices.ingest_helpers import GUARD_S, Publisher, recent_start, worker_config
from tests.realtime.alarm_builders import AT_ONCE
from tests.realtime.test_live_evaluator import SICK, monitored_patient, next_alarm, vitals


def _count(worker: IngestWorker, name: str) -> float:
    return worker.metrics.registry.get_sample_value(name) or 0.0


@asynccontextmanager
async def running(config: IngestConfig, bus: Bus, *, alarms: bool) -> AsyncIterator[IngestWorker]:
    engine = create_engine(config.database_url)
    sessions = create_sessionmaker(engine)
    evaluator = (
        LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=LiveTuning(), policy=AT_ONCE)
        if alarms
        else None
    )
    worker = IngestWorker(config=config, engine=engine, sessions=sessions, bus=bus, observer=evaluator)
    task = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(GUARD_S):
            await worker.ready.wait()
        yield worker
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()


async def test_an_alarms_only_worker_raises_the_alarm_and_the_storing_worker_stores_the_readings(
    settings, sessions, mqtt_url, redis_url, redis_prefix
) -> None:
    device, patient_id = await monitored_patient(sessions)
    bus = create_bus(redis_url=redis_url, key_prefix=redis_prefix)
    storing = worker_config(settings.database_url, mqtt_url)
    alarms_only = worker_config(settings.database_url, mqtt_url, stores_readings=False)
    try:
        async with (
            running(storing, bus, alarms=False) as storer,
            running(alarms_only, bus, alarms=True) as evaluator_worker,
            bus.subscribe(channels=[f"alarms.patient.{patient_id}"]) as alarms,
            Publisher(mqtt_url) as publisher,
        ):
            await publisher.publish_all(
                [(f"ownat/v1/devices/{device}/vitals", vitals(0, recent_start(3), SICK))]
            )
            raised = await next_alarm(alarms)
            assert raised["change"] == "raised" and raised["alarm"]["patient_id"] == str(patient_id)

            async def stored() -> int:
                async with sessions() as session:
                    return int(
                        await session.scalar(
                            select(func.count())
                            .select_from(VitalReading)
                            .where(VitalReading.device_id == device)
                        )
                        or 0
                    )

            async with asyncio.timeout(GUARD_S):
                while await stored() < len(SICK):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)  # the database offers no event to await
            assert await stored() == len(SICK)
            assert evaluator_worker.committed_batches >= 1  # it let the message go to the broker
            assert _count(evaluator_worker, "ownat_ingest_readings_stored_total") == 0
            assert _count(evaluator_worker, "ownat_ingest_acks_published_total") == 0
            assert _count(storer, "ownat_ingest_readings_stored_total") == len(SICK)
    finally:
        await bus.close()


def test_the_command_puts_an_alarms_only_worker_in_a_share_group_of_its_own(settings) -> None:
    parser = argparse.ArgumentParser()
    ingest.add_arguments(parser)
    config = ingest._config(settings, parser.parse_args(["--alarms-only", "--group", "ward-4b"]))
    assert config.share_group == "ward-4b-alarms" and config.stores_readings is False
    storing = ingest._config(settings, parser.parse_args(["--no-alarms", "--group", "ward-4b"]))
    assert storing.share_group == "ward-4b" and storing.stores_readings is True
