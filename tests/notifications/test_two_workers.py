"""Two workers side by side on their own connections never send a notification twice, nor remind twice."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clinical.scheduling import schedule_reminders
from clinical.scheduling.models import Appointment
from core.db import utc_now
from core.outbox import EventType, OutboxEvent
from core.resources import Resources
from core.sessions import transaction
from tests.clinical.scheduling_builders import appointment_type, patient_record, practitioner
from tests.notifications.builders import deactivate, notification_settings, record_event, subscription, worker
from tests.notifications.servers import HttpRecorder

EVENTS = 60


@pytest.fixture
async def second_resources(settings) -> Resources:
    """Another process's view: its own engine and connection pool, and its own bus client."""
    opened = Resources.open(settings)
    yield opened
    await opened.close()


async def test_two_workers_deliver_each_webhook_exactly_once(sessions, resources, second_resources) -> None:
    async with HttpRecorder().serving() as hook:
        hook_id = await subscription(sessions, hook.url, [EventType.INVOICE_ISSUED.value])
        ids = {
            await record_event(
                sessions, EventType.INVOICE_ISSUED, invoice_id=uuid.uuid4(), amount_minor=1250, currency="EUR"
            )
            for _ in range(EVENTS)
        }
        config = notification_settings()
        workers = [worker(resources, config), worker(second_resources, config)]
        try:
            # Small batches, so that both workers keep claiming from the same queue.
            await asyncio.gather(*(w.fan_out(batch=5) for w in workers))
            while any(await asyncio.gather(*(w.deliver_due(batch=4) for w in workers))):
                pass
        finally:
            for w in workers:
                await w.close()
            await deactivate(sessions, hook_id)
    delivered = Counter(json.loads(r.body)["id"] for r in hook.requests)
    mine = {event_id: delivered[str(event_id)] for event_id in ids}
    assert set(mine.values()) == {1}
    # Each delivery id arrived once too (a redelivery would repeat X-Ownat-Delivery).
    assert max(Counter(r.headers["x-ownat-delivery"] for r in hook.requests).values()) == 1


async def _reminders_for(sessions, appointment_id: uuid.UUID) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.dedupe_key.like(f"reminder:{appointment_id}:%"))
        )


async def test_reminders_are_written_once_each_24_hours_and_1_hour_before(
    sessions, resources, second_resources
) -> None:
    kind = await appointment_type(sessions)
    doctor = await practitioner(sessions, hours=None)
    (patient_id,) = await patient_record(sessions)
    start = utc_now().replace(microsecond=0) + timedelta(days=3)
    appointment = Appointment(
        patient_id=patient_id,
        practitioner_id=doctor.id,
        appointment_type_id=kind.id,
        start_at=start,
        end_at=start + timedelta(minutes=30),
        created_at=start - timedelta(days=5),
    )
    async with transaction(sessions) as session:
        session.add(appointment)

    async def both_at(moment) -> list[int]:
        async def one(resources_: Resources) -> int:
            async with transaction(resources_.sessions) as session:
                return await schedule_reminders(session=session, now=moment)

        return await asyncio.gather(one(resources), one(second_resources))

    await both_at(start - timedelta(hours=25))
    assert await _reminders_for(sessions, appointment.id) == 0
    await both_at(start - timedelta(hours=23))
    await both_at(start - timedelta(hours=20))
    assert await _reminders_for(sessions, appointment.id) == 1
    await both_at(start - timedelta(minutes=50))
    await both_at(start - timedelta(minutes=10))
    assert await _reminders_for(sessions, appointment.id) == 2
    async with sessions() as session:
        keys = await session.scalars(
            select(OutboxEvent.dedupe_key).where(OutboxEvent.dedupe_key.like(f"reminder:{appointment.id}:%"))
        )
        assert sorted(k.rsplit(":", 1)[1] for k in keys) == ["1h", "24h"]


async def test_an_appointment_booked_inside_the_window_gets_no_24_hour_reminder(sessions) -> None:
    kind = await appointment_type(sessions)
    doctor = await practitioner(sessions, hours=None)
    (patient_id,) = await patient_record(sessions)
    now = utc_now()
    start = now + timedelta(hours=5)
    appointment = Appointment(
        patient_id=patient_id,
        practitioner_id=doctor.id,
        appointment_type_id=kind.id,
        start_at=start,
        end_at=start + timedelta(minutes=30),
        created_at=now,
    )
    async with transaction(sessions) as session:
        session.add(appointment)
    async with transaction(sessions) as session:
        await schedule_reminders(session=session, now=now + timedelta(minutes=5))
    assert await _reminders_for(sessions, appointment.id) == 0
    async with transaction(sessions) as session:
        await schedule_reminders(session=session, now=start - timedelta(minutes=30))
    assert await _reminders_for(sessions, appointment.id) == 1
