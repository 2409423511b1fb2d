"""The live evaluator's state: changes made elsewhere end a patient's quiet, and a database outage
loses no patient's latest values. The evaluator is fed as the ingest worker feeds it (`committed`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus import Bus, InProcessBus
from core.db import create_engine, utc_now
from core.sessions import create_sessionmaker, transaction
from devices.ingest.attribution import Attribution
from devices.vitals.models import VitalReading
from ownat import migrate
from realtime.alarms.defaults import HR, RR, SPO2
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from realtime.alarms.models import AlarmPriority, AlarmThreshold
from tests.devices.ingest_helpers import GUARD_S, new_patient
from tests.devices.private_postgres import PrivatePostgres
from tests.realtime.alarm_builders import AT_ONCE, running

WELL = {HR: 72.0, RR: 16.0, SPO2: 98.0}
SICK = {HR: 135.0, RR: 26.0, SPO2: 90.0}  # NEWS2 9: high


def hand_over(
    evaluator: LiveAlarmEvaluator, patient_id: uuid.UUID, values: dict[str, float], seconds_ago: int
) -> None:
    at = utc_now() - timedelta(seconds=seconds_ago)
    readings = [(metric, value, "", at) for metric, value in values.items()]
    evaluator.observe({("t-dev", Attribution(patient_id, None, None)): readings}, [])


async def rounds_until(evaluator: LiveAlarmEvaluator, done) -> None:
    async with asyncio.timeout(GUARD_S):
        while not done(evaluator.stats):
            await evaluator.round_done.wait()


async def store(
    sessions: async_sessionmaker[AsyncSession], patient_id: uuid.UUID, values: dict[str, float]
) -> None:
    at = utc_now() - timedelta(seconds=1)
    async with transaction(sessions) as session:
        await session.execute(
            insert(VitalReading),
            [
                {
                    "time": at,
                    "device_id": "t-dev",
                    "patient_id": patient_id,
                    "metric": m,
                    "value": v,
                    "unit": "",
                }
                for m, v in values.items()
            ],
        )


async def next_alarm(bus: Bus, patient_id: uuid.UUID, subscription) -> dict:
    async with asyncio.timeout(GUARD_S):
        async for message in subscription:
            return message.data
    raise AssertionError("the subscription ended")


async def test_new_limits_set_by_a_clinician_end_a_patients_quiet(sessions) -> None:
    patient_id = await new_patient(sessions)
    bus = InProcessBus()
    evaluator = LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=LiveTuning(min_round_interval_s=0.05))
    async with running(evaluator), bus.subscribe(channels=[f"alarms.patient.{patient_id}"]) as alarms:
        hand_over(evaluator, patient_id, WELL, 30)
        await rounds_until(evaluator, lambda s: s.evaluated == 1)
        hand_over(evaluator, patient_id, WELL, 29)
        await rounds_until(evaluator, lambda s: s.quiet == 1)
        # A clinician lowers the heart-rate ceiling under the patient's usual rate, without delay.
        async with transaction(sessions) as session:
            session.add(
                AlarmThreshold(
                    patient_id=patient_id, metric=HR, low=40, high=70, priority=AlarmPriority.HIGH, delay_s=0
                )
            )
        hand_over(evaluator, patient_id, WELL, 28)
        raised = await next_alarm(bus, patient_id, alarms)
    assert (raised["change"], raised["alarm"]["code"]) == ("raised", HR)
    assert (evaluator.stats.evaluated, evaluator.stats.quiet) == (2, 1)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        cluster.init()
        cluster.start()
        migrate.upgrade(cluster.url)
        yield cluster
    finally:
        cluster.destroy()


async def test_a_database_outage_keeps_the_latest_values_until_they_are_evaluated(private_postgres) -> None:
    engine = create_engine(private_postgres.url)
    sessions = create_sessionmaker(engine)
    try:
        patient_id = await new_patient(sessions)
        await store(sessions, patient_id, SICK)
        bus = InProcessBus()
        tuning = LiveTuning(min_round_interval_s=0.05, retry_base_s=0.05, retry_cap_s=0.2)
        evaluator = LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=tuning, policy=AT_ONCE)
        async with running(evaluator), bus.subscribe(channels=[f"alarms.patient.{patient_id}"]) as alarms:
            await asyncio.to_thread(private_postgres.stop)
            hand_over(evaluator, patient_id, WELL, 5)
            await rounds_until(evaluator, lambda s: s.retries >= 2)
            # Newer values while the database is away replace the older ones, which are not lost meanwhile.
            hand_over(evaluator, patient_id, SICK, 1)
            assert evaluator.waiting == 1
            await rounds_until(evaluator, lambda s: s.retries >= 3)
            await asyncio.to_thread(private_postgres.start)
            raised = await next_alarm(bus, patient_id, alarms)
        assert (raised["change"], raised["alarm"]["code"], raised["alarm"]["priority"]) == (
            "raised",
            "news2",
            "high",
        )
        assert evaluator.stats.evaluated == 1 and evaluator.waiting == 0
    finally:
        await engine.dispose()


async def test_a_sustained_condition_raises_on_the_tick_with_no_new_reading(sessions) -> None:
    """Two readings 4 s apart start a heart-rate condition; nothing more arrives, yet the tick raises it."""
    patient_id = await new_patient(sessions)
    first, last = utc_now() - timedelta(seconds=5), utc_now() - timedelta(seconds=1)
    async with transaction(sessions) as session:
        await session.execute(
            insert(VitalReading),
            [
                {
                    "time": at,
                    "device_id": "t-dev",
                    "patient_id": patient_id,
                    "metric": HR,
                    "value": 150.0,
                    "unit": "",
                }
                for at in (first, last)
            ],
        )
    bus = InProcessBus()
    tuning = LiveTuning(min_round_interval_s=0.05, tick_s=0.2)
    evaluator = LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=tuning)
    async with running(evaluator), bus.subscribe(channels=[f"alarms.patient.{patient_id}"]) as alarms:
        for count, at in enumerate((first, last), 1):
            evaluator.observe({("t-dev", Attribution(patient_id, None, None)): [(HR, 150.0, "", at)]}, [])
            await rounds_until(evaluator, lambda s, count=count: s.evaluated >= count)
        evaluated_with_readings = evaluator.stats.evaluated
        raised = await next_alarm(bus, patient_id, alarms)
    assert (raised["change"], raised["alarm"]["code"]) == ("raised", HR)
    # Raised by a round without readings for the patient: the tick's.
    assert evaluator.stats.evaluated > evaluated_with_readings
