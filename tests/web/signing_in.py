"""Signing in through the real form, for the patient's-side browser tests.

Every browser test signs in from 127.0.0.1, and the login limit counts every attempt per client
address (30 in 15 minutes): these tests give the address a fresh budget first, so that the suite's
total never trips it. The limit itself is tested in tests/api/test_auth.py.
"""

from __future__ import annotations

from playwright.async_api import Page, expect

from core.resources import Resources
from tests.web.conftest import LiveServer

LOOPBACK = "127.0.0.1"


async def sign_in(
    page: Page, server: LiveServer, resources: Resources, email: str, password: str, *, home: str
) -> None:
    """Signs in through the form and waits until `home` is ready."""
    await resources.rate_limiter.reset(f"login:address:{LOOPBACK}")
    await page.goto(server.url + "/")
    await ready(page)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(server.url + home)
    await ready(page)


async def ready(page: Page) -> None:
    """Waits until the page's script has bound its forms (a click before that would submit natively)."""
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
