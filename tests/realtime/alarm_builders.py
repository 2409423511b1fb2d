"""Builders of the alarm tests: clients from an address of their own, stored readings, reading values."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.resources import Resources
from core.sessions import transaction
from devices.protocol import Reading, metric_spec
from devices.vitals.models import VitalReading
from realtime.alarms import engine
from realtime.alarms.decisions import DEFAULT_POLICY
from realtime.alarms.engine import ReadingLike
from realtime.alarms.live_evaluator import LiveAlarmEvaluator
from realtime.alarms.models import AlarmPriority
from realtime.alarms.policy import DEFAULT_VALUE_HOLD_S, AlarmPolicy, policy_from_settings
from realtime.alarms.publishing import publish_changes
from realtime.alarms.schemas import AlarmChange

# For tests of the plumbing (transport, rounds, outages), not of the policy: NEWS2 raises as soon
# as its band is seen, an alarm resolves as soon as its condition is gone, and readings a test
# published a minute ago still count as current.
AT_ONCE = AlarmPolicy(
    news2_delay_s={AlarmPriority.HIGH: 0, AlarmPriority.MEDIUM: 0},
    value_hold_s=dict.fromkeys(DEFAULT_VALUE_HOLD_S, 3600.0),
    threshold_hysteresis_s=0,
    news2_hysteresis_s=0,
    latching=frozenset(),
)


@dataclass(frozen=True, slots=True)
class R:
    """A reading as the engine takes it."""

    metric: str
    value: float
    time: datetime


@asynccontextmanager
async def running(evaluator: LiveAlarmEvaluator) -> AsyncIterator[LiveAlarmEvaluator]:
    """`evaluator` running in a task of its own for the block, then cancelled."""
    task = asyncio.create_task(evaluator.run())
    try:
        yield evaluator
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def client_for(application: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client against `application` from an address of its own (login limits count per address)."""
    address = f"203.0.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
    transport = httpx.ASGITransport(app=application, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://ownat.test") as http:
        yield http


async def store_readings(
    sessions: async_sessionmaker[AsyncSession],
    patient_id: uuid.UUID,
    readings: list[R],
    device_id: str | None = None,
) -> str:
    """Stores readings for the patient from one device (a new one unless given); returns the device id."""
    device = device_id or f"t-alarm-{secrets.token_hex(5)}"
    rows = [
        {
            "time": r.time,
            "device_id": device,
            "patient_id": patient_id,
            "metric": r.metric,
            "value": r.value,
            "unit": metric_spec(r.metric).unit,
        }
        for r in readings
    ]
    async with transaction(sessions) as session:
        await session.execute(insert(VitalReading), rows)
    return device


async def evaluation_of(
    session: AsyncSession,
    *,
    patient_id: uuid.UUID,
    readings: Sequence[ReadingLike],
    now: datetime,
    bed_id: uuid.UUID | None = None,
    ward_id: uuid.UUID | None = None,
    policy: AlarmPolicy = DEFAULT_POLICY,
) -> engine.Evaluation:
    """One patient's evaluation through the engine's entry point, as the live evaluator calls it."""
    batch = [engine.PatientReadings(patient_id, readings, bed_id, ward_id)]
    evaluation = (await engine.evaluate_patients(session, batch, now=now, policy=policy)).get(patient_id)
    assert evaluation is not None, "no such patient"
    return evaluation


async def evaluate_one(session: AsyncSession, **patient_and_readings: Any) -> list[AlarmChange]:
    """The alarm changes of one patient's evaluation (see `evaluation_of`)."""
    return (await evaluation_of(session, **patient_and_readings)).changes


async def evaluate_vitals_message(
    resources: Resources, message: dict[str, Any], *, now: datetime
) -> list[AlarmChange]:
    """Evaluates one `vitals.patient.*` bus message (the ingest worker's shape), publishes the changes."""
    patient_id = uuid.UUID(message["patient_id"]) if message.get("patient_id") else None
    if patient_id is None:  # an unattributed reading alarms nobody
        return []
    async with transaction(resources.sessions) as session:
        changes = await evaluate_one(
            session,
            patient_id=patient_id,
            readings=[Reading.model_validate(item) for item in message.get("readings", [])],
            now=now,
            bed_id=uuid.UUID(message["bed_id"]) if message.get("bed_id") else None,
            ward_id=uuid.UUID(message["ward_id"]) if message.get("ward_id") else None,
            policy=policy_from_settings(resources.settings),
        )
    await publish_changes(resources.bus, changes)
    return changes
