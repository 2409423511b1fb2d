"""What alarms on ingest cost: CPU per evaluated patient, and ingest throughput with and without them.

Run: `pytest tests/realtime/test_live_evaluator_bench.py -m bench -s`. Prints its figures; asserts
only that the work was done (figures depend on the machine and its load).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from clinical.patients import service as patients
from clinical.patients.schemas import PatientCreate
from core.bus import InProcessBus
from core.db import create_engine
from core.identity.principal import SYSTEM
from core.sessions import create_sessionmaker, transaction
from devices.ingest.attribution import Attribution
from devices.ingest.worker import IngestWorker
from devices.registry.models import DeviceBinding
from devices.vitals.models import VitalReading
from realtime.alarms.defaults import HR, RR, SPO2
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from tests.devices.ingest_helpers import (
    Publisher,
    count_readings,
    register_devices,
    stream,
    unique_device_id,
    wait_until,
    worker_config,
)

pytestmark = pytest.mark.bench

DEVICES = 2000
CPU_PATIENTS = 500  # enough for a stable figure per patient
MESSAGES_PER_DEVICE = 10  # ten seconds of 2,000 monitors at 1 Hz, three readings each


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
    evaluator.committed(readings, [])
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


async def _ingest_seconds(settings, mqtt_url, device_ids, *, with_alarms: bool) -> tuple[float, float, int]:
    """Wall and CPU seconds to store MESSAGES_PER_DEVICE messages of every device, published at once."""
    config = worker_config(settings.database_url, mqtt_url, flush_interval_s=0.2)
    engine = create_engine(config.database_url)
    sessions = create_sessionmaker(engine)
    bus = InProcessBus()
    evaluator = LiveAlarmEvaluator(sessions=sessions, bus=bus) if with_alarms else None
    worker = IngestWorker(config=config, engine=engine, sessions=sessions, bus=bus, after_commit=evaluator)
    task = asyncio.create_task(worker.run())
    try:
        await worker.ready.wait()
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=MESSAGES_PER_DEVICE + 5)
        items = list(stream(device_ids, messages_per_device=MESSAGES_PER_DEVICE, start=start))
        before = await count_readings(sessions, device_ids)
        wall, cpu = time.perf_counter(), time.process_time()
        async with Publisher(mqtt_url) as publisher:
            await asyncio.gather(
                *(publisher.publish_all(items[i : i + 2000]) for i in range(0, len(items), 2000))
            )
        expected = before + len(items) * 3
        await wait_until(
            lambda: _at_least(sessions, device_ids, expected), what="every reading stored", guard_s=600
        )
        elapsed, used = time.perf_counter() - wall, time.process_time() - cpu
        evaluated = evaluator.stats.evaluated + evaluator.stats.quiet if evaluator else 0
        return elapsed, used, evaluated
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await engine.dispose()


async def _at_least(sessions, device_ids, expected: int) -> bool:
    return await count_readings(sessions, device_ids) >= expected


async def test_ingest_throughput_with_and_without_alarms(settings, sessions, mqtt_url) -> None:
    device_ids, _ids = await _patients_with_devices(sessions, DEVICES)
    readings = DEVICES * MESSAGES_PER_DEVICE * 3
    results = {}
    for with_alarms in (False, True, False, True):
        results.setdefault(with_alarms, []).append(
            await _ingest_seconds(settings, mqtt_url, device_ids, with_alarms=with_alarms)
        )
    for with_alarms, runs in results.items():
        best = min(runs)
        print(
            f"\ningest {'with' if with_alarms else 'without'} alarms: {readings / best[0]:,.0f} readings/s, "
            f"{best[1]:.1f} s CPU for {readings} readings, {best[2]} patient evaluations (runs: "
            + ", ".join(f"{r[0]:.1f} s" for r in runs)
            + ")"
        )
