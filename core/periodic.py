"""The one scheduler of periodic jobs, used by `ownat worker` and by `ownat dev`.

Domains define their jobs (a name, a period and a unit of work taking the process's resources and
the time); the processes choose which to run. Jobs run one after another on the caller's task, so a
job never overlaps itself, and each fails on its own: a broken one must not hold up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.db import utc_now
from core.resources import Resources

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PeriodicJob:
    """A unit of work run every `every_s`; first at once, or after `first_after_s`."""

    name: str
    every_s: float
    run: Callable[..., Awaitable[object]]
    first_after_s: float = 0.0
    # What the job holds open between runs (an HTTP client), released when its process stops.
    close: Callable[[], Awaitable[None]] | None = None


class PeriodicJobs:
    """Runs jobs on their own periods with one process's resources."""

    def __init__(
        self,
        jobs: Sequence[PeriodicJob],
        *,
        resources: Resources,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.jobs = list(jobs)
        self.resources = resources
        self.clock = clock
        # Loop times at which each job is next due; set on the first round, when the loop is known.
        self._due_at: list[float] | None = None

    async def run_due(self) -> None:
        """Runs, in order, each job whose time has come; a failure is logged and retried at its next turn."""
        now = asyncio.get_running_loop().time()
        if self._due_at is None:
            self._due_at = [now + job.first_after_s for job in self.jobs]
        for index, job in enumerate(self.jobs):
            if now < self._due_at[index]:
                continue
            self._due_at[index] = now + job.every_s
            try:
                await job.run(self.resources, now=self.clock())
            except Exception:
                # A database away or a bug: the next turn tries again; the state is all in the database.
                log.exception("%s failed; tried again in %.0f s", job.name, job.every_s)

    async def run_until(self, stop: asyncio.Event) -> None:
        """Runs the jobs as they fall due until `stop` is set."""
        while not stop.is_set():
            await self.run_due()
            assert self._due_at is not None  # set by run_due
            wait_s = max(0.0, min(self._due_at, default=0.0) - asyncio.get_running_loop().time())
            # Waiting on the stop event doubles as the schedule and returns at once on shutdown.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s if self.jobs else None):
                    await stop.wait()

    async def close(self) -> None:
        """Releases what the jobs hold open, in order."""
        for job in self.jobs:
            if job.close is not None:
                await job.close()
