"""My data in Chromium: a patient downloads their whole record, sees that a named clinician opened it,
and asks for a correction."""

from __future__ import annotations

import io

from fastapi import FastAPI
from playwright.async_api import Page, expect
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinical.organisation.models import Department, Practitioner
from core.principal import Role
from core.resources import Resources
from core.sessions import transaction
from tests.builders import create_user, http_client, login
from tests.clinical import builders as clinical
from tests.web.conftest import LiveServer
from tests.web.signing_in import sign_in


async def test_a_patient_downloads_the_record_and_sees_who_opened_it(
    page: Page,
    app: FastAPI,
    live_server: LiveServer,
    sessions: async_sessionmaker[AsyncSession],
    resources: Resources,
) -> None:
    patient, record, password = await clinical.create_patient_user(sessions)
    clinician, clinician_password = await create_user(
        sessions, role=Role.CLINICIAN, full_name="Dr Lena Fischer"
    )
    team = clinical.unique_name("Respiratory ")
    async with transaction(sessions) as session:
        department = Department(code=clinical.unique_name("R").upper(), name=team)
        session.add(department)
        await session.flush()
        session.add(
            Practitioner(
                user_id=clinician.id, given_name="Lena", family_name="Fischer", department_id=department.id
            )
        )
    # The clinician opens the patient's allergies and problems.
    async with http_client(app) as client:
        headers = await login(client, clinician.email, clinician_password)
        for part in ("allergies", "conditions"):
            response = await client.get(f"/api/v1/patients/{record.id}/{part}", headers=headers)
            assert response.status_code == 200, response.text

    await sign_in(page, live_server, resources, patient.email, password, home="/portal/")
    await page.get_by_role("tab", name="My data").click()
    opened = page.locator("#access-log li")
    await expect(opened).to_have_count(1)
    await expect(opened).to_contain_text(f"Dr Lena Fischer, clinician, {team}")
    await expect(opened).to_contain_text("looked at allergies, conditions")

    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="My record (PDF, to read)").click()
    download = await waiting.value
    assert download.suggested_filename == f"health-record-{record.mrn}.pdf"
    pdf = PdfReader(io.BytesIO((await download.path()).read_bytes()))
    assert f"Health record of {record.given_name} {record.family_name}" in pdf.pages[0].extract_text()

    form = page.locator("#data-request-form")
    await form.get_by_label("What would you like?").select_option(label="Correct something in my record")
    await form.get_by_label("Tell us more").fill("My birth date is 2 March 1975, not 3 March.")
    await form.get_by_role("button", name="Send the request").click()
    mine = page.get_by_role("list", name="My requests")
    await expect(mine).to_contain_text("Correct something in my record")
    await expect(mine).to_contain_text("waiting for an answer")
