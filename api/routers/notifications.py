"""Notification endpoints: the caller's inbox and preferences; deliveries and webhooks for administrators."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Request

import notifications
from api.deps import CurrentPrincipal, SessionDep
from core.db import utc_now
from notifications import (
    Backlog,
    Channel,
    DeliveryRead,
    DeliveryStatus,
    Inbox,
    NotificationRead,
    PreferencesRead,
    PreferencesUpdate,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)

router = APIRouter(tags=["notifications"])


@router.get("/notifications", summary="Your in-app notifications, newest first")
async def inbox(
    principal: CurrentPrincipal,
    session: SessionDep,
    unread: bool = False,
    cursor: str | None = None,
    limit: int = Query(default=20, ge=1, le=100),
) -> Inbox:
    return await notifications.list_inbox(
        session=session, actor=principal, unread_only=unread, cursor=cursor, limit=limit
    )


@router.post("/notifications/{notification_id}/read", summary="Mark one of your notifications read")
async def mark_read(
    notification_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> NotificationRead:
    return await notifications.mark_read(
        session=session, actor=principal, notification_id=notification_id, now=utc_now()
    )


@router.post("/notifications/read-all", summary="Mark all your notifications read")
async def mark_all_read(principal: CurrentPrincipal, session: SessionDep) -> dict[str, int]:
    return {"marked": await notifications.mark_all_read(session=session, actor=principal, now=utc_now())}


@router.get("/notifications/preferences", summary="Your channels, language, time zone and quiet hours")
async def get_preferences(principal: CurrentPrincipal, session: SessionDep) -> PreferencesRead:
    return await notifications.get_preferences(session=session, actor=principal)


@router.put("/notifications/preferences", summary="Replace your notification preferences")
async def set_preferences(
    body: PreferencesUpdate, principal: CurrentPrincipal, session: SessionDep
) -> PreferencesRead:
    return await notifications.set_preferences(session=session, actor=principal, preferences=body)


@router.get("/notifications/deliveries", summary="Deliveries by status, dead letters by default (admin)")
async def deliveries(
    principal: CurrentPrincipal,
    session: SessionDep,
    status: DeliveryStatus = DeliveryStatus.DEAD,
    channel: Channel | None = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> list[DeliveryRead]:
    return await notifications.list_deliveries(
        session=session, actor=principal, status=status, channel=channel, limit=limit
    )


@router.get("/notifications/backlog", summary="Waiting events and deliveries by status and channel (admin)")
async def backlog(principal: CurrentPrincipal, session: SessionDep) -> Backlog:
    return await notifications.backlog(session=session, actor=principal)


@router.post("/notifications/deliveries/{delivery_id}/retry", summary="Try a dead delivery again (admin)")
async def retry(delivery_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> DeliveryRead:
    return await notifications.retry_delivery(
        session=session, actor=principal, delivery_id=delivery_id, now=utc_now()
    )


@router.post(
    "/notifications/webhooks", status_code=201, summary="Subscribe a system to signed events (admin)"
)
async def create_webhook(
    body: WebhookCreate, principal: CurrentPrincipal, session: SessionDep, request: Request
) -> WebhookCreated:
    allowed = request.app.state.webhook_allowed_hosts
    return await notifications.create_webhook(
        session=session, actor=principal, webhook=body, allowed_hosts=allowed
    )


@router.get("/notifications/webhooks", summary="Webhook subscriptions (admin)")
async def list_webhooks(principal: CurrentPrincipal, session: SessionDep) -> list[WebhookRead]:
    return await notifications.list_webhooks(session=session, actor=principal)


@router.post("/notifications/webhooks/{webhook_id}/deactivate", summary="Stop a subscription (admin)")
async def deactivate_webhook(
    webhook_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> WebhookRead:
    return await notifications.deactivate_webhook(session=session, actor=principal, webhook_id=webhook_id)
