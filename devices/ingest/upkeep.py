"""The worker's periodic jobs: binding reloads (with re-attribution), rollups, partitions and retention.

Each job runs in a transaction of its own, off the ingest path. A job that fails because the
database is away is logged and tried again on its next turn; rollup work it had not done is kept.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import audit
from core.db import utc_now
from core.principal import SYSTEM
from core.sessions import transaction
from devices import vitals
from devices.ingest.attribution import BindingCache
from devices.ingest.config import IngestConfig
from devices.vitals import reattribute, refresh_rollups

log = logging.getLogger(__name__)

TICK_S = 1.0
# Readings older than this at refresh time are a backlog (an edge gateway catching up): their
# minutes are recomputed for their own devices only, not for every device.
BACKLOG_AGE = timedelta(minutes=5)


class Upkeep:
    """Schedules and runs the periodic jobs of one worker."""

    def __init__(
        self,
        *,
        config: IngestConfig,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        bindings: BindingCache,
    ) -> None:
        self._config = config
        self._engine = engine
        self._sessions = sessions
        self._bindings = bindings
        self._dirty: dict[str, datetime] = {}
        # A predecessor killed before its last refresh leaves up to one interval of minutes stale;
        # the first refresh after a start covers them.
        self._recent_floor: datetime | None = utc_now() - timedelta(seconds=2 * config.rollup_interval_s)
        self._rollups_at = utc_now()
        self._storage_at: datetime | None = None

    async def start(self) -> None:
        """Loads the bindings and prepares storage, waiting for the database if it is not there yet."""
        attempt = 0
        while True:
            try:
                await self.reload_bindings()
                if self._config.stores_readings:
                    await self.storage_upkeep()
                return
            except (DBAPIError, OSError) as error:
                delay_s = min(self._config.retry_cap_s, self._config.retry_base_s * 2 ** min(attempt, 10))
                log.warning(
                    "database not ready for the ingest worker (%s); retrying in %.1f s", error, delay_s
                )
                attempt += 1
                await asyncio.sleep(delay_s)

    def mark_dirty(self, device_id: str, at: datetime) -> None:
        """Notes that an attributed reading of `device_id` at `at` was stored: its minute needs a rollup."""
        current = self._dirty.get(device_id)
        if current is None or at < current:
            self._dirty[device_id] = at

    async def run(self) -> None:
        """Runs each job when it is due, until cancelled."""
        while True:
            await asyncio.sleep(TICK_S)
            now = utc_now()
            try:
                if self._bindings.is_due:
                    await self.reload_bindings()
                if not self._config.stores_readings:
                    continue  # an alarms-only worker keeps its bindings; the storing workers the rest
                if (now - self._rollups_at).total_seconds() >= self._config.rollup_interval_s:
                    await self.refresh_rollups()
                due = self._storage_at is None or (now - self._storage_at).total_seconds() >= (
                    self._config.storage_upkeep_interval_s
                )
                if due:
                    await self.storage_upkeep()
            except (DBAPIError, OSError) as error:
                log.warning("ingest upkeep postponed: %s", error)

    async def reload_bindings(self) -> None:
        """Reloads the binding cache and re-attributes readings of devices whose bindings changed."""
        async with transaction(self._sessions) as session:
            changed = await self._bindings.reload(session)
            if not self._config.stores_readings:
                return  # the storing workers re-attribute what they stored
            for device_id, since in changed.items():
                used = await reattribute(
                    session, device_id=device_id, since=since, spans=self._bindings.spans_of(device_id)
                )
                audit.record(
                    session,
                    actor=SYSTEM,
                    action="reattribute",
                    resource_type="vital_readings",
                    resource_id=device_id,
                    detail={"since": used.isoformat()},
                )
                self.mark_dirty(device_id, used)

    async def refresh_rollups(self) -> None:
        """Recomputes the one-minute rollups of the minutes touched since the last refresh."""
        now = utc_now()
        dirty, self._dirty = self._dirty, {}
        recent = self._recent_floor
        backlog: dict[str, datetime] = {}
        for device_id, at in dirty.items():
            if now - at > BACKLOG_AGE:
                backlog[device_id] = at
            elif recent is None or at < recent:
                recent = at
        try:
            async with transaction(self._sessions) as session:
                if recent is not None:
                    await refresh_rollups(session, since=recent, until=now)
                for device_id, at in backlog.items():
                    await refresh_rollups(session, since=at, until=now, device_ids=[device_id])
        except BaseException:
            for device_id, at in dirty.items():
                self.mark_dirty(device_id, at)
            raise
        self._recent_floor = None
        self._rollups_at = now

    async def storage_upkeep(self) -> None:
        """Creates partitions ahead and applies retention, as the storage in use needs."""
        config = self._config
        today = utc_now().date()
        async with self._engine.begin() as connection:
            kind = await connection.run_sync(
                lambda sync: vitals.apply_retention(
                    sync,
                    today=today,
                    retention_days=config.retention_days,
                    rollup_retention_days=config.rollup_retention_days,
                    days_ahead=config.partition_days_ahead,
                )
            )
        self._storage_at = utc_now()
        log.debug("vitals storage upkeep done", extra={"storage": kind})
