"""The platform's health for administrators: ingest rate, connected devices, dead letters, backlog."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from api.deps import AdminPrincipal, SessionDep, require_roles
from core.audit import service as audit
from core.identity.principal import Role
from devices.ingest.status import SystemStatus, system_status

router = APIRouter(prefix="/system", tags=["system"], dependencies=[Depends(require_roles(Role.ADMIN))])


@router.get(
    "/status", response_model=SystemStatus, summary="Ingest rate, live devices, dead letters, backlog"
)
async def get_system_status(actor: AdminPrincipal, session: SessionDep, response: Response) -> SystemStatus:
    # Figures change by the second; a cached copy would mislead whoever is watching an incident.
    response.headers["Cache-Control"] = "no-store"
    status = await system_status(session=session)
    # Dead letters hold raw device payloads, which may carry patient readings.
    audit.record(session, actor=actor, action="read", resource_type="system-status")
    return status
