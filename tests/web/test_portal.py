"""The patient portal, clicked through in headless Chromium as a patient would."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.scheduling.models import Appointment
from clinical.scheduling.state_machine import AppointmentStatus
from core.settings import Settings
from tests.web.conftest import LiveServer
from tests.web.portal_data import PNG_1X1, portal_world


async def sign_in(page: Page, server: LiveServer, email: str, password: str) -> None:
    await page.goto(server.url + "/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def test_a_patient_uses_the_portal(
    page: Page,
    live_server: LiveServer,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    world = await portal_world(settings, sessions)
    await sign_in(page, live_server, world.user.email, world.password)
    await expect(page).to_have_url(live_server.url + "/portal/")
    await expect(page.get_by_test_id("user-name")).to_have_text(world.user.full_name)
    await expect(page.locator("#time-zone")).to_contain_text("Europe/Paris")

    # The upcoming appointment is listed, in the browser's zone with the zone named.
    upcoming = page.locator(f"#upcoming li[data-appointment-id='{world.upcoming.id}']")
    await expect(upcoming).to_contain_text("10:00")
    await expect(upcoming).to_contain_text(re.compile(r"CES?T|GMT\+[12]"))
    await expect(page.locator("#past li")).to_have_count(2)  # a completed one and the chart's

    # Cancelling inside the cancellation window: the server's refusal is shown in the dialog.
    late = page.locator(f"#upcoming li[data-appointment-id='{world.too_late_to_cancel.id}']")
    await late.get_by_role("button", name="Cancel…").click()
    dialog = page.locator("#cancel-dialog")
    await dialog.get_by_label("Reason for cancelling").fill("Feeling better")
    await dialog.get_by_role("button", name="Cancel appointment").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("24")
    await dialog.get_by_role("button", name="Keep it").click()

    # Cancelling the other one with a reason moves it to the past list.
    await upcoming.get_by_role("button", name="Cancel…").click()
    await dialog.get_by_label("Reason for cancelling").fill("Travelling that week")
    await dialog.get_by_role("button", name="Cancel appointment").click()
    await expect(page.locator("#messages")).to_contain_text("cancelled")
    cancelled = page.locator(f"#past li[data-appointment-id='{world.upcoming.id}']")
    await expect(cancelled).to_contain_text("Travelling that week")
    async with sessions() as session:
        row = await session.get(Appointment, world.upcoming.id)
        assert row is not None and row.status is AppointmentStatus.CANCELLED
        assert row.cancellation_reason == "Travelling that week"

    # Find a free slot by specialty on one day, and book it.
    await page.get_by_role("tab", name="Book an appointment").click()
    form = page.locator("#slot-form")
    await form.get_by_label("Type of appointment").select_option(world.kind.code)
    await form.get_by_label("Specialty").select_option(world.practitioner.specialties[0])
    await form.get_by_label("Practitioner").select_option(str(world.practitioner.id))
    day = world.booking_day.date().isoformat()
    await form.get_by_label("From").fill(day)
    await form.get_by_label("To (included)").fill(day)
    await form.get_by_role("button", name="Find free slots").click()
    slots = page.locator("#slots button.slot")
    await expect(slots).to_have_count(6)  # 09:00 to 11:30, every 30 minutes
    await expect(slots.first).to_have_text("09:00")
    await expect(page.locator("#slots .slot-summary")).to_contain_text("6 free times shown: every free time")
    await slots.first.click()
    book = page.locator("#book-dialog")
    await book.get_by_label("Reason for the visit (optional)").fill("Check-up")
    await book.get_by_role("button", name="Book", exact=True).click()
    await expect(page.locator("#slot-messages")).to_contain_text("Booked")
    await expect(slots).to_have_count(5)
    async with sessions() as session:
        booked = await session.scalar(
            select(Appointment).where(
                Appointment.patient_id == world.user.patient_id, Appointment.reason == "Check-up"
            )
        )
    assert booked is not None and booked.start_at == world.booking_day.replace(hour=9)
    await page.get_by_role("tab", name="Appointments").click()
    await expect(page.locator(f"#upcoming li[data-appointment-id='{booked.id}']")).to_contain_text("09:00")

    # Lab results: only the final one; prescriptions; the document downloads intact.
    await page.get_by_role("tab", name="Lab results").click()
    results = page.locator("#results table")
    await expect(results).to_have_count(1)
    # In words: the everyday name (the LOINC code on hover), the unit, the flag and what it means.
    name = results.get_by_text("Glucose (blood sugar)")
    await expect(name).to_have_attribute("title", re.compile(r"^LOINC 2345-7: Glucose"))
    glucose = results.get_by_role("row", name=re.compile(r"^Glucose \(blood sugar\)"))
    await expect(glucose).to_contain_text("130 mg/dL High")
    await expect(glucose).to_contain_text("Above the usual range.")
    await expect(glucose).to_contain_text("70 to 99 mg/dL")
    await page.get_by_role("tab", name="Prescriptions").click()
    await expect(page.locator("#prescriptions")).to_contain_text("Metformin 500 mg tablet")
    await expect(page.locator("#prescriptions")).to_contain_text("2 times a day")
    await page.get_by_role("tab", name="Documents").click()
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name=f"Download {world.document_title}").click()
    download = await waiting.value
    assert download.suggested_filename == "letter.png"
    saved = await download.path()
    assert saved is not None and saved.read_bytes() == PNG_1X1

    # Signing out forgets the session: the portal sends the visitor back to sign in.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(live_server.url + "/")
    await page.goto(live_server.url + "/portal/")
    await expect(page).to_have_url(live_server.url + "/")
