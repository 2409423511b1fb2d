"""A nurse is told on the ward dashboard when alarms stop being checked, and when they are again.

The live evaluator runs as `ownat ingest` runs it, on the real PostgreSQL and Redis, and is stopped
as a crash would stop it; the page is the real dashboard in Chromium, served by an app whose watchdog
is short (OWNAT_ALARM_WATCHDOG_S is 20 s by default).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from realtime.alarms.live_evaluator import LiveAlarmEvaluator, LiveTuning
from tests.conftest import AppFactory
from tests.realtime.alarm_builders import running
from tests.web.conftest import LiveServer, serve
from tests.web.dashboard_world import WardWorld, sign_in, tile, ward_world

BEAT_S = 0.2
WATCHDOG_S = 1.5
NOT_CHECKED = "Alarms are not being checked"


@asynccontextmanager
async def short_watchdog(app_with: AppFactory) -> AsyncIterator[tuple[FastAPI, LiveServer]]:
    """An app whose hub declares alarm evaluation stopped after WATCHDOG_S, served over HTTP."""
    async with app_with(alarm_watchdog_s=WATCHDOG_S, alarm_heartbeat_s=BEAT_S) as app, serve(app) as server:
        yield app, server


async def open_ward(page: Page, server: LiveServer, world: WardWorld) -> None:
    await sign_in(page, server, world.nurse.email, world.nurse_password)
    await page.goto(f"{server.url}/staff/dashboard/?ward={world.ward.id}")
    await expect(page.locator("#live-status")).to_have_text("● Live")


def evaluator(app: FastAPI) -> LiveAlarmEvaluator:
    resources = app.state.resources
    tuning = LiveTuning(tick_s=BEAT_S, heartbeat_s=BEAT_S, min_round_interval_s=0.05)
    return LiveAlarmEvaluator(sessions=resources.sessions, bus=resources.bus, tuning=tuning)


async def test_the_dashboard_warns_while_no_alarm_service_is_heard_and_says_when_it_is_back(
    page: Page, app_with: AppFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await ward_world(sessions, beds=1)
    async with short_watchdog(app_with) as (app, server):
        async with running(evaluator(app)):
            await open_ward(page, server, world)
            await expect(tile(page, world)).to_contain_text(world.patient.family_name)
            await expect(page.get_by_text(NOT_CHECKED)).to_be_hidden()
            await expect(tile(page, world)).to_contain_text("No active alarm")

        # The evaluator is gone: the beds would look calm, so the page says so, in words.
        warning = page.get_by_role("alert").filter(has_text=NOT_CHECKED)
        await expect(warning).to_be_visible()
        await expect(warning).to_contain_text("check your patients at the bedside")
        await expect(warning).to_contain_text("No alarm service has reported since")
        # And no bed claims to be calm.
        await expect(tile(page, world)).to_contain_text("Alarms not being checked")
        await expect(tile(page, world)).not_to_contain_text("No active alarm")

        # Reopened meanwhile, the page is told at once, by its sign-in on the live feed.
        await page.reload()
        await expect(page.locator("#live-status")).to_have_text("● Live")
        await expect(warning).to_be_visible()

        async with running(evaluator(app)):
            await expect(page.get_by_text("Alarms are being checked again")).to_be_visible()
            await expect(page.get_by_text(NOT_CHECKED)).to_be_hidden()


async def test_the_patient_monitoring_view_warns_too(
    page: Page, app_with: AppFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await ward_world(sessions, beds=1)
    async with short_watchdog(app_with) as (app, server):
        async with running(evaluator(app)):
            await open_ward(page, server, world)
            await tile(page, world).get_by_role("link", name=re.compile(world.patient.family_name)).click()
            await expect(page.locator("#live-status")).to_have_text("● Live")
            await expect(page.locator("#patient-alarms")).to_contain_text("No active alarm")

        await expect(page.get_by_role("alert").filter(has_text=NOT_CHECKED)).to_be_visible()
        await expect(page.locator("#patient-alarms")).to_contain_text("Alarms are not being checked")
        await expect(page.locator("#patient-alarms")).not_to_contain_text("No active alarm")
