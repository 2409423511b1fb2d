"""Finished encounters as the billing office works them: who was seen, by whom, for how long, and
what has been charged or claimed so far. No clinical content (notes, results) is shown here.

It sits above `billing.charges` and `billing.insurance` because it shows both: a claim is built from
charges, so the charges must not depend on claims.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import require_manager
from billing.charges import ChargeItem
from billing.insurance import Claim, ClaimStatus
from clinical.encounters import Encounter, EncounterClass, EncounterStatus
from clinical.organisation import Practitioner
from clinical.patients import Patient
from core import audit
from core.paging import MAX_PAGE_SIZE, Page, encode_cursor, newest_first, split_page
from core.principal import Principal

RESOURCE = "encounter"


class ClaimRef(BaseModel):
    id: uuid.UUID
    number: str
    status: ClaimStatus


class BillableEncounter(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    patient_name: str
    patient_mrn: str
    practitioner_name: str
    encounter_class: EncounterClass
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: int | None
    charges: int
    uninvoiced_charges: int
    charged_minor: int
    claims: list[ClaimRef]


async def list_finished_encounters(
    *,
    session: AsyncSession,
    actor: Principal,
    charged: bool | None = None,
    patient_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[BillableEncounter]:
    """Finished encounters, most recently created first; `charged` keeps those with (or without) charges."""
    require_manager(session, actor, action="list", resource_type=RESOURCE)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    # Typed loosely: the paging helper takes any select, this one has three entities.
    query = cast(
        "Select[Any]",
        select(Encounter, Patient, Practitioner)
        .join(Patient, Patient.id == Encounter.patient_id)
        .join(Practitioner, Practitioner.id == Encounter.practitioner_id)
        .where(Encounter.status == EncounterStatus.FINISHED),
    )
    if patient_id is not None:
        query = query.where(Encounter.patient_id == patient_id)
    if charged is not None:
        has_charges = exists().where(ChargeItem.encounter_id == Encounter.id)
        query = query.where(has_charges if charged else ~has_charges)
    query = newest_first(
        query, time_column=Encounter.created_at, id_column=Encounter.id, cursor=cursor, limit=limit
    )
    result = (await session.execute(query)).unique().all()
    triples: list[tuple[Encounter, Patient, Practitioner]] = [(r[0], r[1], r[2]) for r in result]
    rows, more = split_page(triples, limit=limit)
    encounters = [row[0] for row in rows]
    ids = [e.id for e in encounters]
    charges = await _charges(session, ids)
    claims = await _claims(session, ids)
    audit.record_listed(
        session, actor, encounters, action="list", resource_type=RESOURCE, detail={"for": "billing"}
    )
    return Page(
        items=[_item(e, p, pr, charges.get(e.id, []), claims.get(e.id, [])) for e, p, pr in rows],
        next_cursor=encode_cursor(encounters[-1].created_at, encounters[-1].id) if more else None,
    )


async def _charges(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ChargeItem]]:
    found: dict[uuid.UUID, list[ChargeItem]] = {}
    for charge in await session.scalars(select(ChargeItem).where(ChargeItem.encounter_id.in_(ids))):
        assert charge.encounter_id is not None
        found.setdefault(charge.encounter_id, []).append(charge)
    return found


async def _claims(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ClaimRef]]:
    found: dict[uuid.UUID, list[ClaimRef]] = {}
    rows = await session.scalars(select(Claim).where(Claim.encounter_id.in_(ids)).order_by(Claim.created_at))
    for claim in rows:
        found.setdefault(claim.encounter_id, []).append(
            ClaimRef(id=claim.id, number=claim.number, status=claim.status)
        )
    return found


def _item(
    encounter: Encounter,
    patient: Patient,
    practitioner: Practitioner,
    charges: list[ChargeItem],
    claims: list[ClaimRef],
) -> BillableEncounter:
    started, ended = encounter.started_at, encounter.ended_at
    return BillableEncounter(
        id=encounter.id,
        patient_id=patient.id,
        patient_name=patient.display_name,
        patient_mrn=patient.mrn,
        practitioner_name=practitioner.display_name,
        encounter_class=encounter.encounter_class,
        started_at=started,
        ended_at=ended,
        duration_s=int((ended - started).total_seconds()) if started and ended else None,
        charges=len(charges),
        uninvoiced_charges=sum(1 for c in charges if c.invoice_id is None),
        charged_minor=sum(c.quantity * c.unit_price_minor for c in charges),
        claims=claims,
    )
