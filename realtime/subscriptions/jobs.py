"""`ownat worker`'s subscription work each pass: the outbox feed, rest-hook heartbeats and deliveries,
and retention of recorded events."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import delete

from core.bus import fhir_subscription
from core.resources import Resources
from core.sessions import transaction
from realtime.subscriptions.feed import feed_outbox
from realtime.subscriptions.hooks import TIMEOUT_S, deliver_due, queue_heartbeats
from realtime.subscriptions.models import FhirHookDelivery, FhirSubscriptionEvent

PURGE_EVERY_S = 300.0


class SubscriptionJobs:
    """Owns the worker's HTTP client for rest-hooks (no redirects: the guard checked this URL only)."""

    def __init__(self) -> None:
        self.http = httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False)
        self._next_purge: datetime | None = None

    async def __call__(self, resources: Resources, *, now: datetime) -> None:
        async with transaction(resources.sessions) as session:
            published = await feed_outbox(session=session, now=now)
            await queue_heartbeats(session=session, now=now)
        if published:
            await resources.bus.publish_many([(fhir_subscription(key), bundle) for key, bundle in published])
        while await deliver_due(sessions=resources.sessions, client=self.http, settings=resources.settings):
            pass
        if self._next_purge is None or now >= self._next_purge:
            self._next_purge = now + timedelta(seconds=PURGE_EVERY_S)
            await self.purge(resources, now=now)

    async def purge(self, resources: Resources, *, now: datetime) -> None:
        """Drops events older than the retention, and deliveries settled as long ago."""
        cutoff = now - timedelta(seconds=resources.settings.fhir_subscription_event_retention_s)
        async with transaction(resources.sessions) as session:
            await session.execute(
                delete(FhirSubscriptionEvent).where(FhirSubscriptionEvent.occurred_at < cutoff)
            )
            await session.execute(
                delete(FhirHookDelivery).where(
                    FhirHookDelivery.status.in_(("sent", "dead")), FhirHookDelivery.created_at < cutoff
                )
            )

    async def close(self) -> None:
        await self.http.aclose()
