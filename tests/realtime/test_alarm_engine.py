"""The engine on the real database: condition delay, no duplicates under concurrency, auto-resolution, NEWS2."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.audit.models import AuditEvent
from core.sessions import transaction
from realtime.alarms.defaults import HR, RR, SBP, SPO2, TEMP
from realtime.alarms.models import Alarm, AlarmStatus, News2Observation
from realtime.alarms.news2 import Consciousness
from tests.clinical.builders import create_patient
from tests.realtime.alarm_builders import R, evaluate_one, store_readings

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def _evaluate(sessions, patient_id, readings, now):
    async with transaction(sessions) as session:
        return await evaluate_one(session, patient_id=patient_id, readings=readings, now=now)


async def _alarms(sessions, patient_id):
    async with sessions() as session:
        return list(await session.scalars(select(Alarm).where(Alarm.patient_id == patient_id)))


async def test_a_threshold_alarm_waits_for_the_condition_delay_then_raises_once(sessions) -> None:
    patient = await create_patient(sessions)
    assert await _evaluate(sessions, patient.id, [R(HR, 150, at(0))], at(0)) == []
    assert await _evaluate(sessions, patient.id, [R(HR, 152, at(5))], at(5)) == []
    changes = await _evaluate(sessions, patient.id, [R(HR, 155, at(10))], at(10))
    assert [(c.change, c.alarm.condition_key, c.alarm.priority) for c in changes] == [
        ("raised", f"threshold:{HR}:high", "high")
    ]
    assert await _evaluate(sessions, patient.id, [R(HR, 156, at(12))], at(12)) == []
    assert len(await _alarms(sessions, patient.id)) == 1
    async with sessions() as session:
        actions = await session.scalars(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id))
        assert "alarm.raised" in set(actions)


async def test_a_condition_that_clears_before_the_delay_raises_nothing(sessions) -> None:
    patient = await create_patient(sessions)
    await _evaluate(sessions, patient.id, [R(HR, 150, at(0))], at(0))
    await _evaluate(sessions, patient.id, [R(HR, 80, at(4))], at(4))
    assert await _evaluate(sessions, patient.id, [R(HR, 150, at(11))], at(11)) == []
    assert await _alarms(sessions, patient.id) == []


async def test_concurrent_evaluations_raise_one_alarm(sessions) -> None:
    patient = await create_patient(sessions)
    await _evaluate(sessions, patient.id, [R(SPO2, 85, at(0))], at(0))
    results = await asyncio.gather(
        *(_evaluate(sessions, patient.id, [R(SPO2, 84, at(20))], at(20)) for _ in range(4))
    )
    assert sum(1 for changes in results for c in changes if c.change == "raised") == 1
    open_alarms = [a for a in await _alarms(sessions, patient.id) if a.status is not AlarmStatus.RESOLVED]
    assert len(open_alarms) == 1


async def test_a_value_back_in_range_ends_the_alarm_after_the_hysteresis(sessions) -> None:
    patient = await create_patient(sessions)
    await _evaluate(sessions, patient.id, [R(RR, 30, at(0)), R(RR, 31, at(15))], at(15))
    # Back in range at 20 s: still open within the 30 s hysteresis, latched (high) after it.
    assert await _evaluate(sessions, patient.id, [R(RR, 16, at(20))], at(20)) == []
    assert await _evaluate(sessions, patient.id, [R(RR, 16, at(40))], at(40)) == []
    changes = await _evaluate(sessions, patient.id, [R(RR, 16, at(50))], at(50))
    assert [(c.change, c.alarm.status, c.alarm.condition_ended_at) for c in changes] == [
        ("updated", "raised", at(20))
    ]


async def test_a_medium_alarm_resolves_itself_after_the_hysteresis(sessions) -> None:
    patient = await create_patient(sessions)
    await _evaluate(sessions, patient.id, [R(TEMP, 39.6, at(0))], at(0))
    changes = await _evaluate(sessions, patient.id, [R(TEMP, 37.0, at(60))], at(100))
    assert [(c.change, c.alarm.status) for c in changes] == [("resolved", "resolved")]
    (alarm,) = await _alarms(sessions, patient.id)
    assert alarm.resolved_at == at(100) and alarm.resolved_by is None


async def test_news2_high_band_from_stored_vitals_and_observation_raises_a_high_alarm(sessions) -> None:
    patient = await create_patient(sessions)
    now = datetime.now(UTC)
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
    # rr 22 (2), spo2 94 (1), oxygen (2), sbp 105 (1), pulse 95 (1), alert (0), temp 37 (0): 7, high.
    vitals = [R(RR, 22, now), R(SPO2, 94, now), R(SBP, 105, now), R(HR, 95, now), R(TEMP, 37.0, now)]
    await store_readings(sessions, patient.id, vitals)
    # The band must hold for the high NEWS2 delay (30 s) before it raises.
    assert [c for c in await _evaluate(sessions, patient.id, vitals, now) if c.alarm.kind == "news2"] == []
    changes = await _evaluate(sessions, patient.id, [], now + timedelta(seconds=30))
    (news2,) = [c for c in changes if c.alarm.kind == "news2"]
    assert (news2.change, news2.alarm.priority, news2.alarm.score) == ("raised", "high", 7)
    assert news2.alarm.detail["missing"] == []


async def test_a_single_red_parameter_raises_a_medium_news2_alarm(sessions) -> None:
    patient = await create_patient(sessions)
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        session.add(
            News2Observation(
                patient_id=patient.id,
                consciousness=Consciousness.VOICE,
                on_oxygen=False,
                spo2_scale=1,
                recorded_at=now,
            )
        )
    vitals = [R(RR, 16, now), R(SPO2, 97, now), R(SBP, 120, now), R(HR, 70, now), R(TEMP, 37.0, now)]
    await store_readings(sessions, patient.id, vitals)
    await _evaluate(sessions, patient.id, vitals, now)
    changes = await _evaluate(sessions, patient.id, [], now + timedelta(seconds=60))
    (news2,) = [c for c in changes if c.alarm.kind == "news2"]
    assert (news2.alarm.priority, news2.alarm.score, news2.alarm.detail["risk"]) == (
        "medium",
        3,
        "low-medium",
    )


async def test_a_worsening_news2_reraises_an_acknowledged_alarm_at_high_priority(sessions) -> None:
    patient = await create_patient(sessions)
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        session.add(
            News2Observation(
                patient_id=patient.id,
                consciousness=Consciousness.ALERT,
                on_oxygen=False,
                spo2_scale=1,
                recorded_at=now - timedelta(minutes=1),
            )
        )
    # rr 22 (2), spo2 95 (1), sbp 105 (1), pulse 95 (1), temp 37: 5, medium.
    medium = [R(RR, 22, now), R(SPO2, 95, now), R(SBP, 105, now), R(HR, 95, now), R(TEMP, 37.0, now)]
    device = await store_readings(sessions, patient.id, medium)
    await _evaluate(sessions, patient.id, [], now)
    now = now + timedelta(seconds=60)
    (first,) = [c for c in await _evaluate(sessions, patient.id, [], now) if c.alarm.kind == "news2"]
    assert (first.alarm.priority, first.alarm.score) == ("medium", 5)
    async with transaction(sessions) as session:
        alarm = await session.get(Alarm, first.alarm.id)
        assert alarm is not None
        alarm.status, alarm.acknowledged_at = AlarmStatus.ACKNOWLEDGED, now
    later = now + timedelta(seconds=30)
    await store_readings(sessions, patient.id, [R(RR, 26, later), R(SBP, 95, later)], device)
    (second,) = [c for c in await _evaluate(sessions, patient.id, [], later) if c.alarm.kind == "news2"]
    assert (second.change, second.alarm.id, second.alarm.priority) == ("updated", first.alarm.id, "high")
    assert (second.alarm.status, second.alarm.acknowledged_at, second.alarm.score) == ("raised", None, 7)
