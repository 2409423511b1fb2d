"""Charge items outside encounters: staff-entered charges and lists (corrections: `billing.charge_corrections`)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import not_found, require_billing_scope, require_manager
from billing.charges import pricing
from billing.charges.models import ChargeItem, ChargeSource
from billing.charges.schemas import ChargeRead, ManualCharge
from clinical.patients import Patient
from core import audit
from core.paging import MAX_PAGE_SIZE, Page, encode_cursor, newest_first, split_page
from core.principal import Principal
from core.settings import Settings

CHARGE_RESOURCE = "billing_charge"


async def create_manual_charge(
    *, session: AsyncSession, actor: Principal, settings: Settings, new: ManualCharge
) -> ChargeItem:
    """A charge entered by billing staff, priced from the fee schedule at its service date."""
    require_manager(session, actor, action="create", resource_type=CHARGE_RESOURCE)
    if await session.get(Patient, new.patient_id) is None:
        raise not_found("patient", new.patient_id)
    service = await pricing.service_by_code(session, new.code)
    charge = await pricing.priced_charge(
        session,
        settings=settings,
        service=service,
        day=new.service_date,
        patient_id=new.patient_id,
        encounter_id=None,
        source=ChargeSource.MANUAL,
        source_key=str(uuid.uuid4()),
        created_by=actor.user_id,
        quantity=new.quantity,
        description=new.description,
    )
    session.add(charge)
    await session.flush()
    audit_charge(session, actor, "create", charge)
    return charge


async def list_charges(
    *,
    session: AsyncSession,
    actor: Principal,
    patient_id: uuid.UUID | None = None,
    uninvoiced: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ChargeRead]:
    """Charges newest first; managers see all (or one patient's), a patient only their own."""
    if patient_id is None and actor.patient_id is not None:
        patient_id = actor.patient_id
    if patient_id is None:
        require_manager(session, actor, action="list", resource_type=CHARGE_RESOURCE)
    else:
        require_billing_scope(session, actor, patient_id, action="list", resource_type=CHARGE_RESOURCE)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(ChargeItem)
    if patient_id is not None:
        query = query.where(ChargeItem.patient_id == patient_id)
    if uninvoiced:
        query = query.where(ChargeItem.invoice_id.is_(None))
    query = newest_first(
        query, time_column=ChargeItem.created_at, id_column=ChargeItem.id, cursor=cursor, limit=limit
    )
    rows, more = split_page(list(await session.scalars(query)), limit=limit)
    audit.record(
        session,
        actor=actor,
        action="list",
        resource_type=CHARGE_RESOURCE,
        patient_id=patient_id,
        detail={"charge_ids": [str(r.id) for r in rows]},
    )
    last = rows[-1] if rows and more else None
    return Page[ChargeRead](
        items=[ChargeRead.model_validate(r) for r in rows],
        next_cursor=encode_cursor(last.created_at, last.id) if last else None,
    )


audit_charge = audit.RowAudit(CHARGE_RESOURCE)
