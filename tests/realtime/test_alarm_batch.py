"""Evaluating many patients at once: the same changes as one by one, on PostgreSQL and SQLite;
an unknown patient is left out without stopping the others; a raise that meets another worker's
alarm raises that one again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.patients.models import Patient
from core.bus import InProcessBus
from core.db import create_engine, utc_now
from core.sessions import create_sessionmaker, transaction
from devices.ingest.attribution import Attribution
from ownat.migrate import upgrade_async
from realtime.alarms import engine, store
from realtime.alarms.decisions import apply_news2
from realtime.alarms.defaults import HR, RR, SBP, SPO2, TEMP
from realtime.alarms.evaluation_reads import Whereabouts, read_patients
from realtime.alarms.evaluation_writes import write_changes
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from realtime.alarms.models import Alarm, AlarmKind, AlarmPriority, AlarmStatus, News2Observation
from realtime.alarms.news2 import Consciousness
from realtime.alarms.news2_inputs import score_latest
from realtime.alarms.policy import AlarmPolicy
from tests.clinical.builders import create_patient
from tests.devices.ingest_helpers import GUARD_S
from tests.realtime.alarm_builders import R, evaluate_one, store_readings
from tests.realtime.alarm_scenario import EXPECTED, STEPS, build_ward, outline, play, stored_state


@pytest.fixture(scope="module")
async def sqlite_sessions(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    path: Path = tmp_path_factory.mktemp("alarm-batch") / "ownat.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    database = create_engine(url)
    try:
        yield create_sessionmaker(database)
    finally:
        await database.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def any_sessions(request: pytest.FixtureRequest) -> async_sessionmaker[AsyncSession]:
    """The run's PostgreSQL, then the embedded default's SQLite."""
    return request.getfixturevalue("sessions" if request.param == "postgresql" else "sqlite_sessions")


async def test_a_batch_changes_what_one_by_one_changes(any_sessions) -> None:
    sessions = any_sessions
    start = utc_now() - timedelta(minutes=1)
    one_ward, batch_ward = await build_ward(sessions, start), await build_ward(sessions, start)

    async def one_by_one(readings, now):
        changes = {}
        for patient_id, batch in readings.items():
            async with transaction(sessions) as session:
                changes[patient_id] = await evaluate_one(
                    session, patient_id=patient_id, readings=batch, now=now
                )
        return changes

    async def all_at_once(readings, now):
        batch = [engine.PatientReadings(patient_id, items) for patient_id, items in readings.items()]
        async with transaction(sessions) as session:
            # A small yield step, so that a round of several chunks is what is compared.
            evaluations = await engine.evaluate_patients(session, batch, now=now, yield_every=3)
        return {patient_id: evaluation.changes for patient_id, evaluation in evaluations.items()}

    expected = await play(sessions, one_ward, one_by_one)
    assert await play(sessions, batch_ward, all_at_once) == expected
    assert await stored_state(sessions, batch_ward) == await stored_state(sessions, one_ward)
    # And both are what the rules say.
    assert outline(expected) == EXPECTED
    in_bed_step = STEPS.index(12)
    assert expected[in_bed_step]["in-bed"][0][8] == (True, True)  # placed from the admission


async def test_an_unknown_patient_is_left_out_and_the_others_evaluated(sessions) -> None:
    gone, kept = await create_patient(sessions), await create_patient(sessions)
    async with transaction(sessions) as session:
        await session.execute(delete(Patient).where(Patient.id == gone.id))
    now = utc_now()
    batch = [
        engine.PatientReadings(gone.id, [R(HR, 20, now)]),
        engine.PatientReadings(uuid.uuid4(), [R(HR, 20, now)]),
        engine.PatientReadings(kept.id, [R(RR, 7, now - timedelta(seconds=15)), R(RR, 7, now)]),
    ]
    async with transaction(sessions) as session:
        evaluations = await engine.evaluate_patients(session, batch, now=now)
    assert list(evaluations) == [kept.id]
    assert [c.alarm.condition_key for c in evaluations[kept.id].changes] == [f"threshold:{RR}:low"]


async def test_a_round_with_a_vanished_patient_still_alarms_the_others(sessions) -> None:
    gone, kept = await create_patient(sessions), await create_patient(sessions)
    async with transaction(sessions) as session:
        await session.execute(delete(Patient).where(Patient.id == gone.id))
    at = utc_now()
    await store_readings(sessions, kept.id, [R(SBP, 80, at)])  # a cuff pressure: no condition delay
    bus = InProcessBus()
    evaluator = LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=LiveTuning(min_round_interval_s=0.05))
    task = asyncio.create_task(evaluator.run())
    try:
        async with bus.subscribe(channels=[f"alarms.patient.{kept.id}"]) as alarms:
            evaluator.observe(
                {
                    ("t-gone", Attribution(gone.id, None, None)): [(HR, 20.0, "", at)],
                    ("t-kept", Attribution(kept.id, None, None)): [(SBP, 80.0, "", at)],
                }
            )
            async with asyncio.timeout(GUARD_S):
                message = await anext(aiter(alarms))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert (message.data["change"], message.data["alarm"]["code"]) == ("raised", SBP)
    assert evaluator.stats.failed_rounds == 0


async def test_a_raise_meeting_another_workers_alarm_raises_that_one_again(sessions) -> None:
    patient = await create_patient(sessions)
    now = utc_now()
    async with transaction(sessions) as session:
        session.add(
            News2Observation(
                patient_id=patient.id,
                consciousness=Consciousness.ALERT,
                on_oxygen=True,
                spo2_scale=1,
                recorded_at=now - timedelta(minutes=5),
            )
        )
    # NEWS2 7: high.
    vitals = [R(RR, 22, now), R(SPO2, 94, now), R(SBP, 105, now), R(HR, 95, now), R(TEMP, 37.0, now)]
    await store_readings(sessions, patient.id, vitals)
    async with transaction(sessions) as session:
        found = await read_patients(session, [Whereabouts(patient.id)], now=now)
        (state,) = found.values()
        at_once = AlarmPolicy(news2_delay_s={AlarmPriority.HIGH: 0, AlarmPriority.MEDIUM: 0})
        news2 = score_latest(state.vitals, state.observation, now=now)
        apply_news2(state.work, news2, now=now, policy=at_once)
        assert [c.change for c in state.work.changes] == ["raised"]
        # Meanwhile another worker, which saw less, raised the same condition at medium priority.
        async with transaction(sessions) as other:
            theirs = await store.raise_alarm(
                other,
                patient_id=patient.id,
                condition_key=engine.NEWS2_KEY,
                kind=AlarmKind.NEWS2,
                code=engine.NEWS2_KEY,
                priority=AlarmPriority.MEDIUM,
                now=now,
            )
        assert theirs is not None
        await write_changes(session, [state.work], now=now)
    (change,) = state.work.changes
    assert (change.change, change.alarm.id, change.alarm.priority) == ("updated", theirs.alarm.id, "high")
    async with sessions() as session:
        stored = (await session.scalars(select(Alarm).where(Alarm.patient_id == patient.id))).all()
    assert [(a.id, a.status, a.priority, a.score) for a in stored] == [
        (theirs.alarm.id, AlarmStatus.RAISED, AlarmPriority.HIGH, 7)
    ]


async def test_one_entry_per_patient(sessions) -> None:
    patient = await create_patient(sessions)
    twice = [engine.PatientReadings(patient.id, []), engine.PatientReadings(patient.id, [])]
    async with transaction(sessions) as session:
        with pytest.raises(ValueError, match="one entry per patient"):
            await engine.evaluate_patients(session, twice, now=utc_now())
