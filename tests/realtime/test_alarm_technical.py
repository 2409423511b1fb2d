"""Technical alarms (silent device, low battery, sensor off) and escalation of unacknowledged high alarms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.sessions import transaction
from devices.protocol import StatusMessage
from realtime.alarms import engine
from realtime.alarms.defaults import HR
from realtime.alarms.escalation import escalate_overdue
from realtime.alarms.publishing import channels_for
from tests.clinical.builders import create_patient
from tests.devices.registry_builders import bind_device, register_device
from tests.realtime.alarm_builders import R, evaluate_one, store_readings


async def _bound(sessions, start):
    patient = await create_patient(sessions)
    device = await register_device(sessions)
    await bind_device(sessions, device.id, patient_id=patient.id, start_at=start)
    return patient, device


async def test_a_silent_bound_device_raises_and_a_new_reading_resolves(sessions) -> None:
    now = datetime.now(UTC)
    patient, device = await _bound(sessions, now - timedelta(minutes=10))
    await store_readings(sessions, patient.id, [R(HR, 70, now - timedelta(minutes=5))], device.device_id)
    async with transaction(sessions) as session:
        changes = await engine.check_technical(session, now=now, silent_after_s=60)
    mine = [c for c in changes if c.alarm.device_id == device.device_id]
    assert [(c.change, c.alarm.code) for c in mine] == [("raised", "silent")]
    await store_readings(sessions, patient.id, [R(HR, 71, now)], device.device_id)
    async with transaction(sessions) as session:
        changes = await engine.check_technical(session, now=now + timedelta(seconds=1), silent_after_s=60)
    assert [c.change for c in changes if c.alarm.device_id == device.device_id] == ["resolved"]


async def test_status_raises_low_battery_and_sensor_off_then_resolves(sessions) -> None:
    now = datetime.now(UTC)
    _, device = await _bound(sessions, now - timedelta(minutes=1))
    status = StatusMessage(online=True, time=now, battery_pct=12, sensor_off=True)
    async with transaction(sessions) as session:
        changes = await engine.apply_device_status(
            session, device_id=device.device_id, status=status, now=now
        )
    assert sorted((c.change, c.alarm.code, c.alarm.priority) for c in changes) == [
        ("raised", "low_battery", "low"),
        ("raised", "sensor_off", "medium"),
    ]
    healthy = StatusMessage(online=True, time=now, battery_pct=80, sensor_off=False)
    async with transaction(sessions) as session:
        changes = await engine.apply_device_status(
            session, device_id=device.device_id, status=healthy, now=now
        )
    assert sorted(c.change for c in changes) == ["resolved", "resolved"]


async def test_an_unacknowledged_high_alarm_is_escalated_once(sessions) -> None:
    patient = await create_patient(sessions)
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    async with transaction(sessions) as session:
        await evaluate_one(session, patient_id=patient.id, readings=[R(HR, 30, t0)], now=t0)
        raised = await evaluate_one(
            session, patient_id=patient.id, readings=[R(HR, 30, t0 + timedelta(seconds=10))], now=t0
        )
    assert raised[0].alarm.priority == "high"
    async with transaction(sessions) as session:
        early = await escalate_overdue(session, now=t0 + timedelta(seconds=60), after_s=120)
    assert raised[0].alarm.id not in {c.alarm.id for c in early}
    async with transaction(sessions) as session:
        escalated = await escalate_overdue(session, now=t0 + timedelta(seconds=180), after_s=120)
    (mine,) = [c for c in escalated if c.alarm.id == raised[0].alarm.id]
    assert mine.alarm.escalated_at == t0 + timedelta(seconds=180)
    assert "alarms.escalation" in channels_for(mine)
    async with transaction(sessions) as session:
        again = await escalate_overdue(session, now=t0 + timedelta(seconds=400), after_s=120)
    assert raised[0].alarm.id not in {c.alarm.id for c in again}
