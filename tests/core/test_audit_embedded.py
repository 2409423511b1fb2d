"""The audit log on the embedded default's SQLite: appends, sealing, key rotation, tampering."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.audit.checkpoints import current_head, issue_checkpoint
from core.audit.keys import AuditKey, AuditKeyring
from core.audit.models import AuditEvent, AuditSeal
from core.audit.sequencer import seal_all
from core.audit.verify import verify_chain
from core.db import create_engine
from core.sessions import create_sessionmaker
from ownat import migrate
from tests.core.audit_support import record

pytestmark = pytest.mark.embedded

FIRST = AuditKeyring(AuditKey.from_secret("k1", "the first audit key, 32 characters or more"))
SECOND = AuditKeyring(AuditKey.from_secret("k2", "the second audit key, after the rotation"), [FIRST.active])


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ownat.sqlite3'}"
    await migrate.upgrade_async(url)
    sqlite = create_engine(url)
    yield sqlite
    await sqlite.dispose()


async def _record_and_seal(engine: AsyncEngine, keys: AuditKeyring, count: int) -> None:
    sessions = create_sessionmaker(engine, audit_keys=keys)
    for _ in range(count):
        await record(sessions, patient_id=uuid.uuid4())
    await seal_all(sessions=sessions, keys=keys)


async def test_keys_rotate_and_what_the_old_key_signed_still_verifies(engine: AsyncEngine) -> None:
    await _record_and_seal(engine, FIRST, 3)
    sessions = create_sessionmaker(engine, audit_keys=SECOND)
    async with sessions() as session:
        checkpoint = issue_checkpoint(await current_head(session), FIRST)
    await _record_and_seal(engine, SECOND, 2)
    async with sessions() as session:
        rotated = await verify_chain(session, SECOND, checkpoint=checkpoint)
        retired_dropped = await verify_chain(session, AuditKeyring(SECOND.active))
        entry_keys = set(await session.scalars(select(AuditEvent.key_id)))
        seal_keys = set(await session.scalars(select(AuditSeal.key_id)))
    assert rotated.ok and rotated.checked == 5 and rotated.head.sequence == 2, rotated.reason
    assert entry_keys == seal_keys == {"k1", "k2"}
    # Without the retired key, what it signed can no longer be checked, and verification says so.
    assert not retired_dropped.ok
    assert "'k1', which is not configured" in (retired_dropped.reason or "")


async def test_tampering_and_truncation_are_caught_on_sqlite(engine: AsyncEngine) -> None:
    await _record_and_seal(engine, FIRST, 3)
    await _record_and_seal(engine, FIRST, 3)
    sessions = create_sessionmaker(engine, audit_keys=FIRST)
    async with sessions() as session:
        checkpoint = issue_checkpoint(await current_head(session), FIRST)
    # SQLite has no append-only trigger: anyone with the file can write to it.
    async with engine.connect() as db:
        await db.execute(text("DELETE FROM audit_events WHERE seq > 3"))
        await db.execute(text("DELETE FROM audit_seals WHERE number = 2"))
        await db.commit()
    async with sessions() as session:
        truncated_alone = await verify_chain(session, FIRST)
        truncated = await verify_chain(session, FIRST, checkpoint=checkpoint)
    async with engine.connect() as db:
        await db.execute(text("UPDATE audit_events SET outcome = 'denied' WHERE seq = 2"))
        await db.commit()
    async with sessions() as session:
        edited = await verify_chain(session, FIRST)
    assert truncated_alone.ok and not truncated.ok
    assert "the newest seals and their entries were removed" in (truncated.reason or "")
    assert not edited.ok and edited.first_broken_seq == 2
