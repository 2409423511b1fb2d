"""Bulk Data `$export` (Flat FHIR) under /fhir/R4: kick-off at system, patient and group level, status
polling, cancellation, and the NDJSON files.

Who may export: a backend-services client (SMART client credentials, a token whose grant holds
system/ scopes only; the export holds only the types those scopes may read), or an administrator
signed in as themselves. Mounted before `api.routers.fhir`, whose `/{type}/{id}` routes would
otherwise take these paths.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from api.deps import FhirPrincipal, SessionDep, SettingsDep
from api.routers.fhir import BASE_PATH, FhirResponse, FhirRoute, outcome_response
from clinical import fhir
from clinical.fhir import FhirExportJob, InvalidSearch
from core.access import refuse
from core.principal import Principal, Role

RETRY_AFTER_S = 2

# The FHIR API's caller: an Ownat access token or a SMART app's (backend services export).
FhirCaller = FhirPrincipal

router = APIRouter(
    prefix=BASE_PATH, tags=["fhir"], route_class=FhirRoute, default_response_class=FhirResponse
)
# The files are NDJSON, which FHIR's JSON-only Accept check would refuse: a plain route.
files_router = APIRouter(prefix=BASE_PATH, tags=["fhir"])


async def bulk_exporter(principal: FhirCaller, session: SessionDep) -> Principal:
    """A backend-services client (system/ scopes), or an administrator without an app in between."""
    grant = principal.grant
    if grant is not None and grant.is_system:
        return principal
    if grant is None and principal.role is Role.ADMIN:
        return principal
    refuse(
        session,
        principal,
        action="fhir.export.kick-off",
        resource_type="fhir.export",
        message="Bulk export needs a backend-services client with system/ scopes, or an administrator.",
    )


BulkExporter = Annotated[Principal, Depends(bulk_exporter)]


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + BASE_PATH


async def _kick_off(
    request: Request, principal: Principal, session: SessionDep, *, level: str, group_id: str | None = None
) -> Response:
    if "respond-async" not in request.headers.get("prefer", ""):
        raise InvalidSearch("Prefer: send 'Prefer: respond-async'; $export only runs asynchronously.")
    job = await fhir.kick_off_export(
        session=session,
        principal=principal,
        level=level,
        group_id=group_id,
        query=request.query_params.multi_items(),
        request_url=str(request.url),
    )
    location = f"{_base_url(request)}/$export-status/{job.id}"
    return Response(status_code=202, headers={"Content-Location": location})


@router.get("/$export", summary="Export everything (system level), asynchronously")
async def export_system(request: Request, principal: BulkExporter, session: SessionDep) -> Response:
    return await _kick_off(request, principal, session, level="system")


@router.get("/Patient/$export", summary="Export every patient's data, asynchronously")
async def export_patients(request: Request, principal: BulkExporter, session: SessionDep) -> Response:
    return await _kick_off(request, principal, session, level="patient")


@router.get("/Group/{group_id}/$export", summary="Export the data of a ward's patients, asynchronously")
async def export_group(
    group_id: str, request: Request, principal: BulkExporter, session: SessionDep
) -> Response:
    return await _kick_off(request, principal, session, level="group", group_id=group_id)


@router.api_route("/Group", methods=["POST", "PUT", "DELETE"], include_in_schema=False)
async def groups_are_wards(request: Request) -> Response:
    return outcome_response(
        405, f"{request.method} is not supported on Group: a Group is a ward, kept as one."
    )


def _in_progress(job: FhirExportJob) -> Response:
    progress = job.progress or job.status
    return Response(
        status_code=202, headers={"X-Progress": progress[:100], "Retry-After": str(RETRY_AFTER_S)}
    )


@router.get("/$export-status/{job_id}", summary="An export's progress, or its manifest once complete")
async def export_status(
    job_id: str, request: Request, principal: FhirCaller, session: SessionDep
) -> Response:
    job = await fhir.export_job_of(session, principal, job_id)
    if job.status in ("queued", "running"):
        return _in_progress(job)
    if job.status == "complete":
        headers = (
            {"Expires": job.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT")} if job.expires_at else None
        )
        return JSONResponse(fhir.export_manifest(job, base_url=_base_url(request)), headers=headers)
    if job.status == "cancelled":
        return outcome_response(404, "The export was cancelled.")
    return outcome_response(500, f"The export failed: {job.error or 'unknown error'}")


@router.delete("/$export-status/{job_id}", summary="Cancel an export and delete its files")
async def cancel_export(
    job_id: str, principal: FhirCaller, session: SessionDep, settings: SettingsDep
) -> Response:
    await fhir.cancel_export(session=session, principal=principal, job_id=job_id, data_dir=settings.data_dir)
    return Response(status_code=202)


@files_router.get("/$export-file/{job_id}/{name}", summary="One NDJSON file of a completed export")
async def export_file(
    job_id: str, name: str, principal: FhirCaller, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    path = await fhir.export_file(
        session=session, principal=principal, job_id=job_id, name=name, data_dir=settings.data_dir
    )
    return FileResponse(path, media_type=fhir.NDJSON)
