"""A nurse charts a full set of observations from the ward dashboard, and the tile's NEWS2 completes."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utc_now
from realtime.alarms.defaults import HR, RR, SBP, SPO2
from realtime.alarms.models import News2Observation
from tests.realtime.alarm_builders import R, store_readings
from tests.web.conftest import LiveServer
from tests.web.dashboard_world import sign_in, tile, ward_world


async def test_a_nurse_charts_a_set_and_the_tile_shows_news2_complete_and_the_time_since(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await ward_world(sessions, beds=2)
    now = utc_now()
    # The monitor measures pulse, saturation, breathing and pressure; temperature it cannot.
    await store_readings(
        sessions,
        world.patient.id,
        [R(HR, 78, now), R(SPO2, 97, now), R(RR, 16, now), R(SBP, 122, now - timedelta(seconds=20))],
        device_id=world.device_id,
    )
    await sign_in(page, live_server, world.nurse.email, world.nurse_password)
    await page.goto(f"{live_server.url}/staff/dashboard/?ward={world.ward.id}")
    bed = tile(page, world)
    await expect(bed.locator("[data-part=news2]")).to_contain_text(
        "incomplete: air or oxygen, consciousness, temperature missing"
    )
    await expect(bed).to_contain_text("Observations overdue")
    await expect(bed).to_contain_text("no full set charted yet")

    # At the bedside, on a phone.
    await page.set_viewport_size({"width": 390, "height": 844})
    await bed.get_by_role("link", name="Chart observations").click()
    await expect(page).to_have_url(re.compile(r"/staff/observations/\?patient="))
    await page.wait_for_selector("body[data-ready=true]")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(world.patient.family_name)
    # Prefilled from the monitor, to confirm or correct; what it cannot measure is left to the nurse.
    await expect(page.get_by_label(re.compile("^Pulse"))).to_have_value("78")
    await expect(page.get_by_label(re.compile("^Systolic"))).to_have_value("122")
    await expect(page.get_by_label(re.compile("^Temperature"))).to_have_value("")
    await page.get_by_label(re.compile("^Temperature")).fill("98.6")
    await page.get_by_label("Air or oxygen").select_option(label="Oxygen")
    await page.get_by_label("Oxygen device").select_option(label="Nasal cannula")
    await page.get_by_label(re.compile("^Oxygen flow")).fill("2")
    await page.get_by_label("Consciousness (ACVPU)").select_option(label="Alert")
    await page.get_by_role("button", name="Chart observations").click()
    # Fahrenheit typed into the Celsius field: refused, the field named, nothing stored.
    await expect(page.get_by_role("alert")).to_contain_text("Temperature")
    await expect(page.get_by_label(re.compile("^Temperature"))).to_have_attribute("aria-invalid", "true")
    async with sessions() as session:
        stored = await session.scalar(
            select(News2Observation.id).where(News2Observation.patient_id == world.patient.id)
        )
    assert stored is None

    await page.get_by_label(re.compile("^Temperature")).fill("37.1")
    await page.get_by_role("button", name="Chart observations").click()
    await expect(page.get_by_role("status").filter(has_text="Observations charted")).to_be_visible()
    await expect(page.locator("#observation-area")).to_contain_text("NEWS2 is 2 and complete")
    await page.get_by_role("link", name="Back to the ward").click()

    bed = tile(page, world)
    news2 = bed.locator("[data-part=news2]")
    await expect(news2.get_by_test_id("news2-score")).to_have_text("2")
    await expect(news2).not_to_contain_text("incomplete")
    schedule = bed.locator("[data-part=schedule]")
    await expect(schedule).to_contain_text("Observations every 4\u20136 hours · last full set just now")
    await expect(schedule).not_to_contain_text("overdue")
