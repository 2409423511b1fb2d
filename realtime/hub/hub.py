"""The per-process hub: one bus subscription feeding the live feeds that connections watch."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import tracing
from core.bus import (
    ALARMS_EVALUATION,
    IDENTITY_SESSIONS,
    Bus,
    BusMessage,
    DeviceReadings,
    EvaluatorBeat,
    SessionsEnded,
    Subscription,
    WardReadings,
    decode_payload,
    reconnect_delay_s,
    vitals_patient,
)
from core.identity import TokenRevocations, ends_session_of, sessions_ended
from core.principal import STAFF_ROLES, Principal
from core.settings import Settings
from core.tasks import cancel_and_wait
from realtime.hub.alarm_watch import AlarmEvaluationWatch
from realtime.hub.connection import Connection, ConnectionTuning
from realtime.hub.feeds import LiveFeeds
from realtime.hub.keys import (
    EVENT_PATTERNS,
    READING_PATTERNS,
    SubscriptionKey,
    event_type_of,
    keys_for_channel,
)
from realtime.hub.metrics import HubMetrics, watch_loop_lag
from realtime.hub.snapshots import SnapshotReader
from realtime.socket_signin import CLOSE_NOT_AUTHENTICATED, SESSION_ENDED_REASON, SIGN_IN_TIMEOUT_S
from realtime.socket_wire import CLOSE_GOING_AWAY, Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HubTuning(ConnectionTuning):
    # How long a new socket may take to send its `auth` message (shorter in tests).
    auth_timeout_s: float = SIGN_IN_TIMEOUT_S
    # Snapshot reads and audit writes at once; the rest queue (see `SnapshotReader`).
    snapshot_concurrency: int = 4


def patient_vitals_channel(patient_id: uuid.UUID) -> str:
    # A patient's readings: subscribed only while someone here watches the patient, whereas wards,
    # alarms and notifications come through the patterns of `READING_PATTERNS` and `EVENT_PATTERNS`.
    return vitals_patient(patient_id)


class Hub:
    """Owned by the app's lifespan: `start` subscribes to the bus, `stop` closes every connection."""

    def __init__(
        self,
        *,
        bus: Bus,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        revocations: TokenRevocations,
        tuning: HubTuning | None = None,
        metrics: HubMetrics | None = None,
    ) -> None:
        self.bus = bus
        # The app's, shared by the hubs it starts in turn (its counters are registered once).
        self.metrics = metrics or HubMetrics()
        self.sessions = sessions
        self.settings = settings
        self.revocations = revocations
        self.tuning = tuning or HubTuning()
        # Looked at once: None while tracing is off, and then no span is ever made here.
        self._tracer = tracing.tracer()
        self.feeds = LiveFeeds(coalesce_interval_s=self.tuning.coalesce_interval_s, tracer=self._tracer)
        self.snapshots = SnapshotReader(sessions, concurrency=self.tuning.snapshot_concurrency)
        self._connections: set[Connection] = set()
        self._pumps: list[asyncio.Task[None]] = []
        # The readings lane's subscription, to which watched patients' channels are added.
        self._subscription: Subscription | None = None
        self._lanes_listening: set[str] = set()
        self._resync_due = False
        # Patient channels being added on the bus, which their first watchers' snapshots wait for.
        self._adding: dict[SubscriptionKey, asyncio.Future[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        # Set while both bus subscriptions are active; tests and readiness checks await it.
        self.listening = asyncio.Event()
        # Whether alarms are being evaluated anywhere; staff pages are told when that changes.
        self.alarm_watch = AlarmEvaluationWatch(
            stale_after_s=settings.alarm_watchdog_s, announce=self._tell_staff, metrics=self.metrics
        )

    async def start(self) -> None:
        """Starts the bus subscription tasks: readings, and events (alarms, notifications, sessions)."""
        self._pumps = [
            asyncio.create_task(self._run_pump("readings"), name="hub-bus-readings"),
            asyncio.create_task(self._run_pump("events"), name="hub-bus-events"),
            # Not pumps, stopped with them: whether this process keeps up (`realtime.hub.metrics`),
            # and whether alarm evaluators are heard.
            asyncio.create_task(watch_loop_lag(self.metrics), name="hub-loop-lag"),
            asyncio.create_task(self.alarm_watch.run(), name="hub-alarm-watch"),
        ]

    async def stop(self) -> None:
        """Stops receiving and asks every connection to close."""
        for pump in self._pumps:
            await cancel_and_wait(pump)
        for task in list(self._background):
            task.cancel()
        self.feeds.close()
        for connection in list(self._connections):
            connection.drop(CLOSE_GOING_AWAY, "server shutting down")

    def connect(
        self, transport: Transport, principal: Principal, *, expires_at: datetime | None = None
    ) -> Connection:
        """Registers a signed-in client whose access token expires at `expires_at`."""

        async def load(key: SubscriptionKey, reason: str) -> dict[str, Any]:
            # The connection's principal now: a renewed sign-in carries the new token's id.
            return await self.snapshots.authorised(principal=connection.principal, key=key, reason=reason)

        connection = Connection(
            transport=transport,
            principal=principal,
            tuning=self.tuning,
            load=load,
            expires_at=expires_at,
            metrics=self.metrics,
            tracer=self._tracer,
        )
        self._connections.add(connection)
        return connection

    def disconnect(self, connection: Connection) -> None:
        """Forgets a client and all its subscriptions."""
        for key in list(connection.feeds):
            self.unsubscribe(connection, key)
        self._connections.discard(connection)

    async def subscribe(self, connection: Connection, key: SubscriptionKey) -> None:
        """Routes `key`'s messages to the connection from now on (before its snapshot is read)."""
        connection.open_feed(key)
        first = self.feeds.watch(key, connection)
        if key.scope != "patient":
            return
        if first:
            self._adding[key] = asyncio.ensure_future(self._add_channel(key))
        adding = self._adding.get(key)
        if adding is not None:
            # A second watcher arriving meanwhile also waits: its snapshot must not be read before
            # the patient's readings are sure to reach this process.
            await asyncio.shield(adding)

    async def _add_channel(self, key: SubscriptionKey) -> None:
        try:
            subscription = self._subscription
            if subscription is not None:  # otherwise the next subscription includes it
                await subscription.add([patient_vitals_channel(key.id)])
        except Exception:
            # Subscribed on Redis all the same once it answers; the bus then says resync.
            log.warning("subscribing to %s's readings is not confirmed yet", key.id)
        finally:
            self._adding.pop(key, None)

    def unsubscribe(self, connection: Connection, key: SubscriptionKey) -> None:
        """Stops routing `key` to the connection."""
        connection.close_feed(key)
        if self.feeds.unwatch(key, connection) and key.scope == "patient":
            subscription = self._subscription
            if subscription is not None:
                self._in_background(subscription.remove([patient_vitals_channel(key.id)]))

    def connections(self) -> list[Connection]:
        """The connections open now."""
        return list(self._connections)

    def dispatch(self, message: BusMessage) -> None:
        """Hands one bus message to the feeds it is for."""
        if message.kind == "resync":
            # Messages may have been lost while the bus was reconnecting: everyone starts afresh,
            # once for all the markers of one reconnection.
            self._resync_soon()
            return
        channel = message.channel
        if channel == IDENTITY_SESSIONS:
            ended = sessions_ended(message.payload)
            if ended is not None:
                self._end_sessions(ended)
            return
        if channel == ALARMS_EVALUATION:
            self._evaluator_heard(message.payload)
            return
        keys = keys_for_channel(channel)
        if not keys:
            return
        try:
            self._feed(keys, channel, message.payload)
        except ValueError:
            # Not the contract's shape (someone else's writer); one bad payload must not end the lane.
            log.warning("dropped a malformed bus message on %s", channel)

    def _feed(self, keys: list[SubscriptionKey], channel: str, payload: str | bytes) -> None:
        event_type = event_type_of(channel)
        if event_type is not None:
            # Alarms are timed from here to each socket (`ownat_hub_alarm_receive_to_send_seconds`).
            received_at = asyncio.get_running_loop().time() if event_type == "alarm" else None
            for key in keys:
                self.feeds.forward_event(key, event_type, payload, received_at=received_at)
            return
        # Readings: a ward's message holds each of its devices' messages; a patient's is one device's.
        if keys[0].scope != "ward":
            self.feeds.add_devices(keys[0], [decode_payload(DeviceReadings, payload)])
            return
        ward = decode_payload(WardReadings, payload)
        if ward.sent_at is not None:
            self.metrics.bus_to_receive.observe(max(0.0, time.time() - ward.sent_at))
        received_at = asyncio.get_running_loop().time()
        if ward.traceparent is None or self._tracer is None:
            self.feeds.add_devices(keys[0], ward.devices, received_at=received_at)
            return
        span = self._tracer.start_span(
            "hub.receive",
            context=tracing.remote_parent(ward.traceparent) or tracing.ROOT,
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "redis",
                "messaging.operation.type": "receive",
                "messaging.destination.name": channel,
                "ownat.devices": len(ward.devices),
            },
        )
        self.feeds.add_devices(
            keys[0], ward.devices, received_at=received_at, trace=tracing.sampled_context(span)
        )
        span.end()

    def _evaluator_heard(self, payload: str | bytes) -> None:
        try:
            beat = decode_payload(EvaluatorBeat, payload)
        except ValueError:
            log.warning("dropped a malformed alarm evaluator heartbeat")
            return
        self.alarm_watch.heard(beat)

    def greeting(self, principal: Principal) -> dict[str, Any]:
        """What a sign-in's `ready` adds for this caller: staff learn whether alarms are being evaluated."""
        if principal.role in STAFF_ROLES:
            return {"alarm_evaluation": self.alarm_watch.status()}
        return {}

    def _tell_staff(self, message: dict[str, Any]) -> None:
        # Patients' and billing pages do not respond to alarms; the staff watching beds must know.
        for connection in list(self._connections):
            if connection.principal.role in STAFF_ROLES:
                connection.send(message)

    def _end_sessions(self, ended: SessionsEnded) -> None:
        # A deactivated, changed or signed-out user's sockets close: their tokens are refused now.
        for connection in list(self._connections):
            if ends_session_of(connection.principal, ended):
                connection.drop(CLOSE_NOT_AUTHENTICATED, SESSION_ENDED_REASON)

    def _resync_soon(self) -> None:
        if self._resync_due:
            return
        self._resync_due = True
        asyncio.get_running_loop().call_soon(self._resync_everyone)

    def _resync_everyone(self) -> None:
        self._resync_due = False
        for connection in list(self._connections):
            if connection.feeds:
                connection.resync("bus-reconnected")

    def _in_background(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run_pump(self, lane: Literal["readings", "events"]) -> None:
        attempt = 0
        while True:
            try:
                if lane == "readings":
                    channels = [
                        patient_vitals_channel(k.id) for k in self.feeds.watched() if k.scope == "patient"
                    ]
                    patterns = READING_PATTERNS
                else:
                    channels, patterns = [IDENTITY_SESSIONS, ALARMS_EVALUATION], EVENT_PATTERNS
                async with self.bus.subscribe(channels=channels, patterns=patterns) as subscription:
                    reader = asyncio.create_task(self._read(subscription))
                    if lane == "readings":
                        self._subscription = subscription
                        # Patients first watched while the subscription was being set up.
                        late = [
                            patient_vitals_channel(k.id) for k in self.feeds.watched() if k.scope == "patient"
                        ]
                        try:
                            await subscription.add(late)
                        except Exception:
                            log.warning("patients' readings not confirmed on the new subscription yet")
                    self._lane_listening(lane, True)
                    attempt = 0
                    await reader
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hub bus subscription (%s) failed; subscribing again", lane)
            finally:
                if lane == "readings":
                    self._subscription = None
                self._lane_listening(lane, False)
            # The subscription ended (bus error); subscribe again and resync everyone, who missed messages.
            self._resync_soon()
            await asyncio.sleep(reconnect_delay_s(attempt, base_s=0.5, cap_s=10.0))
            attempt += 1

    def _lane_listening(self, lane: str, listening: bool) -> None:
        if listening:
            self._lanes_listening.add(lane)
        else:
            self._lanes_listening.discard(lane)
        if len(self._lanes_listening) == 2:
            self.listening.set()
        else:
            self.listening.clear()

    async def _read(self, subscription: Subscription) -> None:
        async for message in subscription:
            self.dispatch(message)
