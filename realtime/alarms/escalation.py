"""Escalation: a high-priority alarm nobody acknowledged in time is marked escalated, once.

Each escalation is also written to the notifications outbox in the same transaction, which pages
the staff (in the app, and by SMS for those who chose it); it still goes out on `alarms.escalation`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import outbox
from realtime.alarms import store
from realtime.alarms.models import Alarm, AlarmPriority, AlarmStatus
from realtime.alarms.schemas import AlarmChange

DEFAULT_ESCALATE_AFTER_S = 120


async def escalate_overdue(
    session: AsyncSession, *, now: datetime, after_s: int = DEFAULT_ESCALATE_AFTER_S, limit: int = 500
) -> list[AlarmChange]:
    """Marks high alarms still unacknowledged `after_s` after raising as escalated and returns them."""
    overdue = await session.scalars(
        select(Alarm)
        .where(
            Alarm.status == AlarmStatus.RAISED,
            Alarm.priority == AlarmPriority.HIGH,
            Alarm.escalated_at.is_(None),
            Alarm.raised_at <= now - timedelta(seconds=after_s),
        )
        .order_by(Alarm.raised_at)
        .limit(limit)
        # Several workers may run this job: each alarm is claimed by one (SQLite serialises anyway).
        .with_for_update(skip_locked=True)
    )
    alarms = list(overdue)
    for alarm in alarms:
        alarm.escalated_at = now
        outbox.record(
            session,
            event_type=outbox.EventType.ALARM_ESCALATED,
            alarm_id=alarm.id,
            patient_id=alarm.patient_id,
            ward_id=alarm.ward_id,
            bed_id=alarm.bed_id,
            code=alarm.code,
            priority=alarm.priority,
            raised_at=alarm.raised_at,
        )
    await session.flush()
    changes = [store.change("escalated", alarm) for alarm in alarms]
    store.audit_changes(session, changes)
    return changes
