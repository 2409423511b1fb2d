"""Retention: events and their deliveries are removed some time after everything about them settled."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.outbox import OutboxEvent
from notifications.models import DeliveryStatus, Notification

UNSETTLED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


async def purge_settled(*, session: AsyncSession, now: datetime, retention_days: int) -> int:
    """Deletes events dispatched more than `retention_days` ago with nothing left to send; returns how many."""
    cutoff = now - timedelta(days=retention_days)
    waiting = exists(
        select(Notification.id).where(
            Notification.event_id == OutboxEvent.id, Notification.status.in_(UNSETTLED)
        )
    )
    # Deliveries go with their event (ON DELETE CASCADE), inbox entries included.
    event_ids = list(
        await session.scalars(
            select(OutboxEvent.id)
            .where(OutboxEvent.dispatched_at < cutoff, ~waiting)
            .limit(1000)
            .with_for_update(skip_locked=True)
        )
    )
    if event_ids:
        await session.execute(delete(Notification).where(Notification.event_id.in_(event_ids)))
        await session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(event_ids)))
    return len(event_ids)
