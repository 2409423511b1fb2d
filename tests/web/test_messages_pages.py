"""Secure messages in Chromium: a patient writes to a care team with an attachment, a clinician of that
team answers from the staff inbox, and the patient reads the answer (unread count on the tab)."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation.models import Department, Practitioner
from core.principal import Role
from core.resources import Resources
from core.sessions import transaction
from tests.builders import create_user
from tests.clinical import builders as clinical
from tests.web.conftest import TIMEOUT_MS, LiveServer
from tests.web.portal_data import PNG_1X1
from tests.web.signing_in import sign_in


async def test_a_patient_writes_with_a_file_and_a_clinician_answers(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    sessions: async_sessionmaker[AsyncSession],
    resources: Resources,
) -> None:
    team_name = clinical.unique_name("Heart Team ")
    clinician, clinician_password = await create_user(
        sessions, role=Role.CLINICIAN, full_name="Dr Ines Varga"
    )
    async with transaction(sessions) as session:
        department = Department(code=clinical.unique_name("HT").upper(), name=team_name)
        session.add(department)
        await session.flush()
        session.add(
            Practitioner(
                user_id=clinician.id, given_name="Ines", family_name="Varga", department_id=department.id
            )
        )
    patient, _, patient_password = await clinical.create_patient_user(sessions)

    # The patient writes, with a photo of their prescription.
    await sign_in(page, live_server, resources, patient.email, patient_password, home="/portal/")
    await page.get_by_role("tab", name="Messages").click()
    await page.get_by_role("button", name="New message").click()
    form = page.locator("#new-thread-form")
    await form.get_by_label("Care team").select_option(label=team_name)
    await form.get_by_label("Subject").fill("Refill of my beta blocker")
    await form.get_by_label("Message").fill("I have four tablets left. Could you renew it?")
    await form.get_by_label("Attach files").set_input_files(
        {"name": "prescription.png", "mimeType": "image/png", "buffer": PNG_1X1}
    )
    await form.get_by_role("button", name="Send").click()
    conversation = page.locator("#thread-view")
    await expect(conversation.get_by_role("heading", name="Refill of my beta blocker")).to_be_visible()
    await expect(conversation.get_by_role("button", name="prescription.png")).to_be_visible()

    # The clinician answers from their team's inbox.
    staff_context = await browser.new_context(timezone_id="Europe/Paris", locale="en-GB")
    staff_context.set_default_timeout(TIMEOUT_MS)
    try:
        staff = await staff_context.new_page()
        await sign_in(staff, live_server, resources, clinician.email, clinician_password, home="/staff/")
        await staff.goto(live_server.url + "/staff/messages/")
        await expect(staff.locator("#department-select")).to_contain_text(f"{team_name}: 1 waiting")
        await staff.get_by_role("button", name="Refill of my beta blocker").click()
        view = staff.locator("#thread-view")
        await expect(view).to_contain_text("I have four tablets left.")
        await expect(view.get_by_role("button", name="prescription.png")).to_be_visible()
        await view.get_by_label("Your reply").fill("Renewed: collect it at your pharmacy from tomorrow.")
        await view.get_by_role("button", name="Send").click()
        await expect(view.locator(".message")).to_have_count(2)
        await expect(staff.locator("#thread-list")).to_contain_text("Nothing here.")  # none waiting now
        # The conversation is in the patient's chart too, on its Messages tab.
        await staff.goto(live_server.url + f"/staff/patient/?id={patient.patient_id}")
        await staff.get_by_role("tab", name="Messages").click()
        chart = staff.get_by_role("tabpanel", name="Messages")
        await chart.get_by_role("button", name="Refill of my beta blocker").click()
        await expect(chart.locator(".message")).to_have_count(2)
    finally:
        await staff_context.close()

    # The patient sees one unread message on the tab, and the answer with its author.
    await page.reload()
    await expect(page.locator("#unread-badge")).to_have_text("1")
    await page.get_by_role("tab", name="Messages").click()
    await page.get_by_role("button", name="Refill of my beta blocker").click()
    answer = page.locator("#thread-view .message").nth(1)
    await expect(answer).to_contain_text("Dr Ines Varga (clinician)")
    await expect(answer).to_contain_text("collect it at your pharmacy")
    await expect(page.locator("#unread-badge")).to_be_hidden()
