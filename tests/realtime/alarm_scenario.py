"""A scripted ward for comparing evaluations: varied patients, the same readings, step by step.

`build_ward` registers one patient per case (age, limit override, nurse's observation, bed);
`play` stores each step's readings and evaluates every patient with the given strategy, and
returns each step's alarm changes by case, without what differs between two wards (ids).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.sessions import transaction
from realtime.alarms.defaults import HR, RR, SBP, SPO2, TEMP
from realtime.alarms.models import (
    Alarm,
    AlarmCondition,
    AlarmPriority,
    AlarmStatus,
    AlarmThreshold,
    News2Observation,
)
from realtime.alarms.news2 import Consciousness
from realtime.alarms.schemas import AlarmChange
from tests.clinical.builders import admit, create_patient, create_ward_with_beds
from tests.realtime.alarm_builders import R, store_readings

WELL = {RR: 16, SPO2: 97, SBP: 120, HR: 70, TEMP: 37.0}


@dataclass(frozen=True, slots=True)
class Case:
    """One patient: who they are, and their readings by step (second -> [(second, metric, value)])."""

    birth_days_ago: int = 365 * 45
    override: tuple[float | None, float | None, int] | None = None  # heart rate (low, high, delay_s)
    observation: tuple[Consciousness, bool] | None = None  # (ACVPU, on oxygen)
    in_bed: bool = False
    steps: dict[int, list[tuple[int, str, float]]] | None = None


def vitals(second: int, values: dict[str, float]) -> list[tuple[int, str, float]]:
    return [(second, metric, value) for metric, value in values.items()]


CASES: dict[str, Case] = {
    # High heart rate: delay, raise once, back in range starts the hysteresis.
    "hr-high": Case(
        steps={
            0: [(0, HR, 150)],
            5: [(5, HR, 152)],
            10: [(10, HR, 155)],
            12: [(12, HR, 156)],
            20: [(20, HR, 80)],
        }
    ),
    # Low SpO2 waits 20 s (raised on the tick), then starts ending.
    "spo2-low": Case(
        steps={0: [(0, SPO2, 85)], 10: [(10, SPO2, 84)], 16: [(16, SPO2, 84)], 30: [(30, SPO2, 97)]}
    ),
    # A condition that clears before its delay starts again from zero.
    "cleared-early": Case(
        steps={
            0: [(0, HR, 150)],
            5: [(5, HR, 80)],
            12: [(12, HR, 150)],
            20: [(20, HR, 150)],
            30: [(30, HR, 150)],
        }
    ),
    # A clinician's limits with no delay: high, then low (resolving high), then in range.
    "override": Case(override=(40, 70, 0), steps={0: [(0, HR, 75)], 5: [(5, HR, 30)], 10: [(10, HR, 60)]}),
    # An infant's limits: a heart rate and temperature an adult's would accept.
    "infant": Case(
        birth_days_ago=100, steps={0: [(0, HR, 85), (0, TEMP, 38.2)], 10: [(10, HR, 84), (10, TEMP, 38.3)]}
    ),
    # NEWS2 7 (high) on oxygen, then well before the NEWS2 delay: nothing raised.
    "news2-high": Case(
        observation=(Consciousness.ALERT, True),
        steps={0: vitals(0, {RR: 22, SPO2: 94, SBP: 105, HR: 95, TEMP: 37.0}), 20: vitals(20, WELL)},
    ),
    # NEWS2 5 (medium), acknowledged, then 7: raised again at high priority.
    "news2-worse": Case(
        observation=(Consciousness.ALERT, False),
        steps={
            0: vitals(0, {RR: 22, SPO2: 95, SBP: 105, HR: 95, TEMP: 37.0}),
            10: [(10, RR, 26), (10, SBP, 95)],
        },
    ),
    # No observation: a single red parameter, gone before any delay: nothing raised.
    "news2-incomplete": Case(steps={0: [(0, RR, 7)], 10: [(10, RR, 16)]}),
    # Several readings in one evaluation: a one-second gap back in range, then raised.
    "one-batch": Case(
        steps={0: [(0, HR, 150)], 12: [(10, HR, 151), (11, HR, 70), (12, HR, 150)], 30: [(30, HR, 150)]}
    ),
    # In a bed (found from the admission); low pressure, then high: one ends, the other raises.
    "in-bed": Case(
        in_bed=True,
        steps={0: [(0, SBP, 80)], 10: [(10, SBP, 85)], 12: [(12, SBP, 230)], 30: [(30, SBP, 231)]},
    ),
}
STEPS = sorted({second for case in CASES.values() for second in (case.steps or {})})


def _key(metric: str, side: str) -> str:
    return f"threshold:{metric}:{side}"


# What the rules say happens at each step, by case: (change, condition). Every step's vitals are
# also stored, so NEWS2 sees them; no NEWS2 band here but news2-worse's holds for its delay.
EXPECTED: dict[int, dict[str, list[tuple[str, str]]]] = {
    # No delay: a clinician's override, an infant's temperature, a cuff pressure raise at once.
    0: {
        "override": [("raised", _key(HR, "high"))],
        "infant": [("raised", _key(TEMP, "high"))],
        "in-bed": [("raised", _key(SBP, "low"))],
    },
    5: {"override": [("raised", _key(HR, "low"))]},
    10: {"hr-high": [("raised", _key(HR, "high"))], "infant": [("raised", _key(HR, "low"))]},
    # One reading back in range for a second is a gap the condition survives.
    12: {"one-batch": [("raised", _key(HR, "high"))], "in-bed": [("raised", _key(SBP, "high"))]},
    16: {},  # SpO2 low for 16 s: under its 20 s delay
    # SpO2 waits 20 s; the tick raises it with no new reading (84 % at 16 s is still current).
    20: {"spo2-low": [("raised", _key(SPO2, "low"))]},
    # NEWS2 5 then 7 from 10 s: raised high once the band has held for the high delay (30 s).
    # Alarms whose values came back in range are still within their 30 s hysteresis.
    30: {"cleared-early": [("raised", _key(HR, "high"))], "news2-worse": [("raised", "news2")]},
}


def outline(steps: list[dict[str, list[tuple[Any, ...]]]]) -> dict[int, dict[str, list[tuple[str, str]]]]:
    """(change, condition) by case of each step in which something changed, as in EXPECTED."""
    return {
        step: {label: [(c[0], c[1]) for c in changes] for label, changes in seen.items() if changes}
        for step, seen in zip(STEPS, steps, strict=True)
    }


# After this step a nurse acknowledges every open alarm (both wards alike).
ACKNOWLEDGE_AFTER = 0


@dataclass(frozen=True, slots=True)
class Ward:
    patients: dict[str, uuid.UUID]
    bed_id: uuid.UUID
    ward_id: uuid.UUID
    start: datetime


async def build_ward(sessions: async_sessionmaker[AsyncSession], start: datetime) -> Ward:
    ward, (bed, _) = await create_ward_with_beds(sessions)
    patients: dict[str, uuid.UUID] = {}
    for label, case in CASES.items():
        birth = (start - timedelta(days=case.birth_days_ago)).date()
        patient = await create_patient(sessions, birth_date=date(birth.year, birth.month, birth.day))
        patients[label] = patient.id
        if case.in_bed:
            await admit(sessions, patient_id=patient.id, bed_id=bed.id, start_at=start - timedelta(hours=1))
        async with transaction(sessions) as session:
            if case.override:
                low, high, delay_s = case.override
                session.add(
                    AlarmThreshold(
                        patient_id=patient.id,
                        metric=HR,
                        low=low,
                        high=high,
                        priority=AlarmPriority.MEDIUM,
                        delay_s=delay_s,
                    )
                )
            if case.observation:
                level, oxygen = case.observation
                session.add(
                    News2Observation(
                        patient_id=patient.id,
                        consciousness=level,
                        on_oxygen=oxygen,
                        spo2_scale=1,
                        recorded_at=start - timedelta(minutes=5),
                    )
                )
    return Ward(patients, bed.id, ward.id, start)


# Evaluates {patient: readings} at `now` and returns each patient's changes.
Strategy = Callable[[dict[uuid.UUID, list[R]], datetime], Awaitable[dict[uuid.UUID, list[AlarmChange]]]]


async def play(sessions: async_sessionmaker[AsyncSession], ward: Ward, evaluate: Strategy) -> list[dict]:
    """Each step's changes by case, comparable between wards."""
    device = f"t-scenario-{ward.ward_id.hex[:8]}"
    seen = []
    for step in STEPS:
        at = lambda second: ward.start + timedelta(seconds=second)  # noqa: E731
        readings = {
            patient_id: [
                R(metric, value, at(second))
                for second, metric, value in (CASES[label].steps or {}).get(step, [])
            ]
            for label, patient_id in ward.patients.items()
        }
        for patient_id, batch in readings.items():
            if batch:
                await store_readings(sessions, patient_id, batch, f"{device}-{patient_id.hex[:6]}")
        changes = await evaluate(readings, at(step))
        seen.append(
            {
                label: [comparable(c, ward) for c in changes.get(pid, [])]
                for label, pid in ward.patients.items()
            }
        )
        if step == ACKNOWLEDGE_AFTER:
            await acknowledge_all(sessions, ward, at(step + 1))
    return seen


async def acknowledge_all(sessions: async_sessionmaker[AsyncSession], ward: Ward, at: datetime) -> None:
    async with transaction(sessions) as session:
        alarms = await session.scalars(
            select(Alarm).where(
                Alarm.patient_id.in_(ward.patients.values()), Alarm.status == AlarmStatus.RAISED
            )
        )
        for alarm in alarms:
            alarm.status, alarm.acknowledged_at = AlarmStatus.ACKNOWLEDGED, at


def comparable(change: AlarmChange, ward: Ward) -> tuple[Any, ...]:
    """A change without its ids; the bed and ward as whether they are this ward's."""
    a = change.alarm
    return (
        change.change,
        a.condition_key,
        a.kind,
        a.priority,
        a.status,
        a.value,
        a.score,
        a.detail,
        (a.bed_id == ward.bed_id, a.ward_id == ward.ward_id),
        a.raised_at - ward.start,
        a.acknowledged_at - ward.start if a.acknowledged_at else None,
        a.resolved_at - ward.start if a.resolved_at else None,
    )


async def stored_state(sessions: async_sessionmaker[AsyncSession], ward: Ward) -> dict[str, Any]:
    """Each case's alarms and pending conditions as stored, comparable between wards."""
    state: dict[str, Any] = {}
    async with sessions() as session:
        for label, patient_id in ward.patients.items():
            alarms = await session.scalars(select(Alarm).where(Alarm.patient_id == patient_id))
            conditions = await session.execute(
                select(AlarmCondition.condition_key, AlarmCondition.first_seen_at).where(
                    AlarmCondition.patient_id == patient_id
                )
            )
            state[label] = (
                sorted(
                    (a.condition_key, a.status, a.priority, a.value, a.score, a.raised_at - ward.start)
                    for a in alarms
                ),
                sorted((key, first_seen - ward.start) for key, first_seen in conditions),
            )
    return state
