"""Fan-out rules: quiet hours in the user's zone (not for escalations), staff copies, muted events."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from core.outbox import EventType
from core.principal import Role
from notifications.models import Channel
from tests.clinical.scheduling_builders import account, practitioner
from tests.notifications.builders import (
    SteppingClock,
    notification_settings,
    notifications_of,
    record_event,
    set_preference,
    worker,
)

PARIS = ZoneInfo("Europe/Paris")
# 23:30 in Paris (winter time, UTC+1).
LATE_EVENING = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)
QUIET = {"quiet_start": time(22, 0), "quiet_end": time(7, 0), "time_zone": "Europe/Paris"}
PROVIDERS = {"smtp_host": "127.0.0.1", "sms_url": "http://127.0.0.1:9/sms"}


async def _fan_out(resources, now: datetime) -> None:
    the_worker = worker(resources, notification_settings(**PROVIDERS), SteppingClock(now))
    try:
        await the_worker.fan_out()
    finally:
        await the_worker.close()


async def test_quiet_hours_hold_email_and_sms_until_morning_but_not_the_inbox(
    sessions, settings, resources
) -> None:
    patient, _ = await account(sessions, settings, Role.PATIENT)
    await set_preference(sessions, patient.id, sms_enabled=True, phone="+33600000001", **QUIET)
    start = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    event_id = await record_event(
        sessions, EventType.APPOINTMENT_BOOKED, patient_id=patient.patient_id, start_at=start
    )
    await _fan_out(resources, LATE_EVENING)
    rows = {row.channel: row for row in await notifications_of(sessions, event_id=event_id)}
    assert rows[Channel.IN_APP].next_attempt_at == LATE_EVENING
    morning = datetime(2026, 11, 24, 7, 0, tzinfo=PARIS)
    assert rows[Channel.EMAIL].next_attempt_at == morning
    assert rows[Channel.SMS].next_attempt_at == morning
    # The time is written in the patient's own zone.
    assert "2026-11-30 10:15 CET" in rows[Channel.EMAIL].body


async def test_an_escalated_alarm_ignores_quiet_hours_and_skips_email(sessions, settings, resources) -> None:
    nurse, _ = await account(sessions, settings, Role.NURSE)
    await set_preference(sessions, nurse.id, sms_enabled=True, phone="+33600000002", **QUIET)
    event_id = await record_event(
        sessions, EventType.ALARM_ESCALATED, code="hr_low", priority="high", raised_at=LATE_EVENING
    )
    await _fan_out(resources, LATE_EVENING)
    rows = {row.channel: row for row in await notifications_of(sessions, event_id=event_id, user_id=nurse.id)}
    assert set(rows) == {Channel.IN_APP, Channel.SMS}
    assert rows[Channel.SMS].next_attempt_at == LATE_EVENING
    assert rows[Channel.SMS].title.startswith("Escalated alarm")


async def test_the_practitioner_gets_an_in_app_copy_and_muted_events_are_skipped(
    sessions, settings, resources
) -> None:
    patient, _ = await account(sessions, settings, Role.PATIENT)
    clinician, _ = await account(sessions, settings, Role.CLINICIAN)
    doctor = await practitioner(sessions, user_id=clinician.id, hours=None)
    await set_preference(sessions, patient.id, muted_events=[EventType.APPOINTMENT_CANCELLED.value])
    event_id = await record_event(
        sessions,
        EventType.APPOINTMENT_CANCELLED,
        patient_id=patient.patient_id,
        practitioner_id=doctor.id,
        start_at=LATE_EVENING,
    )
    await _fan_out(resources, LATE_EVENING)
    rows = await notifications_of(sessions, event_id=event_id)
    assert [(row.user_id, row.channel) for row in rows] == [(clinician.id, Channel.IN_APP)]
    assert rows[0].body.startswith("The appointment on 2026-11-23 22:30 UTC in your schedule was cancelled")
