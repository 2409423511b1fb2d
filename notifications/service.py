"""The notification API's logic: the caller's inbox and preferences; deliveries and webhooks for admins."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, webhook_targets
from core.access import refuse, require_role
from core.errors import NotFound
from core.outbox import OutboxEvent
from core.paging import encode_cursor, newest_first, split_page
from core.principal import Principal, Role
from notifications.models import (
    Channel,
    DeliveryStatus,
    Notification,
    NotificationPreference,
    WebhookSubscription,
)
from notifications.schemas import (
    Backlog,
    DeliveryRead,
    Inbox,
    NotificationRead,
    PreferencesRead,
    PreferencesUpdate,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)

RESOURCE = "notification"


def _audit(session: AsyncSession, actor: Principal, action: str, resource_id: object | None = None) -> None:
    # A patient's notifications speak of their care: each read and change is on the record.
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type=RESOURCE,
        resource_id=resource_id,
        patient_id=actor.patient_id,
    )


def _mine(actor: Principal) -> tuple[ColumnElement[bool], ...]:
    return (Notification.user_id == actor.user_id, Notification.channel == Channel.IN_APP)


async def list_inbox(
    *, session: AsyncSession, actor: Principal, unread_only: bool, cursor: str | None, limit: int
) -> Inbox:
    """The caller's own in-app notifications, newest first."""
    query = select(Notification).where(*_mine(actor))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = newest_first(
        query, time_column=Notification.created_at, id_column=Notification.id, cursor=cursor, limit=limit
    )
    rows, more = split_page(list(await session.scalars(query)), limit=limit)
    unread = await session.scalar(
        select(func.count()).select_from(Notification).where(*_mine(actor), Notification.read_at.is_(None))
    )
    _audit(session, actor, "list")
    return Inbox(
        items=[NotificationRead.model_validate(row) for row in rows],
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None,
        unread_count=unread or 0,
    )


async def mark_read(
    *, session: AsyncSession, actor: Principal, notification_id: uuid.UUID, now: datetime
) -> NotificationRead:
    """Marks one of the caller's notifications read; someone else's is refused."""
    row = await session.get(Notification, notification_id)
    if row is None or row.channel is not Channel.IN_APP:
        raise NotFound(f"There is no notification {notification_id}.")
    if row.user_id != actor.user_id:
        refuse(
            session,
            actor,
            action="update",
            resource_type=RESOURCE,
            resource_id=notification_id,
            message="You may only mark your own notifications as read.",
        )
    if row.read_at is None:
        row.read_at = now
        await session.flush()
    _audit(session, actor, "update", notification_id)
    return NotificationRead.model_validate(row)


async def mark_all_read(*, session: AsyncSession, actor: Principal, now: datetime) -> int:
    """Marks every unread notification of the caller read; returns how many."""
    result = await session.execute(
        update(Notification).where(*_mine(actor), Notification.read_at.is_(None)).values(read_at=now)
    )
    _audit(session, actor, "update")
    return int(result.rowcount)  # type: ignore[attr-defined]


async def get_preferences(*, session: AsyncSession, actor: Principal) -> PreferencesRead:
    row = await session.get(NotificationPreference, actor.user_id)
    _audit(session, actor, "read", actor.user_id)
    return PreferencesRead.model_validate(row) if row else PreferencesRead()


async def set_preferences(
    *, session: AsyncSession, actor: Principal, preferences: PreferencesUpdate
) -> PreferencesRead:
    """Replaces the caller's preferences."""
    row = await session.get(NotificationPreference, actor.user_id)
    if row is None:
        row = NotificationPreference(user_id=actor.user_id)
        session.add(row)
    values = preferences.model_dump()
    values["muted_events"] = [event.value for event in preferences.muted_events]
    for key, value in values.items():
        setattr(row, key, value)
    await session.flush()
    _audit(session, actor, "update", actor.user_id)
    return PreferencesRead.model_validate(row)


async def list_deliveries(
    *, session: AsyncSession, actor: Principal, status: DeliveryStatus, channel: Channel | None, limit: int
) -> list[DeliveryRead]:
    """Deliveries in `status` (dead letters by default), newest first: administrators only."""
    require_role(session, actor, [Role.ADMIN], action="list", resource_type="notification_delivery")
    query = select(Notification).where(Notification.status == status)
    if channel is not None:
        query = query.where(Notification.channel == channel)
    rows = await session.scalars(query.order_by(Notification.created_at.desc()).limit(limit))
    audit.record(session, actor=actor, action="list", resource_type="notification_delivery")
    return [DeliveryRead.model_validate(row) for row in rows]


async def backlog(*, session: AsyncSession, actor: Principal) -> Backlog:
    """Counts of waiting events and of deliveries by status and channel: administrators only."""
    require_role(session, actor, [Role.ADMIN], action="read", resource_type="notification_backlog")
    waiting = await session.scalar(
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.dispatched_at.is_(None))
    )
    counts: dict[str, dict[str, int]] = {}
    rows = await session.execute(
        select(Notification.status, Notification.channel, func.count()).group_by(
            Notification.status, Notification.channel
        )
    )
    for status, channel, count in rows:
        counts.setdefault(status.value, {})[channel.value] = count
    oldest = await session.scalar(
        select(func.min(Notification.next_attempt_at)).where(Notification.status == DeliveryStatus.PENDING)
    )
    return Backlog(waiting_events=waiting or 0, deliveries=counts, oldest_due_at=oldest)


async def retry_delivery(
    *, session: AsyncSession, actor: Principal, delivery_id: uuid.UUID, now: datetime
) -> DeliveryRead:
    """Gives a dead delivery a fresh set of attempts, starting now."""
    require_role(session, actor, [Role.ADMIN], action="retry", resource_type="notification_delivery")
    row = await session.get(Notification, delivery_id)
    if row is None:
        raise NotFound(f"There is no delivery {delivery_id}.")
    if row.status is DeliveryStatus.DEAD:
        row.status, row.attempts, row.next_attempt_at = DeliveryStatus.PENDING, 0, now
        await session.flush()
    audit.record(
        session, actor=actor, action="retry", resource_type="notification_delivery", resource_id=delivery_id
    )
    return DeliveryRead.model_validate(row)


async def create_webhook(
    *, session: AsyncSession, actor: Principal, webhook: WebhookCreate, allowed_hosts: frozenset[str]
) -> WebhookCreated:
    """Subscribes an outside system; its signing secret is returned this once."""
    require_role(session, actor, [Role.ADMIN], action="create", resource_type="webhook_subscription")
    await webhook_targets.check_registration(str(webhook.url), allowed_hosts)
    row = WebhookSubscription(
        id=uuid.uuid4(),
        url=str(webhook.url),
        description=webhook.description,
        secret=secrets.token_urlsafe(32),
        event_types=[event.value for event in webhook.event_types],
        active=True,
        created_by=actor.user_id,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session, actor=actor, action="create", resource_type="webhook_subscription", resource_id=row.id
    )
    return WebhookCreated(**WebhookRead.model_validate(row).model_dump(), secret=row.secret)


async def list_webhooks(*, session: AsyncSession, actor: Principal) -> list[WebhookRead]:
    require_role(session, actor, [Role.ADMIN], action="list", resource_type="webhook_subscription")
    rows = await session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.created_at))
    return [WebhookRead.model_validate(row) for row in rows]


async def deactivate_webhook(
    *, session: AsyncSession, actor: Principal, webhook_id: uuid.UUID
) -> WebhookRead:
    """Stops new deliveries to the subscription (what is queued already is still sent)."""
    require_role(session, actor, [Role.ADMIN], action="update", resource_type="webhook_subscription")
    row = await session.get(WebhookSubscription, webhook_id)
    if row is None:
        raise NotFound(f"There is no webhook subscription {webhook_id}.")
    row.active = False
    await session.flush()
    audit.record(
        session, actor=actor, action="update", resource_type="webhook_subscription", resource_id=row.id
    )
    return WebhookRead.model_validate(row)


async def erase_for_user(*, session: AsyncSession, actor: Principal, user_id: uuid.UUID) -> int:
    """Removes a user's notifications and preferences (an erasure request); returns the deliveries removed."""
    require_role(session, actor, [Role.ADMIN], action="erase", resource_type=RESOURCE)
    removed = await session.execute(delete(Notification).where(Notification.user_id == user_id))
    await session.execute(delete(NotificationPreference).where(NotificationPreference.user_id == user_id))
    count = int(removed.rowcount)  # type: ignore[attr-defined]
    audit.record(
        session,
        actor=actor,
        action="erase",
        resource_type=RESOURCE,
        detail={"user_id": str(user_id), "removed": count},
    )
    return count
