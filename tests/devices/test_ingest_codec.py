"""The worker's COPY rows agree with their authority, PostgreSQL (the decoder's agreement with the protocol: test_wire_strictness)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy.engine import make_url

from devices.ingest.batch import WriteBatch
from devices.ingest.store import PostgresStore

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def test_binary_copy_rows_arrive_as_written(postgres_url: str) -> None:
    """Rows encoded by `pgcopy` read back from PostgreSQL exactly: times, ids, NULL patients, floats."""
    device_id = f"t-codec-{uuid.uuid4().hex[:8]}"
    patient = uuid.uuid4()
    base = datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC)
    rows = [
        (base, device_id, patient, "8867-4", 72.0, "/min"),
        (base, device_id, patient, "59408-5", 97.25, "%"),
        (base + timedelta(seconds=1), device_id, None, "8867-4", 73.5, "/min"),
        (base + timedelta(days=-1), device_id, patient, "8310-5", 37.0001, "Cel"),
        (datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), device_id, None, "8867-4", 0.1, "/min"),
    ]
    store = PostgresStore(postgres_url)
    try:
        assert await store.write(WriteBatch(readings=rows)) == len(rows)
        # The same rows again: the key refuses them, the staging path stores nothing twice.
        assert await store.write(WriteBatch(readings=rows)) == 0
    finally:
        await store.close()
    dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(dsn) as connection:
        cursor = await connection.execute(
            "SELECT time, device_id, patient_id, metric, value, unit FROM vital_readings WHERE device_id = %s ORDER BY time, metric",
            (device_id,),
        )
        stored = await cursor.fetchall()
    assert stored == sorted(rows, key=lambda r: (r[0], r[3]))
