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

from realtime.notifications.settings import load_notification_settings
from realtime.notifications.worker import NotificationWorker

log = logging.getLogger(__name__)


async def run_notifications_when_started(
    server: Any, app: FastAPI, wait_started: Callable[[Any], Awaitable[None]]
) -> None:
    """Runs the notification worker once the API (and so its resources) is up, until cancelled."""
    await wait_started(server)
    # `ownat dev` runs the periodic alarm checks itself, once the demo monitors have started.
    worker = NotificationWorker(
        resources=app.state.resources, settings=load_notification_settings(), alarm_checks=False
    )
    stop = asyncio.Event()
    try:
        await worker.run(stop)
    except Exception:
        # The API keeps serving without notifications; the failure must still be seen.
        log.exception("the embedded notification worker stopped")
    finally:
        with contextlib.suppress(Exception):
            await worker.close()
