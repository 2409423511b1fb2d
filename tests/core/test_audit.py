"""The audit chain on the real PostgreSQL: appends, failed attempts, tampering, concurrency."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.audit import service as audit
from core.audit.models import AuditEvent
from core.audit.verify import verify_chain
from core.db import create_engine
from core.errors import Conflict
from core.identity.principal import Principal, Role
from core.sessions import create_sessionmaker, transaction
from ownat import migrate

NURSE = Principal(user_id=uuid.uuid4(), role=Role.NURSE)


@pytest.fixture(scope="module")
def audit_database_url(databases) -> str:
    """A database of its own: these tests break the chain on purpose."""
    url = databases.create("audit")
    migrate.upgrade(url)
    return url


@pytest.fixture
async def sessions(audit_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(audit_database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


def _superuser_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


async def _record(sessions, *, patient_id: uuid.UUID, action: str = "read") -> None:
    async with transaction(sessions) as session:
        audit.record(session, actor=NURSE, action=action, resource_type="patient", patient_id=patient_id)


async def test_entries_are_chained_and_verify(sessions) -> None:
    patient_id = uuid.uuid4()
    for action in ("read", "update", "read"):
        await _record(sessions, patient_id=patient_id, action=action)
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.patient_id == patient_id).order_by(AuditEvent.seq)
            )
        ).all()
        report = await verify_chain(session)
    assert [r.action for r in rows] == ["read", "update", "read"]
    assert all(r.actor_id == NURSE.user_id and r.outcome == "success" for r in rows)
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
    assert report.ok and report.checked >= 3


async def test_failed_transaction_is_recorded_as_failure(sessions) -> None:
    patient_id = uuid.uuid4()
    with pytest.raises(Conflict):
        async with transaction(sessions) as session:
            audit.record(
                session, actor=NURSE, action="update", resource_type="patient", patient_id=patient_id
            )
            raise Conflict("the record changed meanwhile")
    async with sessions() as session:
        row = (await session.scalars(select(AuditEvent).where(AuditEvent.patient_id == patient_id))).one()
    assert row.outcome == "failure"
    assert row.detail["error"] == "conflict"


async def test_database_refuses_update_and_delete(sessions) -> None:
    await _record(sessions, patient_id=uuid.uuid4())
    for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
        async with sessions() as session:
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text(statement))


async def test_concurrent_appends_keep_one_linear_chain(sessions) -> None:
    patient_id = uuid.uuid4()
    await asyncio.gather(*(_record(sessions, patient_id=patient_id) for _ in range(25)))
    async with sessions() as session:
        count = await session.scalar(select(func.count()).where(AuditEvent.patient_id == patient_id))
        report = await verify_chain(session)
    assert count == 25
    assert report.ok, report.reason


@pytest.mark.parametrize("tampering", ["edit", "delete"])
async def test_tampering_is_detected_at_the_broken_entry(databases, tampering: str) -> None:
    # A database of its own per case: each case breaks the chain for good.
    audit_database_url = databases.create(f"tamper_{tampering}")
    await migrate.upgrade_async(audit_database_url)
    engine = create_engine(audit_database_url)
    try:
        await _tamper_and_verify(create_sessionmaker(engine), audit_database_url, tampering)
    finally:
        await engine.dispose()


async def _tamper_and_verify(sessions, audit_database_url: str, tampering: str) -> None:
    patient_id = uuid.uuid4()
    for _ in range(3):
        await _record(sessions, patient_id=patient_id)
    async with sessions() as session:
        seqs = (
            await session.scalars(
                select(AuditEvent.seq).where(AuditEvent.patient_id == patient_id).order_by(AuditEvent.seq)
            )
        ).all()
    middle = seqs[1]
    # What an intruder with superuser rights would do: switch the guard off and rewrite history.
    with psycopg.connect(_superuser_dsn(audit_database_url), autocommit=True) as db:
        db.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        if tampering == "edit":
            db.execute("UPDATE audit_events SET action = 'nothing-to-see' WHERE seq = %s", (middle,))
        else:
            db.execute("DELETE FROM audit_events WHERE seq = %s", (middle,))
        db.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    async with sessions() as session:
        report = await verify_chain(session)
    assert not report.ok
    if tampering == "edit":
        assert report.first_broken_seq == middle
        assert "content" in (report.reason or "")
    else:
        assert report.first_broken_seq == seqs[2]
        assert "missing" in (report.reason or "")
