"""The alarm policy as the nurse sees it on the ward dashboard, fed by the real path (device ->
Mosquitto -> ingest worker and its alarm evaluator -> hub -> page): a transient SpO2 dip shows no
alarm, a sustained one does, and once the value is back past the hysteresis the high alarm nobody
acknowledged stays, marked "condition ended"."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utc_now
from core.principal import Role
from core.resources import Resources
from core.sessions import transaction
from core.settings import Settings
from realtime.alarms import charting
from realtime.alarms.decisions import threshold_key
from realtime.alarms.defaults import SPO2
from realtime.alarms.live_evaluator import LiveAlarmEvaluator
from realtime.alarms.models import Alarm, AlarmCondition, AlarmPriority
from realtime.alarms.policy import AlarmPolicy
from realtime.alarms.schemas import ThresholdSet
from tests.builders import create_user
from tests.devices.ingest_helpers import GUARD_S, Publisher, worker_config
from tests.realtime.test_live_evaluator import worker_with_alarms
from tests.web.conftest import LiveServer
from tests.web.dashboard_world import WardWorld, sign_in, tile, vitals_payload, ward_world

# The clinician's SpO2 limit for this patient: a dip must last this long before anyone is paged.
# Long enough that a dip of two readings never lasts it, even on a loaded machine.
SPO2_DELAY_S = 10
# Short gaps and hysteresis keep the test quick; NEWS2 (an SpO2 of 85 is a single red parameter)
# never raises within it, so the tile shows the SpO2 alarm alone.
POLICY = AlarmPolicy(
    gap_s=0.5,
    threshold_hysteresis_s=1.0,
    news2_delay_s={AlarmPriority.HIGH: 3600.0, AlarmPriority.MEDIUM: 3600.0},
)
SPO2_LOW = threshold_key(SPO2, "low")


async def spo2_limit(sessions: async_sessionmaker[AsyncSession], world: WardWorld) -> None:
    clinician, _ = await create_user(sessions, role=Role.CLINICIAN)
    async with transaction(sessions) as session:
        await charting.set_thresholds(
            session=session,
            principal=clinician.as_principal(),
            patient_id=world.patient.id,
            items=[ThresholdSet(metric="spo2", low=92, delay_s=SPO2_DELAY_S)],
            now=utc_now(),
        )


async def round_after(evaluator: LiveAlarmEvaluator) -> None:
    """Until a round that took everything committed so far has ended."""
    async with asyncio.timeout(GUARD_S):
        while evaluator.waiting:
            await evaluator.round_done.wait()
        await evaluator.round_done.wait()


class Oximeter:
    """The world's monitor sending SpO2 readings, each seen on the tile and evaluated before the next."""

    def __init__(
        self, device: Publisher, evaluator: LiveAlarmEvaluator, page: Page, world: WardWorld
    ) -> None:
        self.device, self.evaluator, self.world = device, evaluator, world
        self.shown = tile(page, world).get_by_test_id("value-spo2")
        self.seq = 0

    async def send(self, spo2: int) -> datetime:
        self.seq += 1
        at = utc_now()
        await self.device.publish_all([(self.world.topic, vitals_payload(self.seq, at, spo2=spo2))])
        await expect(self.shown).to_have_text(str(spo2))
        await round_after(self.evaluator)
        return at


async def spo2_state(
    sessions: async_sessionmaker[AsyncSession], world: WardWorld
) -> tuple[list[str], list[Alarm]]:
    """The patient's pending conditions and their SpO2 alarms."""
    async with sessions() as session:
        pending = await session.scalars(
            select(AlarmCondition.condition_key).where(AlarmCondition.patient_id == world.patient.id)
        )
        alarms = await session.scalars(
            select(Alarm).where(Alarm.patient_id == world.patient.id, Alarm.code == SPO2)
        )
        return list(pending), list(alarms)


async def test_a_dip_shorter_than_the_delay_shows_nothing_a_sustained_one_alarms_and_then_ends(
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    resources: Resources,
    sessions: async_sessionmaker[AsyncSession],
    mqtt_url: str,
) -> None:
    world = await ward_world(sessions)
    await spo2_limit(sessions, world)
    config = worker_config(settings.database_url, mqtt_url)
    async with (
        worker_with_alarms(config, resources.bus, policy=POLICY, tick_s=0.2) as evaluator,
        Publisher(mqtt_url) as device,
    ):
        await sign_in(page, live_server, world.nurse.email, world.nurse_password)
        await page.goto(f"{live_server.url}/staff/dashboard/?ward={world.ward.id}")
        await expect(page.locator("#live-status")).to_have_text("● Live")
        bed = tile(page, world)
        oximeter = Oximeter(device, evaluator, page, world)

        # A transient dip: two readings under 92 %, then back to normal well within the delay.
        await oximeter.send(97)
        await oximeter.send(85)
        await oximeter.send(86)
        back_in_range = await oximeter.send(97)
        # Once the pending condition is dropped (its gap outlasted), it can never raise.
        while SPO2_LOW in (await spo2_state(sessions, world))[0]:
            await round_after(evaluator)
        assert (await spo2_state(sessions, world))[1] == []
        await expect(bed).to_have_attribute("data-alarm-state", "none")
        await expect(bed).to_contain_text("No active alarm")

        # A sustained dip: the oximeter keeps reading 85 % about every second until the alarm is up.
        await oximeter.send(85)
        for _ in range(SPO2_DELAY_S * 10):
            if (await spo2_state(sessions, world))[1]:
                break
            await asyncio.sleep(1)  # the device's pace, not a wait for the result
            await oximeter.send(85)
        (raised,) = (await spo2_state(sessions, world))[1]
        # The condition started with this dip: the transient one before it did not count.
        assert datetime.fromisoformat(raised.detail["since"]) > back_in_range
        alarm_item = bed.locator(f"li[data-alarm-id='{raised.id}']")
        await expect(bed).to_have_attribute("data-alarm-state", "raised")
        await expect(bed).to_contain_text("HIGH ALARM")
        await expect(alarm_item).to_contain_text("SpO₂ low 85 (limit 92)")
        await expect(alarm_item).to_contain_text("not acknowledged")
        await expect(alarm_item).not_to_contain_text("condition ended")

        # Back to normal: after the hysteresis the high alarm nobody acknowledged stays, ended.
        await oximeter.send(97)
        await expect(bed).to_contain_text("HIGH ALARM · condition ended")
        await expect(alarm_item).to_contain_text("condition ended at")
        acknowledge = re.compile(r"^Acknowledge high alarm SpO₂ low 85 \(limit 92\)")
        await expect(alarm_item.get_by_role("button", name=acknowledge)).to_have_count(1)
