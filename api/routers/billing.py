"""Billing: the fee schedule and charge items.

Billing clerks and administrators manage both; clinicians charge their own finished encounters
and read the fee schedule; patients list their own charges. Services refuse the rest (audited).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from billing import charge_corrections, charges, fees
from billing.charges import ChargeRead, ChargeUpdate, EncounterCharges, EncounterChargesRead, ManualCharge
from billing.fees import PriceCreate, PriceRead, ServiceCreate, ServiceKind, ServiceRead, ServiceUpdate
from core.paging import MAX_PAGE_SIZE, Page

router = APIRouter(prefix="/billing", tags=["billing"])
Cursor = Annotated[str | None, Query(max_length=200)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


@router.get("/services", response_model=list[ServiceRead], summary="The fee schedule")
async def list_services(
    actor: CurrentPrincipal, session: SessionDep, kind: ServiceKind | None = None
) -> list[ServiceRead]:
    return await fees.list_services(session=session, actor=actor, kind=kind)


@router.post("/services", status_code=201, response_model=ServiceRead, summary="Add a billable service code")
async def create_service(body: ServiceCreate, actor: CurrentPrincipal, session: SessionDep) -> ServiceRead:
    return ServiceRead.model_validate(await fees.create_service(session=session, actor=actor, new=body))


@router.patch("/services/{service_id}", response_model=ServiceRead, summary="Rename or (de)activate a code")
async def update_service(
    service_id: uuid.UUID, body: ServiceUpdate, actor: CurrentPrincipal, session: SessionDep
) -> ServiceRead:
    service = await fees.update_service(session=session, actor=actor, service_id=service_id, changes=body)
    return ServiceRead.model_validate(service)


@router.post(
    "/services/{service_id}/prices", status_code=201, response_model=PriceRead, summary="Add a dated price"
)
async def add_price(
    service_id: uuid.UUID,
    body: PriceCreate,
    actor: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> PriceRead:
    price = await fees.add_price(
        session=session, actor=actor, service_id=service_id, new=body, currency=settings.currency
    )
    return PriceRead.model_validate(price)


@router.post(
    "/encounters/{encounter_id}/charges",
    status_code=201,
    response_model=EncounterChargesRead,
    summary="Charge a finished encounter (each source once)",
)
async def charge_encounter(
    encounter_id: uuid.UUID,
    body: EncounterCharges,
    actor: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> EncounterChargesRead:
    return await charges.charge_encounter(
        session=session, actor=actor, settings=settings, encounter_id=encounter_id, request=body
    )


@router.post("/charges", status_code=201, response_model=ChargeRead, summary="Enter a charge by code")
async def create_charge(
    body: ManualCharge, actor: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> ChargeRead:
    charge = await charges.create_manual_charge(session=session, actor=actor, settings=settings, new=body)
    return ChargeRead.model_validate(charge)


@router.get("/charges", response_model=Page[ChargeRead], summary="Charge items, newest first")
async def list_charges(
    actor: CurrentPrincipal,
    session: SessionDep,
    patient_id: uuid.UUID | None = None,
    uninvoiced: bool = False,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[ChargeRead]:
    return await charges.list_charges(
        session=session, actor=actor, patient_id=patient_id, uninvoiced=uninvoiced, cursor=cursor, limit=limit
    )


@router.patch("/charges/{charge_id}", response_model=ChargeRead, summary="Correct an uninvoiced charge")
async def update_charge(
    charge_id: uuid.UUID, body: ChargeUpdate, actor: CurrentPrincipal, session: SessionDep
) -> ChargeRead:
    charge = await charge_corrections.update_charge(
        session=session, actor=actor, charge_id=charge_id, changes=body
    )
    return ChargeRead.model_validate(charge)


@router.delete("/charges/{charge_id}", status_code=204, summary="Delete an uninvoiced charge")
async def delete_charge(charge_id: uuid.UUID, actor: CurrentPrincipal, session: SessionDep) -> Response:
    await charge_corrections.delete_charge(session=session, actor=actor, charge_id=charge_id)
    return Response(status_code=204)
