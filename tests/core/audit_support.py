"""Helpers for the audit log's tests: recording an entry, sealing everything, the seals' totals."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit import service as audit
from core.audit.keys import AuditKeyring
from core.audit.models import AuditEvent, AuditSeal
from core.audit.seals import chain_order_after
from core.audit.sequencer import seal_all
from core.principal import Principal, Role
from core.sessions import development_keyring

NURSE = Principal(user_id=uuid.uuid4(), role=Role.NURSE)
KEYS = development_keyring()
GUARD_S = 60  # a guard against a hang; nothing asserts how long anything takes


async def record(
    sessions: async_sessionmaker[AsyncSession], *, patient_id: uuid.UUID, action: str = "read"
) -> None:
    """One audited read (or `action`) of a patient, committed."""
    async with sessions() as session:
        audit.record(session, actor=NURSE, action=action, resource_type="patient", patient_id=patient_id)
        await session.commit()


async def sealed_counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """The entries counted by all seals together, and the head seal's running total."""
    async with sessions() as session:
        total = await session.scalar(select(func.coalesce(func.sum(AuditSeal.entries), 0)))
        head = await session.scalar(select(func.coalesce(func.max(AuditSeal.size), 0)))
    return int(total or 0), int(head or 0)


async def seal_everything(sessions: async_sessionmaker[AsyncSession], keys: AuditKeyring = KEYS) -> None:
    """Seals until no committed entry is left unsealed. The horizon is the oldest write transaction of
    the whole PostgreSQL cluster, which other test runs on this machine share: they may hold it back
    for a moment, and only the database can tell when they have finished."""
    async with asyncio.timeout(GUARD_S):
        while True:
            await seal_all(sessions=sessions, keys=keys)
            async with sessions() as session:
                head = await session.scalar(select(AuditSeal).order_by(AuditSeal.number.desc()).limit(1))
                after = chain_order_after(head.last_txid, head.last_seq) if head else true()
                if not await session.scalar(select(func.count()).select_from(AuditEvent).where(after)):
                    return
            await asyncio.sleep(0.05)
