"""Raising, updating and resolving alarms; the one module that knows the open-alarm index's dialects.

Raising is an INSERT that does nothing on the open-condition index: of several workers raising the
same condition at once, exactly one inserts and the others find that alarm instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation import Admission, Bed
from core import audit, outbox
from core.principal import SYSTEM, Principal
from realtime.alarms.id_lists import among
from realtime.alarms.models import Alarm, AlarmKind, AlarmPriority, AlarmStatus
from realtime.alarms.schemas import AlarmChange, AlarmRead, ChangeKind

_RANK = {AlarmPriority.LOW: 0, AlarmPriority.MEDIUM: 1, AlarmPriority.HIGH: 2}
# The predicate of the open-condition index (`uq_alarms_open_condition`).
OPEN_CONDITION = text("status <> 'resolved'")
# Rows per multi-row INSERT: well under SQLite's limit of bound parameters per statement.
_ROWS_PER_INSERT = 500


def change(kind: ChangeKind, alarm: Alarm) -> AlarmChange:
    """An AlarmChange of `alarm` as it is now."""
    return AlarmChange(change=kind, alarm=AlarmRead.model_validate(alarm))


async def location(
    session: AsyncSession, *, patient_id: uuid.UUID, now: datetime
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(bed, ward) of the patient's stay in progress at `now`, or (None, None)."""
    return (await locations(session, patient_ids=[patient_id], now=now)).get(patient_id, (None, None))


async def locations(
    session: AsyncSession, *, patient_ids: Collection[uuid.UUID], now: datetime
) -> dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]]:
    """(bed, ward) of each patient's stay in progress at `now`; patients not in a bed are left out."""
    if not patient_ids:
        return {}
    rows = await session.execute(
        select(Admission.patient_id, Bed.id, Bed.ward_id)
        .join(Admission, Admission.bed_id == Bed.id)
        .where(among(session, Admission.patient_id, patient_ids), Admission.start_at <= now)
        .where((Admission.end_at.is_(None)) | (Admission.end_at > now))
    )
    found: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]] = {}
    for patient_id, bed_id, ward_id in rows:
        found.setdefault(patient_id, (bed_id, ward_id))
    return found


async def active_alarms(
    session: AsyncSession,
    *,
    ward_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    limit: int = 500,
) -> list[AlarmRead]:
    """Open (raised or acknowledged) alarms of a ward or a patient, most urgent first, then newest.

    Not audited here: the caller (a snapshot, a route) records the read against each patient.
    """
    query = select(Alarm).where(Alarm.status != AlarmStatus.RESOLVED)
    if ward_id is not None:
        query = query.where(Alarm.ward_id == ward_id)
    if patient_id is not None:
        query = query.where(Alarm.patient_id == patient_id)
    alarms = [
        AlarmRead.model_validate(a)
        for a in await session.scalars(query.order_by(Alarm.raised_at.desc()).limit(limit))
    ]
    alarms.sort(key=lambda a: (_RANK[a.priority], a.raised_at), reverse=True)
    return alarms


async def open_alarm(session: AsyncSession, *, patient_id: uuid.UUID, condition_key: str) -> Alarm | None:
    """The open (raised or acknowledged) alarm of one condition, locked for update."""
    return await session.scalar(
        select(Alarm)
        .where(
            Alarm.patient_id == patient_id,
            Alarm.condition_key == condition_key,
            Alarm.status != AlarmStatus.RESOLVED,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def raise_alarm(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    condition_key: str,
    kind: AlarmKind,
    code: str,
    priority: AlarmPriority,
    now: datetime,
    bed_id: uuid.UUID | None = None,
    ward_id: uuid.UUID | None = None,
    device_id: str | None = None,
    value: float | None = None,
    score: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AlarmChange | None:
    """Raises the condition's alarm, or raises an open one's priority; None when nothing changed."""
    values = new_alarm_values(
        patient_id=patient_id,
        condition_key=condition_key,
        kind=kind,
        code=code,
        priority=priority,
        now=now,
        bed_id=bed_id,
        ward_id=ward_id,
        device_id=device_id,
        value=value,
        score=score,
        detail=detail,
    )
    inserted = await _insert_if_no_open(session, values)
    alarm = await open_alarm(session, patient_id=patient_id, condition_key=condition_key)
    if alarm is None:  # resolved by someone between our insert and read: nothing left to update
        return None
    if inserted:
        return change("raised", alarm)
    again = raise_again(alarm, priority=priority, now=now, value=value, score=score, detail=detail)
    await session.flush()
    return change("updated", alarm) if again else None


def new_alarm_values(
    *,
    patient_id: uuid.UUID,
    condition_key: str,
    kind: AlarmKind,
    code: str,
    priority: AlarmPriority,
    now: datetime,
    bed_id: uuid.UUID | None = None,
    ward_id: uuid.UUID | None = None,
    device_id: str | None = None,
    value: float | None = None,
    score: int | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every column of a newly raised alarm."""
    return {
        "id": uuid.uuid4(),
        "patient_id": patient_id,
        "bed_id": bed_id,
        "ward_id": ward_id,
        "kind": kind,
        "condition_key": condition_key,
        "code": code,
        "priority": priority,
        "status": AlarmStatus.RAISED,
        "raised_at": now,
        "acknowledged_by": None,
        "acknowledged_at": None,
        "resolved_by": None,
        "resolved_at": None,
        "escalated_at": None,
        "device_id": device_id,
        "value": value,
        "score": score,
        "detail": detail or {},
        "created_at": now,
        "updated_at": now,
    }


def raise_again(
    alarm: Alarm,
    *,
    priority: AlarmPriority,
    now: datetime,
    value: float | None,
    score: int | None,
    detail: dict[str, Any] | None,
) -> bool:
    """The open alarm's condition is seen again: new value and score; True when it is now worse."""
    alarm.value, alarm.score = value, score
    if _RANK[priority] <= _RANK[alarm.priority]:
        return False
    # A worse condition needs a fresh acknowledgement: the alarm is raised again at the new priority.
    previous = {"previous_priority": alarm.priority.value}
    if alarm.acknowledged_at is not None:
        previous["previous_acknowledged_at"] = alarm.acknowledged_at.isoformat()
    alarm.priority, alarm.status, alarm.raised_at = priority, AlarmStatus.RAISED, now
    alarm.acknowledged_by = alarm.acknowledged_at = alarm.escalated_at = None
    alarm.detail = (detail or {}) | previous
    return True


async def resolve_open(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    condition_keys: list[str],
    now: datetime,
    by: uuid.UUID | None = None,
) -> list[AlarmChange]:
    """Resolves the open alarms of these conditions (auto-resolution when `by` is None)."""
    if not condition_keys:
        return []
    alarms = await session.scalars(
        select(Alarm)
        .where(
            Alarm.patient_id == patient_id,
            Alarm.condition_key.in_(condition_keys),
            Alarm.status != AlarmStatus.RESOLVED,
        )
        .with_for_update()
    )
    changes = []
    for alarm in alarms:
        alarm.status, alarm.resolved_at, alarm.resolved_by = AlarmStatus.RESOLVED, now, by
        changes.append(alarm)
    await session.flush()
    return [change("resolved", alarm) for alarm in changes]


def audit_changes(session: AsyncSession, changes: list[AlarmChange], *, actor: Principal = SYSTEM) -> None:
    """Queues one audit entry per alarm change, and its outbox event (`alarm.changed`, for PCD-04).

    Every path that changes an alarm comes through here inside its transaction, so the event exists
    exactly when the change commits.
    """
    for item in changes:
        outbox.record(
            session,
            event_type=outbox.EventType.ALARM_CHANGED,
            alarm_id=item.alarm.id,
            change=item.change,
            patient_id=item.alarm.patient_id,
            status=item.alarm.status.value,
            priority=item.alarm.priority.value,
        )
        audit.record(
            session,
            actor=actor,
            action=f"alarm.{item.change}",
            resource_type="alarm",
            resource_id=item.alarm.id,
            patient_id=item.alarm.patient_id,
            detail={"condition": item.alarm.condition_key, "priority": item.alarm.priority.value},
        )


async def insert_ignoring_conflict(
    session: AsyncSession, table: Table, values: dict[str, Any], *, keys: list[str], where: Any = None
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on the unique index over `keys`; True when a row went in."""
    return bool(await insert_many_ignoring_conflict(session, table, [values], keys=keys, where=where))


async def insert_many_ignoring_conflict(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: list[str],
    where: Any = None,
) -> set[tuple[Any, ...]]:
    """`insert_ignoring_conflict` of many rows, a few statements in all; the primary keys that went in."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    primary_key = list(table.primary_key.columns)
    inserted: set[tuple[Any, ...]] = set()
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        statement: Any = (
            dialect.insert(table)
            .values(list(rows[start : start + _ROWS_PER_INSERT]))
            .on_conflict_do_nothing(index_elements=keys, index_where=where)
        )
        result = await session.execute(statement.returning(*primary_key))
        inserted.update(tuple(row) for row in result)
    return inserted


async def _insert_if_no_open(session: AsyncSession, values: dict[str, Any]) -> bool:
    table = Alarm.__table__
    assert isinstance(table, Table)
    return await insert_ignoring_conflict(
        session, table, values, keys=["patient_id", "condition_key"], where=OPEN_CONDITION
    )
