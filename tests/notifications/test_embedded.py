"""The embedded default: outbox, reminders and delivery on SQLite with the in-process bus."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core import outbox
from core.bus import notifications_user
from core.db import utc_now
from core.identity.models import User
from core.principal import Role
from core.resources import Resources
from core.sessions import transaction
from core.settings import Settings
from notifications.models import Channel, DeliveryStatus
from ownat.migrate import upgrade_async
from tests.notifications.builders import notification_settings, notifications_of, worker

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
async def sqlite_resources(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Resources]:
    data_dir = tmp_path_factory.mktemp("notify-embedded")
    settings = Settings(_env_file=None, environment="test", data_dir=data_dir)  # type: ignore[call-arg]
    await upgrade_async(settings.effective_database_url)
    opened = Resources.open(settings)
    yield opened
    await opened.close()


async def test_the_loop_delivers_in_app_and_dedupes_reminders_on_sqlite(sqlite_resources) -> None:
    sessions = sqlite_resources.sessions
    user = User(
        email=f"n-{uuid.uuid4().hex[:8]}@example.org", full_name="Nurse", role=Role.NURSE, password_hash="!"
    )
    async with transaction(sessions) as session:
        session.add(user)
        await session.flush()
        event = outbox.record(
            session, event_type=outbox.EventType.ALARM_ESCALATED, code="spo2", priority="high"
        )
        for _ in range(2):
            await outbox.record_once(
                session, event_type=outbox.EventType.APPOINTMENT_REMINDER, dedupe_key="reminder:x:1h"
            )
    the_worker = worker(sqlite_resources, notification_settings())
    try:
        async with sqlite_resources.bus.subscribe(channels=[notifications_user(user.id)]) as live:
            tally = await the_worker.run_once()
            pushed = await asyncio.wait_for(anext(live), timeout=10)
    finally:
        await the_worker.close()
    assert tally.events == 2  # the escalation and one reminder, not two
    (row,) = await notifications_of(sessions, event_id=event.id)
    assert (row.channel, row.status) == (Channel.IN_APP, DeliveryStatus.SENT)
    assert pushed.data["id"] == str(row.id)
    assert row.sent_at is not None and row.sent_at <= utc_now() + timedelta(seconds=1)
