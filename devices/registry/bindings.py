"""What ingestion needs from the registry: which devices may send, and who each was bound to when.

A reading is attributed to the binding whose span [start, end) contains the reading's time, so a
reading delayed in an edge gateway's buffer still goes to the patient bound when it was measured.
These functions read without auditing: they serve a system process, and the attribution itself is
audited where readings are stored.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from devices.registry.models import Device, DeviceBinding, DeviceStatus


@dataclass(frozen=True, slots=True)
class BindingSpan:
    """One binding of one device, flattened for attribution."""

    device_id: str  # the wire id
    patient_id: uuid.UUID | None
    bed_id: uuid.UUID | None
    ward_id: uuid.UUID | None
    start: datetime
    end: datetime | None  # None = still bound

    def covers(self, time: datetime) -> bool:
        """Whether `time` falls in [start, end)."""
        return self.start <= time and (self.end is None or time < self.end)


async def load_binding_spans(
    session: AsyncSession,
    *,
    device_ids: Collection[str] | None = None,
    since: datetime | None = None,
) -> list[BindingSpan]:
    """The bindings of `device_ids` (all devices if None), by device then start; `since` drops spans ended before it."""
    if device_ids is not None and not device_ids:
        return []
    query = (
        select(
            Device.device_id,
            DeviceBinding.patient_id,
            DeviceBinding.bed_id,
            DeviceBinding.ward_id,
            DeviceBinding.start_at,
            DeviceBinding.end_at,
        )
        .join(Device, Device.id == DeviceBinding.device_uuid)
        .order_by(Device.device_id, DeviceBinding.start_at)
    )
    if device_ids is not None:
        query = query.where(Device.device_id.in_(list(device_ids)))
    if since is not None:
        query = query.where(or_(DeviceBinding.end_at.is_(None), DeviceBinding.end_at > since))
    rows = await session.execute(query)
    return [BindingSpan(*row) for row in rows]


async def known_device_ids(session: AsyncSession) -> dict[str, datetime]:
    """The wire ids of registered devices that are active (neither deactivated nor revoked), with when each was registered."""
    rows = await session.execute(
        select(Device.device_id, Device.created_at).where(Device.status == DeviceStatus.ACTIVE)
    )
    return {device_id: registered_at for device_id, registered_at in rows}


def span_at(spans: Sequence[BindingSpan], time: datetime) -> BindingSpan | None:
    """The span of one device's `spans` (sorted by start, not overlapping) that covers `time`, if any."""
    # The last span starting at or before `time` is the only one that can cover it.
    index = bisect.bisect_right(spans, time, key=lambda span: span.start) - 1
    if index >= 0 and spans[index].covers(time):
        return spans[index]
    return None
