"""Allocating medical record numbers, collision-free under concurrency on both dialects.

This is the one place in the package with dialect-specific SQL.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients.models import MRN_SEQUENCE, Patient


async def next_mrn_number(session: AsyncSession) -> int:
    """The next MRN number: a PostgreSQL sequence, or max + 1 on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        # nextval never hands the same number to two transactions, and never waits for either.
        return int(await session.scalar(select(MRN_SEQUENCE.next_value())) or 0)
    # Embedded SQLite transactions begin IMMEDIATE (one writer at a time), so max + 1 cannot collide.
    current = await session.scalar(select(func.max(Patient.mrn_number)))
    return int(current or 0) + 1
