"""Resource versions: `meta.versionId`, ETags, vread and `_history` (see `clinical.fhir.models`).

The current version of a resource is the latest one stored, as long as what the domain tables say
now renders to the same content; when it renders differently (changed through the REST API or by
HL7 filing since), that content is stored as the next version before it is served. Writes through
FHIR store their version explicitly, and a concurrent write of the same resource fails on the
primary key (resource, version) instead of losing an update. Computed resources (free Slots) and
immutable ones (device readings) are served as version 1 and not stored.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.fhir.models import FhirResourceVersion
from clinical.fhir.provider import Rendered
from core.db import utc_now
from core.errors import Conflict

_NOT_CONTENT = ("versionId", "lastUpdated")


@dataclass(frozen=True, slots=True)
class VersionTag:
    """What a response says about the version it carries."""

    version_id: int
    last_updated: datetime
    deleted: bool = False

    @property
    def etag(self) -> str:
        return f'W/"{self.version_id}"'

    @property
    def last_modified(self) -> str:
        return format_datetime(self.last_updated, usegmt=True)


def content_hash(resource: dict[str, Any]) -> str:
    """The hash of what a resource says, whatever its version number and stamp."""
    meta = {k: v for k, v in resource.get("meta", {}).items() if k not in _NOT_CONTENT}
    body = {**resource, "meta": meta} if meta else {k: v for k, v in resource.items() if k != "meta"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def stamped(resource: dict[str, Any], tag: VersionTag) -> dict[str, Any]:
    """The resource with `meta.versionId` and `meta.lastUpdated` of its version."""
    meta = {
        **resource.get("meta", {}),
        "versionId": str(tag.version_id),
        "lastUpdated": tag.last_updated.isoformat(),
    }
    return {**resource, "meta": meta}


def _last_updated(resource: dict[str, Any], fallback: datetime) -> datetime:
    written = resource.get("meta", {}).get("lastUpdated")
    return datetime.fromisoformat(written) if written else fallback


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """What serving a resource needs of its latest stored version (not its stored content)."""

    version_id: int
    last_updated: datetime
    deleted: bool
    content_hash: str


async def latest(
    session: AsyncSession, resource_type: str, resource_ids: Sequence[str]
) -> dict[str, StoredVersion]:
    """The latest stored version of each resource (those never stored are absent)."""
    if not resource_ids:
        return {}
    version = FhirResourceVersion
    newest = (
        select(version.resource_id, func.max(version.version_id).label("version_id"))
        .where(version.resource_type == resource_type, version.resource_id.in_(set(resource_ids)))
        .group_by(version.resource_id)
        .subquery()
    )
    # Columns, not ORM objects: every search and read asks this, and the stored content (JSON,
    # decoded on load) and the identity map's bookkeeping were a tenth of a search's time.
    rows = await session.execute(
        select(
            version.resource_id,
            version.version_id,
            version.last_updated,
            version.deleted,
            version.content_hash,
        ).join(
            newest,
            and_(
                version.resource_type == resource_type,
                version.resource_id == newest.c.resource_id,
                version.version_id == newest.c.version_id,
            ),
        )
    )
    return {
        row.resource_id: StoredVersion(row.version_id, row.last_updated, row.deleted, row.content_hash)
        for row in rows
    }


async def current(
    session: AsyncSession, items: Sequence[Rendered]
) -> list[tuple[dict[str, Any], VersionTag]]:
    """Each item stamped with its current version, storing the versions not stored yet."""
    tags: dict[tuple[str, str], VersionTag] = {}
    by_type: dict[str, list[Rendered]] = {}
    for item in items:
        if item.versioned:
            by_type.setdefault(item.resource["resourceType"], []).append(item)
    now = utc_now()
    for resource_type, group in by_type.items():
        stored = await latest(session, resource_type, [item.resource["id"] for item in group])
        for item in group:
            tags[(resource_type, item.resource["id"])] = await _current_tag(
                session, item, stored.get(item.resource["id"]), now
            )
    answer = []
    for item in items:
        key = (item.resource["resourceType"], item.resource["id"])
        tag = tags.get(key) or VersionTag(1, _last_updated(item.resource, now))
        answer.append((stamped(item.resource, tag), tag))
    return answer


async def _current_tag(
    session: AsyncSession, item: Rendered, stored: StoredVersion | None, now: datetime
) -> VersionTag:
    digest = content_hash(item.resource)
    if stored is not None and stored.content_hash == digest and not stored.deleted:
        return VersionTag(stored.version_id, stored.last_updated)
    number = stored.version_id + 1 if stored is not None else 1
    row = _row(item, number, digest, now, deleted=False)
    # Two readers may store the same new state at once: the second insert is simply skipped.
    dialect = (await session.connection()).dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(insert(FhirResourceVersion).values(**row).on_conflict_do_nothing())
    return VersionTag(number, row["last_updated"])


def _row(item: Rendered, number: int, digest: str, now: datetime, *, deleted: bool) -> dict[str, Any]:
    return {
        "resource_type": item.resource["resourceType"],
        "resource_id": item.resource["id"],
        "version_id": number,
        "recorded_at": now,
        "last_updated": now if deleted else _last_updated(item.resource, now),
        "patient_id": item.patient_id,
        "deleted": deleted,
        "content": None
        if deleted
        else stamped(item.resource, VersionTag(number, _last_updated(item.resource, now))),
        "content_hash": digest,
    }


async def record_write(
    session: AsyncSession, item: Rendered, *, replaces: int, deleted: bool = False
) -> VersionTag:
    """Stores the version a FHIR write made: the one after `replaces`, the version the write started from.

    A concurrent write from the same version took that number first, so this one fails (409) rather
    than overwrite a change its client never saw.
    """
    number = replaces + 1
    now = utc_now()
    row = _row(item, number, content_hash(item.resource), now, deleted=deleted)
    try:
        async with session.begin_nested():
            session.add(FhirResourceVersion(**row))
    except IntegrityError:
        raise Conflict(
            f"{item.resource['resourceType']}/{item.resource['id']} was changed by someone else at the "
            "same moment; read it again and repeat the change."
        ) from None
    return VersionTag(number, row["last_updated"], deleted)


async def history(
    session: AsyncSession,
    *,
    resource_type: str,
    resource_id: str | None = None,
    patient_id: uuid.UUID | None = None,
    since: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[int, list[FhirResourceVersion]]:
    """Stored versions newest first: of one resource, or of a type (a patient's own, if given)."""
    query = select(FhirResourceVersion).where(FhirResourceVersion.resource_type == resource_type)
    if resource_id is not None:
        query = query.where(FhirResourceVersion.resource_id == resource_id)
    if patient_id is not None:
        query = query.where(FhirResourceVersion.patient_id == patient_id)
    if since is not None:
        query = query.where(FhirResourceVersion.recorded_at >= since)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    ordered = query.order_by(
        FhirResourceVersion.recorded_at.desc(),
        FhirResourceVersion.resource_id,
        FhirResourceVersion.version_id.desc(),
    )
    rows = list(await session.scalars(ordered.offset(offset).limit(limit)))
    return int(total or 0), rows


async def version(
    session: AsyncSession, resource_type: str, resource_id: str, version_id: int
) -> FhirResourceVersion | None:
    """One stored version, or None."""
    return await session.get(FhirResourceVersion, (resource_type, resource_id, version_id))
