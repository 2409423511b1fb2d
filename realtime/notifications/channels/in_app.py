"""In-app: the inbox row exists already; delivering it is the live push to the user's open pages."""

from __future__ import annotations

from core.bus import Bus
from realtime.notifications.delivery import Claimed


def user_channel(user_id: object) -> str:
    return f"notifications.user.{user_id}"


async def push(bus: Bus, notification: Claimed) -> None:
    """Publishes the notification on `notifications.user.{user_id}` (the hub forwards it)."""
    await bus.publish(
        user_channel(notification.user_id),
        {
            "type": "notification",
            "id": notification.id,
            "event_type": notification.event_type,
            "title": notification.title,
            "body": notification.body,
            "created_at": notification.created_at,
        },
    )
