"""Vital signs charted by staff, as NEWS2 reads them beside device readings.

A nurse's full set (`realtime.alarms.observation_sets`) and any other vitals recorded by hand are
rows of `clinical.encounters.recorded_vitals`. For NEWS2 the newest value of each metric counts,
whoever measured it: a charted respiration rate stands until a device measures a newer one.
Values a patient reports from home are left out: NEWS2 scores observations taken by staff.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters import RecordedVital
from realtime.alarms.id_lists import among


async def latest_charted(
    session: AsyncSession, *, patient_ids: Collection[uuid.UUID], since: datetime, now: datetime
) -> dict[uuid.UUID, dict[str, tuple[float, datetime]]]:
    """Each patient's newest staff-charted value per metric between `since` and `now`."""
    if not patient_ids:
        return {}
    v = RecordedVital
    rows = await session.execute(
        select(v.patient_id, v.metric_code, v.value, v.measured_at)
        .where(
            among(session, v.patient_id, patient_ids),
            v.measured_at >= since,
            v.measured_at <= now,
            v.reported_by_patient.is_(False),
        )
        # Oldest first, so that the newest of each metric is the one kept: a few rows per set.
        .order_by(v.measured_at)
    )
    found: dict[uuid.UUID, dict[str, tuple[float, datetime]]] = {}
    for patient_id, metric, value, measured_at in rows:
        found.setdefault(patient_id, {})[metric] = (value, measured_at)
    return found
