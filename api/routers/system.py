"""The platform's health for administrators: ingest rate, connected devices, dead letters, backlog."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

import notifications
from api.deps import AdminPrincipal, SessionDep, require_roles
from core import audit
from core.principal import Role
from devices.ingest import IngestStatus, ingest_status

router = APIRouter(prefix="/system", tags=["system"], dependencies=[Depends(require_roles(Role.ADMIN))])


class NotificationBacklog(BaseModel):
    pending: int = Field(description="events not yet fanned out, plus deliveries waiting or being sent")
    dead: int = Field(description="deliveries that failed their last try")


class SystemStatus(IngestStatus):
    notification_backlog: NotificationBacklog


@router.get(
    "/status", response_model=SystemStatus, summary="Ingest rate, live devices, dead letters, backlog"
)
async def get_system_status(actor: AdminPrincipal, session: SessionDep, response: Response) -> SystemStatus:
    # Figures change by the second; a cached copy would mislead whoever is watching an incident.
    response.headers["Cache-Control"] = "no-store"
    ingest = await ingest_status(session=session)
    counts = await notifications.backlog(session=session, actor=actor)
    waiting = counts.deliveries.get("pending", {}), counts.deliveries.get("sending", {})
    backlog = NotificationBacklog(
        pending=counts.waiting_events + sum(sum(by_channel.values()) for by_channel in waiting),
        dead=sum(counts.deliveries.get("dead", {}).values()),
    )
    # Dead letters hold raw device payloads, which may carry patient readings.
    audit.record(session, actor=actor, action="read", resource_type="system-status")
    return SystemStatus(**ingest.model_dump(), notification_backlog=backlog)
