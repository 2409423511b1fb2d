"""The two baselines, on the readings the pipeline stored in the same run.

- naive: one INSERT and one commit per reading, what a simple consumer does;
- bare COPY: the same rows streamed into an identical table with no conflict handling, the ceiling.
Both tables copy `vital_readings`' columns, key and indexes (LIKE .. INCLUDING ALL).
"""

from __future__ import annotations

import time

import psycopg
from sqlalchemy.engine import make_url

NAIVE_MAX_S = 10.0
NAIVE_MAX_ROWS = 30_000
COPY_MAX_ROWS = 2_000_000


def _dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def naive_inserts(database_url: str) -> tuple[int, float]:
    """Rows inserted one by one, each in its own transaction, for up to NAIVE_MAX_S; (rows, seconds)."""
    with psycopg.connect(_dsn(database_url), autocommit=True) as connection:
        connection.execute("CREATE TABLE bench_naive (LIKE vital_readings INCLUDING ALL)")
        rows = connection.execute(
            "SELECT time, device_id, patient_id, metric, value, unit FROM vital_readings LIMIT %s",
            (NAIVE_MAX_ROWS,),
        ).fetchall()
        started = time.perf_counter()
        done = 0
        for row in rows:
            connection.execute(
                "INSERT INTO bench_naive (time, device_id, patient_id, metric, value, unit) VALUES (%s, %s, %s, %s, %s, %s)",
                row,
            )
            done += 1
            if time.perf_counter() - started > NAIVE_MAX_S:
                break
        return done, time.perf_counter() - started


def bare_copy(database_url: str) -> tuple[int, float]:
    """The run's rows (up to COPY_MAX_ROWS) COPYed in binary into an identical table; (rows, seconds)."""
    with psycopg.connect(_dsn(database_url), autocommit=True) as connection:
        connection.execute("CREATE TABLE bench_copy (LIKE vital_readings INCLUDING ALL)")
        data = bytearray()
        query = (
            "COPY (SELECT time, device_id, patient_id, metric, value, unit FROM vital_readings LIMIT %s) "
            "TO STDOUT (FORMAT BINARY)"
        )
        with connection.cursor().copy(query, (COPY_MAX_ROWS,)) as copy:
            for chunk in copy:
                data += chunk
        rows = connection.execute(
            "SELECT count(*) FROM (SELECT 1 FROM vital_readings LIMIT %s) s", (COPY_MAX_ROWS,)
        ).fetchone()
        started = time.perf_counter()
        with (
            connection.transaction(),
            connection.cursor().copy(
                "COPY bench_copy (time, device_id, patient_id, metric, value, unit) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.write(bytes(data))
        return int(rows[0]) if rows else 0, time.perf_counter() - started


def stored_count(database_url: str) -> tuple[int, int]:
    """(rows, distinct keys) in vital_readings: equal when nothing was stored twice."""
    with psycopg.connect(_dsn(database_url)) as connection:
        row = connection.execute(
            "SELECT count(*), count(DISTINCT (device_id, metric, time)) FROM vital_readings"
        ).fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)
