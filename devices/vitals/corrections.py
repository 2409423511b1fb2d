"""Correcting stored attribution when a device's bindings change after its readings were stored.

A binding recorded late (a monitor attached at 10:00, entered at 10:20), ended late, or corrected
changes who the device's earlier readings belong to; the ingest worker also attributes with a cache
that is a few seconds old. `reattribute` rewrites one device's readings from a given instant so
that each carries the patient of the span covering its time, or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utc_now
from devices.registry import BindingSpan
from devices.vitals.models import VitalReading

# How far back a change of binding rewrites readings; older corrections are an operator's task.
MAX_REATTRIBUTION = timedelta(days=7)


async def reattribute(
    session: AsyncSession, *, device_id: str, since: datetime, spans: Sequence[BindingSpan]
) -> datetime:
    """Re-attributes `device_id`'s readings from `since` to `spans`; returns the instant actually used."""
    since = max(since, utc_now() - MAX_REATTRIBUTION)
    of_device = and_(VitalReading.device_id == device_id, VitalReading.time >= since)
    await session.execute(
        update(VitalReading)
        .where(of_device, VitalReading.patient_id.is_not(None))
        .values(patient_id=None)
        .execution_options(synchronize_session=False)
    )
    for span in spans:
        if span.patient_id is None or (span.end is not None and span.end <= since):
            continue
        covered = and_(of_device, VitalReading.time >= span.start)
        if span.end is not None:
            covered = and_(covered, VitalReading.time < span.end)
        await session.execute(
            update(VitalReading)
            .where(covered)
            .values(patient_id=span.patient_id)
            .execution_options(synchronize_session=False)
        )
    return since
