"""The billing office's worklists: patients with something to bill, and finished encounters to charge.

Billing clerks and administrators only (the services refuse anyone else, audited).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentPrincipal, SessionDep
from billing import accounts
from billing.charges import encounters
from clinical.encounters.paging import MAX_PAGE_SIZE
from clinical.patients.search import PatientQuery

router = APIRouter(prefix="/billing", tags=["billing"])


@router.get(
    "/patients",
    response_model=list[accounts.BillingAccount],
    summary="Patients by name, MRN or birth date with their open charges and balance; none: those with any",
)
async def find_accounts(
    actor: CurrentPrincipal,
    session: SessionDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
    identifier: Annotated[str | None, Query(max_length=128, description="MRN or external identifier")] = None,
    birth_date: date | None = None,
    limit: Annotated[int, Query(ge=1, le=accounts.MAX_ACCOUNTS)] = 20,
) -> list[accounts.BillingAccount]:
    query = PatientQuery(name=name or None, birth_date=birth_date, identifier=identifier or None)
    return await accounts.find_accounts(session=session, actor=actor, query=query, limit=limit)


@router.get(
    "/encounters",
    response_model=encounters.BillableEncounterPage,
    summary="Finished encounters with what is charged and claimed (`charged=false`: still to charge)",
)
async def list_finished_encounters(
    actor: CurrentPrincipal,
    session: SessionDep,
    charged: bool | None = None,
    patient_id: uuid.UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> encounters.BillableEncounterPage:
    return await encounters.list_finished_encounters(
        session=session, actor=actor, charged=charged, patient_id=patient_id, cursor=cursor, limit=limit
    )
