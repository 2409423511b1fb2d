"""The system status service on a database of its own, PostgreSQL and SQLite: exact figures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine, utc_now
from core.sessions import create_sessionmaker, transaction
from devices.ingest.models import DeviceLastStatus, IngestDeadLetter
from devices.ingest.status import ingest_status
from devices.vitals.models import VitalReading
from ownat.migrate import upgrade_async


@pytest.fixture(params=["postgresql", pytest.param("sqlite", marks=pytest.mark.embedded)])
async def sessions_of(
    request: pytest.FixtureRequest, databases, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if request.param == "postgresql":
        url = databases.create("system_status")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'ownat.sqlite3'}"
    await upgrade_async(url)
    engine = create_engine(url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


def _letter(code: str, reason: str, *, minutes_ago: int, resolved: bool = False) -> IngestDeadLetter:
    return IngestDeadLetter(
        received_at=utc_now() - timedelta(minutes=minutes_ago),
        topic="ownat/v1/devices/x/vitals",
        device_id="x",
        payload=b"?",
        payload_size=1,
        reason_code=code,
        reason=reason,
        resolved=resolved,
    )


async def test_figures_on_an_empty_database_are_zero(sessions_of) -> None:
    async with transaction(sessions_of) as session:
        status = await ingest_status(session=session)
    assert status.ingest.last_minute == status.ingest.last_hour == status.connected_devices == 0
    assert status.dead_letters.total == 0 and status.dead_letters.newest == []


async def test_figures_count_what_is_recent(sessions_of) -> None:
    now = utc_now()
    reading = lambda device, seconds: VitalReading(  # noqa: E731
        time=now - timedelta(seconds=seconds), device_id=device, metric="8867-4", value=60.0, unit="/min"
    )
    async with transaction(sessions_of) as session:
        session.add_all(
            [reading("a", 1), reading("a", 2), reading("b", 30), reading("c", 600), reading("d", 7200)]
        )
        session.add(DeviceLastStatus(device_id="a", online=True, reported_at=now, received_at=now))
        session.add(DeviceLastStatus(device_id="e", online=True, reported_at=now, received_at=now))
        session.add_all(
            [
                _letter("invalid", "older", minutes_ago=10),
                _letter("invalid", "newest", minutes_ago=1),
                _letter("unknown-device", "middle", minutes_ago=5),
                _letter("invalid", "handled", minutes_ago=20, resolved=True),
            ]
        )
    async with transaction(sessions_of) as session:
        status = await ingest_status(session=session)
    assert status.ingest.last_minute == 3  # a twice, b
    assert status.ingest.last_hour == 4  # and c; d is two hours old
    assert status.ingest.per_second_last_minute == 0.05
    assert status.connected_devices == 3  # a (reading and status), b, e; c is ten minutes old
    dead = status.dead_letters
    assert dead.total == 4 and dead.unresolved == 3
    assert [(r.reason_code, r.count) for r in dead.by_reason] == [("invalid", 2), ("unknown-device", 1)]
    assert [letter.reason for letter in dead.newest] == ["newest", "middle", "older", "handled"]
