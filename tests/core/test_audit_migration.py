"""Upgrading a log written under the old SHA-256 chain to the keyed one, and back."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.types.json import Json
from sqlalchemy import text

from core.audit.legacy import GENESIS_HASH, legacy_hash
from core.audit.verify import verify_chain
from core.db import create_engine
from core.sessions import create_sessionmaker
from ownat import migrate
from tests.core.audit_support import KEYS, record, seal_everything


def _legacy_rows(count: int) -> list[dict]:
    """Entries as the old appender chained them: consecutive numbers, each hash over the previous."""
    rows, prev_hash = [], GENESIS_HASH
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for seq in range(1, count + 1):
        row = {
            "seq": seq, "id": uuid.uuid4(), "occurred_at": start + timedelta(minutes=seq), "actor_id": uuid.uuid4(),
            "actor_role": "nurse", "action": "read", "resource_type": "patient", "resource_id": None,
            "patient_id": uuid.uuid4(), "client_address": "10.0.0.7", "request_id": f"req-{seq:08d}",
            "outcome": "success", "detail": {"fields": ["name"], "n": seq}, "prev_hash": prev_hash,
        }  # fmt: skip
        row["hash"] = prev_hash = legacy_hash(row)
        rows.append(row)
    return rows


def _insert_legacy(dsn: str, rows: list[dict]) -> None:
    columns = list(rows[0])
    with psycopg.connect(dsn) as db:
        db.cursor().executemany(
            f"INSERT INTO audit_events ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",  # noqa: S608
            [[Json(r[c]) if c == "detail" else r[c] for c in columns] for r in rows],
        )


async def test_legacy_entries_are_sealed_checked_and_survive_a_downgrade(databases) -> None:
    url = databases.create("audit_legacy")
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    await migrate.upgrade_async(url, "0014_device_coverage")
    _insert_legacy(dsn, _legacy_rows(4))
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    try:
        sessions = create_sessionmaker(engine)
        await record(sessions, patient_id=uuid.uuid4())  # numbered after the legacy entries
        await seal_everything(sessions)
        async with sessions() as session:
            report = await verify_chain(session, KEYS)
        async with engine.begin() as db:
            await db.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
            await db.execute(text("UPDATE audit_events SET outcome = 'denied' WHERE seq = 2"))
            async with sessions(bind=db) as session:
                tampered = await verify_chain(session, KEYS)
            await db.rollback()
    finally:
        await engine.dispose()
    assert report.ok and report.checked == 5, report.reason
    assert not tampered.ok and tampered.first_broken_seq == 2
    assert "before keyed signing" in (tampered.reason or "")

    await asyncio.to_thread(migrate.downgrade, url, "0014_device_coverage")
    with psycopg.connect(dsn) as db:
        rows = db.execute(
            "SELECT seq, id, occurred_at, actor_id, actor_role, action, resource_type, resource_id, patient_id, "
            "client_address, request_id, outcome, detail, prev_hash, hash FROM audit_events ORDER BY seq"
        ).fetchall()
    # The old chain, whole again: consecutive numbers, each link and hash as the old code checks them.
    prev_hash = GENESIS_HASH
    for number, row in enumerate(rows, start=1):
        fields = dict(zip(("seq", "id", "occurred_at", "actor_id", "actor_role", "action", "resource_type",
                           "resource_id", "patient_id", "client_address", "request_id", "outcome", "detail",
                           "prev_hash", "hash"), row, strict=True))  # fmt: skip
        fields["occurred_at"] = fields["occurred_at"].astimezone(UTC)
        assert fields["seq"] == number and fields["prev_hash"] == prev_hash
        assert legacy_hash(fields) == fields["hash"]
        prev_hash = fields["hash"]
    assert len(rows) == 5
