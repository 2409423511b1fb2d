"""The work behind `ownat broker-config`: write the broker's files, sync the running broker, repeatedly."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit
from core.principal import SYSTEM
from core.sessions import transaction
from devices.registry.broker_access import BrokerAccess
from devices.registry.broker_config import BrokerLayout, registry_entries, write_broker_files
from devices.registry.broker_sync import SyncReport, sync_broker
from devices.registry.dynsec import Account
from devices.registry.dynsec_client import BrokerAdminError

logger = logging.getLogger(__name__)


async def write_config(
    *,
    sessions: async_sessionmaker[AsyncSession],
    out_dir: Path,
    layout: BrokerLayout,
    admin: Account,
    ingest: Account | None,
) -> list[Path]:
    """Writes the broker's configuration for the registry as it is now; audited as the system."""
    async with transaction(sessions) as session:
        devices = await registry_entries(session)
        audit.record(
            session,
            actor=SYSTEM,
            action="export_broker_config",
            resource_type="device",
            detail={"out_dir": str(out_dir), "devices": len(devices)},
        )
    # Small files, but file I/O all the same: off the event loop.
    return await asyncio.to_thread(
        write_broker_files, out_dir, layout=layout, admin=admin, ingest=ingest, devices=devices
    )


async def sync_once(
    *, sessions: async_sessionmaker[AsyncSession], broker: BrokerAccess, ingest: Account | None
) -> SyncReport:
    """One full sync in a unit of work of its own."""
    async with transaction(sessions) as session:
        return await sync_broker(session=session, broker=broker, ingest=ingest)


async def sync_periodically(
    *,
    sessions: async_sessionmaker[AsyncSession],
    broker: BrokerAccess,
    ingest: Account | None,
    interval_s: float,
    stop: asyncio.Event,
) -> None:
    """Syncs now and then every `interval_s` until `stop` is set; a failed round is logged and retried."""
    while not stop.is_set():
        try:
            report = await sync_once(sessions=sessions, broker=broker, ingest=ingest)
        except BrokerAdminError as error:
            logger.warning("broker sync failed, retrying in %s s: %s", interval_s, error)
        else:
            logger.info("broker sync: %s", report.summary())
        try:
            async with asyncio.timeout(interval_s):
                await stop.wait()
        except TimeoutError:
            continue
