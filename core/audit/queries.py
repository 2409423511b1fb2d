"""Reading the audit log: newest first, filtered, paged by sequence number."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import service as audit
from core.audit.models import AuditEvent
from core.audit.schemas import AuditEventRead, AuditFilter, AuditPage
from core.errors import Forbidden
from core.principal import Principal, Role

MAX_PAGE_SIZE = 200


async def list_events(
    *, session: AsyncSession, actor: Principal, filters: AuditFilter, before: int | None, limit: int
) -> AuditPage:
    """A page of entries older than `before`; only administrators read the log, and that is audited too."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("Only administrators may read the audit log.")
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(min(limit, MAX_PAGE_SIZE) + 1)
    for column in ("actor_id", "patient_id", "resource_type", "resource_id", "action", "outcome"):
        value = getattr(filters, column)
        if value is not None:
            query = query.where(getattr(AuditEvent, column) == value)
    if filters.since:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.occurred_at < filters.until)
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    rows = list((await session.scalars(query)).all())
    page_size = min(limit, MAX_PAGE_SIZE)
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    audit.record(
        session,
        actor=actor,
        action="search",
        resource_type="audit_event",
        patient_id=filters.patient_id,
        detail={"filters": filters.model_dump(mode="json", exclude_none=True), "returned": len(rows)},
    )
    return AuditPage(
        items=[AuditEventRead.model_validate(row) for row in rows],
        next_cursor=rows[-1].seq if has_more else None,
    )
