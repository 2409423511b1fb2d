"""The nurses' ward dashboard in headless Chromium, fed by the real path: device -> Mosquitto ->
ingest worker -> PostgreSQL and Redis -> hub -> page; an alarm acknowledged in one click."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utc_now
from core.resources import Resources
from core.settings import Settings
from realtime.alarms.models import Alarm, AlarmStatus
from tests.devices.ingest_helpers import Publisher, worker_config
from tests.realtime.test_live_evaluator import worker_with_alarms
from tests.web.conftest import LiveServer
from tests.web.dashboard_world import (
    HEART_RATE,
    WardWorld,
    sign_in,
    tight_heart_rate_limit,
    tile,
    vitals_payload,
    ward_world,
)

# Counts the tones the page synthesises (the machine has no speakers to listen to).
COUNT_TONES = """
window.tones = 0;
const create = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.tones += 1; return create.call(this); };
"""


async def open_dashboard(page: Page, server: LiveServer, world: WardWorld) -> None:
    await page.add_init_script(COUNT_TONES)
    await sign_in(page, server, world.nurse.email, world.nurse_password)
    await page.goto(f"{server.url}/staff/dashboard/?ward={world.ward.id}")
    await expect(page.locator("#live-status")).to_have_text("● Live")
    await expect(tile(page, world)).to_contain_text(world.patient.family_name)
    # The record number as issued ("MRN-0000000042"), not labelled twice ("MRN MRN-...").
    await expect(tile(page, world)).to_contain_text(world.patient.mrn)
    await expect(tile(page, world)).not_to_contain_text(f"MRN {world.patient.mrn}")


async def open_alarm(sessions: async_sessionmaker[AsyncSession], world: WardWorld, code: str) -> Alarm:
    async with sessions() as session:
        return (
            await session.scalars(
                select(Alarm).where(Alarm.patient_id == world.patient.id, Alarm.code == code)
            )
        ).one()


async def test_a_reading_published_over_mqtt_appears_and_an_alarm_is_acknowledged_in_one_click(
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    resources: Resources,
    sessions: async_sessionmaker[AsyncSession],
    mqtt_url: str,
) -> None:
    world = await ward_world(sessions)
    await tight_heart_rate_limit(sessions, world.patient.id)
    config = worker_config(settings.database_url, mqtt_url)
    # The worker as `ownat ingest` runs it: store, publish live, evaluate alarms as readings arrive.
    async with worker_with_alarms(config, resources.bus), Publisher(mqtt_url) as device:
        await open_dashboard(page, live_server, world)
        bed = tile(page, world)
        await expect(bed).to_have_attribute("data-alarm-state", "none")
        await expect(bed).to_contain_text("No active alarm")

        now = utc_now()
        await device.publish_all(
            [(world.topic, vitals_payload(1, now, hr=97, spo2=95, rr=16, sbp=118, dbp=76, temp=37.2))]
        )
        await expect(bed.get_by_test_id("value-hr")).to_have_text("97")
        await expect(bed.get_by_test_id("value-spo2")).to_have_text("95")
        await expect(bed.get_by_test_id("value-sbp")).to_have_text("118/76")
        await expect(bed.get_by_test_id("value-temp")).to_have_text("37.2")
        # The other beds stay empty, the trend line has its point, NEWS2 is computed by the server.
        await expect(tile(page, world, 1)).to_contain_text("Empty bed")
        await expect(bed.locator("[data-metric=hr] svg polyline")).to_have_count(1)
        await expect(bed.get_by_test_id("news2-score")).to_have_text(re.compile(r"^\d+$"))

        # The sound is off until the nurse turns it on.
        sound = page.get_by_label("Alarm sound")
        await expect(sound).not_to_be_checked()
        await sound.check()
        assert await page.evaluate("window.tones") == 0
        # Above the clinician's limit: the worker's evaluator raises the alarm, the hub brings it.
        await device.publish_all([(world.topic, vitals_payload(2, now + timedelta(seconds=1), hr=150))])
        await expect(bed.get_by_test_id("value-hr")).to_have_text("150")
        await expect(bed).to_have_attribute("data-alarm-state", "raised")
        raised = await open_alarm(sessions, world, HEART_RATE)

        alarm_item = bed.locator(f"li[data-alarm-id='{raised.id}']")
        await expect(alarm_item).to_contain_text("HR high 150")
        await expect(bed).to_contain_text("HIGH ALARM")
        await expect(page.locator("#alarm-announcer")).to_contain_text("high priority alarm, Bed B1")
        await page.wait_for_function("window.tones >= 5")  # the high-priority burst

        await alarm_item.get_by_role("button", name=re.compile("^Acknowledge high alarm HR")).click()
        await expect(alarm_item).to_have_attribute("data-status", "acknowledged")
        await expect(alarm_item).to_contain_text("acknowledged at")
        await expect(alarm_item.get_by_role("button")).to_have_count(0)
        async with sessions() as session:
            row = (await session.scalars(select(Alarm).where(Alarm.id == raised.id))).one()
        assert row.status is AlarmStatus.ACKNOWLEDGED
        assert row.acknowledged_by == world.nurse.id

        # Back in range: the evaluator resolves the alarm and the hub's message takes it off the tile.
        await device.publish_all([(world.topic, vitals_payload(3, now + timedelta(seconds=2), hr=80))])
        await expect(bed.get_by_test_id("value-hr")).to_have_text("80")
        await expect(alarm_item).to_have_count(0)
        async with sessions() as session:
            row = (await session.scalars(select(Alarm).where(Alarm.id == raised.id))).one()
        assert row.status is AlarmStatus.RESOLVED
    # Nothing about patients is kept in the browser beyond the tab's memory.
    assert await page.evaluate("localStorage.length") == 0


async def test_a_monitor_without_ecg_shows_its_pulse_rate_mean_pressure_and_end_tidal_co2(
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    resources: Resources,
    sessions: async_sessionmaker[AsyncSession],
    mqtt_url: str,
) -> None:
    world = await ward_world(sessions)
    config = worker_config(settings.database_url, mqtt_url)
    async with worker_with_alarms(config, resources.bus), Publisher(mqtt_url) as device:
        await open_dashboard(page, live_server, world)
        bed = tile(page, world)
        # An oximeter's pulse rate and no ECG heart rate, a cuff with its mean, a capnograph.
        reading = vitals_payload(1, utc_now(), pr=82, spo2=96, sbp=120, dbp=80, map=93, etco2=38)
        await device.publish_all([(world.topic, reading)])
        await expect(bed.locator("[data-metric=pr] dt")).to_have_text("Pulse")
        await expect(bed.get_by_test_id("value-pr")).to_have_text("82")
        await expect(bed.get_by_test_id("value-sbp")).to_have_text("120/80 (93)")
        await expect(bed.locator("[data-metric=etco2] dt")).to_have_text("EtCO₂")
        await expect(bed.get_by_test_id("value-etco2")).to_have_text("38")
        # Once the ECG gives a heart rate, that is what the tile shows.
        await device.publish_all([(world.topic, vitals_payload(2, utc_now(), hr=84))])
        await expect(bed.get_by_test_id("value-hr")).to_have_text("84")
        await expect(bed.locator("[data-metric=pr]")).to_have_count(0)


async def test_a_tiles_news2_follows_the_readings_without_the_page_asking_for_it_again(
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    resources: Resources,
    sessions: async_sessionmaker[AsyncSession],
    mqtt_url: str,
) -> None:
    world = await ward_world(sessions)
    config = worker_config(settings.database_url, mqtt_url)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if request.url.endswith("/news2") else None)
    async with worker_with_alarms(config, resources.bus), Publisher(mqtt_url) as device:
        await open_dashboard(page, live_server, world)
        bed = tile(page, world)
        now = utc_now()
        await device.publish_all(
            [(world.topic, vitals_payload(1, now, hr=72, spo2=97, rr=16, sbp=124, dbp=80, temp=36.8))]
        )
        # Scored by the server from the monitor's values: only what a nurse charts is missing.
        await expect(bed).to_contain_text("low risk (incomplete: air or oxygen, consciousness missing)")
        asked_on_loading = len(asked)
        # Fast breathing, a low saturation and a racing pulse: the score the evaluator pushes.
        await device.publish_all(
            [(world.topic, vitals_payload(2, now + timedelta(seconds=1), hr=135, spo2=90, rr=26))]
        )
        await expect(bed.get_by_test_id("news2-score")).to_have_text("9")
        await expect(bed).to_contain_text("high risk")
        await expect(bed).to_contain_text("Continuous monitoring")
    # The page asked once, for the ward as it loaded; every change after that came to it.
    assert asked_on_loading == 1
    assert len(asked) == asked_on_loading
