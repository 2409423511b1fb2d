"""The platform's health for administrators: ingest rate, connected devices, dead letters, backlog, and
whether alarms are being evaluated (as this api instance's hub hears the evaluators)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
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


class EvaluatorRead(BaseModel):
    name: str = Field(description="host:pid of the process evaluating alarms")
    last_heard_at: datetime
    rounds: int = Field(description="evaluation rounds it has committed since it started")
    waiting: int = Field(description="patients and devices waiting for its next round")


class AlarmEvaluation(BaseModel):
    state: Literal["starting", "running", "stopped", "unknown"] = Field(
        description="stopped: no evaluator heard for `stale_after_s`, so no new alarm is raised or "
        "reaches the dashboards; starting: the api started less than that ago; unknown: no live hub here"
    )
    last_heard_at: datetime | None
    stopped_at: datetime | None
    stale_after_s: float | None
    evaluators: list[EvaluatorRead]


class SystemStatus(IngestStatus):
    notification_backlog: NotificationBacklog
    alarm_evaluation: AlarmEvaluation


@router.get(
    "/status", response_model=SystemStatus, summary="Ingest rate, live devices, dead letters, backlog"
)
async def get_system_status(
    actor: AdminPrincipal, session: SessionDep, request: Request, response: Response
) -> SystemStatus:
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
    return SystemStatus(
        **ingest.model_dump(), notification_backlog=backlog, alarm_evaluation=_alarm_evaluation(request)
    )


def _alarm_evaluation(request: Request) -> AlarmEvaluation:
    hub = getattr(request.app.state, "hub", None)
    if hub is None:
        return AlarmEvaluation(
            state="unknown", last_heard_at=None, stopped_at=None, stale_after_s=None, evaluators=[]
        )
    watch = hub.alarm_watch
    status = watch.status()
    return AlarmEvaluation(
        state=status["state"],
        last_heard_at=status["last_heard_at"],
        stopped_at=status["stopped_at"],
        stale_after_s=watch.stale_after_s,
        evaluators=[
            EvaluatorRead(name=e.name, last_heard_at=e.heard_at, rounds=e.rounds, waiting=e.waiting)
            for e in watch.evaluators()
        ],
    )
