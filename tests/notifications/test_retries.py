"""Retries with exponential backoff, the dead-letter state, and what administrators do about it."""

from __future__ import annotations

from datetime import timedelta

from core.outbox import EventType
from core.principal import Role
from notifications.models import Channel, DeliveryStatus
from tests.clinical.scheduling_builders import account
from tests.notifications.builders import (
    SteppingClock,
    deliver_everything_due,
    notification_settings,
    notifications_of,
    record_event,
    set_preference,
    worker,
)
from tests.notifications.servers import HttpRecorder


async def test_a_failing_gateway_is_retried_with_backoff_then_dead_lettered_and_retried_by_an_admin(
    client, sessions, settings, resources
) -> None:
    patient, patient_headers = await account(sessions, settings, Role.PATIENT)
    _, admin_headers = await account(sessions, settings, Role.ADMIN)
    await set_preference(sessions, patient.id, sms_enabled=True, phone="+15550001111", email_enabled=False)
    clock = SteppingClock()
    async with HttpRecorder(status=500).serving() as sms:
        config = notification_settings(
            sms_url=sms.url, notify_max_attempts=3, notify_retry_base_s=60, breaker_failures=100
        )
        the_worker = worker(resources, config, clock)
        try:
            event_id = await record_event(sessions, EventType.DOCUMENT_ADDED, patient_id=patient.patient_id)
            await the_worker.fan_out()
            waits = []
            for _ in range(3):
                await deliver_everything_due(the_worker)
                (row,) = await notifications_of(sessions, event_id=event_id, channel=Channel.SMS)
                waits.append(row.next_attempt_at - clock.now)
                clock.now += timedelta(hours=1)
            assert waits[:2] == [timedelta(seconds=60), timedelta(seconds=120)]
            assert (row.status, row.attempts) == (DeliveryStatus.DEAD, 3)
            assert "500" in (row.last_error or "")
            assert len([r for r in sms.requests if b"15550001111" in r.body]) == 3

            dead = await client.get("/api/v1/notifications/deliveries?channel=sms", headers=admin_headers)
            assert dead.status_code == 200
            listed = next(d for d in dead.json() if d["id"] == str(row.id))
            assert listed["status"] == "dead" and "500" in listed["last_error"]
            refused = await client.get("/api/v1/notifications/deliveries", headers=patient_headers)
            assert refused.status_code == 403

            retried = await client.post(
                f"/api/v1/notifications/deliveries/{row.id}/retry", headers=admin_headers
            )
            assert retried.json()["status"] == "pending"
            sms.status = 202
            clock.now += timedelta(seconds=1)
            await deliver_everything_due(the_worker)
        finally:
            await the_worker.close()
    (row,) = await notifications_of(sessions, event_id=event_id, channel=Channel.SMS)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 1, None)


async def test_an_open_breaker_postpones_without_using_up_attempts(sessions, settings, resources) -> None:
    first, _ = await account(sessions, settings, Role.PATIENT)
    second, _ = await account(sessions, settings, Role.PATIENT)
    for user, phone in ((first, "+15550002222"), (second, "+15550003333")):
        await set_preference(sessions, user.id, sms_enabled=True, phone=phone, email_enabled=False)
    clock = SteppingClock()
    async with HttpRecorder(status=503).serving() as sms:
        config = notification_settings(sms_url=sms.url, breaker_failures=1, breaker_reset_s=300)
        the_worker = worker(resources, config, clock)
        try:
            # The first message fails, which opens the SMS breaker...
            await record_event(sessions, EventType.DOCUMENT_ADDED, patient_id=first.patient_id)
            await the_worker.run_once()
            before = len(sms.requests)
            # ...so the second is not even tried, and keeps all its attempts.
            event_id = await record_event(sessions, EventType.DOCUMENT_ADDED, patient_id=second.patient_id)
            await the_worker.run_once()
        finally:
            await the_worker.close()
    (row,) = await notifications_of(sessions, event_id=event_id, channel=Channel.SMS)
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 0)
    assert row.next_attempt_at > clock.now and "open" in (row.last_error or "")
    assert len(sms.requests) == before
