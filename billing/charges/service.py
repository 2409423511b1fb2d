"""Charge items outside encounters: staff-entered charges, corrections before invoicing, lists."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import not_found, require_billing_scope, require_manager
from billing.charges import pricing
from billing.charges.models import ChargeItem, ChargeSource
from billing.charges.schemas import ChargeRead, ChargeUpdate, ManualCharge
from billing.exceptions import AlreadyInvoiced, ChargeOnClaim
from billing.insurance.models import Claim, ClaimLine
from billing.insurance.terms import ClaimStatus
from clinical.patients.models import Patient
from core.audit import service as audit
from core.identity.principal import Principal
from core.paging import MAX_PAGE_SIZE, Page, encode_cursor, newest_first, split_page
from core.settings import Settings

RESOURCE = "billing_charge"


async def create_manual_charge(
    *, session: AsyncSession, actor: Principal, settings: Settings, new: ManualCharge
) -> ChargeItem:
    """A charge entered by billing staff, priced from the fee schedule at its service date."""
    require_manager(session, actor, action="create", resource_type=RESOURCE)
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
    _audit(session, actor, "create", charge)
    return charge


async def update_charge(
    *, session: AsyncSession, actor: Principal, charge_id: uuid.UUID, changes: ChargeUpdate
) -> ChargeItem:
    """Corrects a charge on no invoice and no claim yet; after that it changes only through them."""
    require_manager(session, actor, action="update", resource_type=RESOURCE, resource_id=charge_id)
    charge = await _uninvoiced(session, charge_id)
    for field, value in changes.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(charge, field, value)
    await session.flush()
    _audit(session, actor, "update", charge, detail={"fields": sorted(changes.model_fields_set)})
    return charge


async def delete_charge(*, session: AsyncSession, actor: Principal, charge_id: uuid.UUID) -> None:
    """Removes a charge made in error, if it is on no invoice and no claim."""
    require_manager(session, actor, action="delete", resource_type=RESOURCE, resource_id=charge_id)
    charge = await _uninvoiced(session, charge_id)
    await session.delete(charge)
    await session.flush()
    _audit(session, actor, "delete", charge)


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
        require_manager(session, actor, action="list", resource_type=RESOURCE)
    else:
        require_billing_scope(session, actor, patient_id, action="list", resource_type=RESOURCE)
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
        resource_type=RESOURCE,
        patient_id=patient_id,
        detail={"charge_ids": [str(r.id) for r in rows]},
    )
    last = rows[-1] if rows and more else None
    return Page[ChargeRead](
        items=[ChargeRead.model_validate(r) for r in rows],
        next_cursor=encode_cursor(last.created_at, last.id) if last else None,
    )


async def _uninvoiced(session: AsyncSession, charge_id: uuid.UUID) -> ChargeItem:
    charge = await session.scalar(select(ChargeItem).where(ChargeItem.id == charge_id).with_for_update())
    if charge is None:
        raise not_found("charge", charge_id)
    if charge.invoice_id is not None:
        raise AlreadyInvoiced(
            "This charge is on an invoice; change the invoice's draft line, or void the invoice."
        )
    # A claim copies its charges into its lines and totals: changing one under it would leave the claim
    # billing the old price (and removing one is refused by the database's foreign key).
    claim = (
        await session.execute(
            select(Claim.number, Claim.status)
            .join(ClaimLine, ClaimLine.claim_id == Claim.id)
            .where(ClaimLine.charge_item_id == charge_id)
            .limit(1)
        )
    ).first()
    if claim is not None:
        number, status = claim
        remedy = (
            "discard the draft claim, correct the charge, then draft the claim again"
            if status is ClaimStatus.DRAFT
            else f"the claim is {status.value}, so its lines stand; correct it with the payer"
        )
        raise ChargeOnClaim(f"This charge is on insurance claim {number}: {remedy}.")
    return charge


def _audit(
    session: AsyncSession, actor: Principal, action: str, charge: ChargeItem, detail: dict | None = None
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type=RESOURCE,
        resource_id=charge.id,
        patient_id=charge.patient_id,
        detail=detail,
    )
