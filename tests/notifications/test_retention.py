"""Retention removes settled events with their deliveries, and keeps anything still to be sent."""

from __future__ import annotations

from datetime import timedelta

from core.outbox import EventType
from core.principal import Role
from core.sessions import transaction
from notifications.models import Channel, DeliveryStatus, Notification
from notifications.retention import purge_settled
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


async def test_settled_events_go_after_the_retention_period_and_pending_ones_stay(
    sessions, settings, resources
) -> None:
    patient, _ = await account(sessions, settings, Role.PATIENT)
    # SMS to a gateway that is not configured at send time: that delivery stays pending for retries.
    await set_preference(sessions, patient.id, sms_enabled=True, phone="+15550009999", email_enabled=False)
    clock = SteppingClock()
    fan_out_worker = worker(resources, notification_settings(sms_url="http://127.0.0.1:9/sms"), clock)
    settled = await record_event(sessions, EventType.DOCUMENT_ADDED, patient_id=patient.patient_id)
    try:
        await fan_out_worker.fan_out()
        # Only the in-app copy is sent; the SMS (to a closed port) waits for its next attempt.
        await deliver_everything_due(fan_out_worker)
    finally:
        await fan_out_worker.close()
    (sms,) = await notifications_of(sessions, event_id=settled, channel=Channel.SMS)
    assert sms.attempts == 1

    async with transaction(sessions) as session:
        await purge_settled(session=session, now=clock.now + timedelta(days=400), retention_days=365)
    assert len(await notifications_of(sessions, event_id=settled)) == 2  # the SMS is still to be sent

    async with transaction(sessions) as session:
        dead = await session.get(Notification, sms.id)
        assert dead is not None
        dead.status = DeliveryStatus.DEAD
    async with transaction(sessions) as session:
        await purge_settled(session=session, now=clock.now + timedelta(days=300), retention_days=365)
    assert len(await notifications_of(sessions, event_id=settled)) == 2  # not old enough yet
    async with transaction(sessions) as session:
        await purge_settled(session=session, now=clock.now + timedelta(days=400), retention_days=365)
    assert await notifications_of(sessions, event_id=settled) == []
