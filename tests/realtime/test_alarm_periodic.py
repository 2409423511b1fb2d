"""Periodic checks (silent devices, escalation) with the limits from the settings, and their loop."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from sqlalchemy import select

from core.db import utc_now
from core.resources import Resources
from core.sessions import transaction
from realtime.alarms import store
from realtime.alarms.jobs import run_periodic_checks, run_periodic_checks_forever
from realtime.alarms.models import Alarm, AlarmKind, AlarmPriority
from tests.devices.ingest_helpers import GUARD_S, bind, new_patient, register_devices, unique_device_id


def with_settings(resources: Resources, **changes: object) -> Resources:
    """The same connections, other settings."""
    return dataclasses.replace(resources, settings=resources.settings.model_copy(update=changes))


async def silent_device_patient(resources: Resources, *, bound_minutes_ago: int):
    device = unique_device_id("quiet")
    rows = await register_devices(resources.sessions, [device])
    patient_id = await new_patient(resources.sessions)
    await bind(resources.sessions, rows[device], patient_id, utc_now() - timedelta(minutes=bound_minutes_ago))
    return device, patient_id


async def test_the_silent_limit_comes_from_the_settings(resources: Resources) -> None:
    device, patient_id = await silent_device_patient(resources, bound_minutes_ago=10)
    patient_changes = lambda changes: [c for c in changes if c.alarm.patient_id == patient_id]  # noqa: E731
    # Silent for 10 minutes is not silent when the limit is an hour...
    patient = await run_periodic_checks(with_settings(resources, alarm_silent_after_s=3600), now=utc_now())
    assert patient_changes(patient) == []
    # ... and is with the default minute.
    raised = patient_changes(await run_periodic_checks(resources, now=utc_now()))
    assert [(c.change, c.alarm.code, c.alarm.device_id) for c in raised] == [("raised", "silent", device)]


async def test_escalation_delay_comes_from_the_settings(resources: Resources) -> None:
    patient_id = await new_patient(resources.sessions)
    async with transaction(resources.sessions) as session:
        raised = await store.raise_alarm(
            session,
            patient_id=patient_id,
            condition_key="news2",
            kind=AlarmKind.NEWS2,
            code="news2",
            priority=AlarmPriority.HIGH,
            now=utc_now() - timedelta(seconds=90),
        )
    assert raised is not None
    mine = lambda changes: [c for c in changes if c.alarm.id == raised.alarm.id]  # noqa: E731
    assert mine(await run_periodic_checks(resources, now=utc_now())) == []  # 90 s < the default 120 s
    later = await run_periodic_checks(with_settings(resources, alarm_escalate_after_s=60), now=utc_now())
    assert [c.change for c in mine(later)] == ["escalated"]


async def test_the_loop_publishes_what_the_checks_find(resources: Resources) -> None:
    _device, patient_id = await silent_device_patient(resources, bound_minutes_ago=5)
    fast = with_settings(resources, alarm_check_interval_s=0.2)
    async with resources.bus.subscribe(channels=[f"alarms.patient.{patient_id}"]) as alarms:
        loop = asyncio.create_task(run_periodic_checks_forever(fast))
        try:
            async with asyncio.timeout(GUARD_S):
                message = await anext(aiter(alarms))
        finally:
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)
    assert (message.data["change"], message.data["alarm"]["code"]) == ("raised", "silent")
    async with resources.sessions() as session:
        kinds = (await session.scalars(select(Alarm.kind).where(Alarm.patient_id == patient_id))).all()
    assert kinds == [AlarmKind.TECHNICAL]
