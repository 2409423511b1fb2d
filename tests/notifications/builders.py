"""Builders for the notification tests: settings pointing at loopback servers, accounts, events, workers."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import outbox
from core.db import utc_now
from core.resources import Resources
from core.sessions import transaction
from notifications.models import Notification, NotificationPreference, WebhookSubscription
from notifications.settings import NotificationSettings
from notifications.worker import NotificationWorker
from ownat.worker_jobs import periodic_jobs


def notification_settings(**overrides: Any) -> NotificationSettings:
    """Defaults for tests: no environment, short timeouts, no real provider unless given."""
    values: dict[str, Any] = {
        "public_url": "https://ownat.example",
        "provider_timeout_s": 20.0,
        "smtp_security": "none",
        # The webhook receivers of these tests listen on loopback, which webhooks may not reach otherwise.
        "webhook_allowed_hosts": ["127.0.0.1"],
    }
    values.update(overrides)
    return NotificationSettings(_env_file=None, **values)


class SteppingClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utc_now()

    def __call__(self) -> datetime:
        return self.now


def worker(
    resources: Resources, settings: NotificationSettings, clock: Callable[[], datetime] = utc_now
) -> NotificationWorker:
    return NotificationWorker(
        resources=resources, settings=settings, jobs=periodic_jobs(alarm_checks=False), clock=clock
    )


async def deliver_everything_due(the_worker: NotificationWorker) -> None:
    """Delivers batches until nothing is due: the database is shared with other tests, whose rows
    also fall due when a test moves its clock forward, and one batch may be all theirs."""
    while await the_worker.deliver_due():
        pass


async def set_preference(
    sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID, **values: object
) -> None:
    async with transaction(sessions) as session:
        session.add(NotificationPreference(user_id=user_id, **values))


async def record_event(
    sessions: async_sessionmaker[AsyncSession], event_type: outbox.EventType, **payload: object
) -> uuid.UUID:
    async with transaction(sessions) as session:
        return outbox.record(session, event_type=event_type, **payload).id


async def subscription(
    sessions: async_sessionmaker[AsyncSession], url: str, event_types: list[str], key: str = "hook-key"
) -> uuid.UUID:
    async with transaction(sessions) as session:
        row = WebhookSubscription(id=uuid.uuid4(), url=url, secret=key, event_types=event_types, active=True)
        session.add(row)
    return row.id


async def deactivate(sessions: async_sessionmaker[AsyncSession], subscription_id: uuid.UUID) -> None:
    async with transaction(sessions) as session:
        row = await session.get(WebhookSubscription, subscription_id)
        assert row is not None
        row.active = False


async def notifications_of(sessions: async_sessionmaker[AsyncSession], **where: object) -> list[Notification]:
    async with sessions() as session:
        query = select(Notification).order_by(Notification.channel)
        for key, value in where.items():
            query = query.where(getattr(Notification, key) == value)
        return list(await session.scalars(query))


ROOT = Path(__file__).resolve().parents[2]


def worker_process(settings: Any, log_path: Path, **environment: str) -> subprocess.Popen[bytes]:
    """A real `ownat worker` on this run's database and Redis, polling every 0.2 s; `environment` adds OWNAT_ settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OWNAT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        OWNAT_ENVIRONMENT="test",
        OWNAT_DATABASE_URL=settings.database_url,
        OWNAT_REDIS_URL=settings.redis_url,
        OWNAT_REDIS_KEY_PREFIX=settings.redis_key_prefix,
        OWNAT_SECRET_KEY=settings.secret_key.get_secret_value(),
        OWNAT_LOG_JSON="false",
        OWNAT_WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
        **environment,
    )
    command = [sys.executable, "-m", "ownat.cli", "worker", "--poll-interval", "0.2"]
    with log_path.open("ab") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=log_path.parent)
