"""Sessions and units of work. Whoever opens the transaction commits it; services only flush."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from core.audit import service as audit
from core.audit.keys import AuditKey, AuditKeyring
from core.settings import DEVELOPMENT_AUDIT_KEY, Settings


class AuditedSession(Session):
    """A session that writes its queued audit entries as part of its own commit."""


def _write_audit_before_commit(session: Session) -> None:
    audit.append_entries(session, session.info.get(audit.PENDING_KEY, []))


def _forget_audit_after_commit(session: Session) -> None:
    session.info.pop(audit.PENDING_KEY, None)


event.listen(AuditedSession, "before_commit", _write_audit_before_commit)
event.listen(AuditedSession, "after_commit", _forget_audit_after_commit)


def create_sessionmaker(
    engine: AsyncEngine, *, audit_keys: AuditKeyring | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions whose audit entries are signed with `audit_keys` (processes pass theirs, from
    settings; without, the development key, which production's verification does not accept)."""
    keyring = audit_keys or development_keyring()
    return async_sessionmaker(
        engine,
        expire_on_commit=False,
        sync_session_class=AuditedSession,
        info={audit.KEYRING_KEY: keyring},
    )


def development_keyring() -> AuditKeyring:
    """The keys of the default settings: the embedded mode's, and the tests'."""
    return AuditKeyring(
        AuditKey.from_secret(Settings.model_fields["audit_key_id"].default, DEVELOPMENT_AUDIT_KEY)
    )


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Commits on success; on any error rolls back, then records the audited attempts as failed."""
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException as error:
            pending = audit.take_pending(session)
            await session.rollback()
            if pending:
                await _write_failed(sessions, audit.mark_failed(pending, error))
            raise


async def _write_failed(sessions: async_sessionmaker[AsyncSession], entries: list[dict[str, Any]]) -> None:
    async with sessions() as session:
        session.info[audit.PENDING_KEY] = entries
        await session.commit()
