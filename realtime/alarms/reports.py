"""Alarm reports: alarms per ward and priority, and how long they waited for acknowledgement."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.organisation import Ward
from core.reports import Report, day_start, dialect_name, elapsed_seconds, median, rounded
from realtime.alarms.models import Alarm, AlarmPriority

PRIORITY_ORDER = {AlarmPriority.HIGH: 0, AlarmPriority.MEDIUM: 1, AlarmPriority.LOW: 2}


async def alarms_by_ward(*, session: AsyncSession, start: date, end: date) -> Report:
    """Alarms raised in the range per ward and priority: counts, escalations, time to acknowledge."""
    dialect = dialect_name(session)
    wait_s = elapsed_seconds(dialect, Alarm.raised_at, Alarm.acknowledged_at).label("wait_s")
    keys = (Alarm.ward_id, Alarm.priority)
    scope = (Alarm.raised_at >= day_start(start), Alarm.raised_at < day_start(end))
    acknowledged = Alarm.acknowledged_at.is_not(None)
    counts = (
        select(
            *keys,
            func.count(),
            func.sum(case((acknowledged, 1), else_=0)),
            func.sum(case((Alarm.escalated_at.is_not(None), 1), else_=0)),
            func.avg(case((acknowledged, wait_s))),
        )
        .where(*scope)
        .group_by(*keys)
    )
    figures = {
        (ward, priority): [int(n), int(acked or 0), int(escalated or 0), mean]
        for ward, priority, n, acked, escalated, mean in await session.execute(counts)
    }
    medians: dict[tuple, float | None] = {}
    if dialect == "postgresql":
        statement = select(*keys, func.percentile_cont(0.5).within_group(wait_s)).where(*scope, acknowledged)
        medians = {(w, p): m for w, p, m in await session.execute(statement.group_by(*keys))}
    else:  # no percentile aggregate in SQLite: the embedded mode's few alarms are summarised here
        waits: defaultdict[tuple, list[float]] = defaultdict(list)
        for ward, priority, value in await session.execute(select(*keys, wait_s).where(*scope, acknowledged)):
            waits[ward, priority].append(float(value))
        medians = {key: median(values) for key, values in waits.items()}
    names = {w.id: w.name for w in await session.scalars(select(Ward))}
    rows = [
        [
            names.get(ward, "no ward"),
            str(priority),
            n,
            acked,
            n - acked,
            escalated,
            rounded(mean),
            rounded(medians.get((ward, priority))),
        ]
        for (ward, priority), (n, acked, escalated, mean) in sorted(
            figures.items(), key=lambda kv: (names.get(kv[0][0], "~"), PRIORITY_ORDER.get(kv[0][1], 9))
        )
    ]
    return Report(
        name="alarms-by-ward",
        title="Alarms per ward and time to acknowledge",
        start=start,
        end=end,
        columns=[
            "ward",
            "priority",
            "alarms",
            "acknowledged",
            "never_acknowledged",
            "escalated",
            "mean_seconds_to_acknowledge",
            "median_seconds_to_acknowledge",
        ],
        rows=rows,
        notes=[
            "Alarms raised in the range; never_acknowledged includes alarms resolved without acknowledgement."
        ],
    )
