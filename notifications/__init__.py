"""Notifications: outbox events fanned out to people (in-app, email, SMS) and systems (webhooks).

`ownat worker` runs this package's loop (`NotificationWorker`), with the periodic jobs of other domains
that the process hands it (see `ownat.processes.worker`). Outbox events and due deliveries are claimed
with `FOR UPDATE SKIP LOCKED`, so any number of workers run side by side; `ownat dev` runs the same loop.

The front door of `notifications`: the services and schemas of the notification routes (the
inbox, preferences, deliveries, webhooks), the settings and the worker the processes start, and the
development mailbox the embedded platform shows.
"""

from __future__ import annotations

from notifications.dev_mailbox import DevEmail, recent_emails

# Enumerations and read schemas.
from notifications.models import Channel, DeliveryStatus
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

# Services: a person's inbox and preferences, deliveries and webhooks (admin), erasure of a user's rows.
from notifications.service import (
    backlog,
    create_webhook,
    deactivate_webhook,
    erase_for_user,
    get_preferences,
    list_deliveries,
    list_inbox,
    list_webhooks,
    mark_all_read,
    mark_read,
    retry_delivery,
    set_preferences,
)

# The processes: settings and the worker loop; the embedded platform's development mailbox.
from notifications.settings import NotificationSettings, load_notification_settings
from notifications.worker import NotificationWorker, WorkerIntervals

__all__ = [
    "Backlog",
    "Channel",
    "DeliveryRead",
    "DeliveryStatus",
    "DevEmail",
    "Inbox",
    "NotificationRead",
    "NotificationSettings",
    "NotificationWorker",
    "PreferencesRead",
    "PreferencesUpdate",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookRead",
    "WorkerIntervals",
    "backlog",
    "create_webhook",
    "deactivate_webhook",
    "erase_for_user",
    "get_preferences",
    "list_deliveries",
    "list_inbox",
    "list_webhooks",
    "load_notification_settings",
    "mark_all_read",
    "mark_read",
    "recent_emails",
    "retry_delivery",
    "set_preferences",
]
