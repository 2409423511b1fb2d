"""Running an export in `ownat worker`: claim a queued job, stream each type to NDJSON, expire old files.

Rows are streamed from the database `fhir_export_batch` at a time (a server-side cursor on
PostgreSQL) and rendered by the same providers the FHIR API serves, so a line of the export is
exactly what a read would return; a type is never held in memory (the session's identity map is
weak: a written batch is garbage once the loop moves on). A worker runs one export at a time beside its other jobs (in a task of its own,
so deliveries keep flowing); the job's lease is renewed with its progress, so a worker that dies
leaves the job to be claimed again and restarted. Cancellation is seen between batches.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.fhir.bulk.models import FhirExportJob
from clinical.fhir.bulk.service import export_directory
from clinical.fhir.bulk.sources import export_query, table_sources, ward_patients
from clinical.fhir.provider import FhirContext
from clinical.fhir.registry import provider_for
from core import audit
from core.db import utc_now
from core.principal import Principal, Role
from core.resources import Resources
from core.sessions import transaction

log = logging.getLogger(__name__)

LEASE_S = 120.0
# How often a running export records its progress (and so notices a cancellation).
PROGRESS_EVERY_S = 1.0


class ExportCancelled(Exception):
    """The job was cancelled (or taken over) while it ran."""


async def claim_job(session: AsyncSession, *, now: datetime) -> FhirExportJob | None:
    """The oldest queued job (or a running one whose worker's lease ran out), marked running."""
    job = await session.scalar(
        select(FhirExportJob)
        .where(
            or_(
                FhirExportJob.status == "queued",
                and_(FhirExportJob.status == "running", FhirExportJob.lease_until < now),
            )
        )
        .order_by(FhirExportJob.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if job is None:
        return None
    job.status, job.started_at, job.output, job.progress = "running", now, [], "starting"
    job.lease_until = now + timedelta(seconds=LEASE_S)
    await session.flush()
    return job


async def _progress(
    sessions: async_sessionmaker[AsyncSession], job_id: uuid.UUID, started_at: datetime, **changes: Any
) -> None:
    """Records progress and renews the lease; raises ExportCancelled when the job is no longer ours."""
    async with transaction(sessions) as session:
        job = await session.get(FhirExportJob, job_id, with_for_update=True)
        if job is None or job.status != "running" or job.started_at != started_at:
            raise ExportCancelled(str(job_id))
        for name, value in changes.items():
            setattr(job, name, value)
        job.lease_until = utc_now() + timedelta(seconds=LEASE_S)


async def run_export(
    *, sessions: async_sessionmaker[AsyncSession], job_id: uuid.UUID, data_dir: Path, batch: int, ttl_s: int
) -> None:
    """Writes every type of a claimed job, then marks it complete (or failed, with the reason)."""
    async with transaction(sessions) as session:
        job = await session.get(FhirExportJob, job_id)
        assert job is not None and job.started_at is not None
        level, group_id, types, since, started_at = (
            job.level,
            job.group_id,
            list(job.types),
            job.since,
            job.started_at,
        )
        principal = Principal(user_id=job.requested_by, role=Role(job.requester_role))
    directory = export_directory(data_dir, job_id)
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    output: list[dict[str, Any]] = []
    try:
        for resource_type in types:
            name = f"{resource_type}.ndjson"
            count = await _write_type(
                sessions,
                job_id=job_id,
                started_at=started_at,
                principal=principal,
                resource_type=resource_type,
                path=directory / name,
                query_options={"level": level, "group_id": group_id, "since": since, "at": started_at},
                batch=batch,
            )
            if count:
                output.append({"type": resource_type, "file": name, "count": count})
            else:
                await asyncio.to_thread((directory / name).unlink, missing_ok=True)
            await _progress(
                sessions, job_id, started_at, output=list(output), progress=f"{resource_type} written"
            )
        now = utc_now()
        await _progress(
            sessions,
            job_id,
            started_at,
            status="complete",
            progress="complete",
            finished_at=now,
            lease_until=None,
            expires_at=now + timedelta(seconds=ttl_s),
        )
        async with transaction(sessions) as session:
            counts = {item["type"]: item["count"] for item in output}
            audit.record(
                session,
                actor=principal,
                action="fhir.export.complete",
                resource_type="fhir.export",
                resource_id=job_id,
                detail={"level": level, "counts": counts},
            )
            if group_id is not None:
                # A ward's export names its patients: each one's access log shows it.
                for patient_id in await session.scalars(ward_patients(group_id, started_at)):
                    audit.record(
                        session,
                        actor=principal,
                        action="fhir.export.complete",
                        resource_type="fhir.export",
                        resource_id=job_id,
                        patient_id=patient_id,
                        detail={"level": level, "types": list(counts)},
                    )
    except ExportCancelled:
        await asyncio.to_thread(shutil.rmtree, directory, True)
    except Exception as error:
        log.exception("export %s failed", job_id)
        await asyncio.to_thread(shutil.rmtree, directory, True)
        async with transaction(sessions) as session:
            failed = await session.get(FhirExportJob, job_id, with_for_update=True)
            if failed is not None and failed.status == "running":
                failed.status, failed.error, failed.finished_at = (
                    "failed",
                    f"{type(error).__name__}: {error}"[:1000],
                    utc_now(),
                )
                failed.expires_at = utc_now() + timedelta(seconds=ttl_s)


async def _write_type(
    sessions: async_sessionmaker[AsyncSession],
    *,
    job_id: uuid.UUID,
    started_at: datetime,
    principal: Principal,
    resource_type: str,
    path: Path,
    query_options: dict[str, Any],
    batch: int,
) -> int:
    """Streams one type's rows to its NDJSON file; returns how many resources were written."""
    provider = provider_for(resource_type)
    assert provider is not None
    count = 0
    loop = asyncio.get_running_loop()
    next_progress = loop.time() + PROGRESS_EVERY_S
    handle: IO[str] = await asyncio.to_thread(path.open, "w", encoding="utf-8")
    try:
        for source in table_sources(provider):
            query = export_query(source, principal, **query_options)
            if query is None:
                continue
            async with transaction(sessions) as session:
                ctx = FhirContext(session=session, principal=principal, base_url="")
                result = await session.stream_scalars(query.execution_options(yield_per=batch))
                async for rows in result.partitions(batch):
                    rendered = await source.render(ctx, rows)
                    text = "".join(
                        json.dumps(item.resource, separators=(",", ":")) + "\n" for item in rendered
                    )
                    # File writes go to a thread: a slow disk must not stall the worker's event loop.
                    await asyncio.to_thread(handle.write, text)
                    count += len(rendered)
                    # Nothing keeps the batch once written: the session's identity map holds its rows
                    # weakly, so they go with it (expunging would break the stream's own loading).
                    # At most one progress write a second (each is a transaction); on SQLite none
                    # until the type's end, since this transaction holds its one writer's lock.
                    now = loop.time()
                    if now >= next_progress and session.get_bind().dialect.name != "sqlite":
                        next_progress = now + PROGRESS_EVERY_S
                        await _progress(
                            sessions, job_id, started_at, progress=f"{resource_type}: {count} written"
                        )
            await _progress(sessions, job_id, started_at, progress=f"{resource_type}: {count} written")
    finally:
        await asyncio.to_thread(handle.close)
    return count


async def expire_exports(*, sessions: async_sessionmaker[AsyncSession], data_dir: Path, now: datetime) -> int:
    """Deletes the files of exports past their expiry and marks them expired; returns how many."""
    async with transaction(sessions) as session:
        jobs = list(
            await session.scalars(
                select(FhirExportJob).where(
                    FhirExportJob.expires_at < now,
                    FhirExportJob.status.in_(("complete", "failed", "cancelled")),
                )
            )
        )
        for job in jobs:
            job.status = "expired"
            await asyncio.to_thread(shutil.rmtree, export_directory(data_dir, job.id), True)
    return len(jobs)


class ExportRunner:
    """The worker's export job: starts at most one export at a time, and expires old ones."""

    def __init__(self) -> None:
        self.running: asyncio.Task[None] | None = None

    async def __call__(self, resources: Resources, *, now: datetime) -> None:
        settings = resources.settings
        await expire_exports(sessions=resources.sessions, data_dir=settings.data_dir, now=now)
        if self.running is not None and not self.running.done():
            return
        async with transaction(resources.sessions) as session:
            job = await claim_job(session, now=now)
            job_id = job.id if job else None
        if job_id is None:
            return
        self.running = asyncio.create_task(
            run_export(
                sessions=resources.sessions,
                job_id=job_id,
                data_dir=settings.data_dir,
                batch=settings.fhir_export_batch,
                ttl_s=settings.fhir_export_ttl_s,
            ),
            name=f"fhir-export-{job_id}",
        )

    async def close(self) -> None:
        if self.running is not None:
            self.running.cancel()
            await asyncio.gather(self.running, return_exceptions=True)
