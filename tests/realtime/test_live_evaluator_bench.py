"""What alarms on ingest cost: CPU per evaluated patient, for a full evaluation and a quiet check,
and a start-up's rounds (every patient evaluated in full) with the longest the loop waited meanwhile.

Run: `pytest tests/realtime/test_live_evaluator_bench.py -m bench -s`. Prints its figures; asserts
only that the work was done (figures depend on the machine and its load).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from clinical.patients import service as patients
from clinical.patients.schemas import PatientCreate
from core.bus import InProcessBus
from core.principal import SYSTEM
from core.sessions import transaction
from devices.ingest.attribution import Attribution
from devices.registry.models import DeviceBinding
from devices.vitals.models import VitalReading
from realtime.alarms.defaults import HR, RR, SPO2
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from tests.devices.ingest_helpers import (
    register_devices,
    unique_device_id,
)

# Benchmarks run for minutes: the suite's per-test guard would cut them short.
pytestmark = [pytest.mark.bench, pytest.mark.timeout(3600)]

CPU_PATIENTS = 500  # enough for a stable figure per patient
STARTUP_PATIENTS = 2000  # issue 5's benchmark: 2,000 bedside monitors on one ingest worker


async def _patients_with_devices(sessions, count: int) -> tuple[list[str], list]:
    device_ids = [unique_device_id("bench") for _ in range(count)]
    rows = await register_devices(sessions, device_ids)
    ids = []
    async with transaction(sessions) as session:
        for n in range(count):
            patient = await patients.create_patient(
                session=session,
                actor=SYSTEM,
                data=PatientCreate(
                    given_name="Bench", family_name=f"Patient{n}", birth_date=date(1960, 1, 1)
                ),
            )
            ids.append(patient.id)
        start = datetime.now(UTC) - timedelta(hours=1)
        await session.execute(
            insert(DeviceBinding),
            [
                {"device_uuid": rows[d], "patient_id": p, "start_at": start}
                for d, p in zip(device_ids, ids, strict=True)
            ],
        )
    return device_ids, ids


async def _rounds(
    evaluator: LiveAlarmEvaluator, patient_ids, values: dict[str, float], at: datetime
) -> float:
    """Hands the evaluator one reading set per patient and returns the CPU seconds it took to evaluate."""
    readings = {
        (f"d{n}", Attribution(p, None, None)): [(m, v, "", at) for m, v in values.items()]
        for n, p in enumerate(patient_ids)
    }
    before = evaluator.stats.cpu_s
    done = evaluator.stats.evaluated + evaluator.stats.quiet + len(patient_ids)
    evaluator.observe(readings, [])
    async with asyncio.timeout(600):
        while evaluator.stats.evaluated + evaluator.stats.quiet < done:
            await evaluator.round_done.wait()
    return evaluator.stats.cpu_s - before


async def test_cpu_per_evaluated_patient(settings, sessions) -> None:
    _devices, ids = await _patients_with_devices(sessions, CPU_PATIENTS)
    now = datetime.now(UTC)
    normal = {HR: 72.0, RR: 16.0, SPO2: 97.0}
    async with transaction(sessions) as session:
        await session.execute(
            insert(VitalReading),
            [
                {"time": now, "device_id": f"d{n}", "patient_id": p, "metric": m, "value": v, "unit": ""}
                for n, p in enumerate(ids)
                for m, v in normal.items()
            ],
        )
    evaluator = LiveAlarmEvaluator(
        sessions=sessions, bus=InProcessBus(), tuning=LiveTuning(min_round_interval_s=0)
    )
    task = asyncio.create_task(evaluator.run())
    try:
        full_s = await _rounds(evaluator, ids, normal, now)
        quiet_s = await _rounds(evaluator, ids, {HR: 75.0, RR: 17.0, SPO2: 98.0}, now + timedelta(seconds=1))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    print(
        f"\nlive evaluator, {CPU_PATIENTS} patients: full evaluation {1000 * full_s / CPU_PATIENTS:.2f} ms CPU each, "
        f"quiet check {1000 * quiet_s / CPU_PATIENTS:.3f} ms CPU each; stats {evaluator.stats}"
    )
    assert evaluator.stats.evaluated == CPU_PATIENTS and evaluator.stats.quiet == CPU_PATIENTS


class LoopLag:
    """The longest the event loop kept a 1 ms ticker waiting beyond its due time."""

    def __init__(self) -> None:
        self.worst_s = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.001
            await asyncio.sleep(0.001)
            self.worst_s = max(self.worst_s, loop.time() - due)

    def __enter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._tick())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def test_startup_rounds_of_every_patient_in_full(settings, sessions) -> None:
    _devices, ids = await _patients_with_devices(sessions, STARTUP_PATIENTS)
    now = datetime.now(UTC)
    normal = {HR: 72.0, RR: 16.0, SPO2: 97.0}
    async with transaction(sessions) as session:
        await session.execute(
            insert(VitalReading),
            [
                {"time": now, "device_id": f"s{n}", "patient_id": p, "metric": m, "value": v, "unit": ""}
                for n, p in enumerate(ids)
                for m, v in normal.items()
            ],
        )
    evaluator = LiveAlarmEvaluator(sessions=sessions, bus=InProcessBus())
    task = asyncio.create_task(evaluator.run())
    loop = asyncio.get_running_loop()
    try:
        with LoopLag() as lag:
            started = loop.time()
            cpu_s = await _rounds(evaluator, ids, normal, now)
            wall_s = loop.time() - started
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    print(
        f"\nstart-up, {STARTUP_PATIENTS} patients in full: {cpu_s:.2f} s CPU, {wall_s:.2f} s in "
        f"{evaluator.stats.rounds} rounds of up to {evaluator.tuning.max_patients_per_round}; "
        f"the loop waited at most {1000 * lag.worst_s:.1f} ms"
    )
    assert evaluator.stats.evaluated == STARTUP_PATIENTS
