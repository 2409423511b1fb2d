"""Alarm endpoints: the alarm list, acknowledge and resolve, thresholds, NEWS2 observations and scores."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, BackgroundTasks

from api.deps import CurrentPrincipal, PatientInScope, ResourcesDep, SessionDep
from core.db import utc_now
from realtime import alarms
from realtime.alarms import (
    AlarmChange,
    AlarmRead,
    AlarmStatus,
    News2ObservationCreate,
    News2ObservationRead,
    News2Read,
    ThresholdsRead,
    ThresholdsUpdate,
    publish_changes,
)

router = APIRouter(tags=["alarms"])


@router.get("/alarms", summary="Alarms, newest first (a patient sees only their own)")
async def list_alarms(
    principal: CurrentPrincipal,
    session: SessionDep,
    ward_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    status: AlarmStatus | None = None,
) -> list[AlarmRead]:
    return await alarms.list_alarms(
        session=session, principal=principal, ward_id=ward_id, patient_id=patient_id, status=status
    )


# Every dashboard watching the ward or patient hears of the change on the bus. Background tasks run
# after the response, so after the session dependency has committed: no one hears of a rolled-back change.
@router.post("/alarms/{alarm_id}/acknowledge", summary="Acknowledge an alarm (nurse or clinician)")
async def acknowledge(
    alarm_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    later: BackgroundTasks,
) -> AlarmChange:
    change = await alarms.acknowledge(session=session, principal=principal, alarm_id=alarm_id, now=utc_now())
    later.add_task(publish_changes, resources.bus, [change])
    return change


@router.post("/alarms/{alarm_id}/resolve", summary="Resolve an alarm (nurse or clinician)")
async def resolve(
    alarm_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    resources: ResourcesDep,
    later: BackgroundTasks,
) -> AlarmChange:
    change = await alarms.resolve(session=session, principal=principal, alarm_id=alarm_id, now=utc_now())
    later.add_task(publish_changes, resources.bus, [change])
    return change


@router.get("/patients/{patient_id}/alarm-thresholds", summary="A patient's alarm limits in force")
async def get_thresholds(
    patient_id: PatientInScope, principal: CurrentPrincipal, session: SessionDep
) -> ThresholdsRead:
    return await alarms.get_thresholds(
        session=session, principal=principal, patient_id=patient_id, now=utc_now()
    )


@router.put(
    "/patients/{patient_id}/alarm-thresholds", summary="Override a patient's alarm limits (clinician)"
)
async def set_thresholds(
    patient_id: PatientInScope, body: ThresholdsUpdate, principal: CurrentPrincipal, session: SessionDep
) -> ThresholdsRead:
    return await alarms.set_thresholds(
        session=session, principal=principal, patient_id=patient_id, items=body.thresholds, now=utc_now()
    )


@router.post(
    "/patients/{patient_id}/news2-observations", status_code=201, summary="Chart consciousness and oxygen"
)
async def record_observation(
    patient_id: PatientInScope, body: News2ObservationCreate, principal: CurrentPrincipal, session: SessionDep
) -> News2ObservationRead:
    return await alarms.record_observation(
        session=session, principal=principal, patient_id=patient_id, data=body, now=utc_now()
    )


@router.get("/patients/{patient_id}/news2", summary="The latest NEWS2 with its breakdown")
async def current_news2(
    patient_id: PatientInScope, principal: CurrentPrincipal, session: SessionDep
) -> News2Read:
    return await alarms.current_news2(
        session=session, principal=principal, patient_id=patient_id, now=utc_now()
    )
