"""The slot search in the portal, as a patient uses it when many times are free: grouped by day and
practitioner, a few times each with "more times", and a search cut at its page size saying so and
offering the later times, until every free time has been shown once."""

from __future__ import annotations

from datetime import time

from playwright.async_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from tests.clinical.scheduling_builders import appointment_type, future_day, practitioner
from tests.web.conftest import LiveServer
from tests.web.portal_data import portal_patient
from tests.web.test_portal import sign_in

DAYS = 3
PER_DAY = 16  # 09:00 to 17:00, every 30 minutes
DOCTORS = 4  # 192 free times: more than the page of 150 the portal asks for


async def test_many_free_times_come_grouped_by_day_and_practitioner_and_paged(
    page: Page, live_server: LiveServer, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    user, password = await portal_patient(sessions)
    kind = await appointment_type(sessions, duration_minutes=30)
    specialty = f"spec-{kind.code}"
    doctors = [
        await practitioner(sessions, specialties=[specialty], hours=(time(9), time(17)))
        for _ in range(DOCTORS)
    ]
    first_day = future_day(10)
    await sign_in(page, live_server, user.email, password)
    await expect(page).to_have_url(live_server.url + "/portal/")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    await page.get_by_role("tab", name="Book an appointment").click()
    form = page.locator("#slot-form")
    await form.get_by_label("Type of appointment").select_option(kind.code)
    await form.get_by_label("Specialty").select_option(specialty)
    await form.get_by_label("From").fill(first_day.isoformat())
    await form.get_by_label("To (included)").fill(future_day(10 + DAYS - 1).isoformat())
    await form.get_by_role("button", name="Find free slots").click()

    # The first page holds two days whole and the third day's first five times (a page never splits
    # one start time between the practitioners free then).
    days = page.locator("#slots section.slot-day")
    await expect(days).to_have_count(DAYS)
    first = days.first.locator(".slot-group")
    await expect(first).to_have_count(DOCTORS)
    doctor_name = f"{doctors[0].given_name} {doctors[0].family_name}"
    group = first.filter(has_text=doctor_name)
    await expect(group.locator("button.slot")).to_have_count(6)
    await expect(group.locator("button.slot").first).to_have_text("09:00")
    await group.get_by_role("button", name="10 more times").click()
    await expect(group.locator("button.slot")).to_have_count(PER_DAY)
    await expect(group.get_by_role("button", name="more times")).to_have_count(0)
    last_day = days.nth(2).locator(".slot-group").filter(has_text=doctor_name)
    await expect(last_day.locator("button.slot")).to_have_count(5)
    await expect(last_day.locator("button.slot").last).to_have_text("11:00")

    summary = page.locator("#slots .slot-summary")
    await expect(summary).to_contain_text(
        f"{2 * PER_DAY * DOCTORS + 5 * DOCTORS} free times shown. There are more"
    )
    await expect(summary).to_contain_text("the search stopped there")
    await summary.get_by_role("button", name="Show later times").click()
    total = DAYS * PER_DAY * DOCTORS
    await expect(summary).to_contain_text(f"{total} free times shown: every free time in these dates.")
    await expect(summary.get_by_role("button")).to_have_count(0)
    # The day the pages met shows each of its times once.
    await last_day.get_by_role("button", name="10 more times").click()
    await expect(last_day.locator("button.slot")).to_have_count(PER_DAY)

    # A time books from its group, its label naming the practitioner.
    await group.locator("button.slot").first.click()
    await expect(page.locator("#book-what")).to_contain_text(doctor_name)
