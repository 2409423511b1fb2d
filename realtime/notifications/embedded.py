"""The worker loop inside `ownat dev`: the same passes, on the API's own resources (SQLite, in-process bus).

SQLite has no SKIP LOCKED and one writer; the embedded mode runs one loop, so nothing is claimed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from core.settings import Settings
from realtime.notifications.settings import NotificationSettings, load_notification_settings
from realtime.notifications.worker import NotificationWorker

log = logging.getLogger(__name__)


def embedded_notification_settings(settings: Settings, *, host: str, port: int) -> NotificationSettings:
    """The environment's notification settings, with what `ownat dev` knows better: its own address for
    links (unless OWNAT_PUBLIC_URL is set) and, in development without SMTP, the development mailbox."""
    loaded = load_notification_settings()
    overrides: dict[str, Any] = {}
    if "public_url" not in loaded.model_fields_set:
        shown_host = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host  # noqa: S104
        overrides["public_url"] = f"http://{shown_host}:{port}"
    if settings.environment == "development" and not loaded.smtp_host:
        overrides["dev_mailbox"] = True
    return loaded.model_copy(update=overrides)


async def run_notifications_when_started(
    server: Any,
    app: FastAPI,
    wait_started: Callable[[Any], Awaitable[None]],
    settings: NotificationSettings,
) -> None:
    """Runs the notification worker once the API (and so its resources) is up, until cancelled."""
    await wait_started(server)
    # `ownat dev` runs the periodic alarm checks itself, once the demo monitors have started.
    worker = NotificationWorker(resources=app.state.resources, settings=settings, alarm_checks=False)
    stop = asyncio.Event()
    try:
        await worker.run(stop)
    except Exception:
        # The API keeps serving without notifications; the failure must still be seen.
        log.exception("the embedded notification worker stopped")
    finally:
        with contextlib.suppress(Exception):
            await worker.close()
