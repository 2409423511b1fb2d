"""In-app: the inbox row exists already; delivering it is the live push to the user's open pages."""

from __future__ import annotations

from core.bus import Bus, Notification, notifications_user
from notifications.delivery import Claimed


async def push(bus: Bus, notification: Claimed) -> None:
    """Publishes the notification on the user's channel (`core.bus.notifications_user`); the hub forwards it."""
    await bus.publish(
        notifications_user(notification.user_id),
        Notification(
            id=str(notification.id),
            event_type=notification.event_type,
            title=notification.title,
            body=notification.body,
            created_at=notification.created_at.isoformat(),
        ),
    )
