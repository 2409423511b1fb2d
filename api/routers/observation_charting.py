"""Observation charting endpoints: a nurse's full NEWS2 set and its prefill, and the SpO2 scale."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentPrincipal, PatientInScope, SessionDep
from core.db import utc_now
from realtime import alarms
from realtime.alarms import (
    ObservationPrefill,
    ObservationSetCreate,
    ObservationSetRead,
    SpO2ScaleRead,
    SpO2ScaleSet,
)

router = APIRouter(tags=["alarms"])


@router.post(
    "/patients/{patient_id}/observation-sets",
    status_code=201,
    summary="Chart a full NEWS2 set (nurse or clinician); nothing is stored if a value is refused",
)
async def chart_full_set(
    patient_id: PatientInScope, body: ObservationSetCreate, principal: CurrentPrincipal, session: SessionDep
) -> ObservationSetRead:
    return await alarms.record_full_set(
        session=session, principal=principal, patient_id=patient_id, data=body, now=utc_now()
    )


@router.get(
    "/patients/{patient_id}/observation-sets", summary="The patient's charted full sets, newest first"
)
async def list_full_sets(
    patient_id: PatientInScope,
    principal: CurrentPrincipal,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ObservationSetRead]:
    return await alarms.list_full_sets(
        session=session, principal=principal, patient_id=patient_id, now=utc_now(), limit=limit
    )


@router.get(
    "/patients/{patient_id}/observation-sets/prefill",
    summary="The latest device values, the SpO2 scale and the last charting, to confirm or correct",
)
async def prefill(
    patient_id: PatientInScope, principal: CurrentPrincipal, session: SessionDep
) -> ObservationPrefill:
    return await alarms.prefill(session=session, principal=principal, patient_id=patient_id, now=utc_now())


@router.get("/patients/{patient_id}/spo2-scale", summary="The patient's SpO2 scale, who chose it and why")
async def get_scale(
    patient_id: PatientInScope, principal: CurrentPrincipal, session: SessionDep
) -> SpO2ScaleRead:
    return await alarms.get_scale(session=session, principal=principal, patient_id=patient_id, now=utc_now())


@router.put(
    "/patients/{patient_id}/spo2-scale", summary="Assign SpO2 scale 1 or 2, with the reason (clinician)"
)
async def set_scale(
    patient_id: PatientInScope, body: SpO2ScaleSet, principal: CurrentPrincipal, session: SessionDep
) -> SpO2ScaleRead:
    return await alarms.set_scale(
        session=session, principal=principal, patient_id=patient_id, choice=body, now=utc_now()
    )
