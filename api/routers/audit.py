"""The audit log for administrators: filtered pages, the chain check and signed checkpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.deps import AdminPrincipal, ResourcesDep, SessionDep, require_roles
from core import audit
from core.audit import AuditFilter, AuditPage, ChainReportRead, Checkpoint
from core.principal import Role

router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[Depends(require_roles(Role.ADMIN))])


@router.get("/events", response_model=AuditPage, summary="Page through the audit log, newest first")
async def list_audit_events(
    session: SessionDep,
    actor: AdminPrincipal,
    filters: Annotated[AuditFilter, Query()],
    before: Annotated[int | None, Query(ge=1, description="Return entries older than this seq")] = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_PAGE_SIZE)] = 50,
) -> AuditPage:
    return await audit.list_events(session=session, actor=actor, filters=filters, before=before, limit=limit)


@router.get("/verify", response_model=ChainReportRead, summary="Check every seal and entry of the chain")
async def verify_audit_chain(
    session: SessionDep, actor: AdminPrincipal, resources: ResourcesDep
) -> ChainReportRead:
    report = await audit.check_log(session=session, actor=actor, keys=resources.audit_keys)
    return ChainReportRead.model_validate(report, from_attributes=True)


@router.post(
    "/verify",
    response_model=ChainReportRead,
    summary="Check the chain against a saved checkpoint (also catches the removal of the newest entries)",
)
async def verify_audit_chain_against(
    checkpoint: Checkpoint, session: SessionDep, actor: AdminPrincipal, resources: ResourcesDep
) -> ChainReportRead:
    report = await audit.check_log(
        session=session, actor=actor, keys=resources.audit_keys, checkpoint=checkpoint
    )
    return ChainReportRead.model_validate(report, from_attributes=True)


@router.get(
    "/checkpoint",
    response_model=Checkpoint,
    summary="A signed checkpoint of the chain's head, to keep outside the database",
)
async def export_audit_checkpoint(
    session: SessionDep, actor: AdminPrincipal, resources: ResourcesDep, response: Response
) -> Checkpoint:
    checkpoint = await audit.export_checkpoint(session=session, actor=actor, keys=resources.audit_keys)
    name = f"ownat-audit-checkpoint-{checkpoint.sequence}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return checkpoint
