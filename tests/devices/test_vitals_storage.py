"""The vitals store underneath the API: native partitions ahead and retention, rollups, the SQLite path."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text

from core.db import create_engine
from core.principal import Principal, Role
from core.sessions import create_sessionmaker, transaction
from devices.ingest.batch import WriteBatch
from devices.ingest.store import SqliteStore
from devices.vitals import partitions, queries, service
from devices.vitals.models import DeviceCoverage1h, VitalReading, VitalRollup1m
from devices.vitals.rollups import refresh_rollups
from ownat import migrate
from tests.devices.ingest_helpers import unique_device_id


@pytest.fixture(scope="module")
def partitioned_url(databases) -> str:
    """A database of its own: partition upkeep acts on the whole table."""
    url = databases.create("vitals_partitions")
    migrate.upgrade(url)
    return url


async def _partition_days(connection) -> set:
    return set(await connection.run_sync(lambda sync: partitions.existing_partitions(sync)))


async def test_the_migration_creates_daily_partitions_ahead(partitioned_url) -> None:
    engine = create_engine(partitioned_url)
    try:
        async with engine.begin() as connection:
            assert await connection.run_sync(partitions.storage_kind) == "native"
            days = await _partition_days(connection)
        today = datetime.now(UTC).date()
        wanted = {
            today + timedelta(days=d)
            for d in range(-partitions.PARTITION_DAYS_BACK, partitions.PARTITION_DAYS_AHEAD + 1)
        }
        assert wanted <= days
    finally:
        await engine.dispose()


async def test_late_rows_move_out_of_the_default_partition_and_retention_drops_old_days(
    partitioned_url,
) -> None:
    engine = create_engine(partitioned_url)
    device_id = unique_device_id("part")
    today = datetime.now(UTC).date()
    old_day = today - timedelta(days=60)
    old_time = datetime.combine(old_day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=3)
    recent_time = datetime.now(UTC) - timedelta(hours=1)
    try:
        async with engine.begin() as connection:
            rows = [
                {
                    "time": t,
                    "device_id": device_id,
                    "patient_id": None,
                    "metric": "8867-4",
                    "value": 70.0,
                    "unit": "/min",
                }
                for t in (old_time, recent_time)
            ]
            await connection.execute(insert(VitalReading), rows)
            # No partition for that day: the reading waited in the default partition, never refused.
            in_default = await connection.scalar(
                text(f"SELECT count(*) FROM {partitions.PARTITION_SCHEMA}.{partitions.DEFAULT_PARTITION}")  # noqa: S608
            )
            assert in_default == 1
        async with engine.begin() as connection:
            created = await connection.run_sync(
                lambda sync: partitions.ensure_partitions(sync, today=old_day, days_ahead=0, days_back=0)
            )
            assert created == [partitions.partition_name(old_day)]
            moved = await connection.scalar(
                text(
                    f"SELECT count(*) FROM {partitions.PARTITION_SCHEMA}.{partitions.partition_name(old_day)}"  # noqa: S608
                )
            )
            assert moved == 1
        async with engine.begin() as connection:
            dropped = await connection.run_sync(
                lambda sync: partitions.drop_expired_partitions(sync, today=today, retention_days=30)
            )
            assert partitions.partition_name(old_day) in dropped
            left = await connection.scalars(
                select(VitalReading.time).where(VitalReading.device_id == device_id)
            )
            assert list(left) == [recent_time]
            assert old_day not in await _partition_days(connection)
    finally:
        await engine.dispose()


async def test_rollups_are_recomputed_idempotently(sessions) -> None:
    patient_id, device_id = uuid.uuid4(), unique_device_id("roll")
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    values = [(minute + timedelta(seconds=10 * i), float(60 + i)) for i in range(12)]  # two minutes, 6 each
    async with transaction(sessions) as session:
        await session.execute(
            insert(VitalReading),
            [
                {
                    "time": t,
                    "device_id": device_id,
                    "patient_id": patient_id,
                    "metric": "8867-4",
                    "value": v,
                    "unit": "/min",
                }
                for t, v in values
            ],
        )
    for _ in range(2):
        async with transaction(sessions) as session:
            await refresh_rollups(session, since=minute, device_ids=[device_id])
    async with sessions() as session:
        rollups = (
            await session.execute(
                select(
                    VitalRollup1m.bucket,
                    VitalRollup1m.min_value,
                    VitalRollup1m.max_value,
                    VitalRollup1m.sum_value,
                    VitalRollup1m.count,
                )
                .where(VitalRollup1m.device_id == device_id)
                .order_by(VitalRollup1m.bucket)
            )
        ).all()
    assert [tuple(r) for r in rollups] == [
        (minute, 60.0, 65.0, float(sum(range(60, 66))), 6),
        (minute + timedelta(minutes=1), 66.0, 71.0, float(sum(range(66, 72))), 6),
    ]


async def test_the_embedded_sqlite_store_writes_and_answers_queries(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'vitals.sqlite3'}"
    await migrate.upgrade_async(url)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    patient_id, device_id = uuid.uuid4(), "sqlite-monitor"
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=20)
    batch = WriteBatch(
        readings=[
            (minute + timedelta(seconds=15 * i), device_id, patient_id, "8867-4", float(70 + i), "/min")
            for i in range(8)
        ]
    )
    try:
        store = SqliteStore(sessions)
        assert await store.write(batch) == 8
        assert await store.write(batch) == 0  # a redelivered batch stores nothing twice
        async with transaction(sessions) as session:
            assert await refresh_rollups(session, since=minute) == 2
            principal = Principal(user_id=uuid.uuid4(), role=Role.PATIENT, patient_id=patient_id)
            raw = await service.get_series(
                session=session,
                principal=principal,
                patient_id=patient_id,
                metric="hr",
                start=minute,
                end=minute + timedelta(minutes=5),
            )
            bucketed = await service.get_series(
                session=session, principal=principal, patient_id=patient_id, metric="hr",
                start=minute, end=minute + timedelta(minutes=5), bucket="1m",
            )  # fmt: skip
            rolled = await queries.bucketed(
                session, patient_id=patient_id, metric="8867-4", start=minute - timedelta(hours=1),
                end=minute + timedelta(hours=1), width=timedelta(hours=1), use_rollups=True,
            )  # fmt: skip
            latest = await service.get_latest(session=session, principal=principal, patient_ids=[patient_id])
        assert [p.value for p in raw.points] == [70.0 + i for i in range(8)]
        assert [(b.start, b.min, b.max, b.count) for b in bucketed.buckets] == [
            (minute, 70.0, 73.0, 4),
            (minute + timedelta(minutes=1), 74.0, 77.0, 4),
        ]
        assert sum(b.count for b in rolled) == 8 and min(b.min for b in rolled) == 70.0
        assert [(v.metric, v.value) for v in latest] == [("8867-4", 77.0)]
        async with engine.begin() as connection:
            kind = await connection.run_sync(
                lambda sync: partitions.apply_retention(
                    sync, today=datetime.now(UTC).date() + timedelta(days=40)
                )
            )
            assert kind == "sqlite"
            assert await connection.scalar(select(func.count()).select_from(VitalReading)) == 0
            assert await connection.scalar(select(func.count()).select_from(DeviceCoverage1h)) > 0
            # Past the rollups' retention, the minutes and the hours summarising them go together.
            await connection.run_sync(
                lambda sync: partitions.apply_retention(
                    sync, today=datetime.now(UTC).date() + timedelta(days=800)
                )
            )
            for table in (VitalRollup1m, DeviceCoverage1h):
                assert await connection.scalar(select(func.count()).select_from(table)) == 0
    finally:
        await engine.dispose()
