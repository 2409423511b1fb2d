"""The ward grid on a 1080p screen and on tablets, and the patient view: history, live, alarms."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utc_now
from core.resources import Resources
from realtime.alarms.models import Alarm, AlarmStatus
from tests.clinical.builders import admit, create_patient
from tests.realtime.alarm_builders import R, store_readings
from tests.realtime.hub_helpers import publish_vitals
from tests.web.conftest import LiveServer
from tests.web.dashboard_world import (
    HEART_RATE,
    bus_vitals,
    raise_through_engine,
    sign_in,
    tight_heart_rate_limit,
    tile,
    ward_world,
)

# A 1080p wall screen, then a tablet held upright and sideways: the columns the grid must keep.
SCREENS = [(1920, 1080, 5), (768, 1024, 2), (1024, 768, 3)]


async def test_the_grid_fits_a_1080p_screen_and_a_tablet(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await ward_world(sessions, beds=8)
    for bed in world.beds[1:5]:
        await admit(sessions, patient_id=(await create_patient(sessions)).id, bed_id=bed.id)
    await store_readings(sessions, world.patient.id, [R(HEART_RATE, 72, utc_now() - timedelta(seconds=5))])
    await sign_in(page, live_server, world.nurse.email, world.nurse_password)
    await page.goto(f"{live_server.url}/staff/dashboard/?ward={world.ward.id}")
    tiles = page.get_by_role("article")
    await expect(tiles).to_have_count(8)
    await expect(tile(page, world).get_by_test_id("value-hr")).to_have_text("72")
    await expect(page.get_by_role("combobox", name="Ward")).to_be_visible()
    await expect(page.get_by_label("Alarm sound")).not_to_be_checked()
    for width, height, min_columns in SCREENS:
        await page.set_viewport_size({"width": width, "height": height})
        boxes = [await tiles.nth(n).bounding_box() for n in range(8)]
        assert all(box is not None and box["width"] >= 200 for box in boxes)
        columns = {round(box["x"]) for box in boxes if box is not None}
        assert len(columns) >= min_columns, f"{len(columns)} columns at {width}x{height}"
        # Nothing runs off the side: no horizontal scrolling on any of these screens.
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


async def hr_points(page: Page) -> int:
    """How many points the heart-rate chart's line has."""
    points = await page.locator("figure[data-metric=hr] .trend-line").get_attribute("points")
    return len((points or "").split())


async def test_the_patient_view_charts_history_continues_live_and_acknowledges(
    page: Page,
    live_server: LiveServer,
    resources: Resources,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = await ward_world(sessions, beds=1)
    now = utc_now().replace(microsecond=0)
    history = [R(HEART_RATE, 60 + n % 10, now - timedelta(minutes=50 - n)) for n in range(49)]
    await store_readings(
        sessions, world.patient.id, [*history, R(HEART_RATE, 80, now - timedelta(seconds=30))]
    )
    await tight_heart_rate_limit(sessions, world.patient.id)
    changes = await raise_through_engine(resources, world, 150)
    alarm = next(c.alarm for c in changes if c.alarm.code == "8867-4")

    await sign_in(page, live_server, world.nurse.email, world.nurse_password)
    await page.goto(f"{live_server.url}/staff/dashboard/?ward={world.ward.id}")
    await tile(page, world).get_by_role("link", name=re.compile(world.patient.family_name)).click()
    await expect(page).to_have_url(re.compile(r"/staff/patient/\?id="))
    await expect(page.get_by_role("heading", level=1)).to_contain_text(world.patient.family_name)
    await expect(page.locator("#live-status")).to_have_text("● Live")
    # The last hour from the vitals API, every reading...
    await expect(page.get_by_test_id("latest-hr")).to_have_text("80")
    assert await hr_points(page) == 50
    # ...continued by the patient's live feed.
    await publish_vitals(resources.bus, bus_vitals(world, utc_now(), hr=88))
    await expect(page.get_by_test_id("latest-hr")).to_have_text("88")
    await page.wait_for_function(
        "document.querySelector('figure[data-metric=hr] .trend-line').getAttribute('points')"
        ".split(' ').length === 51"
    )

    # Longer ranges are drawn from min/avg/max buckets: a band and its average line.
    await page.get_by_label("Time range").select_option("4")
    band = page.locator("figure[data-metric=hr] .trend-band")
    await expect(band).to_have_count(1)
    await expect(page.locator("figure[data-metric=hr] svg")).to_have_attribute(
        "aria-label", re.compile(r"Heart rate: \d+ buckets, lowest 60, highest 80")
    )
    await publish_vitals(resources.bus, bus_vitals(world, utc_now(), hr=91))
    await expect(page.get_by_test_id("latest-hr")).to_have_text("91")

    # The patient's alarm, acknowledged from here.
    item = page.locator(f"#patient-alarms li[data-alarm-id='{alarm.id}']")
    await expect(item).to_contain_text("HR high 150")
    await item.get_by_role("button", name=re.compile("^Acknowledge")).click()
    await expect(item).to_have_attribute("data-status", "acknowledged")
    async with sessions() as session:
        row = await session.get(Alarm, alarm.id)
    assert row is not None and row.status is AlarmStatus.ACKNOWLEDGED
    assert row.acknowledged_by == world.nurse.id
