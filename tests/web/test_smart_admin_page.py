"""`/admin/apps/`: an administrator registers SMART apps, sees the secret once, suspends an app."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

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
