"""Units of work for the processes that drive the engine: each commits, then publishes what changed.

`ownat ingest` calls `evaluate_vitals_message` for each committed batch it published on
`vitals.patient.*` and `apply_status_message` for each device status; `ownat worker` calls
`run_periodic_checks` every few seconds. Publishing follows the commit, so a dashboard never
hears of an alarm that a rollback then took back.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from core.resources import Resources
from core.sessions import transaction
from devices.protocol import Reading, StatusMessage
from realtime.alarms import engine
from realtime.alarms.escalation import DEFAULT_ESCALATE_AFTER_S, escalate_overdue
from realtime.alarms.publishing import publish_changes
from realtime.alarms.schemas import AlarmChange
from realtime.alarms.technical import DEFAULT_SILENT_AFTER_S


def _optional_uuid(value: object) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


async def evaluate_vitals_message(
    resources: Resources, message: dict[str, Any], *, now: datetime
) -> list[AlarmChange]:
    """Evaluates one `vitals.patient.*` bus message (the ingest worker's shape) and publishes the changes."""
    patient_id = _optional_uuid(message.get("patient_id"))
    if patient_id is None:  # an unattributed reading alarms nobody
        return []
    readings = [Reading.model_validate(item) for item in message.get("readings", [])]
    async with transaction(resources.sessions) as session:
        changes = await engine.evaluate(
            session,
            patient_id=patient_id,
            readings=readings,
            now=now,
            bed_id=_optional_uuid(message.get("bed_id")),
            ward_id=_optional_uuid(message.get("ward_id")),
        )
    await publish_changes(resources.bus, changes)
    return changes


async def apply_status_message(
    resources: Resources, *, device_id: str, status: StatusMessage, now: datetime
) -> list[AlarmChange]:
    """Applies one device status (low battery, sensor off) and publishes the changes."""
    async with transaction(resources.sessions) as session:
        changes = await engine.apply_device_status(session, device_id=device_id, status=status, now=now)
    await publish_changes(resources.bus, changes)
    return changes


async def run_periodic_checks(
    resources: Resources,
    *,
    now: datetime,
    silent_after_s: int = DEFAULT_SILENT_AFTER_S,
    escalate_after_s: int = DEFAULT_ESCALATE_AFTER_S,
) -> list[AlarmChange]:
    """Silent devices and overdue escalations, in one unit of work; publishes the changes."""
    async with transaction(resources.sessions) as session:
        changes = await engine.check_technical(session, now=now, silent_after_s=silent_after_s)
        changes += await escalate_overdue(session, now=now, after_s=escalate_after_s)
    await publish_changes(resources.bus, changes)
    return changes
