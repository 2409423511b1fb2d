"""Data-subject requests: a patient asks for access, a correction or erasure; an administrator answers."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinical.privacy.models import ProcessingRestriction


async def is_restricted(session: AsyncSession, *, patient_id: uuid.UUID) -> bool:
    """Whether the patient's record is kept only because the law requires it (processing restricted)."""
    return await session.get(ProcessingRestriction, patient_id) is not None
