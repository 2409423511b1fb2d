"""The billing office's worklists (patients with something to bill, finished encounters to charge) and
the organisation's billing settings the office's forms need.

The worklists are for billing clerks and administrators (the services refuse anyone else, audited);
the settings hold nothing private and answer anyone signed in.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from billing import accounts, worklist
from clinical.patients import PatientQuery
from core.paging import MAX_PAGE_SIZE, Page

router = APIRouter(prefix="/billing", tags=["billing"])


class BillingSettings(BaseModel):
    currency: str
    default_tax_rate_bp: int
    payment_terms_days: int


@router.get("/settings", response_model=BillingSettings, summary="The organisation's currency, tax and terms")
async def billing_settings(_: CurrentPrincipal, settings: SettingsDep) -> BillingSettings:
    return BillingSettings(
        currency=settings.currency,
        default_tax_rate_bp=settings.billing_tax_rate_bp,
        payment_terms_days=settings.billing_payment_terms_days,
    )


@router.get(
    "/patients",
    response_model=list[accounts.BillingAccount],
    summary="Patients by name, MRN or birth date with their open charges and balance; none: those with any",
)
async def find_accounts(
    actor: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
    identifier: Annotated[str | None, Query(max_length=128, description="MRN or external identifier")] = None,
    birth_date: date | None = None,
    limit: Annotated[int, Query(ge=1, le=accounts.MAX_ACCOUNTS)] = 20,
) -> list[accounts.BillingAccount]:
    query = PatientQuery(name=name or None, birth_date=birth_date, identifier=identifier or None)
    return await accounts.find_accounts(
        session=session, actor=actor, query=query, currency=settings.currency, limit=limit
    )


@router.get(
    "/encounters",
    response_model=Page[worklist.BillableEncounter],
    summary="Finished encounters with what is charged and claimed (`charged=false`: still to charge)",
)
async def list_finished_encounters(
    actor: CurrentPrincipal,
    session: SessionDep,
    charged: bool | None = None,
    patient_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> Page[worklist.BillableEncounter]:
    return await worklist.list_finished_encounters(
        session=session, actor=actor, charged=charged, patient_id=patient_id, cursor=cursor, limit=limit
    )
