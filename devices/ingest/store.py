"""Writing one batch in one transaction: readings, dead letters and device statuses.

PostgreSQL: the readings are COPYed (binary, encoded by `pgcopy`) straight into `vital_readings` inside a savepoint. When
the (device, metric, time) key refuses a row (a redelivered message, a batch retried after a commit
whose answer was lost), the savepoint is rolled back and the batch goes the safe way: COPY into a
temporary staging table, then `INSERT .. SELECT .. ON CONFLICT DO NOTHING`, which skips what is
already stored. COPY alone cannot skip conflicts; the staging path costs ~1.4 times a bare COPY,
so it is kept for the rare batch that needs it. Row-by-row INSERTs would be far slower still. SQLite (embedded): one
`INSERT OR IGNORE` executemany in one transaction. A database that cannot be reached surfaces as
`StoreUnavailable`, which the worker answers by waiting and retrying the same batch.
"""

from __future__ import annotations

import logging
from typing import Protocol

import psycopg
from sqlalchemy import insert, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError as SQLAlchemyOperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devices.ingest.batch import WriteBatch
from devices.ingest.models import DeviceLastStatus, IngestDeadLetter
from devices.ingest.pgcopy import BinaryRows
from devices.vitals import VitalReading

log = logging.getLogger(__name__)

READING_COLUMNS = "time, device_id, patient_id, metric, value, unit"
STAGING_DDL = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS ingest_staging (time timestamptz, device_id text, "
    "patient_id uuid, metric text, value float8, unit text) ON COMMIT DELETE ROWS"
)
MOVE_STAGED = (
    "INSERT INTO vital_readings (time, device_id, patient_id, metric, value, unit) "
    "SELECT time, device_id, patient_id, metric, value, unit FROM ingest_staging ON CONFLICT DO NOTHING"
)
INSERT_DEAD_LETTER = (
    "INSERT INTO ingest_dead_letters (id, received_at, topic, device_id, payload, payload_size, "
    "reason_code, reason, resolved) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, false) ON CONFLICT (id) DO NOTHING"
)
UPSERT_STATUS = (
    "INSERT INTO device_status (device_id, online, battery_pct, sensor_off, firmware, reported_at, received_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (device_id) DO UPDATE SET online = excluded.online, "
    "battery_pct = excluded.battery_pct, sensor_off = excluded.sensor_off, firmware = excluded.firmware, "
    "reported_at = excluded.reported_at, received_at = excluded.received_at "
    "WHERE device_status.reported_at <= excluded.reported_at"
)


class StoreUnavailable(Exception):
    """The database cannot take the batch now (down, restarting, locked); retrying later may succeed."""


class ReadingStore(Protocol):
    async def write(self, batch: WriteBatch) -> int:
        """Writes and commits the batch; returns how many readings were new."""
        ...

    async def close(self) -> None: ...


class PostgresStore:
    """A dedicated psycopg connection, (re)opened on demand."""

    def __init__(self, database_url: str) -> None:
        self._dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._binary_rows = BinaryRows()

    async def write(self, batch: WriteBatch) -> int:
        try:
            connection = await self._connect()
            async with connection.transaction(), connection.cursor() as cursor:
                inserted = await self._write_readings(connection, cursor, batch) if batch.readings else 0
                if batch.dead_letters:
                    await cursor.executemany(
                        INSERT_DEAD_LETTER,
                        [
                            (
                                d.id,
                                d.received_at,
                                d.topic,
                                d.device_id,
                                d.payload,
                                d.payload_size,
                                d.reason_code,
                                d.reason,
                            )
                            for d in batch.dead_letters
                        ],
                    )
                if batch.statuses:
                    await cursor.executemany(
                        UPSERT_STATUS,
                        [
                            (
                                s.device_id,
                                s.online,
                                s.battery_pct,
                                s.sensor_off,
                                s.firmware,
                                s.reported_at,
                                s.received_at,
                            )
                            for s in batch.statuses.values()
                        ],
                    )
            return inserted
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:
            # The connection is unusable after this; the next attempt opens a new one.
            await self.close()
            raise StoreUnavailable(str(error).strip() or type(error).__name__) from error

    async def _write_readings(
        self,
        connection: psycopg.AsyncConnection[tuple[object, ...]],
        cursor: psycopg.AsyncCursor[tuple[object, ...]],
        batch: WriteBatch,
    ) -> int:
        # Optimistic first: COPY straight into the table, inside a savepoint. Conflicts happen only
        # after a redelivery (a worker restart, a lost connection), so this path is the usual one and
        # runs at bare COPY speed; when the key refuses a row, the savepoint undoes the attempt and the
        # staging path below skips what is already stored.
        data = self._binary_rows.encode(batch.readings)
        try:
            async with connection.transaction():
                await self._copy(cursor, "vital_readings", data)
            return len(batch.readings)
        except psycopg.errors.UniqueViolation:
            pass
        await self._copy(cursor, "ingest_staging", data)
        await cursor.execute(MOVE_STAGED)
        return cursor.rowcount

    @staticmethod
    async def _copy(cursor: psycopg.AsyncCursor[tuple[object, ...]], table: str, data: bytearray) -> None:
        async with cursor.copy(f"COPY {table} ({READING_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            await copy.write(data)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.closed:
            await connection.close()

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        if self._connection is None or self._connection.closed:
            connection = await psycopg.AsyncConnection.connect(self._dsn, connect_timeout=5)
            async with connection.transaction():
                await connection.execute(STAGING_DDL)
            self._connection = connection
        return self._connection


class SqliteStore:
    """The embedded mode's writer, through the application's own sessions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def write(self, batch: WriteBatch) -> int:
        try:
            async with self._sessions() as session, session.begin():
                before = await session.scalar(text("SELECT total_changes()"))
                if batch.readings:
                    rows = [
                        {"time": t, "device_id": d, "patient_id": p, "metric": m, "value": v, "unit": u}
                        for t, d, p, m, v, u in batch.readings
                    ]
                    await session.execute(insert(VitalReading).prefix_with("OR IGNORE"), rows)
                inserted = int(await session.scalar(text("SELECT total_changes()")) or 0) - int(before or 0)
                await self._write_others(session, batch)
            return inserted
        except SQLAlchemyOperationalError as error:
            # "database is locked" past the busy timeout, or a file that cannot be written now.
            raise StoreUnavailable(str(error.orig)) from error

    async def close(self) -> None:
        """Nothing to close: the sessions belong to the application."""

    async def _write_others(self, session: AsyncSession, batch: WriteBatch) -> None:
        if batch.dead_letters:
            letters = [
                {
                    "id": d.id,
                    "received_at": d.received_at,
                    "topic": d.topic,
                    "device_id": d.device_id,
                    "payload": d.payload,
                    "payload_size": d.payload_size,
                    "reason_code": d.reason_code,
                    "reason": d.reason,
                    "resolved": False,
                }
                for d in batch.dead_letters
            ]
            await session.execute(sqlite.insert(IngestDeadLetter).on_conflict_do_nothing(), letters)
        for s in batch.statuses.values():
            statement = sqlite.insert(DeviceLastStatus).values(
                device_id=s.device_id,
                online=s.online,
                battery_pct=s.battery_pct,
                sensor_off=s.sensor_off,
                firmware=s.firmware,
                reported_at=s.reported_at,
                received_at=s.received_at,
            )
            excluded = statement.excluded
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["device_id"],
                    set_={
                        c: excluded[c]
                        for c in (
                            "online",
                            "battery_pct",
                            "sensor_off",
                            "firmware",
                            "reported_at",
                            "received_at",
                        )
                    },
                    where=DeviceLastStatus.reported_at <= excluded.reported_at,
                )
            )


def open_store(database_url: str, sessions: async_sessionmaker[AsyncSession]) -> ReadingStore:
    """The writer for the database behind `database_url`."""
    if database_url.startswith("sqlite"):
        return SqliteStore(sessions)
    return PostgresStore(database_url)
