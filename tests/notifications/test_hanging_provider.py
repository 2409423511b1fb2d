"""A webhook receiver that hangs holds up neither the other channels nor, once its breaker opens, the worker."""

from __future__ import annotations

from core.outbox import EventType
from core.principal import Role
from notifications.models import Channel, DeliveryStatus
from tests.clinical.scheduling_builders import account
from tests.notifications.builders import (
    deactivate,
    notification_settings,
    notifications_of,
    record_event,
    subscription,
    worker,
)
from tests.notifications.servers import HttpRecorder


async def test_a_hanging_receiver_times_out_opens_its_breaker_and_is_then_skipped(
    sessions, settings, resources
) -> None:
    patient, _ = await account(sessions, settings, Role.PATIENT)
    async with HttpRecorder(mode="hang").serving() as hook:
        hook_id = await subscription(sessions, hook.url, [EventType.DOCUMENT_ADDED.value])
        config = notification_settings(provider_timeout_s=0.5, breaker_failures=1, breaker_reset_s=3600)
        the_worker = worker(resources, config)
        try:
            first = await record_event(sessions, EventType.DOCUMENT_ADDED, patient_id=patient.patient_id)
            await the_worker.run_once()
            contacted = len(hook.requests)
            second = await record_event(sessions, EventType.DOCUMENT_ADDED, patient_id=patient.patient_id)
            await the_worker.run_once()
        finally:
            await the_worker.close()
            await deactivate(sessions, hook_id)
    rows = {(row.event_id, row.channel): row for row in await notifications_of(sessions, user_id=patient.id)}
    hooks = {row.event_id: row for row in await notifications_of(sessions, subscription_id=hook_id)}
    # The patient's own notifications went out while the receiver hung.
    assert rows[(first, Channel.IN_APP)].status is DeliveryStatus.SENT
    assert rows[(second, Channel.IN_APP)].status is DeliveryStatus.SENT
    # The first delivery timed out (one attempt used); the second was not even tried.
    assert (hooks[first].status, hooks[first].attempts) == (DeliveryStatus.PENDING, 1)
    assert "did not answer" in (hooks[first].last_error or "")
    assert (hooks[second].status, hooks[second].attempts) == (DeliveryStatus.PENDING, 0)
    assert "open" in (hooks[second].last_error or "")
    assert len(hook.requests) == contacted
