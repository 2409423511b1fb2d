"""Consultation durations per practitioner and encounter class (ambulatory, virtual)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinical.encounters import Encounter, EncounterClass, EncounterStatus
from clinical.organisation import Practitioner
from core.reports import Report, day_start, dialect_name, elapsed_seconds, median, rounded

# Inpatient stays are admissions, not consultations: their length is a different figure.
CONSULTATION_CLASSES = (EncounterClass.AMBULATORY, EncounterClass.VIRTUAL)


async def consultation_durations(*, session: AsyncSession, start: date, end: date) -> Report:
    """Finished consultations that started in the range: count, mean, median and longest, in minutes."""
    dialect = dialect_name(session)
    minutes = (elapsed_seconds(dialect, Encounter.started_at, Encounter.ended_at) / 60.0).label("minutes")
    keys = (Encounter.practitioner_id, Encounter.encounter_class)
    scope = (
        Encounter.status == EncounterStatus.FINISHED,
        Encounter.encounter_class.in_(CONSULTATION_CLASSES),
        Encounter.started_at >= day_start(start),
        Encounter.started_at < day_start(end),
        Encounter.ended_at.is_not(None),
    )
    figures: dict[tuple, list] = {}
    if dialect == "postgresql":
        statement = select(
            *keys,
            func.count(),
            func.avg(minutes),
            func.percentile_cont(0.5).within_group(minutes),
            func.max(minutes),
        )
        for practitioner_id, klass, count, mean, mid, longest in await session.execute(
            statement.where(*scope).group_by(*keys)
        ):
            figures[practitioner_id, klass] = [count, mean, mid, longest]
    else:  # SQLite has no percentile aggregate: the embedded mode's few rows are summarised here
        grouped: defaultdict[tuple, list[float]] = defaultdict(list)
        for practitioner_id, klass, value in await session.execute(select(*keys, minutes).where(*scope)):
            grouped[practitioner_id, klass].append(float(value))
        for key, values in grouped.items():
            figures[key] = [len(values), sum(values) / len(values), median(values), max(values)]
    names = {p.id: f"{p.family_name}, {p.given_name}" for p in await session.scalars(select(Practitioner))}
    rows = [
        [str(pid), names.get(pid, ""), str(klass), int(count), rounded(mean), rounded(mid), rounded(longest)]
        for (pid, klass), (count, mean, mid, longest) in sorted(
            figures.items(), key=lambda kv: (names.get(kv[0][0], ""), str(kv[0][1]))
        )
    ]
    return Report(
        name="consultation-durations",
        title="Consultation durations",
        start=start,
        end=end,
        columns=[
            "practitioner_id",
            "practitioner",
            "encounter_class",
            "consultations",
            "mean_minutes",
            "median_minutes",
            "longest_minutes",
        ],
        rows=rows,
        notes=["Finished ambulatory and virtual encounters that started in the range."],
    )
