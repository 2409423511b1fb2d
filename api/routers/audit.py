"""The audit log for administrators: filtered pages and the chain check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import AdminPrincipal, SessionDep, require_roles
from core.audit import queries
from core.audit.schemas import AuditFilter, AuditPage, ChainReportRead
from core.audit.verify import verify_chain
from core.identity.principal import Role

router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[Depends(require_roles(Role.ADMIN))])


@router.get("/events", response_model=AuditPage, summary="Page through the audit log, newest first")
async def list_audit_events(
    session: SessionDep,
    actor: AdminPrincipal,
    filters: Annotated[AuditFilter, Query()],
    before: Annotated[int | None, Query(ge=1, description="Return entries older than this seq")] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE_SIZE)] = 50,
) -> AuditPage:
    return await queries.list_events(
        session=session, actor=actor, filters=filters, before=before, limit=limit
    )


@router.get("/verify", response_model=ChainReportRead, summary="Check the hash chain end to end")
async def verify_audit_chain(session: SessionDep, actor: AdminPrincipal) -> ChainReportRead:
    report = await verify_chain(session)
    return ChainReportRead.model_validate(report, from_attributes=True)
