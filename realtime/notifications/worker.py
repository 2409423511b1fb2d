"""The worker loop: fan out the outbox, deliver what is due, write reminders, run the alarm checks,
settle abandoned card payments, finish consultations whose room closed without "end".

Each pass is a few short transactions; any number of workers may run it side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from billing.payments.expiry import run_payment_expiry
from core.db import utc_now
from core.resources import Resources
from core.sessions import transaction
from realtime.alarms.jobs import run_periodic_checks
from realtime.consult.closing import run_room_closing
from realtime.notifications.delivery import Claimed, claim_due, record_outcome
from realtime.notifications.fanout import dispatch_events
from realtime.notifications.reminders import schedule_reminders
from realtime.notifications.retention import purge_settled
from realtime.notifications.senders import Senders
from realtime.notifications.settings import NotificationSettings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PassTally:
    events: int = 0
    reminders: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class WorkerIntervals:
    poll_s: float = 1.0
    reminders_s: float = 60.0
    alarm_checks_s: float = 5.0
    # Payments expire after half an hour (OWNAT_PAYMENT_PENDING_EXPIRY_S): a minute late is soon enough.
    payment_expiry_s: float = 60.0
    # Rooms close an hour after the scheduled end (OWNAT_CONSULT_CLOSES_AFTER_S): a minute late is soon enough.
    room_closing_s: float = 60.0


class NotificationWorker:
    """One worker: owns its senders (HTTP client, breakers); shares the process's resources."""

    def __init__(
        self,
        *,
        resources: Resources,
        settings: NotificationSettings,
        intervals: WorkerIntervals | None = None,
        alarm_checks: bool = True,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.resources = resources
        self.settings = settings
        self.intervals = intervals or WorkerIntervals()
        self.alarm_checks = alarm_checks
        self.clock = clock
        self.senders = Senders(settings=settings, bus=resources.bus)

    async def fan_out(self, *, batch: int = 100) -> int:
        """Dispatches waiting outbox events until none is left; returns how many."""
        total = 0
        while True:
            async with transaction(self.resources.sessions) as session:
                handled = await dispatch_events(
                    session=session, settings=self.settings, now=self.clock(), limit=batch
                )
            total += handled
            if handled < batch:
                return total

    async def deliver_due(self, *, batch: int = 50) -> dict[str, int]:
        """Claims one batch of due notifications, sends them concurrently, records each outcome."""
        async with transaction(self.resources.sessions) as session:
            claimed = await claim_due(
                session=session, now=self.clock(), lease_s=self.settings.lease_s, limit=batch
            )
        errors = await asyncio.gather(*(self._send(item) for item in claimed))
        outcomes: dict[str, int] = {}
        async with transaction(self.resources.sessions) as session:
            for item, error in zip(claimed, errors, strict=True):
                status = await record_outcome(
                    session=session, claimed=item, error=error, now=self.clock(), settings=self.settings
                )
                key = status.value if status else "lost-lease"
                outcomes[key] = outcomes.get(key, 0) + 1
        return outcomes

    async def _send(self, item: Claimed) -> BaseException | None:
        try:
            await self.senders.send(item, now=self.clock())
        except Exception as error:  # every failure of a provider is recorded on the row and retried
            log.warning("notification %s over %s failed: %s", item.id, item.channel.value, error)
            return error
        return None

    async def write_reminders(self) -> int:
        """Writes due reminders and, on the same slow beat, removes what retention lets go."""
        async with transaction(self.resources.sessions) as session:
            written = await schedule_reminders(session=session, now=self.clock())
        async with transaction(self.resources.sessions) as session:
            await purge_settled(
                session=session, now=self.clock(), retention_days=self.settings.notify_retention_days
            )
        return written

    async def run_once(self, *, reminders: bool = True) -> PassTally:
        """One full pass; the tests drive the worker with this."""
        tally = PassTally()
        if reminders:
            tally.reminders = await self.write_reminders()
        tally.events = await self.fan_out()
        while outcomes := await self.deliver_due():
            for key, count in outcomes.items():
                tally.outcomes[key] = tally.outcomes.get(key, 0) + count
        return tally

    async def run(self, stop: asyncio.Event) -> None:
        """Passes every `poll_s` until `stop` is set; a failed pass is logged and the next one tries again."""
        loop = asyncio.get_running_loop()
        next_reminders = next_checks = next_payment_expiry = next_room_closing = loop.time()
        while not stop.is_set():
            now = loop.time()
            try:
                if self.alarm_checks and now >= next_checks:
                    next_checks = now + self.intervals.alarm_checks_s
                    await run_periodic_checks(self.resources, now=self.clock())
                if now >= next_payment_expiry:
                    next_payment_expiry = now + self.intervals.payment_expiry_s
                    await run_payment_expiry(self.resources, now=self.clock())
                if now >= next_room_closing:
                    next_room_closing = now + self.intervals.room_closing_s
                    await run_room_closing(self.resources, now=self.clock())
                await self.run_once(reminders=now >= next_reminders)
                if now >= next_reminders:
                    next_reminders = now + self.intervals.reminders_s
            except Exception:
                log.exception("notification worker pass failed; retrying")
            # Waiting on the stop event doubles as the poll interval and returns at once on shutdown.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.intervals.poll_s)

    async def close(self) -> None:
        await self.senders.close()
