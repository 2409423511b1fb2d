"""What someone holding the database superuser can do to the audit log, and what verification says.

Each case switches the append-only guard off and rewrites history inside a transaction that the
test rolls back after verifying, so all cases share one database.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.audit import service as audit
from core.audit.checkpoints import current_head, issue_checkpoint
from core.audit.entries import content_of, leaf_hash
from core.audit.keys import AuditKey, AuditKeyring, Purpose
from core.audit.models import AuditEvent, AuditSeal
from core.audit.schemas import Checkpoint
from core.audit.seals import ENTRY_COLUMNS
from core.audit.sequencer import seal_all
from core.audit.verify import ChainReport, verify_chain
from core.db import create_engine
from core.sessions import create_sessionmaker
from tests.core.audit_support import KEYS, NURSE, record, seal_everything

Tampering = Callable[[AsyncConnection], Awaitable[None]]


@pytest.fixture
async def sealed_log(audit_sessions, audit_database_url: str) -> AsyncIterator[str]:
    """A log of a few sealed seals (each of a few entries), intact."""
    for _ in range(3):
        for _ in range(3):
            await record(audit_sessions, patient_id=uuid.uuid4())
        await seal_everything(audit_sessions)
    async with audit_sessions() as session:
        assert (await verify_chain(session, KEYS)).ok
    yield audit_database_url


@asynccontextmanager
async def tampered(url: str) -> AsyncIterator[AsyncConnection]:
    """A connection with the guards off, whose changes are rolled back at the end."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.begin()
            for table in ("audit_events", "audit_seals"):
                await connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
            yield connection
            await connection.rollback()
    finally:
        await engine.dispose()


async def _verify(connection: AsyncConnection, checkpoint: Checkpoint | None = None) -> ChainReport:
    return await verify_chain(AsyncSession(bind=connection), KEYS, checkpoint=checkpoint)


async def _head_seal(connection: AsyncConnection) -> AuditSeal:
    session = AsyncSession(bind=connection)
    return (await session.scalars(select(AuditSeal).order_by(AuditSeal.number.desc()).limit(1))).one()


async def _entries_of(connection: AsyncConnection, seal: AuditSeal) -> list:
    after = (await connection.execute(
        select(AuditSeal.last_txid, AuditSeal.last_seq).where(AuditSeal.number == seal.number - 1)
    )).first() or (-1, -1)  # fmt: skip
    query = select(*ENTRY_COLUMNS).order_by(AuditEvent.txid, AuditEvent.seq)
    rows = (await connection.execute(query)).mappings().all()
    return [r for r in rows if tuple(after) < (r["txid"], r["seq"]) <= (seal.last_txid, seal.last_seq)]


async def _recompute_digest(connection: AsyncConnection, seal: AuditSeal) -> None:
    """What the intruder can redo without the key: the SHA-256 over the sealed entries."""
    digest = hashlib.sha256(b"".join(leaf_hash(row) for row in await _entries_of(connection, seal)))
    await connection.execute(
        text("UPDATE audit_seals SET digest = :digest WHERE number = :number"),
        {"digest": digest.hexdigest(), "number": seal.number},
    )


async def test_an_edited_entry_is_caught_though_every_sha256_was_recomputed(sealed_log: str) -> None:
    async with tampered(sealed_log) as db:
        seal = await _head_seal(db)
        victim = (await _entries_of(db, seal))[1]["seq"]
        await db.execute(
            text("UPDATE audit_events SET action = 'nothing-to-see' WHERE seq = :seq"), {"seq": victim}
        )
        await _recompute_digest(db, seal)
        report = await _verify(db)
    assert not report.ok
    assert report.first_broken_seq == victim
    assert "does not match its MAC" in (report.reason or "")


async def test_a_forged_entry_is_caught(sealed_log: str) -> None:
    intruder = AuditKey.from_secret(
        KEYS.active.key_id, "a guess at the key, which the database does not hold"
    )
    async with tampered(sealed_log) as db:
        seal = await _head_seal(db)
        genuine = dict((await _entries_of(db, seal))[0])
        forged = {**genuine, "id": uuid.uuid4(), "seq": -7, "action": "read", "legacy_prev_hash": None}
        forged["mac"] = intruder.mac(Purpose.ENTRY, content_of(forged))
        await db.execute(AuditEvent.__table__.insert().values(forged))
        await _recompute_digest(db, seal)
        await db.execute(
            text("UPDATE audit_seals SET entries = entries + 1, size = size + 1 WHERE number = :n"),
            {"n": seal.number},
        )
        report = await _verify(db)
    assert not report.ok
    assert report.first_broken_seq == -7 or report.broken_seal == seal.number


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            "DELETE FROM audit_events WHERE seq = (SELECT min(seq) FROM audit_events WHERE txid > 0)",
            "entries were removed",
        ),
        (
            "UPDATE audit_events SET seq = seq + 1000000 WHERE seq = (SELECT min(seq) FROM audit_events WHERE txid > 0)",
            "differ from those sealed",
        ),
        (
            "UPDATE audit_seals SET sealed_at = sealed_at - interval '1 hour' WHERE number = 1",
            "does not match its HMAC",
        ),
        ("DELETE FROM audit_seals WHERE number = 2", "seals 2..2 are missing"),
    ],
    ids=["entry-removed", "entry-renumbered", "seal-edited", "seal-removed"],
)
async def test_removing_or_moving_sealed_history_is_caught(
    sealed_log: str, change: str, expected: str
) -> None:
    async with tampered(sealed_log) as db:
        await db.execute(text(change))
        report = await _verify(db)
    assert not report.ok
    assert expected in (report.reason or "")


async def _truncate_newest(db: AsyncConnection) -> None:
    """Removes the newest seal and every entry under it: what is left is a shorter, intact chain."""
    seal = await _head_seal(db)
    for row in await _entries_of(db, seal):
        await db.execute(text("DELETE FROM audit_events WHERE seq = :seq"), {"seq": row["seq"]})
    await db.execute(text("DELETE FROM audit_seals WHERE number = :n"), {"n": seal.number})


async def test_truncation_is_caught_against_a_checkpoint_kept_elsewhere(
    sealed_log: str, audit_sessions
) -> None:
    async with audit_sessions() as session:
        checkpoint = issue_checkpoint(await current_head(session), KEYS)
    async with tampered(sealed_log) as db:
        assert (await _verify(db, checkpoint)).ok
        await _truncate_newest(db)
        alone, against = await _verify(db), await _verify(db, checkpoint)
    # Without the checkpoint the shorter chain verifies: that is why it must be kept elsewhere.
    assert alone.ok
    assert not against.ok
    assert "the newest seals and their entries were removed" in (against.reason or "")


async def test_a_resealed_rewrite_is_caught_against_a_checkpoint(sealed_log: str, audit_sessions) -> None:
    # Two entries of one transaction are sealed together, so the newest seal keeps one after the
    # deletion below (a seal held back by another run's transaction may otherwise hold only one).
    async with audit_sessions() as session:
        for _ in range(2):
            audit.record(
                session, actor=NURSE, action="read", resource_type="patient", patient_id=uuid.uuid4()
            )
        await session.commit()
    await seal_everything(audit_sessions)
    async with audit_sessions() as session:
        checkpoint = issue_checkpoint(await current_head(session), KEYS)
    async with tampered(sealed_log) as db:
        # The newest seal goes with one entry under it; the sequencer seals what is left again.
        seal = await _head_seal(db)
        await db.execute(text("DELETE FROM audit_seals WHERE number = :n"), {"n": seal.number})
        await db.execute(text("DELETE FROM audit_events WHERE seq = :seq"), {"seq": seal.last_seq})
        await seal_all(sessions=create_sessionmaker(db), keys=KEYS)  # type: ignore[arg-type]
        alone, against = await _verify(db), await _verify(db, checkpoint)
    assert alone.ok and alone.head.sequence == checkpoint.sequence
    assert not against.ok
    assert "the log was rewritten up to it" in (against.reason or "")


async def test_an_altered_or_foreign_checkpoint_is_refused(audit_sessions, sealed_log: str) -> None:
    async with audit_sessions() as session:
        checkpoint = issue_checkpoint(await current_head(session), KEYS)
        altered = checkpoint.model_copy(update={"entries": checkpoint.entries - 1})
        foreign = issue_checkpoint(
            await current_head(session), AuditKeyring(AuditKey.from_secret("k9", "x" * 40))
        )
        genuine = await verify_chain(session, KEYS, checkpoint=checkpoint)
        refused = [await verify_chain(session, KEYS, checkpoint=c) for c in (altered, foreign)]
    assert genuine.ok and genuine.checkpoint_sequence == checkpoint.sequence
    assert not refused[0].ok and "signature does not verify" in (refused[0].reason or "")
    assert not refused[1].ok and "'k9', which is not configured" in (refused[1].reason or "")
