"""Insurance: payers, patients' coverages, and claims from draft to settlement, exported as 837P and FHIR.

Billing clerks and administrators only; every other role is refused (audited) by the services.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.deps import CurrentPrincipal, SessionDep
from billing import adjudication, insurance
from billing.insurance import (
    Adjudication,
    ClaimCreate,
    ClaimRead,
    ClaimResponse,
    ClaimStateConflict,
    ClaimStatus,
    CoverageCreate,
    CoverageRead,
    PayerCreate,
    PayerRead,
    ProviderSettings,
    claim_document,
    claim_resource,
    claim_view,
    exact_json,
    load_provider_settings,
    write_837p,
)
from core.paging import Page

router = APIRouter(tags=["insurance"])


def provider_settings() -> ProviderSettings:
    """The billing provider's settings, read from the environment for each export."""
    return load_provider_settings()


ProviderDep = Annotated[ProviderSettings, Depends(provider_settings)]
FHIR_JSON = "application/fhir+json"
X12_MEDIA_TYPE = "application/edi-x12"


@router.post("/insurance/payers", status_code=201, response_model=PayerRead, summary="Add a payer")
async def create_payer(body: PayerCreate, actor: CurrentPrincipal, session: SessionDep) -> PayerRead:
    return PayerRead.model_validate(await insurance.create_payer(session=session, actor=actor, payer=body))


@router.get("/insurance/payers", response_model=list[PayerRead], summary="Payers by name")
async def list_payers(actor: CurrentPrincipal, session: SessionDep) -> list[PayerRead]:
    return [
        PayerRead.model_validate(row) for row in await insurance.list_payers(session=session, actor=actor)
    ]


@router.post(
    "/patients/{patient_id}/coverages", status_code=201, response_model=CoverageRead, summary="Add a coverage"
)
async def add_coverage(
    patient_id: uuid.UUID, body: CoverageCreate, actor: CurrentPrincipal, session: SessionDep
) -> CoverageRead:
    row = await insurance.add_coverage(session=session, actor=actor, patient_id=patient_id, coverage=body)
    return CoverageRead.model_validate(row)


@router.get(
    "/patients/{patient_id}/coverages", response_model=list[CoverageRead], summary="A patient's coverages"
)
async def list_coverages(
    patient_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> list[CoverageRead]:
    rows = await insurance.list_coverages(session=session, actor=actor, patient_id=patient_id)
    return [CoverageRead.model_validate(row) for row in rows]


@router.post(
    "/insurance/coverages/{coverage_id}/cancel", response_model=CoverageRead, summary="Cancel a coverage"
)
async def cancel_coverage(
    coverage_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep
) -> CoverageRead:
    row = await insurance.cancel_coverage(session=session, actor=actor, coverage_id=coverage_id)
    return CoverageRead.model_validate(row)


@router.post("/insurance/claims", status_code=201, response_model=ClaimRead, summary="Draft a claim")
async def create_claim(body: ClaimCreate, actor: CurrentPrincipal, session: SessionDep) -> ClaimRead:
    return await claim_view(session, await insurance.create_claim(session=session, actor=actor, new=body))


@router.get("/insurance/claims", response_model=Page[ClaimRead], summary="Claims, newest first")
async def list_claims(
    actor: CurrentPrincipal,
    session: SessionDep,
    status: ClaimStatus | None = None,
    patient_id: uuid.UUID | None = None,
    payer_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=insurance.MAX_PAGE_SIZE)] = 50,
) -> Page[ClaimRead]:
    return await insurance.list_claims(
        session=session,
        actor=actor,
        status=status,
        patient_id=patient_id,
        payer_id=payer_id,
        cursor=cursor,
        limit=limit,
    )


@router.get("/insurance/claims/{claim_id}", response_model=ClaimRead, summary="One claim")
async def read_claim(claim_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> ClaimRead:
    return await claim_view(
        session, await insurance.read_claim(session=session, actor=actor, claim_id=claim_id)
    )


@router.delete("/insurance/claims/{claim_id}", status_code=204, summary="Discard a draft claim")
async def discard_claim(claim_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> Response:
    await insurance.discard_draft(session=session, actor=actor, claim_id=claim_id)
    return Response(status_code=204)


@router.post("/insurance/claims/{claim_id}/submit", response_model=ClaimRead, summary="Submit a draft claim")
async def submit_claim(claim_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> ClaimRead:
    return await claim_view(
        session, await insurance.submit_claim(session=session, actor=actor, claim_id=claim_id)
    )


@router.post(
    "/insurance/claims/{claim_id}/response", response_model=ClaimRead, summary="Record the payer's response"
)
async def record_response(
    claim_id: uuid.UUID, body: ClaimResponse, actor: CurrentPrincipal, session: SessionDep
) -> ClaimRead:
    claim = await insurance.record_response(session=session, actor=actor, claim_id=claim_id, response=body)
    return await claim_view(session, claim)


@router.post(
    "/insurance/claims/{claim_id}/adjudication",
    response_model=ClaimRead,
    summary="Record the payer's adjudication",
)
async def adjudicate(
    claim_id: uuid.UUID, body: Adjudication, actor: CurrentPrincipal, session: SessionDep
) -> ClaimRead:
    claim = await adjudication.adjudicate(session=session, actor=actor, claim_id=claim_id, adjudication=body)
    return await claim_view(session, claim)


@router.get(
    "/insurance/claims/{claim_id}/fhir",
    summary="The claim as a FHIR R4 Claim",
    responses={200: {"content": {FHIR_JSON: {"schema": {"$ref": "#/components/schemas/FhirResource"}}}}},
)
async def claim_as_fhir(
    claim_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, provider: ProviderDep
) -> Response:
    claim = await insurance.read_claim(session=session, actor=actor, claim_id=claim_id, action="export")
    document = await claim_document(session, claim, provider, for_x12=False)
    status = "draft" if claim.status is ClaimStatus.DRAFT else "active"
    return Response(exact_json(claim_resource(document, status=status)), media_type=FHIR_JSON)


@router.get(
    "/insurance/claims/{claim_id}/x12",
    summary="The submitted claim as an X12 837P file",
    responses={200: {"content": {X12_MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
async def claim_as_x12(
    claim_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep, provider: ProviderDep
) -> Response:
    claim = await insurance.read_claim(session=session, actor=actor, claim_id=claim_id, action="export")
    if claim.control_number is None:
        raise ClaimStateConflict(
            "Submit the claim first: its 837P carries the control number given at submission."
        )
    document = await claim_document(session, claim, provider, for_x12=True)
    return Response(
        write_837p(document, usage=provider.x12_usage),
        media_type=X12_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{claim.number}.x12"'},
    )
