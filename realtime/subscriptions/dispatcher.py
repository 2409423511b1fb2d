"""The api process's side of subscriptions: bus in, recorded events, websockets out.

One `SubscriptionDispatcher` per api process, owned by the app's lifespan. It keeps the active
subscriptions in memory (reloaded when one is created or deleted, and every `refresh_s` in case a
message was missed), listens to the patient and ward channels they need (plus every alarm), records
the matching events (`record`, in rounds: one transaction for whatever arrived meanwhile) and
publishes each notification on `fhir.subscription.<id>` (`core.bus.fhir_subscription`); every
instance forwards what arrives there to the websockets bound to that subscription here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus import (
    ALARMS_PATIENT_ANY,
    FHIR_SUBSCRIPTION_ANY,
    FHIR_SUBSCRIPTIONS_CHANGED,
    AlarmMessage,
    Bus,
    BusMessage,
    DeviceReadings,
    FhirBundle,
    Message,
    Subscription,
    WardReadings,
    decode_payload,
    fhir_subscription,
    parse_channel,
    vitals_patient,
    vitals_ward,
)
from core.sessions import transaction
from core.tasks import cancel_and_wait
from realtime.subscriptions import sources
from realtime.subscriptions.models import FhirSubscription
from realtime.subscriptions.record import LIVE_STATUSES, TopicEvent, matches, record_many
from realtime.subscriptions.topics import ALARMS, VITAL_SIGNS

log = logging.getLogger(__name__)

PATTERNS = [ALARMS_PATIENT_ANY, FHIR_SUBSCRIPTION_ANY]
ROUND_ATTEMPTS = 3
ROUND_RETRY_S = 0.2

Deliver = Callable[[FhirBundle], None]


class SubscriptionDispatcher:
    """Feeds the subscriptions of the whole platform from the bus; delivers to this process's sockets."""

    def __init__(
        self, *, bus: Bus, sessions: async_sessionmaker[AsyncSession], refresh_s: float = 10.0
    ) -> None:
        self.bus = bus
        self.sessions = sessions
        self.refresh_s = refresh_s
        self.active: dict[uuid.UUID, FhirSubscription] = {}
        self.sockets: dict[uuid.UUID, set[Deliver]] = {}
        self.listening = asyncio.Event()
        self._channels: set[str] = set()
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._recorder: asyncio.Task[None] | None = None
        self._pending: dict[uuid.UUID, tuple[FhirSubscription, list[TopicEvent]]] = {}
        self._wake = asyncio.Event()
        self._full_vitals = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fhir-subscriptions")
        self._recorder = asyncio.create_task(self._record_forever(), name="fhir-subscriptions-recorder")

    async def stop(self) -> None:
        for task in (self._task, self._recorder):
            if task is not None:
                await cancel_and_wait(task)

    def bind(self, subscription_id: uuid.UUID, deliver: Deliver) -> Callable[[], None]:
        """Hands this subscription's notifications to `deliver`; returns the unbind."""
        self.sockets.setdefault(subscription_id, set()).add(deliver)

        def unbind() -> None:
            bound = self.sockets.get(subscription_id)
            if bound is not None:
                bound.discard(deliver)
                if not bound:
                    del self.sockets[subscription_id]

        return unbind

    def listens_to(self, channel: str) -> bool:
        """Whether the bus subscription holds `channel` now (the tests wait for it)."""
        return channel in self._channels

    async def _run(self) -> None:
        while True:
            try:
                channels = [FHIR_SUBSCRIPTIONS_CHANGED]
                async with self.bus.subscribe(channels=channels, patterns=PATTERNS) as subscription:
                    self._subscription, self._channels = subscription, set()
                    # Redis confirms new channels on the reading side: the refresher adds them from
                    # its own task while this one reads.
                    refresher = asyncio.create_task(self._refresh_forever())
                    try:
                        async for message in subscription:
                            await self._handle(message)
                    finally:
                        refresher.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await refresher
            except asyncio.CancelledError:
                raise
            except Exception:  # the bus went away: resubscribe; missed events are in the database
                log.exception("subscription dispatcher lost the bus; resubscribing")
                self.listening.clear()
                await asyncio.sleep(1.0)

    async def _refresh_forever(self) -> None:
        while True:
            try:
                await self.refresh()
                self.listening.set()
            except Exception:
                log.warning("could not reload the FHIR subscriptions", exc_info=True)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.refresh_s):
                    await self._changed.wait()
            self._changed.clear()

    async def refresh(self) -> None:
        """Reloads the active subscriptions and listens to exactly the vitals channels they need."""
        async with transaction(self.sessions) as session:
            rows = list(
                await session.scalars(
                    select(FhirSubscription).where(FhirSubscription.status.in_(LIVE_STATUSES))
                )
            )
            session.expunge_all()
        self.active = {row.id: row for row in rows}
        # Rendering each reading's Observation is most of the work per reading: only when wanted.
        self._full_vitals = any(
            row.topic == VITAL_SIGNS.url and row.content == "full-resource" for row in rows
        )
        wanted = set()
        for row in rows:
            if row.topic != VITAL_SIGNS.url:
                continue
            if row.patient_id is not None:
                wanted.add(vitals_patient(row.patient_id))
            if row.ward_id is not None:
                wanted.add(vitals_ward(row.ward_id))
        subscription = self._subscription
        if subscription is None:
            return
        added, removed = wanted - self._channels, self._channels - wanted
        if added:
            await subscription.add(sorted(added))
        if removed:
            await subscription.remove(sorted(removed))
        self._channels = wanted

    async def _handle(self, message: BusMessage) -> None:
        channel = message.channel
        if message.kind == "resync" or channel == FHIR_SUBSCRIPTIONS_CHANGED:
            self._changed.set()
            return
        name = parse_channel(channel)
        if name is None:
            return
        if (name.family, name.kind) == ("fhir", "subscription"):
            self._deliver_here(name.id, message.data)
            return
        try:
            events, by_ward = self._events_of(name.family, name.kind, message.payload)
        except ValueError:
            # Not the contract's shape: nothing of it can be recorded.
            log.warning("dropped a malformed bus message on %s", channel)
            return
        if events:
            self.record(events, by_ward=by_ward)

    def _events_of(
        self, family: str, kind: str, payload: str | bytes
    ) -> tuple[list[TopicEvent], bool | None]:
        if (family, kind) == ("vitals", "patient"):
            device = decode_payload(DeviceReadings, payload)
            return sources.vital_events(device, with_resource=self._full_vitals), False
        if (family, kind) == ("vitals", "ward"):
            ward = decode_payload(WardReadings, payload)
            return sources.ward_vital_events(ward, with_resource=self._full_vitals), True
        if (family, kind) == ("alarms", "patient"):
            return sources.alarm_events(decode_payload(AlarmMessage, payload)), None
        return [], None

    def record(self, events: list[TopicEvent], *, by_ward: bool | None = None) -> None:
        """Queues the events for every active subscription they match; the recorder records them.

        A reading reaches both its patient's and its ward's channel: `by_ward` says which one this
        is, so that patient subscriptions take it from the first and ward subscriptions from the second.
        """
        for row in list(self.active.values()):
            if row.topic == VITAL_SIGNS.url and by_ward is not None and (row.ward_id is not None) != by_ward:
                continue
            chosen = [event for event in events if matches(row, event)]
            if chosen:
                # The row as matched: a refresh may replace `active` before the recorder runs.
                self._pending.setdefault(row.id, (row, []))[1].extend(chosen)
        if self._pending:
            self._wake.set()

    async def _record_forever(self) -> None:
        """Records whatever is pending, one transaction a round, then publishes the notifications.

        Bus messages keep arriving while a round commits; they are recorded together by the next
        one, so the database's cost per round, not per message, sets the pace under load.
        """
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, {}
            for attempt in range(1, ROUND_ATTEMPTS + 1):
                try:
                    await self._record_round(pending)
                    break
                except Exception:  # the database hiccuped: the round is retried whole (keys dedupe)
                    if attempt == ROUND_ATTEMPTS:
                        # The bus is at-most-once: these events are lost to the subscribers (the
                        # readings themselves are stored); say so loudly.
                        log.exception("gave up recording %d subscriptions' events", len(pending))
                    else:
                        await asyncio.sleep(ROUND_RETRY_S * attempt)

    async def _record_round(
        self, pending: dict[uuid.UUID, tuple[FhirSubscription, list[TopicEvent]]]
    ) -> None:
        async with transaction(self.sessions) as session:
            bundles = await record_many(session, {key: chosen for key, (_row, chosen) in pending.items()})
        published: list[tuple[str, Message]] = [
            (fhir_subscription(subscription_id), bundle)
            for subscription_id, bundle in bundles.items()
            if pending[subscription_id][0].channel_type == "websocket"
        ]
        if published:
            await self.bus.publish_many(published)

    def _deliver_here(self, raw_id: str, bundle: FhirBundle) -> None:
        try:
            subscription_id = uuid.UUID(raw_id)
        except ValueError:
            return
        for deliver in list(self.sockets.get(subscription_id, ())):
            deliver(bundle)


__all__ = ["ALARMS", "SubscriptionDispatcher"]
