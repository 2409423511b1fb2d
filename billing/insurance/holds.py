"""Charges held by claims: on a claim the payer has not settled, they are not the patient's to pay yet.

Invoicing asks here before it puts a patient's uninvoiced charges on a draft, so that a service is
not billed in full to the patient while the payer is still deciding its share.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.insurance.models import Claim, ClaimLine
from billing.insurance.terms import ClaimStatus

AWAITING_PAYER = (ClaimStatus.DRAFT, ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED)


async def held_charge_ids(session: AsyncSession, *, patient_id: uuid.UUID) -> set[uuid.UUID]:
    """The patient's charges on claims still awaiting the payer."""
    rows = await session.scalars(
        select(ClaimLine.charge_item_id)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(Claim.patient_id == patient_id, Claim.status.in_(AWAITING_PAYER))
    )
    return set(rows)
