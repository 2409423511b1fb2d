"""Delivery semantics: a live worker keeps its claims while it sends; a dead one's unrecorded sends are repeated.

Exactly once for a receiver that drops a repeated `X-Ownat-Delivery`, at least once on the wire:
what a worker killed with SIGKILL had sent and not recorded goes again, and nothing else.
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from core.outbox import EventType
from core.resources import Resources
from notifications.models import DeliveryStatus, Notification
from tests.notifications.builders import (
    deactivate,
    notification_settings,
    notifications_of,
    record_event,
    subscription,
    worker,
    worker_process,
)
from tests.notifications.servers import HttpRecorder

GUARD_S = 60.0  # a guard against hanging, never a timing assertion
ROOT = Path(__file__).resolve().parents[2]


async def _events(sessions, count: int) -> set[str]:
    return {
        str(
            await record_event(
                sessions, EventType.INVOICE_ISSUED, invoice_id=uuid.uuid4(), amount_minor=990, currency="EUR"
            )
        )
        for _ in range(count)
    }


async def test_a_slow_receiver_is_not_sent_to_twice_while_its_worker_lives(
    sessions, resources, settings
) -> None:
    # The receiver takes three leases to answer; the first worker renews its claims meanwhile.
    config = notification_settings(notify_lease_s=1.0)
    second = Resources.open(settings)
    async with HttpRecorder(delay_s=3.0).serving() as hook:
        hook_id = await subscription(sessions, hook.url, [EventType.INVOICE_ISSUED.value])
        ids = await _events(sessions, 5)
        first, other = worker(resources, config), worker(second, config)
        try:
            await first.fan_out()
            sending = asyncio.create_task(first.deliver_due())
            await hook.wait_until(lambda got: len(got) >= len(ids))
            # The other worker keeps looking while the first one waits for the slow receiver.
            while not sending.done():
                await other.deliver_due()
                await asyncio.sleep(0.2)
            outcomes = await sending
        finally:
            await first.close()
            await other.close()
            await second.close()
            await deactivate(sessions, hook_id)
    assert outcomes.get("sent", 0) >= len(ids)
    arrived = Counter(json.loads(request.body)["id"] for request in hook.requests)
    assert {arrived[event_id] for event_id in ids} == {1}


async def test_what_a_dead_worker_had_recorded_is_not_sent_again(sessions, resources, settings) -> None:
    config = notification_settings(notify_lease_s=1.0)
    second = Resources.open(settings)
    async with HttpRecorder().serving() as fast, HttpRecorder(delay_s=30.0).serving() as slow:
        fast_id = await subscription(sessions, fast.url, [EventType.INVOICE_ISSUED.value])
        slow_id = await subscription(sessions, slow.url, [EventType.INVOICE_ISSUED.value])
        ids = await _events(sessions, 4)
        dying, survivor = worker(resources, config), worker(second, config)
        try:
            await dying.fan_out()
            sending = asyncio.create_task(dying.deliver_due())
            # The fast receiver's deliveries are answered and recorded while the slow one holds the rest.
            await asyncio.wait_for(_all_sent(sessions, fast_id, len(ids)), GUARD_S)
            await slow.wait_until(lambda got: len(got) >= len(ids))
            sending.cancel()  # the worker dies: nothing more is recorded, its leases run out
            await asyncio.gather(sending, return_exceptions=True)
            slow.delay_s = 0.0
            while len(slow.requests) < 2 * len(ids):
                await survivor.deliver_due()
                await asyncio.sleep(0.2)
        finally:
            await dying.close()
            await survivor.close()
            await second.close()
            await deactivate(sessions, fast_id)
            await deactivate(sessions, slow_id)
    assert Counter(json.loads(r.body)["id"] for r in fast.requests) == Counter(ids)
    assert Counter(r.headers["x-ownat-delivery"] for r in slow.requests).most_common(1)[0][1] == 2
    assert len({r.headers["x-ownat-delivery"] for r in slow.requests}) == len(ids)


@pytest.mark.slow
async def test_a_worker_killed_mid_send_repeats_only_what_it_had_not_recorded(
    sessions, settings, tmp_path: Path, record_property
) -> None:
    events = 200
    log = tmp_path / "workers.log"
    async with HttpRecorder(delay_s=0.3).serving() as hook:
        hook_id = await subscription(sessions, hook.url, [EventType.INVOICE_ISSUED.value])
        ids = await _events(sessions, events)
        victim = worker_process(settings, log, OWNAT_NOTIFY_LEASE_S="3")
        try:
            await asyncio.wait_for(hook.wait_until(lambda got: len(got) >= 80), GUARD_S)
            victim.send_signal(signal.SIGKILL)
            await asyncio.to_thread(victim.wait, GUARD_S)
            received_at_kill, answered_at_kill = len(hook.requests), hook.answered
            unrecorded = {str(row.event_id) for row in await _sending(sessions, hook_id)}
            survivor = worker_process(settings, log, OWNAT_NOTIFY_LEASE_S="3")
            try:
                await asyncio.wait_for(
                    hook.wait_until(lambda got: ids <= {json.loads(r.body)["id"] for r in got}), GUARD_S
                )
                await asyncio.wait_for(_all_sent(sessions, hook_id, events), GUARD_S)
            finally:
                survivor.send_signal(signal.SIGTERM)
                await asyncio.to_thread(survivor.wait, GUARD_S)
        finally:
            if victim.poll() is None:
                victim.kill()
            await deactivate(sessions, hook_id)
    arrived = Counter(json.loads(request.body)["id"] for request in hook.requests)
    repeated = {event_id for event_id, count in arrived.items() if count > 1}
    in_flight = received_at_kill - answered_at_kill
    figures = {
        "webhooks": events,
        "posts_received": len(hook.requests),
        "in_flight_at_the_kill": in_flight,
        "claimed_and_unrecorded_at_the_kill": len(unrecorded),
        "posted_twice": len(repeated),
        "distinct_delivery_ids": len({r.headers["x-ownat-delivery"] for r in hook.requests}),
    }
    for name, value in figures.items():
        record_property(name, value)
    print("\nworker SIGKILLed mid-webhook:", figures)
    assert set(arrived) >= ids
    # A send the dead worker had recorded is never repeated: repeats come only from its open claims.
    assert repeated <= unrecorded
    # Each repeat carries the same delivery id, which a receiver uses to drop it.
    assert figures["distinct_delivery_ids"] == events


async def _sending(sessions, subscription_id: uuid.UUID) -> list[Notification]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Notification).where(
                Notification.subscription_id == subscription_id, Notification.status == DeliveryStatus.SENDING
            )
        )
        return list(rows)


async def _all_sent(sessions, subscription_id: uuid.UUID, count: int) -> None:
    # The database offers no event for "these rows are sent": polling is the only way.
    while True:
        rows = await notifications_of(sessions, subscription_id=subscription_id)
        if len(rows) == count and all(row.status is DeliveryStatus.SENT for row in rows):
            return
        await asyncio.sleep(0.2)
