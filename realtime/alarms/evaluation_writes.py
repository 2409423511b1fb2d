"""Storing what a round's decisions changed: only the difference, a few statements for all patients.

Pending conditions that ended are deleted and new ones inserted; changed open alarms (read
locked) are flushed as updates; raised alarms are inserted in bulk. An insert can still meet an
alarm another worker raised for the same condition since the round read its state (the open-
condition index refuses the second): that alarm is then raised again instead, as
`store.raise_alarm` does, and the round's change for it replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, delete, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from realtime.alarms import store
from realtime.alarms.decisions import PatientWork
from realtime.alarms.models import Alarm, AlarmCondition


async def write_changes(session: AsyncSession, works: Sequence[PatientWork], *, now: datetime) -> None:
    """Stores the conditions and alarms these patients' decisions changed."""
    await _write_conditions(session, works)
    # Resolutions first: an alarm raised again for the same condition must not meet the old one open.
    await session.flush()
    await _insert_raised(session, works, now=now)


async def _write_conditions(session: AsyncSession, works: Sequence[PatientWork]) -> None:
    ended = []
    started = []
    for work in works:
        stored, now_pending = work.stored_conditions, work.conditions
        ended += [(work.patient_id, k) for k, t in stored.items() if now_pending.get(k) != t]
        started += [
            {"patient_id": work.patient_id, "condition_key": k, "first_seen_at": t}
            for k, t in now_pending.items()
            if stored.get(k) != t
        ]
    c = AlarmCondition
    if ended:
        await session.execute(delete(c).where(tuple_(c.patient_id, c.condition_key).in_(ended)))
    if started:
        table = c.__table__
        assert isinstance(table, Table)
        # Of two workers starting the same condition at once, the first's start stands.
        started.sort(key=lambda row: (row["patient_id"], row["condition_key"]))
        await store.insert_many_ignoring_conflict(
            session, table, started, keys=["patient_id", "condition_key"]
        )


async def _insert_raised(session: AsyncSession, works: Sequence[PatientWork], *, now: datetime) -> None:
    raised = [(work, alarm) for work in works for alarm in work.raised]
    if not raised:
        return
    # In one order across workers, so that two inserting the same conditions cannot deadlock.
    raised.sort(key=lambda pair: (pair[1].patient_id, pair[1].condition_key))
    table = Alarm.__table__
    assert isinstance(table, Table)
    columns = [column.key for column in table.columns]
    rows = [{column: getattr(alarm, column) for column in columns} for _, alarm in raised]
    inserted = await store.insert_many_ignoring_conflict(
        session, table, rows, keys=["patient_id", "condition_key"], where=store.OPEN_CONDITION
    )
    for work, alarm in raised:
        if (alarm.id,) not in inserted:
            await _raise_existing(session, work, alarm, now=now)


async def _raise_existing(session: AsyncSession, work: PatientWork, alarm: Alarm, *, now: datetime) -> None:
    """Another worker's alarm holds the condition: raise that one again with what we saw."""
    existing = await store.open_alarm(session, patient_id=alarm.patient_id, condition_key=alarm.condition_key)
    replacement = None
    if existing is not None and store.raise_again(
        existing, priority=alarm.priority, now=now, value=alarm.value, score=alarm.score, detail=alarm.detail
    ):
        replacement = store.change("updated", existing)
    await session.flush()
    work.replace_changes_of(alarm.id, replacement)
