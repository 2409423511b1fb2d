"""Where the vitals table's storage differs by database: every dialect-specific statement lives here.

- TimescaleDB (the extension is installed, or can be created): `vital_readings` becomes a hypertable
  with daily chunks, compressed after `COMPRESS_AFTER_DAYS`, and a retention policy drops old chunks.
- Native PostgreSQL: `PARTITION BY RANGE (time)`, one partition per UTC day, created
  `days_ahead` days ahead (and a few days back, for late data) by `ensure_partitions`, which the
  migration and the ingest workers call; `drop_expired_partitions` drops whole days past retention.
  A DEFAULT partition catches a reading whose day has no partition (very late data), so that no
  reading is ever refused for want of a partition; `ensure_partitions` moves such rows into the
  day's partition when it creates it.
- SQLite (embedded mode): a plain table; retention deletes rows.

Partitions live in their own schema, `vitals_partitions`: the platform's tables stay alone in the
default schema, where Alembic compares the models with the database.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import delete, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from devices.vitals.models import DeviceCoverage1h, VitalReading, VitalRollup1m

log = logging.getLogger(__name__)

StorageKind = Literal["timescaledb", "native", "sqlite"]

TABLE = "vital_readings"
PARTITION_SCHEMA = "vitals_partitions"
DEFAULT_PARTITION = "vital_readings_default"
PARTITION_NAME = re.compile(r"^vital_readings_p(\d{8})$")

# Defaults of the settings that govern storage (OWNAT_VITALS_RETENTION_DAYS and friends).
RETENTION_DAYS = 30
ROLLUP_RETENTION_DAYS = 730
PARTITION_DAYS_AHEAD = 7
# Days before today that get a partition too: an edge gateway may forward a day-old backlog.
PARTITION_DAYS_BACK = 2
COMPRESS_AFTER_DAYS = 2
# Partition upkeep must never stall ingestion for long: it gives up and tries again later instead.
UPKEEP_LOCK_TIMEOUT = "5s"
# One upkeep at a time across all workers (any constant, the same in every process).
UPKEEP_LOCK_KEY = 0x0A0D18


def choose_storage(connection: Connection) -> StorageKind:
    """The storage to create: TimescaleDB when the extension is or can be installed, else native."""
    if connection.dialect.name == "sqlite":
        return "sqlite"
    if _timescaledb_installed(connection):
        return "timescaledb"
    available = connection.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    ).first()
    if available is None:
        return "native"
    # Available yet not loadable (not in shared_preload_libraries, no privilege): fall back cleanly.
    try:
        with connection.begin_nested():
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    except DBAPIError as error:
        log.warning("timescaledb is available but cannot be created; using native partitions: %s", error)
        return "native"
    return "timescaledb"


def storage_kind(connection: Connection) -> StorageKind:
    """The storage the existing `vital_readings` table uses."""
    if connection.dialect.name == "sqlite":
        return "sqlite"
    if _timescaledb_installed(connection):
        hypertable = connection.execute(
            text("SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = :t"), {"t": TABLE}
        ).first()
        if hypertable is not None:
            return "timescaledb"
    return "native"


def table_options(kind: StorageKind) -> dict[str, str]:
    """Extra keyword arguments for `op.create_table(vital_readings)` under `kind`."""
    return {"postgresql_partition_by": "RANGE (time)"} if kind == "native" else {}


def finish_storage(connection: Connection, kind: StorageKind, *, today: date | None = None) -> None:
    """Turns the freshly created table into a hypertable, or gives it its partitions."""
    if kind == "timescaledb":
        connection.execute(
            # The migration's own indexes (BRIN on time among them) serve; TimescaleDB's default would be extra.
            text(
                "SELECT create_hypertable(:t, 'time', chunk_time_interval => INTERVAL '1 day', "
                "create_default_indexes => false)"
            ),
            {"t": TABLE},
        )
        # Segment by device and metric: a compressed chunk then reads one series without the others.
        connection.execute(
            text(
                f"ALTER TABLE {TABLE} SET (timescaledb.compress, "
                "timescaledb.compress_segmentby = 'device_id, metric', timescaledb.compress_orderby = 'time DESC')"
            )
        )
        connection.execute(
            text(f"SELECT add_compression_policy(:t, INTERVAL '{COMPRESS_AFTER_DAYS} days')"), {"t": TABLE}
        )
        connection.execute(
            text(f"SELECT add_retention_policy(:t, INTERVAL '{RETENTION_DAYS} days')"), {"t": TABLE}
        )
    elif kind == "native":
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {PARTITION_SCHEMA}"))
        connection.execute(
            text(f"CREATE TABLE {PARTITION_SCHEMA}.{DEFAULT_PARTITION} PARTITION OF {TABLE} DEFAULT")
        )
        ensure_partitions(connection, today=today or datetime.now(UTC).date())


def drop_storage(connection: Connection) -> None:
    """Removes what `finish_storage` added beyond the table itself (the table is dropped by the caller)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"DROP SCHEMA IF EXISTS {PARTITION_SCHEMA} CASCADE"))


def partition_name(day: date) -> str:
    return f"vital_readings_p{day:%Y%m%d}"


def existing_partitions(connection: Connection) -> dict[date, str]:
    """The daily partitions of the native table, by day."""
    rows = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname = :t AND p.relnamespace = to_regnamespace(current_schema())::oid"
        ),
        {"t": TABLE},
    ).scalars()
    days: dict[date, str] = {}
    for name in rows:
        match = PARTITION_NAME.match(name)
        if match:
            days[datetime.strptime(match.group(1), "%Y%m%d").date()] = name
    return days


def ensure_partitions(
    connection: Connection,
    *,
    today: date,
    days_ahead: int = PARTITION_DAYS_AHEAD,
    days_back: int = PARTITION_DAYS_BACK,
) -> list[str]:
    """Creates the missing daily partitions from `today - days_back` to `today + days_ahead`."""
    _lock_for_upkeep(connection)
    existing = existing_partitions(connection)
    created = []
    for offset in range(-days_back, days_ahead + 1):
        day = today + timedelta(days=offset)
        if day not in existing:
            _create_partition(connection, day)
            created.append(partition_name(day))
    return created


def drop_expired_partitions(
    connection: Connection, *, today: date, retention_days: int = RETENTION_DAYS
) -> list[str]:
    """Drops every daily partition wholly older than the retention, and expired rows of the default one."""
    _lock_for_upkeep(connection)
    cutoff = today - timedelta(days=retention_days)
    dropped = []
    for day, name in sorted(existing_partitions(connection).items()):
        if day < cutoff:
            connection.execute(text(f"DROP TABLE {PARTITION_SCHEMA}.{name}"))
            dropped.append(name)
    connection.execute(
        text(f"DELETE FROM {PARTITION_SCHEMA}.{DEFAULT_PARTITION} WHERE time < :cutoff"),  # noqa: S608
        {"cutoff": _midnight(cutoff)},
    )
    return dropped


def apply_retention(
    connection: Connection,
    *,
    today: date,
    retention_days: int = RETENTION_DAYS,
    rollup_retention_days: int = ROLLUP_RETENTION_DAYS,
    days_ahead: int = PARTITION_DAYS_AHEAD,
) -> StorageKind:
    """The periodic upkeep for whatever storage is in use: partitions ahead, old data out."""
    kind = storage_kind(connection)
    if kind == "native":
        ensure_partitions(connection, today=today, days_ahead=days_ahead)
        drop_expired_partitions(connection, today=today, retention_days=retention_days)
    elif kind == "sqlite":
        cutoff = _midnight(today - timedelta(days=retention_days))
        connection.execute(delete(VitalReading).where(VitalReading.time < cutoff))
    # TimescaleDB's own retention policy drops its chunks; rollups are ours on every dialect, and
    # the hourly coverage summarising them goes with them.
    rollup_cutoff = _midnight(today - timedelta(days=rollup_retention_days))
    connection.execute(delete(VitalRollup1m).where(VitalRollup1m.bucket < rollup_cutoff))
    connection.execute(delete(DeviceCoverage1h).where(DeviceCoverage1h.hour < rollup_cutoff))
    return kind


def _create_partition(connection: Connection, day: date) -> None:
    # CREATE TABLE .. LIKE and ATTACH take a weaker lock on the parent than CREATE TABLE .. PARTITION
    # OF (SHARE UPDATE EXCLUSIVE, which ingestion's inserts do not conflict with). Rows of that day
    # that fell into the default partition move first, or the ATTACH would be refused.
    name = f"{PARTITION_SCHEMA}.{partition_name(day)}"
    low, high = _midnight(day), _midnight(day + timedelta(days=1))
    bounds = f"FROM ('{low.isoformat()}') TO ('{high.isoformat()}')"
    connection.execute(text(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    columns = "time, device_id, patient_id, metric, value, unit"
    moved = connection.execute(
        text(
            # Identifiers from constants and a date; the bounds are parameters.
            f"WITH moved AS (DELETE FROM {PARTITION_SCHEMA}.{DEFAULT_PARTITION} "  # noqa: S608
            f"WHERE time >= :low AND time < :high RETURNING {columns}) "
            f"INSERT INTO {name} ({columns}) SELECT {columns} FROM moved"
        ),
        {"low": low, "high": high},
    ).rowcount
    connection.execute(text(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES {bounds}"))
    log.info("created vitals partition", extra={"partition": name, "moved_from_default": moved})


def _lock_for_upkeep(connection: Connection) -> None:
    connection.execute(text(f"SET LOCAL lock_timeout = '{UPKEEP_LOCK_TIMEOUT}'"))
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPKEEP_LOCK_KEY})


def _timescaledb_installed(connection: Connection) -> bool:
    return (
        connection.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")).first()
        is not None
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)
