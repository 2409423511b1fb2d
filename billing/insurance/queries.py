"""Listing claims for billing staff, newest first, with filters."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.access import require_manager
from billing.insurance.export import claim_view
from billing.insurance.models import Claim
from billing.insurance.schemas import ClaimRead
from billing.insurance.terms import ClaimStatus
from core import audit
from core.paging import Page, encode_cursor, newest_first, split_page
from core.principal import Principal

MAX_PAGE_SIZE = 100


async def list_claims(
    *,
    session: AsyncSession,
    actor: Principal,
    status: ClaimStatus | None,
    patient_id: uuid.UUID | None,
    payer_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> Page[ClaimRead]:
    """One page of claims; each patient whose claims are listed gets an audit entry."""
    require_manager(session, actor, action="read", resource_type="claim")
    query = select(Claim)
    if status is not None:
        query = query.where(Claim.status == status)
    if patient_id is not None:
        query = query.where(Claim.patient_id == patient_id)
    if payer_id is not None:
        query = query.where(Claim.payer_id == payer_id)
    query = newest_first(query, time_column=Claim.created_at, id_column=Claim.id, cursor=cursor, limit=limit)
    rows, more = split_page(list(await session.scalars(query)), limit=limit)
    audit.record_listed(session, actor, rows, action="read", resource_type="claim", patient_id=patient_id)
    last = rows[-1] if rows and more else None
    return Page(
        items=[await claim_view(session, row) for row in rows],
        next_cursor=encode_cursor(last.created_at, last.id) if last else None,
    )
