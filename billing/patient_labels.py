"""How billing names patients on its lists: name and MRN, read in one query for a whole page."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.patients import Patient


@dataclass(frozen=True, slots=True)
class PatientLabel:
    name: str
    mrn: str


UNKNOWN = PatientLabel(name="", mrn="")


async def patient_labels(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, PatientLabel]:
    """Name and MRN of each patient in `ids` (callers have checked the caller may see them)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(Patient).where(Patient.id.in_(wanted)))
    return {p.id: PatientLabel(name=p.display_name, mrn=p.mrn) for p in rows}
