"""My data: a patient's whole record as downloads, who opened it, and requests about it (access,
correction, erasure) that administrators answer; the processing restriction an erasure leaves."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

import notifications
from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from clinical import patients, privacy
from clinical.documents import content_disposition
from clinical.privacy import (
    AccessLog,
    DataRequestAdminRead,
    DataRequestAnswer,
    DataRequestCreate,
    DataRequestRead,
    Decision,
    RequestKind,
    RequestStatus,
    RestrictionRead,
)

router = APIRouter(tags=["my data"])


def _fhir_base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir/R4"


@router.get(
    "/patients/{patient_id}/record",
    summary="The whole record as a download: a FHIR R4 bundle or a PDF",
    responses={
        200: {
            "content": {
                "application/fhir+json": {"schema": {"$ref": "#/components/schemas/FhirResource"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            }
        }
    },
)
async def download_record(
    patient_id: uuid.UUID,
    request: Request,
    actor: CurrentPrincipal,
    session: SessionDep,
    format: Annotated[
        Literal["fhir", "pdf"], Query(description="fhir (for systems) or pdf (to read)")
    ] = "pdf",
) -> Response:
    patient = await patients.get_patient(session=session, principal=actor, patient_id=patient_id)
    name = f"health-record-{patient.mrn}"
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    if format == "fhir":
        bundle = await privacy.record_bundle(
            session=session, actor=actor, base_url=_fhir_base(request), patient_id=patient_id
        )
        headers["Content-Disposition"] = content_disposition(f"{name}.fhir.json")
        return Response(json.dumps(bundle, indent=1), media_type="application/fhir+json", headers=headers)
    pdf = await privacy.record_pdf(
        session=session, actor=actor, base_url=_fhir_base(request), patient_id=patient_id
    )
    headers["Content-Disposition"] = content_disposition(f"{name}.pdf")
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/patients/{patient_id}/access-log", response_model=AccessLog, summary="Who opened the record")
async def who_opened(
    patient_id: uuid.UUID,
    actor: CurrentPrincipal,
    session: SessionDep,
    before: Annotated[int | None, Query(ge=1, description="next_cursor of the previous page")] = None,
) -> AccessLog:
    return await privacy.who_opened(session=session, actor=actor, patient_id=patient_id, before=before)


@router.post(
    "/patients/{patient_id}/data-requests",
    status_code=201,
    response_model=DataRequestRead,
    summary="Ask for access, a correction or erasure",
)
async def create_request(
    patient_id: uuid.UUID, body: DataRequestCreate, actor: CurrentPrincipal, session: SessionDep
) -> DataRequestRead:
    return await privacy.create_request(session=session, actor=actor, patient_id=patient_id, request=body)


@router.get(
    "/patients/{patient_id}/data-requests",
    response_model=list[DataRequestRead],
    summary="The patient's requests",
)
async def patient_requests(
    patient_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> list[DataRequestRead]:
    return await privacy.patient_requests(session=session, actor=actor, patient_id=patient_id)


@router.get(
    "/patients/{patient_id}/restriction",
    response_model=RestrictionRead | None,
    summary="The record's processing restriction, if an erasure left one",
)
async def restriction(
    patient_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> RestrictionRead | None:
    return await privacy.restriction_of(session=session, actor=actor, patient_id=patient_id)


@router.get(
    "/data-requests", response_model=list[DataRequestAdminRead], summary="Every request (administrators)"
)
async def list_requests(
    actor: CurrentPrincipal,
    session: SessionDep,
    status: RequestStatus | None = None,
    kind: RequestKind | None = None,
) -> list[DataRequestAdminRead]:
    return await privacy.list_requests(session=session, actor=actor, status=status, kind=kind)


@router.get(
    "/data-requests/{request_id}/erasure-plan",
    response_model=list[Decision],
    summary="What erasure would erase, restrict and keep (administrators)",
)
async def erasure_plan(
    request_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> list[Decision]:
    return await privacy.plan_erasure(session=session, actor=actor, request_id=request_id, settings=settings)


@router.post(
    "/data-requests/{request_id}/complete",
    response_model=DataRequestAdminRead,
    summary="Complete a request (erasure: erase what may be, restrict the rest)",
)
async def complete_request(
    request_id: uuid.UUID,
    body: DataRequestAnswer,
    actor: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> DataRequestAdminRead:
    answered = await privacy.answer_request(
        session=session, actor=actor, request_id=request_id, answer=body, grant=True, settings=settings
    )
    if answered.kind is RequestKind.ERASURE and (
        user_id := await privacy.account_of(session, answered.patient_id)
    ):
        # The notifications live in another domain; they go in the same transaction.
        await notifications.erase_for_user(session=session, actor=actor, user_id=user_id)
    return answered


@router.post(
    "/data-requests/{request_id}/refuse", response_model=DataRequestAdminRead, summary="Refuse a request"
)
async def refuse_request(
    request_id: uuid.UUID,
    body: DataRequestAnswer,
    actor: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> DataRequestAdminRead:
    return await privacy.answer_request(
        session=session, actor=actor, request_id=request_id, answer=body, grant=False, settings=settings
    )
