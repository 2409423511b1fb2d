"""The worker loop of `ownat worker` (what it does: see `ownat.processes.worker`): each pass runs the
periodic jobs that are due, then fans out the outbox and delivers what is due.

The periodic jobs are other domains' work (appointment reminders, alarm checks, payment expiry, room
closing, FHIR jobs): the process that starts the worker hands them over (`ownat.worker_jobs`), so this
package depends on none of those domains. Its own slow job, retention, runs last among them.

Each pass is a few short transactions; any number of workers may run it side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from core import tracing
from core.db import utc_now
from core.periodic import PeriodicJob, PeriodicJobs
from core.resources import Resources
from core.sessions import transaction
from notifications.delivery import Claimed, claim_due, record_outcome, renew_leases
from notifications.fanout import dispatch_events
from notifications.retention import purge_settled
from notifications.senders import Senders
from notifications.settings import NotificationSettings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PassTally:
    events: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class WorkerIntervals:
    poll_s: float = 1.0
    # Retention only bounds the tables' size: a minute late is soon enough.
    retention_s: float = 60.0


class NotificationWorker:
    """One worker: owns its senders (HTTP client, breakers) and its periodic jobs; shares the process's resources."""

    def __init__(
        self,
        *,
        resources: Resources,
        settings: NotificationSettings,
        intervals: WorkerIntervals | None = None,
        jobs: Sequence[PeriodicJob] = (),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.resources = resources
        self.settings = settings
        self.intervals = intervals or WorkerIntervals()
        self.clock = clock
        self.senders = Senders(settings=settings, bus=resources.bus)
        # Looked at once: None while tracing is off, and then deliveries make no span.
        self._tracer = tracing.tracer()
        retention = PeriodicJob("notification retention", self.intervals.retention_s, self.remove_settled)
        self.jobs = PeriodicJobs([*jobs, retention], resources=resources, clock=clock)

    async def fan_out(self, *, batch: int = 100) -> int:
        """Dispatches waiting outbox events until none is left; returns how many."""
        total = 0
        while True:
            async with transaction(self.resources.sessions) as session:
                handled = await dispatch_events(
                    session=session, settings=self.settings, now=self.clock(), limit=batch
                )
            total += handled
            self.senders.metrics.events_dispatched.inc(handled)
            if handled < batch:
                return total

    async def deliver_due(self, *, batch: int = 50) -> dict[str, int]:
        """Claims one batch of due notifications, sends them concurrently, records each outcome as it comes.

        Recording each send as soon as it ends (not once the whole batch has) keeps what a crash
        leaves unrecorded, and so what another worker sends again, to the sends truly in flight.
        """
        async with transaction(self.resources.sessions) as session:
            claimed = await claim_due(
                session=session,
                now=self.clock(),
                lease_s=self.settings.lease_s,
                limit=batch,
                traced=self._tracer is not None,
            )
        sending = {item.id: item for item in claimed}
        finished: asyncio.Queue[tuple[Claimed, BaseException | None]] = asyncio.Queue()

        async def send(item: Claimed) -> None:
            finished.put_nowait((item, await self._send(item)))

        outcomes: dict[str, int] = {}
        senders = [asyncio.create_task(send(item)) for item in claimed]
        renewer = asyncio.create_task(self._renew_while_sending(sending))
        try:
            while sending:
                done = [await finished.get()]
                while not finished.empty():
                    done.append(finished.get_nowait())
                for item, _error in done:
                    del sending[item.id]
                await self._record(done, outcomes)
        finally:
            renewer.cancel()
            for task in senders:
                task.cancel()
            await asyncio.gather(renewer, *senders, return_exceptions=True)
        return outcomes

    async def _record(
        self, done: list[tuple[Claimed, BaseException | None]], outcomes: dict[str, int]
    ) -> None:
        metrics = self.senders.metrics
        async with transaction(self.resources.sessions) as session:
            for item, error in done:
                now = self.clock()
                status = await record_outcome(
                    session=session, claimed=item, error=error, now=now, settings=self.settings
                )
                key = status.value if status else "lost-lease"
                outcomes[key] = outcomes.get(key, 0) + 1
                metrics.deliveries.labels(item.channel.value, key).inc()
                if error is None and status is not None:
                    metrics.event_to_sent.labels(item.channel.value).observe(
                        max(0.0, (now - item.created_at).total_seconds())
                    )

    async def _renew_while_sending(self, sending: dict[uuid.UUID, Claimed]) -> None:
        """Renews the leases of what is still being sent, every third of the lease, until cancelled."""
        lease_s = self.settings.lease_s
        while True:
            await asyncio.sleep(lease_s / 3)
            try:
                async with transaction(self.resources.sessions) as session:
                    await renew_leases(
                        session=session, claimed=list(sending.values()), now=self.clock(), lease_s=lease_s
                    )
            except Exception:  # the next turn tries again; a lease that runs out only risks a repeat
                log.warning(
                    "could not renew the leases of %d deliveries being sent", len(sending), exc_info=True
                )

    async def _send(self, item: Claimed) -> BaseException | None:
        if self._tracer is not None and item.trace is not None:
            return await self._send_traced(item)
        return await self._send_untraced(item)

    async def _send_traced(self, item: Claimed) -> BaseException | None:
        """`_send` inside a `notifications.deliver` span, the child of its event's fan-out."""
        assert self._tracer is not None
        parent = tracing.remote_parent(item.trace) or tracing.ROOT
        span = self._tracer.start_span(
            "notifications.deliver",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "ownat.channel": item.channel.value,
                "ownat.event.type": item.event_type,
                "ownat.attempt": item.attempts,
            },
        )
        # Current while sending: a webhook's request carries it to the receiver as `traceparent`.
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        try:
            error = await self._send_untraced(item)
        finally:
            otel_context.detach(token)
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()
        return error

    async def _send_untraced(self, item: Claimed) -> BaseException | None:
        try:
            await self.senders.send(item, now=self.clock())
        except Exception as error:  # every failure of a provider is recorded on the row and retried
            log.warning("notification %s over %s failed: %s", item.id, item.channel.value, error)
            return error
        return None

    async def remove_settled(self, resources: Resources, *, now: datetime) -> int:
        """Removes what retention lets go (a periodic job); returns how many events went."""
        async with transaction(resources.sessions) as session:
            return await purge_settled(
                session=session, now=now, retention_days=self.settings.notify_retention_days
            )

    async def run_once(self) -> PassTally:
        """One fan-out and delivery pass, without the periodic jobs; the tests drive the worker with this."""
        tally = PassTally()
        tally.events = await self.fan_out()
        while outcomes := await self.deliver_due():
            for key, count in outcomes.items():
                tally.outcomes[key] = tally.outcomes.get(key, 0) + count
        return tally

    async def run(self, stop: asyncio.Event) -> None:
        """Passes every `poll_s` until `stop` is set; a failed pass is logged and the next one tries again."""
        while not stop.is_set():
            await self.jobs.run_due()
            try:
                await self.run_once()
            except Exception:
                log.exception("notification worker pass failed; retrying")
            # Waiting on the stop event doubles as the poll interval and returns at once on shutdown.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.intervals.poll_s):
                    await stop.wait()

    async def close(self) -> None:
        await self.senders.close()
        await self.jobs.close()
