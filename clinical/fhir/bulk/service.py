"""Bulk Data `$export` as a client drives it: kick-off, status, cancel, and the files of a finished job.

Kick-off checks the request (`_outputFormat`, `_type`, `_since`; anything else is refused with the
parameter named), records a queued job and answers where to poll; `ownat worker` runs it
(`clinical.fhir.bulk.runner`). Only the requester (or an administrator) sees a job and its files.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.fhir.bulk.models import FhirExportJob
from clinical.fhir.bulk.sources import exportable_types
from clinical.fhir.errors import InvalidSearch
from clinical.organisation import Ward
from core import audit
from core.db import utc_now
from core.errors import Forbidden, NotFound
from core.principal import Interaction, Principal, Role

OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
PARAMETERS = ("_outputFormat", "_type", "_since")
NDJSON = "application/fhir+ndjson"


def export_directory(data_dir: Path, job_id: uuid.UUID) -> Path:
    """Where a job's files are written (one `<Type>.ndjson` per type)."""
    return data_dir / "exports" / str(job_id)


def _since(values: list[str]) -> datetime | None:
    if not values:
        return None
    try:
        moment = datetime.fromisoformat(values[-1].replace("Z", "+00:00"))
    except ValueError:
        raise InvalidSearch("_since: must be a FHIR instant, e.g. 2026-01-01T00:00:00Z.") from None
    if moment.tzinfo is None:
        raise InvalidSearch("_since: give a time zone (e.g. Z).")
    return moment


def parse_request(query: Sequence[tuple[str, str]], *, level: str) -> tuple[list[str], datetime | None]:
    """The types and `_since` of an `$export` request; InvalidSearch names a bad parameter."""
    by_name: dict[str, list[str]] = {}
    for key, value in query:
        if key not in PARAMETERS:
            raise InvalidSearch(f"The parameter '{key}' is not supported by $export.")
        by_name.setdefault(key, []).append(value)
    for value in by_name.get("_outputFormat", []):
        if value not in OUTPUT_FORMATS:
            raise InvalidSearch(f"_outputFormat: only {NDJSON} is supported.")
    allowed = exportable_types(level)
    types = [name.strip() for value in by_name.get("_type", []) for name in value.split(",") if name.strip()]
    for name in types:
        if name not in allowed:
            raise InvalidSearch(
                f"_type: '{name}' is not exported at {level} level (one of {', '.join(allowed)})."
            )
    return list(dict.fromkeys(types)) or allowed, _since(by_name.get("_since", []))


async def kick_off(
    *,
    session: AsyncSession,
    principal: Principal,
    level: str,
    group_id: str | None,
    query: Sequence[tuple[str, str]],
    request_url: str,
) -> FhirExportJob:
    """Queues an export; the worker picks it up."""
    types, since = parse_request(query, level=level)
    types = _readable_by_grant(principal, types, explicit=any(key == "_type" for key, _ in query))
    ward_id = None
    if group_id is not None:
        try:
            ward_id = uuid.UUID(group_id)
        except ValueError:
            raise NotFound(f"There is no Group with id '{group_id}'.") from None
        if await session.get(Ward, ward_id) is None:
            raise NotFound(f"There is no Group with id '{group_id}' (a Group is a ward).")
    job = FhirExportJob(
        id=uuid.uuid4(),
        level=level,
        group_id=ward_id,
        types=types,
        since=since,
        request_url=request_url[:2000],
        status="queued",
        requested_by=principal.user_id,
        requester_role=principal.role.value,
        output=[],
        created_at=utc_now(),
    )
    session.add(job)
    await session.flush()
    _audit(session, principal, "kick-off", job, types=types)
    return job


def _readable_by_grant(principal: Principal, types: list[str], *, explicit: bool) -> list[str]:
    """A backend client exports only what its scopes let it read: a type it names outright and may not
    read is refused; without `_type`, the export holds the types it may read."""
    grant = principal.grant
    if grant is None:
        return types
    readable = [name for name in types if grant.allows(name, Interaction.READ)]
    refused = [name for name in types if name not in readable]
    if explicit and refused:
        raise Forbidden(f"_type: this client's scopes do not let it read {', '.join(refused)}.")
    if not readable:
        raise Forbidden("This client's scopes let it read none of the types this export holds.")
    return readable


_audit = audit.RowAudit(
    "fhir.export",
    action_prefix="fhir.export.",
    context=lambda job: {"level": job.level, "group": str(job.group_id) if job.group_id else None},
    patient_of=None,
)


async def job_of(session: AsyncSession, principal: Principal, job_id: str) -> FhirExportJob:
    """The caller's job (any, for an administrator) that has not expired; NotFound otherwise."""
    try:
        key = uuid.UUID(job_id)
    except ValueError:
        raise NotFound(f"There is no export '{job_id}'.") from None
    job = await session.get(FhirExportJob, key)
    if job is None or job.status == "expired":
        raise NotFound(f"There is no export '{job_id}' (files expire; start a new one).")
    if job.requested_by != principal.user_id and principal.role is not Role.ADMIN:
        audit.record(
            session,
            actor=principal,
            action="fhir.export.status",
            resource_type="fhir.export",
            resource_id=key,
            outcome="denied",
        )
        raise NotFound(f"There is no export '{job_id}'.")
    return job


def manifest(job: FhirExportJob, *, base_url: str) -> dict[str, Any]:
    """The completed export's manifest (Bulk Data's JSON, not a FHIR resource)."""
    return {
        "transactionTime": (job.started_at or job.created_at).isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": item["type"],
                "url": f"{base_url}/$export-file/{job.id}/{item['file']}",
                "count": item["count"],
            }
            for item in job.output
        ],
        "error": [],
    }


async def cancel(*, session: AsyncSession, principal: Principal, job_id: str, data_dir: Path) -> None:
    """Cancels a queued or running export (the worker stops at its next batch) and deletes its files."""
    job = await job_of(session, principal, job_id)
    _audit(session, principal, "cancel", job)
    job.status, job.finished_at = "cancelled", utc_now()
    await session.flush()
    shutil.rmtree(export_directory(data_dir, job.id), ignore_errors=True)


async def export_file(
    *, session: AsyncSession, principal: Principal, job_id: str, name: str, data_dir: Path
) -> Path:
    """The path of one file of a completed export, for its requester; audited."""
    job = await job_of(session, principal, job_id)
    item = next((item for item in job.output if item["file"] == name), None)
    if job.status != "complete" or item is None:
        raise NotFound(f"The export has no file '{name}'.")
    _audit(session, principal, "download", job, file=name, count=item["count"])
    return export_directory(data_dir, job.id) / name
