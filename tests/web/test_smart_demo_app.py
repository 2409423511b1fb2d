"""The demo's SMART app (`/dev/smart-app/` of `ownat dev`) in Chromium: a standalone launch with the
patient picker, and an EHR launch from the chart's "Open Ownat demo app" button."""

from __future__ import annotations

from typing import Any

from playwright.async_api import BrowserContext, Page, expect

from api import dev_smart_app
from core.principal import Role
from core.sessions import transaction
from ownat.demo.smart_app import ensure_demo_smart_app
from tests.builders import create_user
from tests.fhir import builders
from tests.web.conftest import serve
from tests.web.signing_in import LOOPBACK, ready


async def test_the_demo_app_launches_standalone_and_from_a_chart(
    page: Page, context: BrowserContext, app_with: Any, sessions: Any
) -> None:
    async with app_with() as dev_app, serve(dev_app) as server:
        dev_app.include_router(dev_smart_app.router)
        async with transaction(sessions) as session:
            await ensure_demo_smart_app(session, origins=[server.url])
        family = builders.token()
        patient_id = await builders.patient_record(sessions, given="Rosa", family=family)
        await builders.device_readings(sessions, patient_id)
        clinician, password = await create_user(sessions, role=Role.CLINICIAN)
        await dev_app.state.resources.rate_limiter.reset(f"login:address:{LOOPBACK}")

        await page.goto(f"{server.url}/dev/smart-app/")
        await ready(page)
        await page.get_by_role("button", name="Launch with a patient").click()
        await page.get_by_label("Email").fill(clinician.email)
        await page.get_by_label("Password").fill(password)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Allow Ownat demo app to use Ownat?")).to_be_visible()
        await page.get_by_label("Find the patient the app opens with").fill(family)
        await page.get_by_role("button", name="Search").click()
        await page.get_by_label(f"Rosa {family}", exact=False).check()
        await page.get_by_role("button", name="Allow").click()
        await expect(page.get_by_role("heading", name=f"Rosa {family}")).to_be_visible()
        await expect(page.get_by_role("table", name="Latest observations")).to_contain_text("Heart rate")

        # The same user opens the app from the patient's chart: no picker this time.
        await page.goto(f"{server.url}/staff/patient/?id={patient_id}")
        await ready(page)
        async with context.expect_page() as opened:
            await page.get_by_role("button", name="Open Ownat demo app").click()
        app_tab = await opened.value
        # The app's tab shares nothing with the chart's (noopener): the user signs in there.
        await ready(app_tab)
        await app_tab.get_by_label("Email").fill(clinician.email)
        await app_tab.get_by_label("Password").fill(password)
        await app_tab.get_by_role("button", name="Sign in").click()
        await expect(
            app_tab.get_by_role("heading", name="Allow Ownat demo app to use Ownat?")
        ).to_be_visible()
        await expect(app_tab.get_by_text("With the record of")).to_contain_text(f"Rosa {family}")
        await app_tab.get_by_role("button", name="Allow").click()
        await expect(app_tab.get_by_role("heading", name=f"Rosa {family}")).to_be_visible()
