"""A clinician's new limit is the one the live evaluator's next crossing is judged by.

The limit is set over the real API (the request commits, as a clinician's would) while an evaluator
runs on this run's PostgreSQL; the evaluator has just evaluated the patient with the old limit, so
anything it kept of that evaluation (its quiet cache, any cache of inputs) would be stale.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from core.bus import InProcessBus
from core.db import utc_now
from core.principal import Role
from devices.ingest.attribution import Attribution
from realtime.alarms.defaults import HR
from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveStats, LiveTuning
from realtime.alarms.models import Alarm, AlarmStatus
from tests.builders import signed_in
from tests.clinical.builders import create_patient
from tests.devices.ingest_helpers import GUARD_S
from tests.realtime.alarm_builders import client_for, running

API = "/api/v1"


@dataclass(frozen=True, slots=True)
class Ward:
    """A patient, a running evaluator, a signed-in clinician and the patient's alarms channel."""

    patient_id: uuid.UUID
    evaluator: LiveAlarmEvaluator
    http: httpx.AsyncClient
    clinician: dict[str, str]
    alarms: Any


@asynccontextmanager
async def ward(app, sessions) -> AsyncIterator[Ward]:
    patient = await create_patient(sessions)
    bus = InProcessBus()
    evaluator = LiveAlarmEvaluator(sessions=sessions, bus=bus, tuning=LiveTuning(min_round_interval_s=0.05))
    async with (
        client_for(app) as http,
        running(evaluator),
        bus.subscribe(channels=[f"alarms.patient.{patient.id}"]) as alarms,
    ):
        _, clinician = await signed_in(http, sessions, Role.CLINICIAN)
        yield Ward(patient.id, evaluator, http, clinician, alarms)


async def set_hr_high(
    http: httpx.AsyncClient, headers: dict[str, str], patient_id: uuid.UUID, high: float
) -> None:
    """The clinician's heart-rate ceiling, raising without delay, through the API."""
    body = {"thresholds": [{"metric": "hr", "low": 40, "high": high, "priority": "high", "delay_s": 0}]}
    response = await http.put(f"{API}/patients/{patient_id}/alarm-thresholds", json=body, headers=headers)
    assert response.status_code == 200, response.text


def heart_rate(evaluator: LiveAlarmEvaluator, patient_id: uuid.UUID, value: float) -> None:
    """A reading handed over as the ingest worker hands it over."""
    at = utc_now() - timedelta(milliseconds=100)
    evaluator.observe({("t-dev", Attribution(patient_id, None, None)): [(HR, value, "", at)]}, [])


async def evaluated(evaluator: LiveAlarmEvaluator, count: int) -> LiveStats:
    async with asyncio.timeout(GUARD_S):
        while evaluator.stats.evaluated < count:
            await evaluator.round_done.wait()
    return evaluator.stats


async def next_heart_rate_alarm(subscription) -> dict:
    async with asyncio.timeout(GUARD_S):
        async for message in subscription:
            if message.data["alarm"]["code"] == HR:
                return message.data
    raise AssertionError("the subscription ended")


async def open_heart_rate_alarms(sessions, patient_id: uuid.UUID) -> list[float | None]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Alarm).where(
                Alarm.patient_id == patient_id, Alarm.code == HR, Alarm.status != AlarmStatus.RESOLVED
            )
        )
        return [alarm.value for alarm in rows]


async def test_a_tightened_limit_raises_on_the_next_reading_past_it(app, sessions) -> None:
    async with ward(app, sessions) as w:
        await set_hr_high(w.http, w.clinician, w.patient_id, 130)
        heart_rate(w.evaluator, w.patient_id, 120)
        await evaluated(w.evaluator, 1)
        # 115 is past the new ceiling and within the old one the evaluator has just judged by.
        await set_hr_high(w.http, w.clinician, w.patient_id, 110)
        heart_rate(w.evaluator, w.patient_id, 115)
        raised = await next_heart_rate_alarm(w.alarms)
    assert (raised["change"], raised["alarm"]["value"], raised["alarm"]["priority"]) == (
        "raised",
        115,
        "high",
    )


async def test_a_loosened_limit_is_not_crossed_by_a_reading_past_the_old_one(app, sessions) -> None:
    async with ward(app, sessions) as w:
        await set_hr_high(w.http, w.clinician, w.patient_id, 130)
        heart_rate(w.evaluator, w.patient_id, 120)
        await evaluated(w.evaluator, 1)
        await set_hr_high(w.http, w.clinician, w.patient_id, 160)
        # Past the old ceiling, so never quiet: evaluated in full, and judged by the new one.
        heart_rate(w.evaluator, w.patient_id, 140)
        await evaluated(w.evaluator, 2)
        assert await open_heart_rate_alarms(sessions, w.patient_id) == []
        heart_rate(w.evaluator, w.patient_id, 165)
        raised = await next_heart_rate_alarm(w.alarms)
    # The first heart-rate alarm published is the one past the new ceiling: 140 raised none.
    assert (raised["change"], raised["alarm"]["value"]) == ("raised", 165)
    assert await open_heart_rate_alarms(sessions, w.patient_id) == [165]
