"""Claim numbers and X12 interchange control numbers, without gaps or repeats under concurrency."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from billing.insurance.models import InsuranceCounter

CLAIM_NUMBER = "claim_number"
CONTROL_NUMBER = "control_number"
MAX_CONTROL_NUMBER = 999_999_999  # ISA13 has nine digits


async def next_value(session: AsyncSession, name: str) -> int:
    """The counter's next value; the UPDATE locks its row until this transaction ends."""
    value = await session.scalar(
        update(InsuranceCounter)
        .where(InsuranceCounter.name == name)
        .values(last_value=InsuranceCounter.last_value + 1)
        .returning(InsuranceCounter.last_value)
    )
    if value is None:
        raise RuntimeError(f"the insurance counter {name!r} is missing: run the migrations")
    return value


def claim_number(value: int) -> str:
    """CL0000000042: twelve characters, within the 837P's twenty for CLM01."""
    return f"CL{value:010d}"
