"""Sessions and units of work. Whoever opens the transaction commits it; services only flush."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from core import audit
from core.audit import AuditKey, AuditKeyring
from core.settings import DEVELOPMENT_AUDIT_KEY, Settings

log = logging.getLogger(__name__)

# Work to do once the unit of work has committed (e.g. telling Redis and the bus what changed).
AFTER_COMMIT_KEY = "ownat.after_commit"


class AuditedSession(Session):
    """A session that writes its queued audit entries as part of its own commit."""


def _write_audit_before_commit(session: Session) -> None:
    # Commit would flush after this hook: flushed first, the unit's own writes begin its transaction
    # before the entries are appended, so the entries land in it rather than alone (core.db).
    session.flush()
    audit.append_entries(session, session.info.get(audit.PENDING_KEY, []))


def _forget_audit_after_commit(session: Session) -> None:
    session.info.pop(audit.PENDING_KEY, None)


event.listen(AuditedSession, "before_commit", _write_audit_before_commit)
event.listen(AuditedSession, "after_commit", _forget_audit_after_commit)


def create_sessionmaker(
    engine: AsyncEngine, *, audit_keys: AuditKeyring | None = None, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions whose audit entries are signed with `audit_keys` (processes pass theirs, from
    settings; without, the development key, which production's verification does not accept).
    `info` is given to every session (e.g. the process's announcer of ended sessions)."""
    keyring = audit_keys or development_keyring()
    return async_sessionmaker(
        engine,
        expire_on_commit=False,
        sync_session_class=AuditedSession,
        info={**(info or {}), audit.KEYRING_KEY: keyring},
    )


def after_commit(session: AsyncSession, hook: Callable[[], Awaitable[None]]) -> None:
    """Runs `hook` once `transaction()` has committed the session's unit of work (never on rollback).

    A failing hook is logged, not raised: the change is committed, and the request must say so."""
    session.info.setdefault(AFTER_COMMIT_KEY, []).append(hook)


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
            session.info.pop(AFTER_COMMIT_KEY, None)
            pending = audit.take_pending(session)
            await session.rollback()
            if pending:
                await _write_failed(sessions, audit.mark_failed(pending, error))
                # The attempt is on the record, naming this error: the api must not record it again.
                with contextlib.suppress(AttributeError):
                    error.audited = True  # type: ignore[attr-defined]
            raise
        for hook in session.info.pop(AFTER_COMMIT_KEY, []):
            try:
                await hook()
            except Exception:
                log.warning("work after a commit failed", exc_info=True)


async def _write_failed(sessions: async_sessionmaker[AsyncSession], entries: list[dict[str, Any]]) -> None:
    async with sessions() as session:
        session.info[audit.PENDING_KEY] = entries
        await session.commit()
