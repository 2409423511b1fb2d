"""SMART apps on the pages: an administrator registers apps at `/admin/apps/` (the secret shown once) and
suspends one; a patient ends an app's access from their account page."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.builders import login
from tests.web.conftest import LiveServer
from tests.web.test_admin_pages import admin_signed_in


async def test_an_admin_registers_and_suspends_an_app(
    page: Page, live_server: LiveServer, sessions: Any
) -> None:
    await admin_signed_in(page, live_server, sessions)
    await page.goto(f"{live_server.url}/admin/apps/")
    form = page.locator("#app-form")
    await expect(form).to_be_visible()
    await form.get_by_label("App name").fill("Ward Rounds Helper")
    await form.get_by_label("Kind of app").select_option("confidential")
    await form.get_by_label("Allowed scopes").fill("user/Observation.sr")
    await form.get_by_label("Redirect URIs (one per line)").fill("https://rounds.example.org/callback")
    await form.get_by_role("button", name="Register app").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "permissions are letters of 'cruds' in that order"
    )
    await form.get_by_label("Allowed scopes").fill("user/Observation.rs offline_access")
    await form.get_by_role("button", name="Register app").click()
    issued = page.locator("#app-issued")
    await expect(issued).to_contain_text("Ward Rounds Helper is registered. Client id:")
    await expect(issued).to_contain_text("Client secret (shown only now")
    row = page.get_by_role("row").filter(has_text="Ward Rounds Helper")
    await expect(row).to_contain_text("Confidential")
    await expect(row).to_contain_text("Active")
    await row.get_by_role("button", name="Suspend").click()
    await expect(page.locator("#messages")).to_contain_text("Ward Rounds Helper is suspended")
    await expect(row).to_contain_text("Suspended")


async def test_a_patient_ends_an_apps_access_from_their_account_page(
    page: Page, live_server: LiveServer, client: Any, sessions: Any, resources: Any
) -> None:
    from tests.clinical import builders as clinical
    from tests.smart.smart_support import admin_headers, app_token, bearer, register_app
    from tests.web.signing_in import sign_in

    admin = await admin_headers(client, sessions)
    app = await register_app(client, admin, scopes="patient/Patient.r offline_access", name="Sleep Diary")
    user, patient, password = await clinical.create_patient_user(sessions)
    tokens = await app_token(
        client,
        await login(client, user.email, password),
        app["client_id"],
        "patient/Patient.r offline_access",
    )
    await sign_in(page, live_server, resources, user.email, password, home="/portal/")
    await page.goto(f"{live_server.url}/account/")
    listed = page.get_by_role("list", name="Apps with access")
    await expect(listed).to_contain_text("Sleep Diary")
    await expect(listed).to_contain_text("Read Patient records of the chosen patient")
    await page.get_by_role("button", name="End access of Sleep Diary").click()
    await expect(page.locator("#messages")).to_contain_text("Sleep Diary can no longer use your account.")
    await expect(page.get_by_text("No app has access to your account.")).to_be_visible()
    read = await client.get(f"/fhir/R4/Patient/{patient.id}", headers=bearer(tokens["access_token"]))
    assert read.status_code == 401
