"""Bulk export throughput on the analytics benchmark's year of data, beside a `COPY` of the same tables.

The export runs exactly as `ownat worker` runs it (`run_export`: streamed in batches, rendered by
the FHIR providers, written as NDJSON); the baseline is PostgreSQL's own `COPY ... TO STDOUT` of the
tables behind the same types, read to the end by the client: the floor of getting those rows out.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.analytics.generate import generate
from clinical.fhir import claim_job, kick_off_export, run_export
from core.db import create_engine, utc_now
from core.principal import SYSTEM
from core.sessions import create_sessionmaker, transaction

# The analytics data's FHIR types, and the table each is served from.
TABLES = {"Patient": "patients", "Appointment": "appointments", "Encounter": "encounters"}


@dataclass(slots=True)
class ExportFigures:
    counts: dict[str, int]
    export_s: float
    copy_rows: int
    copy_s: float

    @property
    def resources(self) -> int:
        return sum(self.counts.values())


async def generate_year(database_url: str, rollup_days: int) -> None:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    await asyncio.to_thread(generate, dsn, rollup_days=rollup_days, progress=lambda *_: None)


async def measure(database_url: str, *, batch: int) -> ExportFigures:
    """Times a system export of the analytics types, then a COPY of their tables."""
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    try:
        async with transaction(sessions) as session:
            job = await kick_off_export(
                session=session,
                principal=SYSTEM,
                level="system",
                group_id=None,
                query=[("_type", ",".join(TABLES))],
                request_url="bench",
            )
            job_id = job.id
        async with transaction(sessions) as session:
            claimed = await claim_job(session, now=utc_now())
            assert claimed is not None and claimed.id == job_id
        with tempfile.TemporaryDirectory(prefix="ownat-export-") as data_dir:
            started = time.perf_counter()
            await run_export(
                sessions=sessions, job_id=job_id, data_dir=Path(data_dir), batch=batch, ttl_s=3600
            )
            export_s = time.perf_counter() - started
        async with transaction(sessions) as session:
            from clinical.fhir import FhirExportJob

            done = await session.get(FhirExportJob, job_id)
            assert done is not None and done.status == "complete", (
                done.status if done else None,
                done.error if done else None,
            )
            counts = {item["type"]: item["count"] for item in done.output}
    finally:
        await engine.dispose()
    copy_rows, copy_s = await _copy(database_url)
    return ExportFigures(counts=counts, export_s=export_s, copy_rows=copy_rows, copy_s=copy_s)


async def _copy(database_url: str) -> tuple[int, float]:
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    rows, elapsed = 0, 0.0
    async with await psycopg.AsyncConnection.connect(dsn) as connection:
        for table in TABLES.values():
            started = time.perf_counter()
            query = f"COPY {table} TO STDOUT"  # our own table names, never input
            async with connection.cursor() as cursor, cursor.copy(query) as copy:
                async for block in copy:
                    rows += bytes(block).count(b"\n")
            elapsed += time.perf_counter() - started
    return rows, elapsed
