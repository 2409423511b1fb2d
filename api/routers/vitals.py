"""Vitals endpoints: a patient's series (raw or bucketed), latest values, and FHIR Observations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import CurrentPrincipal, PatientInScope, SessionDep
from devices import vitals
from devices.vitals import Bucket, LatestValue, VitalSeries

router = APIRouter(tags=["vitals"])

FHIR_JSON = "application/fhir+json"


@router.get("/patients/{patient_id}/vitals", summary="A patient's vital sign over a time range")
async def get_vitals(
    patient_id: PatientInScope,
    principal: CurrentPrincipal,
    session: SessionDep,
    metric: Annotated[str, Query(description="LOINC code or alias (hr, spo2, rr, sbp, dbp, temp, weight)")],
    start: Annotated[datetime | None, Query(description="inclusive, with offset; default end - 1 h")] = None,
    end: Annotated[datetime | None, Query(description="exclusive, with offset; default now")] = None,
    bucket: Annotated[Bucket, Query(description="raw readings, or min/avg/max per bucket")] = "raw",
) -> VitalSeries:
    return await vitals.get_series(
        session=session,
        principal=principal,
        patient_id=patient_id,
        metric=metric,
        start=start,
        end=end,
        bucket=bucket,
    )


@router.get(
    "/patients/{patient_id}/vitals/latest", summary="The newest value of each of a patient's vital signs"
)
async def get_latest_vitals(
    patient_id: PatientInScope, principal: CurrentPrincipal, session: SessionDep
) -> list[LatestValue]:
    return await vitals.get_latest(session=session, principal=principal, patient_ids=[patient_id])


@router.get(
    "/patients/{patient_id}/vitals/observations",
    summary="A patient's vital signs as a FHIR R4 Bundle of Observations",
    response_class=JSONResponse,
    responses={200: {"content": {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/FhirResource"}}}}},
)
async def get_vital_observations(
    patient_id: PatientInScope,
    principal: CurrentPrincipal,
    session: SessionDep,
    metric: Annotated[
        str | None, Query(description="LOINC code or alias; all vital signs if omitted")
    ] = None,
    start: datetime | None = None,
    end: datetime | None = None,
    count: Annotated[int, Query(alias="_count", ge=1, le=vitals.MAX_OBSERVATIONS)] = 100,
) -> JSONResponse:
    bundle: dict[str, Any] = await vitals.get_observations(
        session=session,
        principal=principal,
        patient_id=patient_id,
        metric=metric,
        start=start,
        end=end,
        count=count,
    )
    return JSONResponse(bundle, media_type=FHIR_JSON)
