"""The ingest worker: receive, classify, batch, commit, acknowledge, publish.

Delivery: every message is acknowledged only after the transaction holding its readings (or its
dead letter, or its status) has committed, and in the order received: to the broker (PUBACK), then
end to end to its sender (`acks`: the seqs committed, per device). A worker killed in between
acknowledges nothing; the sender sends those messages again (see `devices.ingest.mqtt` on sessions),
and the (device, metric, time) key turns the second copy into a no-op. While the database is down the
current batch is retried with capped exponential backoff and jitter and nothing is acknowledged;
the broker stops sending once `receive_maximum` messages are unacknowledged, which bounds memory,
and keeps the rest queued for us. Batches commit one at a time, so acknowledgements keep order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import tracing
from core.bus import Bus, reconnect_delay_s
from core.db import utc_now
from devices.ingest.acks import acknowledgements
from devices.ingest.attribution import Attribution, BindingCache
from devices.ingest.batch import Classified, DeadLetterRow, Received, StatusRow, WriteBatch
from devices.ingest.classify import UNKNOWN_DEVICE, Classifier, refuse_if_before_registration
from devices.ingest.config import IngestConfig
from devices.ingest.decode import DecodedReading
from devices.ingest.fanout import LiveFanout
from devices.ingest.metrics import IngestMetrics
from devices.ingest.mqtt import MqttConsumer
from devices.ingest.overload import watch_backlog
from devices.ingest.store import StoreUnavailable, open_store
from devices.ingest.tracing import IngestTracing
from devices.ingest.upkeep import Upkeep

log = logging.getLogger(__name__)
_T = TypeVar("_T")
SUBMIT_READY_WAIT_S = 10.0


class BatchObserver(Protocol):
    """Told of each message's readings as they arrive, e.g. the alarm evaluator; the composition root injects it."""

    def observe(
        self,
        readings: Mapping[tuple[str, Attribution], Sequence[DecodedReading]],
        statuses: Sequence[tuple[str, dict[str, Any]]],
    ) -> None:
        """Called on the event loop as messages are received: must only take note, never wait.

        On receipt, not after the commit, so that alarms never wait for storage, nor for the
        batches queued ahead of them when the database is slow: a message whose write fails is
        retried until it commits (or, if the worker dies, sent again by its device), so nothing an
        alarm was raised from is lost. A message from a device not in the binding cache yet is
        handed over once its batch has looked the device up. The worker does not touch what it
        has handed over.
        """
        ...

    async def run(self) -> None:
        """Its own work, run as a task of the worker until cancelled."""
        ...


class IngestWorker:
    """One worker process's pipeline; `run` until cancelled."""

    def __init__(
        self,
        *,
        config: IngestConfig,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        bus: Bus,
        metrics: IngestMetrics | None = None,
        observer: BatchObserver | None = None,
    ) -> None:
        self.config = config
        self._observer = observer
        self.metrics = metrics or IngestMetrics()
        self._store = open_store(config.database_url, sessions)
        self._bindings = BindingCache(refresh_s=config.binding_refresh_s)
        self._upkeep = Upkeep(config=config, engine=engine, sessions=sessions, bindings=self._bindings)
        tracer = tracing.tracer()
        self._tracing = IngestTracing(tracer) if tracer is not None else None
        self._fanout = LiveFanout(bus, self.metrics, tracer=tracer)
        self._classifier = Classifier(max_reading_age=config.max_reading_age)
        self._consumer: MqttConsumer | None = None
        self._pending: deque[Classified] = deque()
        self._pending_readings = 0
        # The batch being committed, taken off `_pending`: its messages are still waiting.
        self._committing: list[Classified] = []
        self._has_pending = asyncio.Event()
        self._batch_full = asyncio.Event()
        self.ready = asyncio.Event()
        self.committed_batches = 0

    async def run(self) -> None:
        """Connects, subscribes and processes messages until cancelled; then disconnects cleanly.

        Without a broker URL the worker has no MQTT source: it serves `submit` only (the MLLP
        listener's IHE PCD-01 readings, in a process that consumes no MQTT).
        """
        await self._upkeep.start()
        consumer = None
        if self.config.broker_url:
            consumer = self._consumer = MqttConsumer(
                url=self.config.broker_url,
                options=self.config.subscription(),
                on_messages=self._receive,
                on_state=self.metrics.mqtt_connected.set,
                trace_context=self._tracing is not None,
            )
            consumer.start()
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._flush_loop(), name="ingest-flush")
                tasks.create_task(self._fanout.run(), name="ingest-fanout")
                tasks.create_task(self._upkeep.run(), name="ingest-upkeep")
                tasks.create_task(
                    watch_backlog(self._oldest_uncommitted, self.metrics), name="ingest-overload"
                )
                if self._observer is not None:
                    tasks.create_task(self._observer.run(), name="ingest-observer")
                if consumer is not None:
                    await consumer.connected.wait()
                self.ready.set()
        finally:
            self.ready.clear()
            if consumer is not None:
                await consumer.stop()
            await self._store.close()
            for message in self._pending:
                if message.committed is not None and not message.committed.done():
                    message.committed.set_exception(ConnectionAbortedError("the ingest worker stopped"))

    async def submit(self, messages: Sequence[Received | Classified]) -> None:
        """Feeds messages from another carrier through this pipeline; returns once they are committed.

        The single way in besides MQTT: a `Received` (an Ownat wire message on its topic, e.g. a
        PCD-01 observation translated) is classified as if it came from the broker; a `Classified`
        is taken as decided (a dead letter with its reason). Both are stored, dead-lettered, fanned
        out and evaluated for alarms exactly as MQTT messages are; raises if the worker stops first.
        """
        if not self.ready.is_set():
            # Starting (waiting for its database): a short wait, then the caller answers "send again".
            try:
                async with asyncio.timeout(SUBMIT_READY_WAIT_S):
                    await self.ready.wait()
            except TimeoutError:
                raise ConnectionAbortedError("the ingest worker is not running") from None
        loop = asyncio.get_running_loop()
        now = utc_now()
        waits = []
        for item in messages:
            message = item if isinstance(item, Classified) else self._classifier.classify(item, now=now)
            message.seq = None  # nothing to acknowledge over MQTT: the caller waits for `committed`
            message.committed = loop.create_future()
            waits.append(message.committed)
            self._pending.append(message)
            self._pending_readings += len(message.readings)
        self.metrics.pending_messages.set(len(self._pending))
        self._has_pending.set()
        # A submitter waits for its commit (an HL7 sender for its ACK, often before sending the
        # next message): flush now rather than after `flush_interval_s`. What arrives during that
        # commit forms the next batch, so a stream still commits in batches.
        self._batch_full.set()
        await asyncio.gather(*waits)

    def _receive(self, messages: list[Received]) -> None:
        # On the event loop, from the MQTT thread's hand-over: decoding is CPU work done here, a
        # message at a time (tens of microseconds each), rather than in a thread that would only
        # contend for the GIL with paho's.
        now = utc_now()
        classified = [self._classifier.classify(received, now=now) for received in messages]
        if self._tracing is not None:
            self._tracing.received(classified)
        for message in classified:
            self._pending.append(message)
            self._pending_readings += len(message.readings)
        if self._observer is not None:
            is_known = self._bindings.is_known
            self._observe(m for m in classified if m.kind != "dead" and is_known(m.device_id or ""))
        self.metrics.pending_messages.set(len(self._pending))
        self._has_pending.set()
        if self._pending_readings >= self.config.batch_max_readings:
            self._batch_full.set()

    async def _flush_loop(self) -> None:
        while True:
            await self._has_pending.wait()
            waited_s = (utc_now() - self._pending[0].received.received_at).total_seconds()
            delay_s = self.config.flush_interval_s - waited_s
            if delay_s > 0 and not self._batch_full.is_set():
                with suppress(TimeoutError):
                    async with asyncio.timeout(delay_s):
                        await self._batch_full.wait()
            batch = self._committing = self._take_batch()
            try:
                await self._commit(batch)
            except BaseException as error:
                # Waiting submitters learn the batch was not committed; they must not hang.
                for message in batch:
                    if message.committed is not None and not message.committed.done():
                        message.committed.set_exception(ConnectionAbortedError(f"not committed: {error!r}"))
                raise
            self._committing = []

    def _oldest_uncommitted(self) -> datetime | None:
        # Messages are queued, and batches taken, in the order received: the first is the oldest.
        waiting = self._committing or self._pending
        return waiting[0].received.received_at if waiting else None

    def _take_batch(self) -> list[Classified]:
        taken: list[Classified] = []
        readings = 0
        while self._pending and (
            not taken or readings + len(self._pending[0].readings) <= self.config.batch_max_readings
        ):
            message = self._pending.popleft()
            readings += len(message.readings)
            taken.append(message)
        self._pending_readings -= readings
        if not self._pending:
            self._has_pending.clear()
        if self._pending_readings < self.config.batch_max_readings:
            self._batch_full.clear()
        return taken

    async def _commit(self, messages: list[Classified]) -> None:
        await self._recognise_devices(messages)
        if not self.config.stores_readings:
            self._pass_on(messages)
            return
        batch, live = self._prepare(messages)
        if self._observer is not None:
            self._observe(m for m in messages if not m.observed)  # a device just registered, a submission
        started, started_ns = time.perf_counter(), time.time_ns()
        inserted = await self._write_until_committed(batch)
        self.metrics.batch_seconds.observe(time.perf_counter() - started)
        committed_at = utc_now()
        traces = (
            self._tracing.committed(messages, started_ns=started_ns, readings=len(batch.readings))
            if self._tracing is not None
            else {}
        )
        consumer = self._consumer
        if consumer is not None:
            consumer.ack_many([message.received for message in messages])
            self.metrics.acks_published.inc(consumer.publish_retained(acknowledgements(messages)))
        self._settle(messages)
        self._account(messages, batch, inserted, committed_at)
        for (device_id, who), readings in live.items():
            self._fanout.submit_readings(device_id, who, readings, trace=traces.get(device_id))
        for message in messages:
            if message.kind in ("status", "events") and message.body is not None:
                self._fanout.submit_device_message(message.device_id or "", message.kind, message.body)

    def _pass_on(self, messages: list[Classified]) -> None:
        """An alarms-only worker's batch: observed (most on receipt already), then let go to the
        broker. The storing workers store it and acknowledge it to its device; a crash here costs
        at most the evaluation of a batch, whose readings are stored all the same."""
        if self._observer is not None:
            self._observe(m for m in messages if not m.observed)
        if self._consumer is not None:
            self._consumer.ack_many([message.received for message in messages])
        self._settle(messages)

    def _settle(self, messages: list[Classified]) -> None:
        """Counts a batch done and tells whoever waits for its messages (a submitter)."""
        self.metrics.pending_messages.set(len(self._pending))
        self.committed_batches += 1
        for message in messages:
            if message.committed is not None and not message.committed.done():
                message.committed.set_result(None)

    async def _recognise_devices(self, messages: list[Classified]) -> None:
        unknown = {
            m.device_id
            for m in messages
            if m.kind != "dead" and not self._bindings.is_known(m.device_id or "")
        }
        if unknown and self._bindings.may_reload_early:
            # A device registered moments ago is not in the cache yet: look again before refusing it.
            await self._until_done(self._upkeep.reload_bindings, what="bindings not reloaded")
        for message in messages:
            if message.kind == "dead":
                continue
            registered_at = self._bindings.registered_at(message.device_id or "")
            if registered_at is None:
                message.refuse(
                    UNKNOWN_DEVICE, f"device {message.device_id!r} is not registered, or not active"
                )
            else:
                refuse_if_before_registration(message, registered_at)

    def _prepare(
        self, messages: list[Classified]
    ) -> tuple[WriteBatch, dict[tuple[str, Attribution], list[DecodedReading]]]:
        batch = WriteBatch()
        live: defaultdict[tuple[str, Attribution], list[DecodedReading]] = defaultdict(list)
        rows = batch.readings
        for message in messages:
            device_id = message.device_id or ""
            if message.kind == "dead":
                batch.dead_letters.append(DeadLetterRow.of(message))
            elif message.kind == "vitals":
                for who, readings, first in self._attributed(device_id, message.readings):
                    patient_id = who.patient_id
                    rows.extend(
                        (at, device_id, patient_id, metric, value, unit)
                        for metric, value, unit, at in readings
                    )
                    live[device_id, who].extend(readings)
                    if patient_id is not None:
                        self._upkeep.mark_dirty(device_id, first)
            elif message.kind == "status" and message.body is not None:
                body = message.body
                batch.add_status(
                    StatusRow(
                        device_id=device_id,
                        online=body["online"],
                        battery_pct=body["battery_pct"],
                        sensor_off=body["sensor_off"],
                        firmware=body["firmware"],
                        reported_at=body["time"],
                        received_at=message.received.received_at,
                    )
                )
        return batch, live

    def _attributed(
        self, device_id: str, readings: list[DecodedReading]
    ) -> list[tuple[Attribution, list[DecodedReading], datetime]]:
        """The message's readings by whose they are (binding cache), each group with its first time."""
        first, last = min(r[3] for r in readings), max(r[3] for r in readings)
        shared = self._bindings.attribute_interval(device_id, first, last)
        if shared is not None:  # the usual case: one binding (or none) covers the whole message
            return [(shared, readings, first)]
        groups: defaultdict[Attribution, list[DecodedReading]] = defaultdict(list)
        for reading in readings:
            groups[self._bindings.attribute(device_id, reading[3])].append(reading)
        return [(who, group, min(r[3] for r in group)) for who, group in groups.items()]

    def _observe(self, messages: Iterable[Classified]) -> None:
        """Hands the messages' readings (attributed) and statuses to the observer, in one call."""
        assert self._observer is not None
        live: defaultdict[tuple[str, Attribution], list[DecodedReading]] = defaultdict(list)
        statuses: list[tuple[str, dict[str, Any]]] = []
        for message in messages:
            message.observed = True
            device_id = message.device_id or ""
            if message.kind == "vitals" and message.readings:
                for who, readings, _first in self._attributed(device_id, message.readings):
                    live[device_id, who].extend(readings)
            elif message.kind == "status" and message.body is not None:
                statuses.append((device_id, message.body))
        if live or statuses:
            self._observer.observe(live, statuses)

    async def _write_until_committed(self, batch: WriteBatch) -> int:
        return await self._until_done(lambda: self._store.write(batch), what="batch not committed")

    async def _until_done(self, attempt_once: Callable[[], Awaitable[_T]], *, what: str) -> _T:
        """Retries a database step with capped exponential backoff and jitter until it succeeds."""
        attempt = 0
        while True:
            try:
                result = await attempt_once()
            # Only what a database that is away (or restarting) raises; a bug must not loop forever.
            except (StoreUnavailable, OperationalError, InterfaceError, OSError) as error:
                self.metrics.write_failures.inc()
                self.metrics.database_up.set(0)
                delay_s = reconnect_delay_s(
                    attempt, base_s=self.config.retry_base_s, cap_s=self.config.retry_cap_s
                )
                log.warning("%s (%s); retrying in %.2f s", what, error, delay_s)
                attempt += 1
                await asyncio.sleep(delay_s)
                continue
            self.metrics.database_up.set(1)
            return result

    def _account(
        self, messages: list[Classified], batch: WriteBatch, inserted: int, committed_at: datetime
    ) -> None:
        metrics = self.metrics
        metrics.readings_stored.inc(inserted)
        metrics.readings_duplicate.inc(len(batch.readings) - inserted)
        metrics.batch_readings.observe(len(batch.readings))
        outcomes: Counter[tuple[str, str]] = Counter()
        reasons: Counter[str] = Counter()
        for message in messages:
            received_at = message.received.received_at
            metrics.receive_to_commit.observe(max(0.0, (committed_at - received_at).total_seconds()))
            if message.kind == "dead":
                outcomes[message.topic_kind, "dead_letter"] += 1
                reasons[message.reason_code or "invalid"] += 1
            else:
                outcomes[message.kind, "stored"] += 1
                if message.readings:
                    newest = max(r[3] for r in message.readings)
                    metrics.reading_delay.observe(max(0.0, (committed_at - newest).total_seconds()))
                    metrics.publish_to_receive.observe(max(0.0, (received_at - newest).total_seconds()))
        for (kind, outcome), count in outcomes.items():
            metrics.messages.labels(kind, outcome).inc(count)
        for reason, count in reasons.items():
            metrics.dead_letters.labels(reason).inc(count)
