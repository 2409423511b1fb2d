"""Technical alarms: a bound device gone silent, a low battery, a sensor off the patient.

They hang on the patient the device is bound to, so they show on that bed's tile of the dashboard.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from devices.protocol import StatusMessage
from devices.registry import BindingSpan, load_binding_spans
from devices.vitals import VitalReading
from realtime.alarms import store
from realtime.alarms.models import AlarmKind, AlarmPriority
from realtime.alarms.schemas import AlarmChange

# A monitor reports every few seconds; a minute without a value means nobody is watching that bed.
DEFAULT_SILENT_AFTER_S = 60
# Most monitors warn at 20% (roughly an hour left); we alarm at the same point.
DEFAULT_LOW_BATTERY_PCT = 20


def technical_key(code: str, device_id: str) -> str:
    return f"technical:{code}:{device_id}"


async def check_technical(
    session: AsyncSession, *, now: datetime, silent_after_s: int = DEFAULT_SILENT_AFTER_S
) -> list[AlarmChange]:
    """Raises "silent" for bound devices without a reading for `silent_after_s`, resolves it for the others."""
    since = now - timedelta(seconds=silent_after_s)
    spans = [s for s in await load_binding_spans(session, since=now) if s.patient_id and s.covers(now)]
    if not spans:
        return []
    rows = await session.execute(
        select(VitalReading.device_id, func.max(VitalReading.time))
        .where(VitalReading.device_id.in_([s.device_id for s in spans]), VitalReading.time > since)
        .where(VitalReading.time <= now)
        .group_by(VitalReading.device_id)
    )
    heard = {device for device, _ in rows}
    changes: list[AlarmChange] = []
    for span in spans:
        # A device bound less than the window ago has not had the chance to speak yet.
        silent = span.device_id not in heard and span.start <= since
        changes += await _set(
            session, span, "silent", silent, AlarmPriority.MEDIUM, now, {"silent_after_s": silent_after_s}
        )
    store.audit_changes(session, changes)
    return changes


async def apply_device_status(
    session: AsyncSession,
    *,
    device_id: str,
    status: StatusMessage,
    now: datetime,
    low_battery_pct: int = DEFAULT_LOW_BATTERY_PCT,
) -> list[AlarmChange]:
    """Raises or resolves the low-battery and sensor-off alarms from a device's status message."""
    spans = await load_binding_spans(session, device_ids=[device_id], since=now)
    span = next((s for s in spans if s.patient_id and s.covers(now)), None)
    if span is None:
        return []
    low = status.battery_pct is not None and status.battery_pct <= low_battery_pct
    changes = await _set(
        session, span, "low_battery", low, AlarmPriority.LOW, now, {"battery_pct": status.battery_pct}
    )
    changes += await _set(session, span, "sensor_off", status.sensor_off, AlarmPriority.MEDIUM, now, {})
    store.audit_changes(session, changes)
    return changes


async def _set(
    session: AsyncSession,
    span: BindingSpan,
    code: str,
    active: bool,
    priority: AlarmPriority,
    now: datetime,
    detail: dict[str, object],
) -> list[AlarmChange]:
    assert span.patient_id is not None
    key = technical_key(code, span.device_id)
    if not active:
        return await store.resolve_open(session, patient_id=span.patient_id, condition_keys=[key], now=now)
    raised = await store.raise_alarm(
        session,
        patient_id=span.patient_id,
        condition_key=key,
        kind=AlarmKind.TECHNICAL,
        code=code,
        priority=priority,
        now=now,
        bed_id=span.bed_id,
        ward_id=span.ward_id,
        device_id=span.device_id,
        detail=dict(detail),
    )
    return [raised] if raised else []
