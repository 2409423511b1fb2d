"""Corrections to a charge item, allowed only while no invoice and no claim has taken it up.

It sits above `billing.charges` and `billing.insurance` because it reads both: a claim is built from
charges, so the charges must not depend on claims.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import not_found, require_manager
from billing.charges import CHARGE_RESOURCE, ChargeItem, ChargeUpdate, audit_charge
from billing.exceptions import AlreadyInvoiced, ChargeOnClaim
from billing.insurance import Claim, ClaimLine, ClaimStatus
from core.principal import Principal


async def update_charge(
    *, session: AsyncSession, actor: Principal, charge_id: uuid.UUID, changes: ChargeUpdate
) -> ChargeItem:
    """Corrects a charge on no invoice and no claim yet; after that it changes only through them."""
    require_manager(session, actor, action="update", resource_type=CHARGE_RESOURCE, resource_id=charge_id)
    charge = await _correctable(session, charge_id)
    for field, value in changes.model_dump(exclude_unset=True, exclude_none=True).items():
        setattr(charge, field, value)
    await session.flush()
    audit_charge(session, actor, "update", charge, fields=sorted(changes.model_fields_set))
    return charge


async def delete_charge(*, session: AsyncSession, actor: Principal, charge_id: uuid.UUID) -> None:
    """Removes a charge made in error, if it is on no invoice and no claim."""
    require_manager(session, actor, action="delete", resource_type=CHARGE_RESOURCE, resource_id=charge_id)
    charge = await _correctable(session, charge_id)
    await session.delete(charge)
    await session.flush()
    audit_charge(session, actor, "delete", charge)


async def _correctable(session: AsyncSession, charge_id: uuid.UUID) -> ChargeItem:
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
