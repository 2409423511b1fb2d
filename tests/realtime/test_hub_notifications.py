"""The in-app notifications feed on /ws: the caller's own unread notifications, then each new one live."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.outbox import EventType
from core.principal import Role
from core.settings import Settings
from tests.builders import create_user
from tests.clinical.builders import create_patient_user
from tests.notifications.builders import notification_settings, record_event, worker
from tests.realtime.hub_helpers import RunningHub, hub_client, serve_app, token_for


@pytest.fixture(scope="module")
async def running(settings: Settings) -> AsyncIterator[RunningHub]:
    async with serve_app(settings) as served:
        yield served


async def deliver(running: RunningHub) -> None:
    """One pass of the notification worker on the served app's own resources."""
    the_worker = worker(running.app.state.resources, notification_settings())
    try:
        await the_worker.run_once()
    finally:
        await the_worker.close()


async def test_the_feed_starts_from_unread_notifications_and_pushes_new_ones(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user, patient, _password = await create_patient_user(sessions)
    await record_event(sessions, EventType.DOCUMENT_ADDED, patient_id=patient.id)
    await deliver(running)
    async with hub_client(running.url, token_for(user, settings)) as client:
        snapshot = await client.subscribe("notifications", None)
        assert (snapshot["type"], snapshot["scope"], snapshot["id"]) == (
            "snapshot",
            "notifications",
            str(user.id),
        )
        assert snapshot["unread_count"] == 1
        assert [n["event_type"] for n in snapshot["notifications"]] == ["document.added"]

        await record_event(sessions, EventType.PRESCRIPTION_ISSUED, patient_id=patient.id)
        await deliver(running)
        pushed = await client.receive_type("notification")
        assert (
            pushed["scope"] == "notifications"
            and pushed["notification"]["event_type"] == "prescription.issued"
        )


async def test_nobody_watches_another_users_notifications(
    running: RunningHub, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    nurse, _ = await create_user(sessions, role=Role.NURSE)
    other, _patient, _password = await create_patient_user(sessions)
    async with hub_client(running.url, token_for(nurse, settings)) as client:
        refused = await client.subscribe("notifications", other.id)
        assert (refused["type"], refused["code"]) == ("error", "forbidden")
