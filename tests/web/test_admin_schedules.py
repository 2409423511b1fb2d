"""Schedules on the administration pages, and the pages on a tablet-sized screen."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.scheduling.models import ScheduleException, WorkingHours
from core.principal import Role
from tests.builders import create_user
from tests.clinical.builders import create_practitioner
from tests.web.conftest import TIMEOUT_MS, LiveServer
from tests.web.test_admin_pages import admin_signed_in
from tests.web.test_portal import sign_in


async def test_an_admin_sets_working_hours_and_an_exception(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    practitioner, _, _ = await create_practitioner(sessions, specialties=("cardiology",))
    await admin_signed_in(page, live_server, sessions)
    await page.goto(live_server.url + "/admin/schedules/")
    await page.get_by_label("Practitioner").select_option(str(practitioner.id))
    await expect(page.locator("#schedule")).to_contain_text("No working hours")

    hours = page.locator("#hours-form")
    await hours.get_by_label("Weekday").select_option("2")
    await hours.get_by_label("Starts").fill("09:00")
    await hours.get_by_label("Ends").fill("12:30")
    await expect(hours.get_by_label("Time zone")).to_have_value("Europe/Paris")
    await hours.get_by_role("button", name="Add hours").click()
    await expect(page.locator("#hours-table")).to_contain_text("Tuesday")
    await expect(page.locator("#hours-table")).to_contain_text("09:00")
    await expect(page.locator("#hours-table")).to_contain_text("12:30")

    # An exception that ends before it starts is refused by the server, with its reason shown.
    exception = page.locator("#exception-form")
    await exception.get_by_label("From").fill("2030-07-10T09:00")
    await exception.get_by_label("Until").fill("2030-07-09T09:00")
    await exception.get_by_role("button", name="Add exception").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await exception.get_by_label("Until").fill("2030-07-20T18:00")
    await exception.get_by_label("Reason").select_option("leave")
    await exception.get_by_label("Note (optional)").fill("Summer leave")
    await exception.get_by_role("button", name="Add exception").click()
    await expect(page.locator("#exceptions-table")).to_contain_text("Summer leave")

    async with sessions() as session:
        block = await session.scalar(
            select(WorkingHours).where(WorkingHours.practitioner_id == practitioner.id)
        )
        assert block is not None and block.weekday == 2 and block.time_zone == "Europe/Paris"
        leave = await session.scalar(
            select(ScheduleException).where(ScheduleException.practitioner_id == practitioner.id)
        )
        # 09:00 in Paris in July is 07:00 UTC.
        assert leave is not None and leave.start_at.hour == 7 and leave.note == "Summer leave"

    await page.locator("#hours-table").get_by_role("button", name="Remove").click()
    await expect(page.locator("#schedule")).to_contain_text("No working hours")


async def test_the_pages_fit_a_tablet_screen(
    browser: Browser, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession]
) -> None:
    context = await browser.new_context(viewport={"width": 768, "height": 1024}, timezone_id="Europe/Paris")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = await context.new_page()
        admin, password = await create_user(sessions, role=Role.ADMIN)
        await sign_in(page, live_server, admin.email, password)
        await expect(page).to_have_url(live_server.url + "/staff/")
        for section, ready in [
            ("devices", "#device-form"),
            ("audit", "#audit-table"),
            ("system", "#system-figures dd"),
        ]:
            await page.goto(f"{live_server.url}/admin/{section}/")
            await expect(page.locator(ready).first).to_be_visible()
            # Wide tables scroll inside their own box; the page itself never scrolls sideways.
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (section, overflow)
    finally:
        await context.close()
